using GenRec.Data;

namespace GenRec.Evaluation;

/// <summary>
/// Most-popular baseline: every user gets the corpus ordered by how often each item occurs in the training
/// sequences, with the same exclusion of history items and the same rank definition as <see cref="Evaluator"/>.
/// </summary>
public static class PopularityBaseline
{
    /// <summary>Item counts over the training sequences.</summary>
    public static Dictionary<long, long> Counts(IEnumerable<TokenWindow> train)
    {
        var counts = new Dictionary<long, long>();
        foreach (var s in train)
            foreach (var item in s.HistoryItems) counts[item] = counts.GetValueOrDefault(item) + 1;
        return counts;
    }

    /// <summary>1-based rank of each target under popularity order (ties count against the target, like strict "higher").</summary>
    public static RetrievalMetrics Evaluate(IReadOnlyList<TokenWindow> examples, long[] corpus, IReadOnlyDictionary<long, long> counts)
    {
        // Sorted counts let "how many items are more popular than the target" be a binary search.
        var sorted = corpus.Select(c => counts.GetValueOrDefault(c)).Order().ToArray();
        var ranks = new List<long>(examples.Count);
        foreach (var e in examples)
        {
            long t = counts.GetValueOrDefault(e.Target);
            long higher = sorted.Length - UpperBound(sorted, t);
            // History items never compete.
            foreach (var h in e.HistoryItems.Distinct())
                if (h != e.Target && counts.GetValueOrDefault(h) > t) higher--;
            ranks.Add(higher + 1);
        }
        return RetrievalMetrics.FromRanks(ranks);
    }

    private static int UpperBound(long[] a, long v)
    {
        int lo = 0, hi = a.Length;
        while (lo < hi) { int m = (lo + hi) / 2; if (a[m] <= v) lo = m + 1; else hi = m; }
        return lo;
    }
}
