using System.Diagnostics;
using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Evaluation;
using GenRec.Model;
using GenRec.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace GenRec.Training;

/// <summary>
/// Trains a <see cref="RankingModel"/> with the causal multi-task loss (every labelled item position of the train
/// users' sequences) and evaluates it on the test users' candidates: AUC, GAUC, NE and log loss per binary task,
/// MSE per regression task.
/// </summary>
public sealed class RankingTrainer : IDisposable
{
    private readonly ExperimentConfig _config;
    private readonly RankingSplit _split;
    private readonly Device _device;
    private readonly AdamW _optimizer;
    private readonly RankingSequence[] _train;

    /// <summary>Builds the model of <c>ranking.variant</c> (seeded) over <paramref name="data"/>'s feature space, and the optimiser.</summary>
    public RankingTrainer(ExperimentConfig config, PreparedDataset data, RankingSplit split, Device device)
        : this(config, split, device, () => CreateModel(config, data, split.Tasks))
    {
    }

    /// <summary>Builds the HSTU ranking model (interleaved or summed, whatever <c>ranking.variant</c> says) and the optimiser.</summary>
    public RankingTrainer(ExperimentConfig config, PreparedDataset data, RankingSplit split, bool interleaved, Device device)
        : this(config with { Ranking = config.Ranking with { Variant = interleaved ? "interleaved" : "summed" } }, data, split, device)
    {
    }

    /// <summary>The ranker <c>ranking.variant</c> names, over the dataset's feature space (as the config selects it), item side features filled in.</summary>
    public static Ranker CreateModel(ExperimentConfig config, PreparedDataset data, IReadOnlyList<RankingTask> tasks)
    {
        var features = data.Features.Select(config.Features);
        var model = Ranker.Create(config, data.ItemTableSize, features, tasks);
        if (model is RankingModel hstu)
            for (int g = 0; g < features.ItemFeatures.Count; g++) hstu.Encoder.SetItemFeatureIds(g, data.ItemFeatureIds(g)!);
        return model;
    }

    /// <summary>Trains any <see cref="Ranker"/> (for example the <see cref="DlrmRanker"/> baseline) with the same loop and optimiser.</summary>
    public RankingTrainer(ExperimentConfig config, RankingSplit split, Device device, Func<Ranker> create)
    {
        config.Validate();
        _config = config;
        _split = split;
        _device = device;
        manual_seed(config.Training.Seed);
        Model = create();
        bool interleaved = Model.Interleaved;
        Model.to(device);
        var t = config.Training;
        _optimizer = new AdamW(Model.parameters(), t.LearningRate, t.Beta1, t.Beta2, t.WeightDecay);
        _train = split.Train.Select(e => RankingSequence.From(e.History, e.HistoryLabels, interleaved)).Where(s => s.ReadAt.Length > 0).ToArray();
        if (_train.Length == 0) throw new InvalidOperationException("no train user has a labelled item in their history; nothing to train on.");
        int longest = _train.Max(s => s.Tokens.Length);
        if (longest > config.Model.PaddedLength)
            throw new ArgumentException($"ranking sequences reach {longest} tokens but the model's padded length is {config.Model.PaddedLength}; raise model.maxLength.");
    }

    /// <summary>The model.</summary>
    public Ranker Model { get; }

    /// <summary>Called after each epoch with (epoch, mean training loss, seconds).</summary>
    public Action<int, double, double>? EpochCompleted { get; set; }

    /// <summary>Trains for the configured epochs; returns the mean loss of each.</summary>
    public List<double> Run(CancellationToken cancel = default)
    {
        var t = _config.Training;
        var losses = new List<double>();
        for (int epoch = 1; epoch <= t.Epochs && !cancel.IsCancellationRequested; epoch++)
        {
            var clock = Stopwatch.StartNew();
            Model.train();
            var order = _train.ToArray();
            new Random(unchecked(t.Seed * 1_000_003 + epoch)).Shuffle(order);
            double sum = 0;
            int steps = 0;
            for (int s = 0; s < order.Length && !cancel.IsCancellationRequested; s += t.BatchSize)
            {
                sum += Step(order.AsSpan(s, Math.Min(t.BatchSize, order.Length - s)).ToArray());
                steps++;
            }
            losses.Add(sum / Math.Max(steps, 1));
            EpochCompleted?.Invoke(epoch, losses[^1], clock.Elapsed.TotalSeconds);
        }
        return losses;
    }

    private double Step(RankingSequence[] chunk)
    {
        using var scope = NewDisposeScope();
        using var batch = SequenceBatch.Create(chunk.Select(c => c.Tokens).ToList(), chunk.Select(c => c.Timestamps).ToList(), null, _device,
            chunk.Select(c => c.Kinds).ToList(), chunk.Select(c => c.Actions).ToList());
        int width = batch.Width;
        var positions = new List<long>();
        var items = new List<long>();
        var labels = new List<float>();
        for (int r = 0; r < chunk.Length; r++)
            for (int j = 0; j < chunk[r].ReadAt.Length; j++)
            {
                positions.Add((long)r * width + chunk[r].ReadAt[j]);
                items.Add(chunk[r].Items[j]);
                labels.AddRange(chunk[r].Labels[j]);
            }
        var logits = Model.Logits(batch, positions.ToArray(), items.ToArray());
        var y = tensor(labels.ToArray(), device: _device).view(positions.Count, Model.Tasks.Count);
        var loss = Ranker.Loss(logits, y, Model.Tasks);
        _optimizer.ZeroGrad();
        loss.backward();
        _optimizer.Step();
        double value = loss.item<float>();
        if (!double.IsFinite(value)) throw new InvalidOperationException($"ranking loss became {value}; lower training.learningRate.");
        return value;
    }

    /// <summary>Scores every test user's candidates and computes the metrics per task.</summary>
    public RankingEvaluation Evaluate()
    {
        Model.eval();
        var tasks = Model.Tasks;
        var scores = tasks.Select(_ => new List<double>()).ToArray();
        var labels = tasks.Select(_ => new List<double>()).ToArray();
        var users = new List<long>();
        long userIndex = 0;
        foreach (var e in _split.Test)
        {
            var seq = RankingSequence.From(e.History, [], Model.Interleaved);
            using var logits = Model.ScoreCandidates(seq.AsHistory(e.RequestTime), e.Candidates, e.RequestTime, _device, _config.Ranking.MicroBatch);
            var flat = logits.cpu().data<float>().ToArray();
            for (int c = 0; c < e.Candidates.Length; c++)
            {
                users.Add(userIndex);
                for (int t = 0; t < tasks.Count; t++)
                {
                    double z = flat[c * tasks.Count + t];
                    scores[t].Add(tasks[t].Predict(z));
                    labels[t].Add(e.Labels[c][t]);
                }
            }
            userIndex++;
        }
        var perTask = new Dictionary<string, RankingMetrics>();
        var mse = new Dictionary<string, double>();
        for (int t = 0; t < tasks.Count; t++)
        {
            if (tasks[t].IsRegression) mse[tasks[t].Name] = RankingMetrics.Mse(labels[t], scores[t]);
            else perTask[tasks[t].Name] = RankingMetrics.Compute(labels[t].Select(l => l > 0.5).ToArray(), scores[t], users);
        }
        return new RankingEvaluation(perTask, mse, _split.Test.Count);
    }

    /// <summary>Saves the model with its config, tasks and feature space (and <paramref name="metrics"/>), atomically, for <c>genrec rank</c>.</summary>
    public void Save(string path, PreparedDataset data, int epochs, RankingEvaluation? metrics)
    {
        new Checkpoint
        {
            Config = _config,
            ItemTableSize = data.ItemTableSize,
            Features = data.Features.Select(_config.Features),
            Dataset = data.Name,
            ItemKeys = data.ItemKeys,
            Epoch = epochs,
            RankingTasks = Model.Tasks,
            RankingMetrics = Checkpoint.MetricsJson(metrics),
        }.Save(path, Model);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
    }
}
