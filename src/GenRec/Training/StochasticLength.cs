using GenRec.Data;

namespace GenRec.Training;

/// <summary>
/// Stochastic length (paper §3.3): a training history of n tokens longer than N^(α/2) is kept whole with probability
/// N^α / n², and otherwise sub-sampled to N^(α/2) tokens (positions drawn uniformly, order kept). Most long
/// histories thus cost about N^(α/2) tokens per step instead of n, which is what makes the attention cheaper.
/// </summary>
public static class StochasticLength
{
    /// <summary>The length histories are cut to: ⌊N^(α/2)⌋.</summary>
    public static int Threshold(int maxLength, double alpha) => (int)Math.Floor(Math.Pow(maxLength, alpha / 2));

    /// <summary>The probability that a history of <paramref name="n"/> tokens is kept whole.</summary>
    public static double KeepProbability(int n, int maxLength, double alpha) =>
        n <= Threshold(maxLength, alpha) ? 1 : Math.Min(1, Math.Pow(maxLength, alpha) / ((double)n * n));

    /// <summary>
    /// The sequence, or a sub-sequence of it. Leading feature tokens (the contextual ones) are always kept. A kept
    /// position's mask m_i is that of the kept token after it, so negative feedback stays unsupervised.
    /// </summary>
    public static TokenWindow Apply(TokenWindow s, int maxLength, double alpha, Random rng)
    {
        int n = s.History.Length, target = Threshold(maxLength, alpha);
        if (n <= target || rng.NextDouble() < KeepProbability(n, maxLength, alpha)) return s;
        int front = 0;
        while (s.HistoryKinds is { } k && front < n && k[front] != 0) front++;
        int pick = Math.Max(0, target - front), pool = n - front;
        if (pick >= pool) return s;
        // Floyd's algorithm: `pick` distinct positions out of `pool`, uniformly.
        var chosen = new SortedSet<int>();
        for (int j = pool - pick; j < pool; j++)
        {
            int t = rng.Next(j + 1);
            chosen.Add(chosen.Contains(t) ? j : t);
        }
        var keep = Enumerable.Range(0, front).Concat(chosen.Select(c => c + front)).ToArray();
        bool[]? supervised = null;
        if (s.Supervised is { } m)
        {
            supervised = new bool[keep.Length];
            for (int i = 0; i + 1 < keep.Length; i++) supervised[i] = m[keep[i + 1] - 1];
        }
        return s with
        {
            History = keep.Select(i => s.History[i]).ToArray(),
            HistoryTimestamps = keep.Select(i => s.HistoryTimestamps[i]).ToArray(),
            HistoryKinds = s.HistoryKinds is { } kinds ? keep.Select(i => kinds[i]).ToArray() : null,
            HistoryActions = s.HistoryActions is { } a ? keep.Select(i => a[i]).ToArray() : null,
            Supervised = supervised,
        };
    }
}
