using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// The ranking split of a prepared feature space: users are split into train and test by a seeded hash of their
/// key; for every user the last <c>candidates</c> items are the candidates (with their labels per task), and the
/// tokens before them are the history. Train users are trained on their whole window (every item position is a
/// target of the causal multi-task loss); test users' candidates are scored from their history.
/// </summary>
public sealed class RankingSplit
{
    private RankingSplit(List<RankingExample> train, List<RankingExample> test, IReadOnlyList<RankingTask> tasks, long skipped)
    {
        Train = train;
        Test = test;
        Tasks = tasks;
        Skipped = skipped;
    }

    /// <summary>Train users' examples.</summary>
    public IReadOnlyList<RankingExample> Train { get; }

    /// <summary>Test users' examples.</summary>
    public IReadOnlyList<RankingExample> Test { get; }

    /// <summary>The tasks (from the actions).</summary>
    public IReadOnlyList<RankingTask> Tasks { get; }

    /// <summary>Users with too few items to have both a history and the candidates.</summary>
    public long Skipped { get; }

    /// <summary>Whether a user key falls in the test part: a stable 64-bit FNV-1a hash of seed and key, 1 in 4 by default.</summary>
    public static bool IsTest(string userKey, int seed, double testFraction = 0.25)
    {
        ulong h = 14695981039346656037UL ^ (ulong)(uint)seed;
        h *= 1099511628211UL;
        foreach (char c in userKey) { h ^= c; h *= 1099511628211UL; }
        return (h % 10_000) < (ulong)Math.Round(testFraction * 10_000);
    }

    /// <summary>Builds the split; <paramref name="maxHistoryTokens"/> bounds the history window (contextual tokens kept in front).</summary>
    public static RankingSplit Create(PreparedDataset data, int maxHistoryTokens, int candidates = 10, int seed = 42, double testFraction = 0.25, FeatureOptions? options = null)
    {
        if (candidates < 1) throw new ArgumentOutOfRangeException(nameof(candidates), candidates, "at least one candidate.");
        var tasks = RankingTask.FromActions(data.Features);
        if (tasks.Count == 0) throw new InvalidOperationException($"{data.Name} has no action columns, so there is nothing to rank by; add an action to the schema.");
        options ??= new FeatureOptions { MaskNegative = false };
        var train = new List<RankingExample>();
        var test = new List<RankingExample>();
        long skipped = 0;
        for (int u = 0; u < data.UserCount; u++)
        {
            var tokens = data.Tokens(u);
            int end = LeaveOneOutSplit.HoldOut(tokens, candidates);
            if (end < 0) { skipped++; continue; }
            var cands = new List<long>(candidates);
            var labels = new List<float[]>(candidates);
            long time = 0;
            for (int i = end; i < tokens.Length; i++)
            {
                if (!tokens[i].IsItem) continue;
                cands.Add(tokens[i].Value);
                labels.Add(RankingTask.Labels(tasks, data.Features, tokens[i]));
                time = tokens[i].Timestamp;
            }
            bool isTest = IsTest(data.UserKey(u), seed, testFraction);
            // Train users learn from their whole window, candidates included; test users keep the candidates out of the history.
            int windowEnd = isTest ? end : tokens.Length;
            var picked = new List<int>();
            var history = LeaveOneOutSplit.Window(data, u, windowEnd, maxHistoryTokens, options, 0, time, picked);
            var historyLabels = new float[]?[picked.Count];
            for (int j = 0; j < picked.Count; j++)
                if (tokens[picked[j]].IsItem) historyLabels[j] = RankingTask.Labels(tasks, data.Features, tokens[picked[j]]);
            var ex = new RankingExample(data.UserKey(u), history, cands.ToArray(), labels.ToArray(), time) { HistoryLabels = historyLabels };
            (isTest ? test : train).Add(ex);
        }
        if (train.Count == 0 || test.Count == 0)
            throw new InvalidOperationException($"{data.Name}: {train.Count} train and {test.Count} test users with at least {candidates + 1} items; ranking needs both.");
        return new RankingSplit(train, test, tasks, skipped);
    }
}
