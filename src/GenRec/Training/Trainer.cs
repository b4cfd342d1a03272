using System.Diagnostics;
using System.Text.Json;
using GenRec.Data;
using GenRec.Evaluation;
using GenRec.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GenRec.Training;

/// <summary>
/// Generative retrieval training: next-item prediction at every position of each user's sequence, sampled softmax
/// over the whole corpus, AdamW. Evaluates on the leave-one-out split every <see cref="TrainingConfig.EvalEvery"/> epochs,
/// and, given a run folder, appends each epoch to <c>metrics.jsonl</c>, saves <c>checkpoint.ckpt</c> and draws <c>curves.png</c>.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly ExperimentConfig _config;
    private readonly ISequenceDataset _data;
    private readonly Device _device;
    private readonly AdamW _optimizer;
    private readonly Tensor _corpus;

    /// <summary>Builds the split, the model (seeded) and the optimiser.</summary>
    public Trainer(ExperimentConfig config, ISequenceDataset data, Device device)
    {
        config.Validate();
        _config = config;
        _data = data;
        _device = device;
        Split = data.Split(config.Model.MaxLength, TrainingConfig.ParseSplit(config.Training.Split), config.Features);
        manual_seed(config.Training.Seed);
        Features = data.Features.Select(config.Features);
        Model = SequenceEncoder.Create(config.Model, data.ItemTableSize, Features);
        for (int g = 0; g < Features.ItemFeatures.Count; g++)
            Model.SetItemFeatureIds(g, data.ItemFeatureIds(g) ?? throw new ArgumentException($"{data.Name}: no ids for item feature {Features.ItemFeatures[g].Name}."));
        Model.to(device);
        var t = config.Training;
        _optimizer = new AdamW(Model.parameters(), t.LearningRate, t.Beta1, t.Beta2, t.WeightDecay);
        _corpus = tensor(data.Corpus, device: device);
    }

    /// <summary>The model being trained.</summary>
    public SequenceEncoder Model { get; }

    /// <summary>The feature space the model embeds (after the config's feature switches).</summary>
    public GenRec.Data.Features.FeatureSpace Features { get; }

    /// <summary>The leave-one-out split used.</summary>
    public LeaveOneOutSplit Split { get; }

    /// <summary>Where to write metrics.jsonl, checkpoint.ckpt and curves.png; null writes nothing.</summary>
    public string? RunDirectory { get; init; }

    /// <summary>Receives a report after every step.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Called after every epoch (after evaluation and saving).</summary>
    public Action<EpochResult>? EpochCompleted { get; set; }

    /// <summary>Epochs completed so far.</summary>
    public List<EpochResult> History { get; } = [];

    /// <summary>Runs all epochs and returns the per-epoch results. Cancelling stops after the current step and keeps the last complete epoch.</summary>
    public IReadOnlyList<EpochResult> Run(CancellationToken cancel = default)
    {
        var t = _config.Training;
        if (RunDirectory is not null)
        {
            Directory.CreateDirectory(RunDirectory);
            File.WriteAllText(Path.Combine(RunDirectory, "config.json"), _config.ToJson());
        }
        for (int epoch = 1; epoch <= t.Epochs && !cancel.IsCancellationRequested; epoch++)
        {
            var result = TrainEpoch(epoch, cancel);
            // An interrupted epoch is not recorded: the run folder keeps the last complete epoch's checkpoint.
            if (cancel.IsCancellationRequested) break;
            bool evaluate = epoch == t.Epochs || (t.EvalEvery > 0 && epoch % t.EvalEvery == 0);
            if (evaluate)
            {
                Progress?.Report(new TrainingProgress(epoch, t.Epochs, 0, 0, result.TrainLoss, 0, "eval"));
                var sw = Stopwatch.StartNew();
                var metrics = Evaluator.Evaluate(Model, Split.Eval, _data.Corpus, _device, t.EvalBatchSize);
                result = result with { Metrics = metrics, EvalSeconds = sw.Elapsed.TotalSeconds };
            }
            result = result with { PeakMemoryMiB = PeakMemoryMiB() };
            History.Add(result);
            if (RunDirectory is not null) Persist(result);
            EpochCompleted?.Invoke(result);
        }
        return History;
    }

    /// <summary>Peak resident set size of this process in MiB (VmHWM).</summary>
    public static double PeakMemoryMiB()
    {
        using var p = Process.GetCurrentProcess();
        return p.PeakWorkingSet64 / (1024.0 * 1024.0);
    }

    /// <summary>
    /// The batches of one epoch, deterministic for (seed, epoch): a seeded shuffle, then, with
    /// <see cref="TrainingConfig.BucketByLength"/>, each window of <see cref="TrainingConfig.BucketWindow"/> batches sorted by length and the batches shuffled.
    /// </summary>
    internal List<TrainingSequence[]> EpochBatches(int epoch)
    {
        var t = _config.Training;
        var order = Split.Train.ToArray();
        // Deterministic across processes (HashCode.Combine is salted per process, so it would not reproduce).
        var rng = new Random(unchecked(t.Seed * 1_000_003 + epoch));
        rng.Shuffle(order);
        if (t.StochasticLengthAlpha > 0)
            for (int i = 0; i < order.Length; i++) order[i] = StochasticLength.Apply(order[i], _config.Model.MaxLength, t.StochasticLengthAlpha, rng);
        var batches = new List<TrainingSequence[]>((order.Length + t.BatchSize - 1) / t.BatchSize);
        int window = t.BucketByLength ? t.BucketWindow * t.BatchSize : t.BatchSize;
        for (int w = 0; w < order.Length; w += window)
        {
            var part = order.AsSpan(w, Math.Min(window, order.Length - w)).ToArray();
            // Unstable sort, but deterministic: users of equal length stay in their shuffled order up to introsort.
            if (t.BucketByLength) Array.Sort(part, (a, b) => a.Items.Length.CompareTo(b.Items.Length));
            for (int s = 0; s < part.Length; s += t.BatchSize)
                batches.Add(part.AsSpan(s, Math.Min(t.BatchSize, part.Length - s)).ToArray());
        }
        if (t.BucketByLength) rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));
        // Bucketed batches differ in size; weighting each step's mean loss by its share of positions keeps every
        // position's weight what it is with random batches (whose sizes are all about the mean).
        _meanPositions = batches.Sum(b => b.Sum(Supervised)) / (double)batches.Count;
        return batches;
    }

    private double _meanPositions = 1;

    private static long Supervised(TrainingSequence s)
    {
        long n = 0;
        for (int i = 0; i + 1 < s.Items.Length; i++) if (s.IsSupervised(i)) n++;
        return n;
    }

    private EpochResult TrainEpoch(int epoch, CancellationToken cancel)
    {
        var t = _config.Training;
        Model.train();
        var batches = EpochBatches(epoch);
        int steps = batches.Count;
        double lossSum = 0;
        long tokens = 0;
        var stepTimes = new List<double>(steps);
        var epochClock = Stopwatch.StartNew();
        int done = 0;
        for (int s = 0; s < steps && !cancel.IsCancellationRequested; s++)
        {
            var stepClock = Stopwatch.StartNew();
            double loss = Step(batches[s], out long stepTokens, out _);
            lossSum += loss;
            tokens += stepTokens;
            done++;
            stepTimes.Add(stepClock.Elapsed.TotalSeconds);
            Progress?.Report(new TrainingProgress(epoch, t.Epochs, s + 1, steps, lossSum / done, done / epochClock.Elapsed.TotalSeconds));
        }
        double secs = epochClock.Elapsed.TotalSeconds;
        stepTimes.Sort();
        return new EpochResult
        {
            Epoch = epoch,
            TrainLoss = done > 0 ? lossSum / done : double.NaN,
            Steps = done,
            TrainSeconds = secs,
            MedianStepSeconds = stepTimes.Count > 0 ? stepTimes[stepTimes.Count / 2] : 0,
            TokensPerSecond = tokens / Math.Max(secs, 1e-9),
        };
    }

    /// <summary>
    /// Times <paramref name="steps"/> training steps (after <paramref name="warmup"/> untimed ones) on the batches of
    /// epoch 1 and later ones as needed: per step, seconds, non-padding tokens and padded tokens (B × width).
    /// For <c>genrec bench train</c>; the model trains as it would.
    /// </summary>
    public List<(double Seconds, long Tokens, long PaddedTokens)> TimeSteps(int warmup, int steps, CancellationToken cancel = default)
    {
        Model.train();
        var result = new List<(double, long, long)>(steps);
        int epoch = 1, i = 0;
        var batches = EpochBatches(epoch);
        for (int n = 0; n < warmup + steps && !cancel.IsCancellationRequested; n++)
        {
            if (i == batches.Count) { batches = EpochBatches(++epoch); i = 0; }
            var clock = Stopwatch.StartNew();
            Step(batches[i++], out long tokens, out long padded);
            if (n >= warmup) result.Add((clock.Elapsed.TotalSeconds, tokens, padded));
        }
        return result;
    }

    /// <summary>
    /// Seconds spent per phase of the steps since it was set (batch building, encoder forward, loss forward with the
    /// item table, backward, optimiser), when not null; for <c>genrec bench train --profile</c>. CPU tensors run
    /// eagerly, so wall time between phases is each phase's own.
    /// </summary>
    public double[]? PhaseSeconds { get; set; }

    /// <summary>Names of <see cref="PhaseSeconds"/>' entries.</summary>
    public static readonly string[] PhaseNames = ["batch building", "encoder forward", "loss forward (sampled softmax)", "backward (encoder + loss)", "optimiser step"];

    private long Phase(int phase, long since)
    {
        long now = Stopwatch.GetTimestamp();
        if (PhaseSeconds is { } p) p[phase] += Stopwatch.GetElapsedTime(since, now).TotalSeconds;
        return now;
    }

    /// <summary>One optimisation step on a batch of training sequences; returns the loss.</summary>
    private double Step(TrainingSequence[] chunk, out long tokens, out long paddedTokens)
    {
        var t = _config.Training;
        long start = Stopwatch.GetTimestamp();
        using var scope = NewDisposeScope();
        var items = chunk.Select(c => c.Items).ToList();
        var times = chunk.Select(c => c.Timestamps).ToList();
        var kinds = chunk.Select(c => c.Kinds).ToList();
        var actions = chunk.Select(c => c.Actions).ToList();
        using var batch = t.PackSequences
            ? SequenceBatch.CreatePacked(items, times, SequencePacking.FirstFitDecreasing(items.Select(i => i.Length).ToList(), items.Max(i => i.Length)), _device, kinds, actions)
            : SequenceBatch.Create(items, times, null, _device, kinds, actions);
        tokens = batch.Lengths.Sum();
        paddedTokens = (long)batch.Count * batch.Width;

        // Supervised positions: m_i = 1 (plain items: every i with a next item); the target is token i + 1, an item.
        var positions = new List<long>();
        var targets = new List<long>();
        for (int r = 0; r < chunk.Length; r++)
            for (int i = 0; i + 1 < chunk[r].Items.Length; i++)
            {
                if (!chunk[r].IsSupervised(i)) continue;
                positions.Add(batch.Starts[r] + i);
                targets.Add(chunk[r].Items[i + 1]);
            }

        long mark = Phase(0, start);
        var userEmb = Model.forward(batch);
        mark = Phase(1, mark);
        var positionIds = tensor(positions.ToArray(), device: _device);
        var targetIds = tensor(targets.ToArray(), device: _device);
        Tensor loss;
        var users = userEmb.view(-1, userEmb.shape[2]).index_select(0, positionIds);
        if (t.NegativesSharedBy > 1)
        {
            long groups = (targets.Count + t.NegativesSharedBy - 1) / t.NegativesSharedBy;
            var negatives = _corpus.index_select(0, randint(0, _corpus.shape[0], [groups * t.NumNegatives], dtype: ScalarType.Int64, device: _device))
                .view(groups, t.NumNegatives);
            loss = SampledSoftmaxLoss.ComputeGrouped(users, targetIds, negatives, t.NegativesSharedBy, Model.NormalizedItemTable(), t.Temperature);
        }
        else
        {
            var negatives = _corpus.index_select(0, randint(0, _corpus.shape[0], [targets.Count, t.NumNegatives], dtype: ScalarType.Int64, device: _device).flatten())
                .view(targets.Count, t.NumNegatives);
            loss = SampledSoftmaxLoss.Compute(users, targetIds, negatives, Model.NormalizedItemTable(), t.Temperature);
        }
        var objective = t.BucketByLength ? loss.mul(Scalars.Of(targets.Count / _meanPositions)) : loss;
        mark = Phase(2, mark);
        _optimizer.ZeroGrad();
        objective.backward();
        mark = Phase(3, mark);
        _optimizer.Step();
        Phase(4, mark);
        double value = loss.item<float>();
        if (!double.IsFinite(value)) throw new InvalidOperationException($"training loss became {value}; lower training.learningRate.");
        return value;
    }

    private void Persist(EpochResult result)
    {
        var dir = RunDirectory!;
        File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), JsonSerializer.Serialize(result, MetricsJson) + "\n");
        new Checkpoint
        {
            Config = _config,
            ItemTableSize = _data.ItemTableSize,
            Features = Features.IsEmpty ? null : Features,
            Dataset = _data.Name,
            Epoch = result.Epoch,
            Metrics = result.Metrics ?? History.LastOrDefault(h => h.Metrics is not null)?.Metrics,
        }.Save(Path.Combine(dir, "checkpoint.ckpt"), Model);
        TrainingCurves.Save(Path.Combine(dir, "curves.png"), History, $"{_config.Name} on {_data.Name}");
    }

    private static readonly JsonSerializerOptions MetricsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        _corpus.Dispose();
        Model.Dispose();
    }
}
