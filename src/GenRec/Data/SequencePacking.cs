namespace GenRec.Data;

/// <summary>Places sequences into batch rows of a fixed capacity so that rows carry little padding.</summary>
public static class SequencePacking
{
    /// <summary>
    /// First-fit decreasing: takes sequences longest first and puts each into the first row with room for it, opening a
    /// new row when none has. Returns the rows as lists of indices into <paramref name="lengths"/> (longest first within
    /// a row). Every sequence must fit in an empty row.
    /// </summary>
    public static List<List<int>> FirstFitDecreasing(IReadOnlyList<int> lengths, int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "row capacity must be positive.");
        var order = Enumerable.Range(0, lengths.Count).ToArray();
        // Stable by index among equal lengths, so the result depends only on the input.
        Array.Sort(order, (a, b) => lengths[a] != lengths[b] ? lengths[b].CompareTo(lengths[a]) : a.CompareTo(b));
        var rows = new List<List<int>>();
        var free = new List<int>();
        foreach (int i in order)
        {
            int len = lengths[i];
            if (len > capacity) throw new ArgumentException($"sequence {i} has {len} tokens; a row holds {capacity}.", nameof(lengths));
            int r = free.FindIndex(f => f >= len);
            if (r < 0) { rows.Add([]); free.Add(capacity); r = rows.Count - 1; }
            rows[r].Add(i);
            free[r] -= len;
        }
        return rows;
    }
}
