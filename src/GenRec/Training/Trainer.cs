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
/// Generative retrieval training: next-item prediction at every position of each user's sequence, sampled softmax
/// over the whole corpus, AdamW. Evaluates on the leave-one-out split every <see cref="TrainingConfig.EvalEvery"/> epochs,
/// and, given a run folder, appends each epoch to <c>metrics.jsonl</c>, saves <c>checkpoint.ckpt</c> and draws <c>curves.png</c>.
/// With <see cref="TrainingConfig.SelectBy"/> the evaluations are on the validation item: the best epoch's model is
/// kept (<c>best.ckpt</c>), training may stop early (<see cref="TrainingConfig.Patience"/>), and at the end the model
/// holds the chosen weights and <see cref="Selection"/> its test metrics, computed once.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly ExperimentConfig _config;
    private readonly PreparedDataset _data;
    private readonly Device _device;
    private readonly AdamW _optimizer;
    private Tensor _corpus;
    private long[] _corpusIds;
    private readonly bool _distributed = Mpi.Initialized && Mpi.Size > 1;
    private readonly ShardedItemTable? _sharded;
    private readonly List<TorchSharp.Modules.Parameter> _trained;

    /// <summary>Builds the split, the model (seeded) and the optimiser.</summary>
    public Trainer(ExperimentConfig config, PreparedDataset data, Device device)
        : this(config, data, device, data.ItemTableSize)
    {
    }

    /// <summary>
    /// As the public constructor, with an item table of <paramref name="itemTableSize"/> rows: a model whose table grew
    /// past the dataset's items (incremental training), restored with <see cref="RestoreState"/>.
    /// </summary>
    internal Trainer(ExperimentConfig config, PreparedDataset data, Device device, long itemTableSize)
    {
        if (itemTableSize < data.ItemTableSize)
            throw new ArgumentException($"an item table of {itemTableSize} rows cannot hold {data.Name}'s "
                + $"{data.ItemTableSize - 1} items.");
        config.Validate();
        if (_distributed)
        {
            if (!config.Training.ExampleSeeded)
                throw new ArgumentException("training under mpirun needs training.exampleSeeded (negatives drawn from "
                    + "each position's place in the epoch, the same on any number of ranks): --set "
                    + "training.exampleSeeded=true --set training.negativesSharedBy=1.");
            if (config.Training.Selects)
                throw new ArgumentException("training under mpirun does not yet select models (--select-by).");
        }
        if (config.Training.ExampleSeeded && (config.Model.AttentionDropout != 0
            || (config.Model.Encoder == "sasrec" && config.Model.Dropout != 0)))
            throw new ArgumentException("training.exampleSeeded draws dropout masks per token, not per attention "
                + $"weight: model.attentionDropout is {config.Model.AttentionDropout}"
                + (config.Model.Encoder == "sasrec" ? $" and SASRec drops attention weights (model.dropout "
                    + $"{config.Model.Dropout})" : "") + "; set them to 0, or train without exampleSeeded.");
        _config = config;
        _data = data;
        _device = device;
        Split = data.Split(config.Model.MaxLength, TrainingConfig.ParseSplit(config.Training.Split), config.Features);
        manual_seed(config.Training.Seed);
        Features = data.Features.Select(config.Features);
        // Example-seeded runs draw the item rows from their ids (SeededItemRows), so that a sharded table and a
        // replicated one start equal and the other parameters take the same draws of the generator.
        bool seededRows = config.Training.ExampleSeeded;
        Model = SequenceEncoder.Create(config.Model, seededRows ? 1 : itemTableSize, Features);
        if (config.Training.ShardItems)
        {
            if (!seededRows || !Features.IsEmpty || config.Training.Selects)
                throw new ArgumentException("training.shardItems needs training.exampleSeeded, a model of item ids "
                    + "only (no feature tokens, side features or actions) and no --select-by.");
            _sharded = new ShardedItemTable(itemTableSize, config.Model, config.Training, device);
        }
        else if (seededRows) Model.UseItemTable(SeededItemRows.Draw(config.Training.Seed, itemTableSize,
            config.Model.EmbeddingDim));
        for (int g = 0; g < Features.ItemFeatures.Count; g++)
        {
            var ids = data.ItemFeatureIds(g) ?? throw new ArgumentException(
                $"{data.Name}: no ids for item feature {Features.ItemFeatures[g].Name}.");
            // Rows past the dataset's items (added later) have no side features.
            if (itemTableSize > data.ItemTableSize)
                Array.Resize(ref ids, checked((int)(itemTableSize * Features.ItemFeatures[g].Width)));
            Model.SetItemFeatureIds(g, ids);
        }
        Model.to(device);
        var t = config.Training;
        // A sharded item table takes its own steps (ShardedItemTable); the model's table is only a step's rows.
        _trained = Model.named_parameters().Where(p => _sharded is null || p.name != "items.weight")
            .Select(p => p.parameter).ToList();
        _optimizer = new AdamW(_trained, t.LearningRate, t.Beta1, t.Beta2, t.WeightDecay);
        _corpus = tensor(data.Corpus, device: device);
        _corpusIds = data.Corpus;
        DataFingerprint = Training.DataFingerprint.Of(Split, data.Corpus);
    }

    /// <summary>SHA-256 (hex) of the data as this trainer sees it (<see cref="Training.DataFingerprint"/>); a resume on other data is refused.</summary>
    public string DataFingerprint { get; }

    /// <summary>The model being trained.</summary>
    public SequenceEncoder Model { get; }

    /// <summary>The feature space the model embeds (after the config's feature switches).</summary>
    public GenRec.Data.Features.FeatureSpace Features { get; }

    /// <summary>The leave-one-out split used.</summary>
    public LeaveOneOutSplit Split { get; }

    /// <summary>Where to write metrics.jsonl, checkpoint.ckpt and curves.png (<see cref="RunFolder"/>); null writes nothing.</summary>
    public string? RunDirectory
    {
        get => _run?.Path;
        init => _run = value is null ? null : new RunFolder(value);
    }

    private readonly RunFolder? _run;

    /// <summary>The run folder where this process writes: under mpirun, rank 0's only (the others read it to resume).
    /// </summary>
    private RunFolder? Writer => _distributed && Mpi.Rank != 0 ? null : _run;

    /// <summary>Receives a report after every step.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Called after every epoch (after evaluation and saving).</summary>
    public Action<EpochResult>? EpochCompleted { get; set; }

    /// <summary>Epochs completed so far.</summary>
    public List<EpochResult> History { get; } = [];

    /// <summary>Whether the last <see cref="Run"/> stopped early on cancellation (after writing a checkpoint, given a run folder).</summary>
    public bool Interrupted { get; private set; }

    /// <summary>Epochs completed so far (including those restored by <see cref="Resume"/>).</summary>
    public int EpochsDone => _epochsDone;

    /// <summary>Steps taken in the epoch under way (non-zero after a mid-epoch checkpoint was restored or a run was interrupted).</summary>
    public int StepsIntoEpoch => _partial.Steps;

    private int _epochsDone;
    private TrainingState _partial = new();
    private double _bestValue = double.NegativeInfinity;
    private int _bestEpoch;
    private Dictionary<string, Tensor>? _bestWeights;

    /// <summary>What model selection chose, once a run with <see cref="TrainingConfig.SelectBy"/> finished.</summary>
    public SelectionResult? Selection { get; private set; }

    /// <summary>Whether the run stopped before its last epoch for lack of validation improvement.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>
    /// Runs the remaining epochs and returns the per-epoch results. Cancelling stops after the current step and, given
    /// a run folder, writes a checkpoint of that step (<see cref="Resume"/> continues from it).
    /// </summary>
    public IReadOnlyList<EpochResult> Run(CancellationToken cancel = default)
    {
        var t = _config.Training;
        Interrupted = false;
        Writer?.Start(_config);
        for (int epoch = _epochsDone + 1; epoch <= t.Epochs && !StoppedEarly; epoch++)
        {
            var result = TrainEpoch(epoch, cancel, out bool complete);
            if (!complete)
            {
                Interrupted = true;
                // A sharded table is gathered by every rank together; one rank stopping alone cannot.
                bool whole = _sharded is null || !_distributed;
                if (whole) GatherItemTable();
                if (Writer is not null && _partial.Steps > 0 && whole) SaveCheckpoint(_partial.Steps, History.LastOrDefault(h => h.Metrics is not null)?.Metrics);
                break;
            }
            GatherItemTable();
            bool evaluate = epoch == t.Epochs || (t.EvalEvery > 0 && epoch % t.EvalEvery == 0);
            if (evaluate)
            {
                Progress?.Report(new TrainingProgress(epoch, t.Epochs, 0, 0, result.TrainLoss, 0, "eval"));
                var sw = Stopwatch.StartNew();
                var metrics = Evaluate(Split.Eval);
                result = result with { Metrics = metrics, EvalSeconds = sw.Elapsed.TotalSeconds };
            }
            result = result with { PeakMemoryMiB = PeakMemoryMiB() };
            // The best model before the run's checkpoint: a crash between the two retrains this epoch on resume, to
            // the same weights, and writes best.ckpt again.
            if (t.Selects && result.Metrics is { } m && SelectionResult.Value(t.SelectBy, m) > _bestValue)
                KeepBest(epoch, m);
            History.Add(result);
            _epochsDone = epoch;
            _partial = new TrainingState();
            if (Writer is { } writer) Persist(writer, result);
            EpochCompleted?.Invoke(result);
            StoppedEarly = t.Patience > 0 && EvaluationsSinceBest() >= t.Patience && epoch < t.Epochs;
            if (cancel.IsCancellationRequested && epoch < t.Epochs && !StoppedEarly) { Interrupted = true; break; }
        }
        if (!Interrupted && t.Selects && _epochsDone > 0) FinishSelection();
        return History;
    }

    /// <summary>
    /// Full-corpus evaluation of <paramref name="examples"/>; under mpirun each rank ranks a contiguous 1/N of them and
    /// the ranks are all-gathered, so every rank reports the metrics of the whole set.
    /// </summary>
    private Evaluation.RetrievalMetrics Evaluate(IReadOnlyList<TokenWindow> examples)
    {
        int batch = _config.Training.EvalBatchSize;
        if (!_distributed) return Evaluator.Evaluate(Model, examples, _data.Corpus, _device, batch);
        int start = examples.Count * Mpi.Rank / Mpi.Size, end = examples.Count * (Mpi.Rank + 1) / Mpi.Size;
        var share = examples.Skip(start).Take(end - start).ToList();
        var mine = Evaluator.Ranks(Model, share, _data.Corpus, _device, batch);
        return Evaluation.RetrievalMetrics.FromRanks(Mpi.AllgatherV<long>(mine));
    }

    /// <summary>Evaluations since the best one (all of them when none was better than nothing).</summary>
    private int EvaluationsSinceBest() => History.Count(h => h.Metrics is not null && h.Epoch > _bestEpoch);

    /// <summary>Keeps the model of <paramref name="epoch"/> as the best so far: in the run folder, or in memory.
    /// </summary>
    private void KeepBest(int epoch, Evaluation.RetrievalMetrics validation)
    {
        _bestValue = SelectionResult.Value(_config.Training.SelectBy, validation);
        _bestEpoch = epoch;
        if (_run is not null)
        {
            (Header(0, validation) with { Epoch = epoch }).Save(_run.Best, Model);
            return;
        }
        if (_bestWeights is not null) foreach (var w in _bestWeights.Values) w.Dispose();
        _bestWeights = Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    /// <summary>
    /// Puts the chosen epoch's weights into <see cref="Model"/> and evaluates them on the test item, the only time
    /// anything looks at it; the result is <see cref="Selection"/> (and <c>selection.json</c> in the run folder).
    /// </summary>
    private void FinishSelection()
    {
        var t = _config.Training;
        if (_bestWeights is not null)
        {
            using var noGrad = no_grad();
            var current = Model.state_dict();
            foreach (var (name, weight) in _bestWeights) current[name].copy_(weight);
        }
        else if (_run is not null)
        {
            if (!File.Exists(_run.Best))
                throw new FileNotFoundException($"{_run.Best}: the model of the chosen epoch {_bestEpoch} is missing; "
                    + "it is written whenever validation improves.", _run.Best);
            var best = Checkpoint.Restore(_run.Best, Model, _ => { });
            if (best.Epoch != _bestEpoch)
                throw new InvalidDataException($"{_run.Best}: holds epoch {best.Epoch}, but metrics.jsonl chooses "
                    + $"epoch {_bestEpoch}; the run folder was changed by hand.");
        }
        var validation = History.First(h => h.Epoch == _bestEpoch).Metrics!;
        var testSplit = _data.Split(_config.Model.MaxLength, Data.EvalSplit.Test, _config.Features);
        var test = Evaluate(testSplit.Eval);
        Selection = new SelectionResult
        {
            SelectBy = t.SelectBy.ToLowerInvariant(),
            BestEpoch = _bestEpoch,
            EpochsTrained = _epochsDone,
            StoppedEarly = StoppedEarly,
            Validation = validation,
            Test = test,
        };
        _run?.WriteSelection(Selection);
    }

    /// <summary>
    /// Continues the run in <see cref="RunDirectory"/> from its checkpoint: weights, optimiser moments, the random
    /// number generator, epoch and step, and the epochs already in <c>metrics.jsonl</c>. The same seed and thread count
    /// then give the same weights as a run never interrupted. Refuses a checkpoint of another config or other data.
    /// </summary>
    public Checkpoint Resume()
    {
        var run = _run ?? throw new InvalidOperationException("resuming needs a run folder (RunDirectory).");
        var path = run.Checkpoint;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no checkpoint to resume from; a run writes one at the end of each epoch (and every training.checkpointEvery steps).", path);
        var header = Checkpoint.ReadHeader(path);
        if (_config.Training.ShardItems)
            throw new InvalidDataException($"{path}: a run with a sharded item table (training.shardItems) does not "
                + "resume yet: the moments of its item rows live on the ranks; start a new run.");
        if (header.IsRanking) throw new InvalidDataException($"{path}: a ranking checkpoint; genrec train --resume continues retrieval runs.");
        static string Shape(ExperimentConfig c) => (c with { Training = c.Training with { Epochs = 1 } }).ToJson();
        if (Shape(header.Config) != Shape(_config))
            throw new InvalidDataException($"{path}: the run was started with another config; resume it with the config in its checkpoint (only training.epochs may change).");
        if (header.DataFingerprint is null)
            throw new InvalidDataException($"{path}: a checkpoint without training state (written by a GenRec that could not resume); start a new run.");
        if (header.DataFingerprint != DataFingerprint)
            throw new InvalidDataException($"{path}: the data changed since the run started (fingerprint {header.DataFingerprint[..12]}… at the checkpoint, {DataFingerprint[..12]}… now); resume with the data it was trained on, or start a new run.");
        TrainingState progress = new();
        Checkpoint.Restore(path, Model, r => progress = TrainingState.Read(r, _optimizer));
        _epochsDone = header.Epoch;
        _partial = progress;
        // metrics.jsonl may hold an epoch finished after the checkpoint was written (a crash between the two): drop it.
        History.Clear();
        // Under mpirun rank 0 alone rewrites the folder; the others only read it (two writers raced here: one
        // rank failed deleting the event files the other was rewriting).
        History.AddRange(Writer is null ? run.EpochsUpTo(_epochsDone) : run.KeepEpochsUpTo(_epochsDone, _config));
        var t = _config.Training;
        if (t.Selects)
        {
            foreach (var h in History.Where(h => h.Metrics is not null))
                if (SelectionResult.Value(t.SelectBy, h.Metrics!) > _bestValue)
                    (_bestValue, _bestEpoch) = (SelectionResult.Value(t.SelectBy, h.Metrics!), h.Epoch);
            StoppedEarly = t.Patience > 0 && EvaluationsSinceBest() >= t.Patience && _epochsDone < t.Epochs;
        }
        return header;
    }

    /// <summary>Peak resident set size of this process in MiB (VmHWM).</summary>
    public static double PeakMemoryMiB()
    {
        using var p = Process.GetCurrentProcess();
        return p.PeakWorkingSet64 / (1024.0 * 1024.0);
    }

    /// <summary>
    /// One pass over <paramref name="windows"/> (training windows whose <see cref="TokenWindow.Supervised"/> mask says
    /// which positions learn), shuffled for <paramref name="epoch"/>, with negatives drawn from
    /// <paramref name="corpus"/>: the items known so far, in the streaming setting, where the catalog grows. The model
    /// and the optimiser carry on from where they were; rows of items outside the corpus get no gradient and stay
    /// untouched. Returns the steps, the non-padding tokens and the seconds it took.
    /// </summary>
    internal (int Steps, long Tokens, double Seconds) TrainOn(IReadOnlyList<TokenWindow> windows, long[] corpus,
        int epoch) => TrainOn(windows, corpus, epoch, 0, null, default);

    /// <summary>
    /// <see cref="TrainOn(IReadOnlyList{TokenWindow}, long[], int)"/> from step <paramref name="skip"/> of the pass's
    /// plan (the steps before it were taken by an interrupted run), calling <paramref name="afterStep"/> with the
    /// number of steps taken in the pass (and the pass's steps) after each one, and stopping early when
    /// <paramref name="cancel"/> is set. Returns the steps taken by this call.
    /// </summary>
    internal (int Steps, long Tokens, double Seconds) TrainOn(IReadOnlyList<TokenWindow> windows, long[] corpus,
        int epoch, int skip, Action<int, int>? afterStep, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        _corpus.Dispose();
        _corpus = tensor(corpus, device: _device);
        _corpusIds = corpus;
        Model.train();
        int steps = 0;
        long tokens = 0;
        var batches = EpochPlan.Batches(windows, _config, epoch);
        for (int s = skip; s < batches.Count && !cancel.IsCancellationRequested; s++)
        {
            double loss = Step(batches[s], out long n, out _, epoch, s + 1, (long)s * _config.Training.BatchSize);
            tokens += n;
            steps++;
            afterStep?.Invoke(s + 1, batches.Count);
            double rate = steps / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            Progress?.Report(new TrainingProgress(epoch, epoch, s + 1, batches.Count, loss, rate));
        }
        return (steps, tokens, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The number of steps a pass over <paramref name="windows"/> takes.</summary>
    internal int StepsFor(IReadOnlyList<TokenWindow> windows) =>
        (windows.Count + _config.Training.BatchSize - 1) / _config.Training.BatchSize;

    /// <summary>Grows the item table to <paramref name="rows"/> rows, the optimiser's state with it.</summary>
    internal void GrowItems(long rows)
    {
        RefuseSharded("grow");
        int index = ItemTableIndex();
        _optimizer.Replace(index, Model.GrowItems(rows));
    }

    private void RefuseSharded(string what)
    {
        if (_sharded is not null)
            throw new InvalidOperationException($"a sharded item table (training.shardItems) cannot {what} rows yet.");
    }

    /// <summary>The item table's place among the parameters the optimiser updates.</summary>
    private int ItemTableIndex() =>
        Model.named_parameters().Select((p, i) => (p.name, i)).First(x => x.name == "items.weight").i;

    /// <summary>Re-initialises the rows of <paramref name="ids"/> and clears their optimiser state.</summary>
    internal void ResetItems(long[] ids)
    {
        RefuseSharded("reset");
        Model.ResetItemRows(ids);
        _optimizer.ResetRows(ItemTableIndex(), ids);
    }

    /// <summary>
    /// Loads weights, optimiser and random-number generator from a checkpoint written with training state (a run's
    /// <c>checkpoint.ckpt</c>); the model must have its item table size. Returns the header.
    /// </summary>
    internal Checkpoint RestoreState(string path)
    {
        // The epoch under way is not restored: incremental training continues runs that finished theirs.
        var header = Checkpoint.Restore(path, Model, r => TrainingState.Read(r, _optimizer));
        _epochsDone = header.Epoch;
        return header;
    }

    /// <summary>Writes <paramref name="header"/>, the weights and the optimiser and generator state to
    /// <paramref name="path"/> (atomically), for <see cref="RestoreState"/>.</summary>
    internal void SaveState(Checkpoint header, string path) =>
        header.Save(path, Model, w => new TrainingState().Write(w, _optimizer, midEpoch: false));

    /// <summary>The header a checkpoint of this model gets (config, item ids, feature space, metrics).</summary>
    internal Checkpoint Describe() => Header(0, History.LastOrDefault(h => h.Metrics is not null)?.Metrics);

    /// <summary>
    /// This rank's part of batch <paramref name="step"/> (0-based) of the epoch's plan and the index of its first
    /// window in the epoch (for example-seeded negatives): the whole batch on one process; under mpirun rank r of N
    /// takes windows [r·n/N, (r+1)·n/N) of the batch's n.
    /// </summary>
    private (TokenWindow[] Chunk, long First) Share(TokenWindow[] batch, int step, int epoch)
    {
        long first = (long)step * _config.Training.BatchSize;
        if (!_distributed) return (batch, first);
        if (batch.Length < Mpi.Size)
            throw new InvalidOperationException($"epoch {epoch}, step {step + 1}: the batch holds {batch.Length} "
                + $"windows, fewer than the {Mpi.Size} ranks; choose training.batchSize so that the last batch of an "
                + "epoch keeps one window per rank.");
        int start = batch.Length * Mpi.Rank / Mpi.Size, end = batch.Length * (Mpi.Rank + 1) / Mpi.Size;
        return (batch[start..end], first + start);
    }

    /// <summary>
    /// Step <paramref name="step"/> (0-based) of epoch <paramref name="epoch"/> on its batch of the epoch's plan, this
    /// rank's share of it under mpirun (for benchmarks that time steps outside <see cref="Run"/>); returns the loss,
    /// with the tokens of all ranks.
    /// </summary>
    internal double TrainStep(TokenWindow[] batch, int step, int epoch, out long tokens, out long paddedTokens)
    {
        var (chunk, first) = Share(batch, step, epoch);
        return Step(chunk, out tokens, out paddedTokens, epoch, step + 1, first);
    }

    /// <summary>The batches of epoch <paramref name="epoch"/> (<see cref="EpochPlan"/>).</summary>
    internal List<TokenWindow[]> EpochBatches(int epoch) => EpochPlan.Batches(Split.Train, _config, epoch);

    private EpochResult TrainEpoch(int epoch, CancellationToken cancel, out bool complete)
    {
        var t = _config.Training;
        Model.train();
        var batches = EpochBatches(epoch);
        int steps = batches.Count;
        var p = _partial;
        var epochClock = Stopwatch.StartNew();
        for (int s = p.Steps; s < steps && !cancel.IsCancellationRequested; s++)
        {
            var stepClock = Stopwatch.StartNew();
            var (chunk, first) = Share(batches[s], s, epoch);
            double loss = Step(chunk, out long stepTokens, out _, epoch, s + 1, first);
            p.LossSum += loss;
            p.Tokens += stepTokens;
            p.Steps++;
            p.StepTimes.Add(stepClock.Elapsed.TotalSeconds);
            Progress?.Report(new TrainingProgress(epoch, t.Epochs, s + 1, steps, p.LossSum / p.Steps, p.Steps / (p.Seconds + epochClock.Elapsed.TotalSeconds)));
            bool due = t.CheckpointEvery > 0 && p.Steps % t.CheckpointEvery == 0 && p.Steps < steps;
            if (due) GatherItemTable();
            if (Writer is not null && due)
            {
                p.Seconds += epochClock.Elapsed.TotalSeconds;
                epochClock.Restart();
                SaveCheckpoint(p.Steps, History.LastOrDefault(h => h.Metrics is not null)?.Metrics);
            }
        }
        p.Seconds += epochClock.Elapsed.TotalSeconds;
        complete = p.Steps == steps;
        var sorted = p.StepTimes.Order().ToList();
        return new EpochResult
        {
            Epoch = epoch,
            TrainLoss = p.Steps > 0 ? p.LossSum / p.Steps : double.NaN,
            Steps = p.Steps,
            TrainSeconds = p.Seconds,
            MedianStepSeconds = sorted.Count > 0 ? sorted[sorted.Count / 2] : 0,
            TokensPerSecond = p.Tokens / Math.Max(p.Seconds, 1e-9),
        };
    }

    /// <summary>
    /// Called at the end of each phase of a step (for profilers, such as <c>genrec bench train --profile</c>): CPU
    /// tensors run eagerly, so the wall time between two calls is that phase's own.
    /// </summary>
    internal Action<StepPhase>? PhaseEnded { get; set; }

    /// <summary>Replaces the loss before backward; for fault-injection tests (a non-finite loss must stop training cleanly).</summary>
    internal Func<Tensor, Tensor>? LossFault { get; set; }

    /// <summary>
    /// One optimisation step on a batch of training sequences (the first at index <paramref name="firstExample"/> of
    /// the epoch's plan, for example-seeded negatives); returns the loss. A non-finite loss or gradient throws
    /// <see cref="TrainingDivergedException"/> before the weights change.
    /// </summary>
    internal double Step(TokenWindow[] chunk, out long tokens, out long paddedTokens, int epoch, int step,
        long firstExample = 0)
    {
        var t = _config.Training;
        using var scope = NewDisposeScope();
        // Supervised positions: m_i = 1 (plain items: every i with a next item); the target is token i + 1, an item.
        var targets = new List<long>();
        var places = new List<(long Example, int Position)>();
        for (int r = 0; r < chunk.Length; r++)
            for (int i = 0; i + 1 < chunk[r].History.Length; i++)
            {
                if (!chunk[r].IsSupervised(i)) continue;
                targets.Add(chunk[r].History[i + 1]);
                places.Add((firstExample + r, i));
            }
        var drawn = t.ExampleSeeded ? ExampleNegatives.Sample(_corpusIds, places, t.NumNegatives, t.Seed, epoch) : null;
        var items = chunk.Select(c => c.History).ToList();
        TorchSharp.Modules.Parameter? stepRows = null;
        if (_sharded is not null)
        {
            // The step's own small table: the rows of every id it reads, fetched from their owners, under new ids.
            var ids = items.SelectMany(h => h).Concat(drawn!).Where(id => id != 0).Distinct().Order().ToArray();
            var local = new Dictionary<long, long>(ids.Length) { [0] = 0 };
            for (int i = 0; i < ids.Length; i++) local[ids[i]] = i + 1;
            items = items.Select(h => h.Select(id => local[id]).ToArray()).ToList();
            for (int i = 0; i < targets.Count; i++) targets[i] = local[targets[i]];
            for (int i = 0; i < drawn!.Length; i++) drawn[i] = local[drawn[i]];
            stepRows = SwapItemTable(_sharded.Fetch(ids));
        }
        var times = chunk.Select(c => c.HistoryTimestamps).ToList();
        var kinds = chunk.Select(c => c.HistoryKinds).ToList();
        var actions = chunk.Select(c => c.HistoryActions).ToList();
        // Users packed into rows (first fit, block-diagonal causal attention): each user's outputs are those of a row
        // of its own (SequencePackingTests), with little padding.
        using var batch = SequenceBatch.CreatePacked(items, times,
            SequencePacking.FirstFitDecreasing(items.Select(i => i.Length).ToList(), items.Max(i => i.Length)),
            _device, kinds, actions);
        tokens = batch.Lengths.Sum();
        paddedTokens = (long)batch.Count * batch.Width;
        var positions = new List<long>();
        for (int r = 0; r < chunk.Length; r++)
            for (int i = 0; i + 1 < chunk[r].History.Length; i++)
                if (chunk[r].IsSupervised(i)) positions.Add(batch.Starts[r] + i);

        PhaseEnded?.Invoke(StepPhase.BatchBuilding);
        using var masks = t.ExampleSeeded ? DropoutPlaces(batch, chunk, firstExample, epoch) : null;
        var userEmb = Model.forward(batch);
        PhaseEnded?.Invoke(StepPhase.EncoderForward);
        var positionIds = tensor(positions.ToArray(), device: _device);
        var targetIds = tensor(targets.ToArray(), device: _device);
        Tensor loss;
        var users = userEmb.view(-1, userEmb.shape[2]).index_select(0, positionIds);
        if (drawn is not null)
        {
            var negatives = tensor(drawn, [targets.Count, t.NumNegatives], device: _device);
            loss = SampledSoftmaxLoss.Compute(users, targetIds, negatives, Model.NormalizedItemTable(), t.Temperature);
        }
        else if (t.NegativesSharedBy > 1)
        {
            long groups = (targets.Count + t.NegativesSharedBy - 1) / t.NegativesSharedBy;
            var negatives = SampledSoftmaxLoss.SampleNegatives(_corpus, groups, t.NumNegatives);
            loss = SampledSoftmaxLoss.ComputeGrouped(users, targetIds, negatives, t.NegativesSharedBy, Model.NormalizedItemTable(), t.Temperature);
        }
        else
        {
            var negatives = SampledSoftmaxLoss.SampleNegatives(_corpus, targets.Count, t.NumNegatives);
            loss = SampledSoftmaxLoss.Compute(users, targetIds, negatives, Model.NormalizedItemTable(), t.Temperature);
        }
        if (LossFault is { } fault) loss = fault(loss);
        double value;
        if (_distributed)
        {
            // Each rank's mean over its positions, weighted by its share of the global batch's positions: the sum
            // over ranks of these losses (and of their gradients) is the global batch's mean.
            var talk = Stopwatch.StartNew();
            var counts = new[] { (long)targets.Count, tokens };
            Mpi.AllreduceSum(counts.AsSpan());
            tokens = counts[1];   // the step's tokens over all ranks
            loss = loss.mul(Scalars.Of((double)targets.Count / counts[0]));
            var total = new[] { (double)loss.item<float>() };
            Mpi.AllreduceSum(total.AsSpan());
            value = total[0];
            _talkSeconds += talk.Elapsed.TotalSeconds;
        }
        else value = loss.item<float>();
        PhaseEnded?.Invoke(StepPhase.LossForward);
        if (!double.IsFinite(value)) throw Diverged(epoch, step, $"the training loss is {value}");
        _optimizer.ZeroGrad();
        loss.backward();
        if (_distributed) Exchange.Run();
        int bad = _optimizer.FirstNonFiniteGradient();
        if (bad >= 0) throw Diverged(epoch, step, $"the gradient of parameter #{bad} ({Model.named_parameters().ElementAt(bad).name}) is not finite");
        PhaseEnded?.Invoke(StepPhase.Backward);
        _optimizer.Step();
        if (_sharded is not null) _sharded.Step(stepRows!.grad!);
        PhaseEnded?.Invoke(StepPhase.OptimiserStep);
        return value;
    }

    /// <summary>Makes <paramref name="rows"/> the model's item table and frees the one it replaces (a sharded
    /// table's: the previous step's rows, or the gathered whole table).</summary>
    private TorchSharp.Modules.Parameter SwapItemTable(Tensor rows)
    {
        var previous = Model.ItemEmbeddings.weight;
        var table = Model.UseItemTable(rows);
        previous?.Dispose();
        return table;
    }

    /// <summary>With a sharded item table, puts the whole table into the model (for evaluation and checkpoints);
    /// collective: every rank calls it at the same points.</summary>
    private void GatherItemTable()
    {
        if (_sharded is not null) SwapItemTable(_sharded.Gather());
    }

    /// <summary>
    /// Opens the example-seeded dropout scope of one packed batch: each slot knows the example (its index in the
    /// epoch's plan) and position it holds.
    /// </summary>
    private ExampleSeededDropout DropoutPlaces(SequenceBatch batch, TokenWindow[] chunk, long firstExample, int epoch)
    {
        long slots = (long)batch.Count * batch.Width;
        var example = new long[slots];
        var position = new int[slots];
        Array.Fill(example, -1L);
        for (int r = 0; r < chunk.Length; r++)
            for (int i = 0; i < chunk[r].History.Length; i++)
            {
                example[batch.Starts[r] + i] = firstExample + r;
                position[batch.Starts[r] + i] = i;
            }
        return ExampleSeededDropout.Begin(_config.Training.Seed, epoch, example, position, batch.Count, batch.Width);
    }

    /// <summary>Seconds this process spent in MPI calls while training (under mpirun; 0 otherwise).</summary>
    public double CommunicationSeconds => _talkSeconds + (_exchange?.Seconds ?? 0) + (_sharded?.Seconds ?? 0);

    /// <summary>Bytes this rank sent (and received) to sum one step's gradients (under mpirun; 0 otherwise).</summary>
    public long GradientBytesPerStep => (_exchange?.BytesLastStep ?? 0) + (_sharded?.BytesLastStep ?? 0);

    /// <summary>Bytes this process holds for the item table and its optimiser moments (1/N of them when sharded).
    /// </summary>
    public long ItemTableBytesHeld => _sharded?.BytesHeld ?? 3 * Model.ItemTableSize * _config.Model.EmbeddingDim * 4L;

    /// <summary>Whether the last step exchanged the item table's gradient sparsely (touched rows only).</summary>
    public bool SparseItemExchange => _exchange?.SparseLastStep ?? false;

    private double _talkSeconds;
    private GradientExchange? _exchange;

    /// <summary>The gradient exchange of data-parallel steps, built on first use.</summary>
    private GradientExchange Exchange => _exchange ??= new GradientExchange(_trained,
        _sharded is null ? ItemTableIndex() : -1, _config.Training.ItemGradientExchange,
        (long)(_config.Training.AllreduceBucketMiB * 1024 * 1024));

    private TrainingDivergedException Diverged(int epoch, int step, string what)
    {
        string kept = _run is null ? "" : File.Exists(_run.Checkpoint)
            ? $" The run folder keeps its last good checkpoint (epoch {_epochsDone}{(_partial.Steps > 0 ? $", step {_partial.Steps} of the next" : "")}): lower training.learningRate and continue with genrec train --resume {RunDirectory}."
            : " No checkpoint had been written yet.";
        return new TrainingDivergedException($"epoch {epoch}, step {step}: {what}; training stopped before updating the weights.{kept}");
    }

    private void Persist(RunFolder run, EpochResult result)
    {
        // The checkpoint first: metrics.jsonl lines beyond the checkpoint's epoch are dropped on resume.
        SaveCheckpoint(0, result.Metrics ?? History.LastOrDefault(h => h.Metrics is not null)?.Metrics);
        run.Append(result, History, $"{_config.Name} on {_data.Name}");
    }

    /// <summary>
    /// Saves the model as trained so far to <paramref name="path"/>, with what using it again needs (config, item ids,
    /// feature space, the last evaluation's metrics): the checkpoint every command, <see cref="Checkpoint.Load"/> and
    /// <see cref="Inference.RecommendationPipeline"/> read. Written whole or not at all. Without the optimiser
    /// state: to continue training later, give the trainer a <see cref="RunDirectory"/>.
    /// </summary>
    public Checkpoint Save(string path)
    {
        var header = Header(0, History.LastOrDefault(h => h.Metrics is not null)?.Metrics);
        header.Save(path, Model);
        return header;
    }

    private Checkpoint Header(int stepsIntoEpoch, Evaluation.RetrievalMetrics? metrics) => new()
    {
        Config = _config,
        ItemTableSize = Model.ItemTableSize,
        Features = Features.IsEmpty ? null : Features,
        Dataset = _data.Name,
        ItemKeys = _data.ItemKeys,
        Epoch = _epochsDone,
        Step = stepsIntoEpoch,
        DataFingerprint = DataFingerprint,
        Metrics = Checkpoint.MetricsJson(metrics),
    };

    /// <summary>Writes the run's checkpoint: weights, then the training state (optimiser, RNG, the epoch under way).</summary>
    private void SaveCheckpoint(int stepsIntoEpoch, Evaluation.RetrievalMetrics? metrics) =>
        Header(stepsIntoEpoch, metrics).Save(_run!.Checkpoint, Model,
            w => _partial.Write(w, _optimizer, midEpoch: stepsIntoEpoch != 0));

    /// <inheritdoc />
    public void Dispose()
    {
        if (_bestWeights is not null) foreach (var w in _bestWeights.Values) w.Dispose();
        _optimizer.Dispose();
        _sharded?.Dispose();
        _corpus.Dispose();
        Model.Dispose();
    }
}
