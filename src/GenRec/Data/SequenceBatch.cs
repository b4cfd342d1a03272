using static TorchSharp.torch;

namespace GenRec.Data;

/// <summary>
/// A padded batch of left-aligned sequences, the shape the encoders consume. Padding (item 0) sits after each
/// sequence, so with a causal mask valid positions never see it.
/// </summary>
public sealed class SequenceBatch : IDisposable
{
    private SequenceBatch(Tensor ids, Tensor timestamps, Tensor queryTimestamps, long[] lengths, Tensor? kinds, Tensor? actions)
    {
        Kinds = kinds;
        Actions = actions;
        Ids = ids;
        Timestamps = timestamps;
        QueryTimestamps = queryTimestamps;
        Lengths = lengths;
    }

    /// <summary>[B, L] item ids, 0 = padding.</summary>
    public Tensor Ids { get; }

    /// <summary>[B, L] token kinds (0 = item, k = k-th feature kind); null when every token is an item.</summary>
    public Tensor? Kinds { get; }

    /// <summary>[B, L] action ids (0 = none); null without actions.</summary>
    public Tensor? Actions { get; }

    /// <summary>[B, L] event times t_j.</summary>
    public Tensor Timestamps { get; }

    /// <summary>[B, L] the time of the event each position predicts, t_{i+1}; at the last position, the query time.</summary>
    public Tensor QueryTimestamps { get; }

    /// <summary>Valid length of each row.</summary>
    public long[] Lengths { get; }

    /// <summary>Batch size.</summary>
    public int Count => Lengths.Length;

    /// <summary>Padded length L (the longest row).</summary>
    public int Width => (int)Ids.shape[1];

    /// <summary>
    /// Builds a batch. <paramref name="queryTimes"/> gives, per row, the time to use after its last event
    /// (the target's time at evaluation); null uses the last event's own time (training, where that position is unsupervised).
    /// </summary>
    public static SequenceBatch Create(IReadOnlyList<long[]> items, IReadOnlyList<long[]> timestamps, IReadOnlyList<long>? queryTimes, Device device,
        IReadOnlyList<byte[]?>? kinds = null, IReadOnlyList<int[]?>? actions = null)
    {
        int b = items.Count;
        if (b == 0) throw new ArgumentException("a batch needs at least one sequence.", nameof(items));
        int width = items.Max(s => s.Length);
        if (width == 0) throw new ArgumentException("every sequence in a batch is empty.", nameof(items));
        var ids = new long[b * width];
        var ts = new long[b * width];
        var qts = new long[b * width];
        var lengths = new long[b];
        for (int r = 0; r < b; r++)
        {
            var s = items[r];
            var t = timestamps[r];
            if (t.Length != s.Length) throw new ArgumentException($"row {r}: {s.Length} items but {t.Length} timestamps.");
            lengths[r] = s.Length;
            int o = r * width;
            Array.Copy(s, 0, ids, o, s.Length);
            Array.Copy(t, 0, ts, o, t.Length);
            if (s.Length == 0) continue;
            Array.Copy(t, 1, qts, o, t.Length - 1);
            qts[o + s.Length - 1] = queryTimes is null ? t[^1] : queryTimes[r];
        }
        return new SequenceBatch(
            tensor(ids, [b, width], device: device),
            tensor(ts, [b, width], device: device),
            tensor(qts, [b, width], device: device),
            lengths,
            Pad(kinds, items, width, device, k => (long)k),
            Pad(actions, items, width, device, a => (long)a));
    }

    private static Tensor? Pad<T>(IReadOnlyList<T[]?>? rows, IReadOnlyList<long[]> items, int width, Device device, Func<T, long> convert)
    {
        if (rows is null || rows.All(r => r is null)) return null;
        var flat = new long[items.Count * width];
        for (int r = 0; r < items.Count; r++)
        {
            var row = rows[r];
            if (row is null) continue;
            if (row.Length != items[r].Length) throw new ArgumentException($"row {r}: {items[r].Length} tokens but {row.Length} kinds/actions.");
            for (int i = 0; i < row.Length; i++) flat[r * width + i] = convert(row[i]);
        }
        return tensor(flat, [items.Count, width], device: device);
    }

    /// <summary>[B, L] boolean mask of valid (non-padding) positions.</summary>
    public Tensor ValidMask() => Ids.ne(GenRec.Model.Scalars.Of(0L));

    /// <inheritdoc />
    public void Dispose()
    {
        Ids.Dispose();
        Kinds?.Dispose();
        Actions?.Dispose();
        Timestamps.Dispose();
        QueryTimestamps.Dispose();
    }
}
