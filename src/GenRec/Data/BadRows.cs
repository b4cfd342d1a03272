namespace GenRec.Data;

/// <summary>
/// What to do with rows that cannot be used — malformed, duplicated, invalid encoding, ids beyond the embedding table,
/// negative timestamps, users with a single event — and what was found. By default the first one stops the read with
/// its file, line and reason; with <see cref="Skip"/> each is dropped, counted by reason, and summarised.
/// </summary>
public sealed class BadRows
{
    private readonly Dictionary<string, (int Count, string First)> _byReason = new(StringComparer.Ordinal);

    /// <summary>Creates the policy: <paramref name="skip"/> = true drops bad rows instead of failing (<c>--skip-bad-rows</c>).</summary>
    public BadRows(bool skip = false) => Skip = skip;

    /// <summary>Whether bad rows are dropped (and counted) rather than fatal.</summary>
    public bool Skip { get; }

    /// <summary>Rows dropped so far.</summary>
    public int Count => _byReason.Values.Sum(v => v.Count);

    /// <summary>Rows dropped, by reason, with the first example of each (<c>file:line: problem</c>).</summary>
    public IReadOnlyDictionary<string, (int Count, string First)> ByReason => _byReason;

    /// <summary>Fails with <paramref name="error"/>, or, when skipping, records it under <paramref name="reason"/>.</summary>
    public void Report(string reason, DataLoadException error)
    {
        if (!Skip) throw error;
        _byReason[reason] = _byReason.TryGetValue(reason, out var v) ? (v.Count + 1, v.First) : (1, error.Message);
    }

    /// <summary>One line per reason: count and first example; empty when nothing was dropped.</summary>
    public IEnumerable<string> Summary() =>
        _byReason.OrderByDescending(kv => kv.Value.Count).Select(kv => $"{kv.Value.Count:N0} × {kv.Key} (first: {kv.Value.First})");
}
