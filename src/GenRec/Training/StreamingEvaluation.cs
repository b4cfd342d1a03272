using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Evaluation;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Training;

/// <summary>
/// The protocol production teams use to judge a recommender that must stay fresh: all events in time order; train on
/// an initial span; then, period by period, first evaluate every event of the period as next-item prediction from the
/// user's history before it, over every item known by then, and only then learn from the period. Three policies run
/// side by side from the same initial model: <see cref="StreamingPolicy.Frozen"/> (never updated),
/// <see cref="StreamingPolicy.Streaming"/> (one pass over each new period, the paper's streaming setting, the history
/// before it as context) and <see cref="StreamingPolicy.Retrain"/> (a new model trained from scratch on everything
/// up to the period, each period).
/// </summary>
/// <remarks>
/// The item table is sized for the whole log, and an item is a candidate, a negative or a training target only once
/// its first event has passed: until then its row gets no gradient and is never scored, which is what adding the row
/// at its first event would do. A target not yet known when its period starts cannot be retrieved by any policy; such
/// events are counted (<see cref="StreamingPeriod.UnknownTargets"/>) and left out of HR and NDCG. "New" items are those
/// first seen after the initial span: the frozen model never learnt them.
/// </remarks>
public sealed class StreamingEvaluation
{
    private readonly ExperimentConfig _config;
    private readonly PreparedDataset _data;
    private readonly Device _device;
    private readonly long[] _firstSeen;

    /// <summary>Prepares the protocol over <paramref name="data"/> (its events in time order).</summary>
    public StreamingEvaluation(ExperimentConfig config, PreparedDataset data, Device device)
    {
        config.Validate();
        _config = config;
        _data = data;
        _device = device;
        _firstSeen = new long[data.ItemTableSize];
        Array.Fill(_firstSeen, long.MaxValue);
        for (int u = 0; u < data.UserCount; u++)
            foreach (var t in data.Tokens(u))
                if (t.IsItem && t.Timestamp < _firstSeen[t.Value]) _firstSeen[t.Value] = t.Timestamp;
    }

    /// <summary>Progress notes (which policy is training or evaluating which period).</summary>
    public IProgress<string>? Progress { get; set; }

    /// <summary>
    /// Runs the protocol: the initial span holds the first <paramref name="initialShare"/> of the events; then up to
    /// <paramref name="maxPeriods"/> periods of <paramref name="period"/> each. The initial model and each retrain get
    /// <paramref name="epochs"/> epochs; a streaming update gets <paramref name="streamEpochs"/> passes over its
    /// period.
    /// </summary>
    public StreamingReport Run(TimeSpan period, double initialShare, int maxPeriods, int epochs, int streamEpochs,
        IReadOnlyList<StreamingPolicy> policies, double replay = 0)
    {
        if (replay < 0) throw new ArgumentException($"replay {replay}: expected 0 or more windows per new one.");
        if (initialShare is <= 0 or >= 1)
            throw new ArgumentException($"initial share {initialShare}: expected a fraction of the events, 0 < x < 1.");
        if (period <= TimeSpan.Zero) throw new ArgumentException($"period {period}: expected a positive duration.");
        long seconds = (long)period.TotalSeconds;
        var times = new List<long>();
        for (int u = 0; u < _data.UserCount; u++)
            foreach (var t in _data.Tokens(u))
                if (t.IsItem) times.Add(t.Timestamp);
        times.Sort();
        long initialEnd = times[Math.Clamp((int)(initialShare * times.Count), 1, times.Count - 1)];
        var bounds = new List<(long Start, long End)>();
        for (long start = initialEnd; start <= times[^1] && bounds.Count < maxPeriods; start += seconds)
            bounds.Add((start, start + seconds));
        if (bounds.Count == 0)
            throw new ArgumentException("no events after the initial span; lower the initial share.");

        Progress?.Report($"initial model: {epochs} epochs on the events before {Date(initialEnd)}");
        var trainers = new Dictionary<StreamingPolicy, Trainer>();
        var snapshot = Path.GetTempFileName();
        try
        {
            // The streaming policy continues the initial trainer (its optimiser state included); the others start
            // from a copy of its weights.
            var initial = NewTrainer();
            trainers[StreamingPolicy.Streaming] = initial;
            var initialCost = TrainFromScratch(initial, initialEnd, epochs, 0);
            initial.Save(snapshot);
            foreach (var policy in policies.Where(p => p != StreamingPolicy.Streaming))
            {
                var copy = trainers[policy] = NewTrainer();
                Checkpoint.Restore(snapshot, copy.Model, _ => { });
            }
            if (!policies.Contains(StreamingPolicy.Streaming)) trainers.Remove(StreamingPolicy.Streaming);
            var periods = new List<StreamingPeriod>();
            for (int p = 0; p < bounds.Count; p++)
            {
                var (start, end) = bounds[p];
                string name = $"period {p + 1}/{bounds.Count} ({Date(start)})";
                var retrainCost = Cost.Zero;
                if (p > 0 && trainers.TryGetValue(StreamingPolicy.Retrain, out var old))
                {
                    // A new model on everything before this period (for the first, that is the initial model).
                    Progress?.Report($"{name}: retraining from scratch");
                    old.Dispose();
                    var fresh = trainers[StreamingPolicy.Retrain] = NewTrainer();
                    retrainCost = TrainFromScratch(fresh, start, epochs, 1000 * (p + 1));
                }
                Progress?.Report($"{name}: evaluating");
                var (cases, cold, unknown, total) = EvaluationCases(start, end);
                var known = Known(start);
                var listed = Known(end);
                var scores = policies.ToDictionary(policy => policy,
                    policy => Score(trainers[policy].Model, cases, known, initialEnd)
                        with
                    { ColdHr10 = ColdHitRate(trainers[policy].Model, cold, listed) });
                var streamCost = Cost.Zero;
                if (trainers.TryGetValue(StreamingPolicy.Streaming, out var streaming))
                {
                    Progress?.Report($"{name}: streaming update");
                    var span = StreamingWindows(start, end);
                    var knownAfter = Known(end);
                    for (int e = 0; e < streamEpochs && span.Count > 0; e++)
                    {
                        var pass = span.Concat(Replay(start, (int)Math.Round(replay * span.Count), 1000 * p + e))
                            .ToList();
                        streamCost += Cost.Of(streaming.TrainOn(pass, knownAfter, 1_000_000 + 1000 * p + e));
                    }
                }
                periods.Add(new StreamingPeriod
                {
                    Index = p + 1,
                    Start = DateTimeOffset.FromUnixTimeSeconds(start),
                    Events = total,
                    UnknownTargets = unknown,
                    ColdTargets = cold.Count,
                    Evaluated = cases.Count,
                    NewItemTargets = cases.Count(c => _firstSeen[c.Target] >= initialEnd),
                    Scores = scores,
                    RetrainCost = retrainCost,
                    StreamCost = streamCost,
                });
            }
            return new StreamingReport
            {
                Dataset = _data.Name,
                Config = _config.Name,
                InitialEnd = DateTimeOffset.FromUnixTimeSeconds(initialEnd),
                PeriodSeconds = seconds,
                InitialCost = initialCost,
                Periods = periods,
            };
        }
        finally
        {
            foreach (var t in trainers.Values) t.Dispose();
            File.Delete(snapshot);
        }
    }

    private Trainer NewTrainer() =>
        new(_config with { Training = _config.Training with { EvalEvery = 0 } }, _data, _device);

    private static string Date(long unix) => DateTimeOffset.FromUnixTimeSeconds(unix).ToString("yyyy-MM-dd HH:mm");

    /// <summary>The items whose first event is before <paramref name="time"/>.</summary>
    private long[] Known(long time) => _data.Corpus.Where(i => _firstSeen[i] < time).ToArray();

    /// <summary>Every user's latest window before <paramref name="end"/>, every position learning.</summary>
    private Cost TrainFromScratch(Trainer trainer, long end, int epochs, int seed)
    {
        var windows = Enumerable.Range(0, _data.UserCount).Select(u => LatestWindow(u, end)).OfType<TokenWindow>()
            .ToList();
        var known = Known(end);
        var cost = Cost.Zero;
        for (int e = 1; e <= epochs; e++) cost += Cost.Of(trainer.TrainOn(windows, known, seed + e));
        return cost;
    }

    /// <summary>
    /// The period's training windows: each active user's latest window ending at the period's end, learning only at
    /// positions whose next item falls in the period (the history before it is context).
    /// </summary>
    private List<TokenWindow> StreamingWindows(long start, long end)
    {
        var windows = new List<TokenWindow>();
        for (int u = 0; u < _data.UserCount; u++)
        {
            if (LatestWindow(u, end) is not { } w || w.HistoryTimestamps[^1] < start) continue;
            var mask = (bool[])w.Supervised!.Clone();
            for (int i = 0; i + 1 < mask.Length; i++) mask[i] &= w.HistoryTimestamps[i + 1] >= start;
            if (mask.Any(x => x)) windows.Add(w with { Supervised = mask });
        }
        return windows;
    }

    /// <summary>
    /// Replay: <paramref name="count"/> windows of earlier history (users drawn at random, each user's latest window
    /// before <paramref name="before"/>, every position learning), mixed into a streaming update so that the model
    /// keeps what it knew while it learns the new period.
    /// </summary>
    private IEnumerable<TokenWindow> Replay(long before, int count, int seed)
    {
        if (count <= 0) yield break;
        var rng = new Random(unchecked(_config.Training.Seed * 7919 + seed));
        for (int drawn = 0, tries = 0; drawn < count && tries < 20 * count; tries++)
        {
            if (LatestWindow(rng.Next(_data.UserCount), before) is not { } w) continue;
            drawn++;
            yield return w;
        }
    }

    /// <summary>
    /// Every item event of the period whose item was known at its start, as a history → target case; and, apart,
    /// those whose item was first seen in the period (cold-start cases).
    /// </summary>
    private (List<TokenWindow> Cases, List<TokenWindow> Cold, int Unknown, int Total) EvaluationCases(long start,
        long end)
    {
        var cases = new List<TokenWindow>();
        var cold = new List<TokenWindow>();
        int unknown = 0, total = 0;
        for (int u = 0; u < _data.UserCount; u++)
        {
            var tokens = _data.Tokens(u);
            for (int j = 1; j < tokens.Length; j++)
            {
                var t = tokens[j];
                if (!t.IsItem || t.Timestamp < start || t.Timestamp >= end) continue;
                total++;
                var w = LeaveOneOutSplit.Window(_data, u, j, _config.Model.MaxLength, _config.Features, t.Value,
                    t.Timestamp);
                if (_firstSeen[t.Value] >= start)
                {
                    unknown++;
                    if (w.History.Length > 0) cold.Add(w);
                    continue;
                }
                if (w.History.Length > 0) cases.Add(w);
            }
        }
        return (cases, cold, unknown, total);
    }

    /// <summary>HR@10 of the cold-start cases among the items listed by the period's end; null without cases.
    /// </summary>
    private double? ColdHitRate(SequenceEncoder model, List<TokenWindow> cold, long[] listed)
    {
        if (cold.Count == 0) return null;
        var ranks = Evaluator.Ranks(model, cold, listed, _device, _config.Training.EvalBatchSize);
        return ranks.Average(r => RetrievalMetrics.HitRate(r, 10));
    }

    private StreamingScores Score(SequenceEncoder model, List<TokenWindow> cases, long[] known, long initialEnd)
    {
        if (cases.Count == 0) return new StreamingScores();
        var ranks = Evaluator.Ranks(model, cases, known, _device, _config.Training.EvalBatchSize);
        var newRanks = ranks.Where((_, i) => _firstSeen[cases[i].Target] >= initialEnd).ToList();
        var all = RetrievalMetrics.FromRanks(ranks);
        return new StreamingScores
        {
            Hr10 = all.Hr10,
            Ndcg10 = all.Ndcg10,
            NewItemHr10 = newRanks.Count == 0 ? null : newRanks.Average(r => RetrievalMetrics.HitRate(r, 10)),
        };
    }

    /// <summary>
    /// The user's latest training window of the tokens before <paramref name="before"/>, every position learning; null
    /// when no position of it can learn.
    /// </summary>
    private TokenWindow? LatestWindow(int user, long before)
    {
        int n = CountBefore(_data.Tokens(user), before);
        if (n < 2) return null;
        var w = LeaveOneOutSplit.Window(_data, user, n, _config.Model.MaxLength + 1, _config.Features, 0, null);
        return w.Supervised!.Any(x => x) ? w : null;
    }

    private static int CountBefore(ReadOnlySpan<Token> tokens, long time)
    {
        int n = 0;
        while (n < tokens.Length && tokens[n].Timestamp < time) n++;
        return n;
    }
}
