using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Data;

/// <summary>
/// A padded batch of left-aligned sequences, the shape the encoders consume. Padding (item 0) sits after each
/// sequence, so with a causal mask valid positions never see it.
/// </summary>
public sealed class SequenceBatch : IDisposable
{
    private SequenceBatch(Tensor ids, Tensor timestamps, Tensor queryTimestamps, long[] lengths, long[] starts, Tensor? kinds, Tensor? actions,
        Tensor? positions, Tensor? segments)
    {
        Kinds = kinds;
        Actions = actions;
        Ids = ids;
        Timestamps = timestamps;
        QueryTimestamps = queryTimestamps;
        Lengths = lengths;
        Starts = starts;
        Positions = positions;
        Segments = segments;
    }

    /// <summary>Host copies of <see cref="Timestamps"/>, <see cref="QueryTimestamps"/> and <see cref="Segments"/> (row-major), for work done on the CPU side.</summary>
    internal (long[] Timestamps, long[] QueryTimestamps, long[]? Segments) Host { get; private init; }

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

    /// <summary>Valid tokens of each row (of a packed batch: of all its sequences together).</summary>
    public long[] Lengths { get; }

    /// <summary>For each input sequence, in input order, the flat index (row × L + offset) of its first token.</summary>
    public long[] Starts { get; }

    /// <summary>[B, L] each token's position within its own sequence; null when every row holds one sequence (positions 0…L−1).</summary>
    public Tensor? Positions { get; }

    /// <summary>[B, L] which sequence of its row a token belongs to (1, 2, …; 0 = padding); null when every row holds one sequence.</summary>
    public Tensor? Segments { get; }

    /// <summary>Whether rows hold several sequences each (<see cref="CreatePacked"/>).</summary>
    public bool IsPacked => Segments is not null;

    /// <summary>Rows in the batch.</summary>
    public int Count => Lengths.Length;

    /// <summary>Padded length L (the longest row).</summary>
    public int Width => (int)Ids.shape[1];

    /// <summary>
    /// Builds a batch, one sequence per row. <paramref name="queryTimes"/> gives, per row, the time to use after its last event
    /// (the target's time at evaluation); null uses the last event's own time (training, where that position is unsupervised).
    /// </summary>
    public static SequenceBatch Create(IReadOnlyList<long[]> items, IReadOnlyList<long[]> timestamps, IReadOnlyList<long>? queryTimes, Device device,
        IReadOnlyList<byte[]?>? kinds = null, IReadOnlyList<int[]?>? actions = null)
    {
        if (items.Count == 0) throw new ArgumentException("a batch needs at least one sequence.", nameof(items));
        var rows = new int[items.Count][];
        for (int r = 0; r < rows.Length; r++) rows[r] = [r];
        return Build(items, timestamps, queryTimes, rows, packed: false, device, kinds, actions);
    }

    /// <summary>
    /// Builds a packed batch: row r holds the sequences <paramref name="rows"/>[r] one after another. Each sequence keeps its
    /// own positions (0, 1, …) and sees only itself under the causal mask (<see cref="AttentionMask"/>), so an encoder
    /// computes for it exactly what it computes in a row of its own, with less padding. Training only (query times are
    /// each sequence's last event time).
    /// </summary>
    public static SequenceBatch CreatePacked(IReadOnlyList<long[]> items, IReadOnlyList<long[]> timestamps, IReadOnlyList<IReadOnlyList<int>> rows, Device device,
        IReadOnlyList<byte[]?>? kinds = null, IReadOnlyList<int[]?>? actions = null)
    {
        var seen = new bool[items.Count];
        foreach (var row in rows)
            foreach (int i in row)
            {
                if (i < 0 || i >= items.Count || seen[i]) throw new ArgumentException($"rows must place each of the {items.Count} sequences exactly once; sequence {i} is out of range or repeated.", nameof(rows));
                seen[i] = true;
            }
        if (seen.Contains(false)) throw new ArgumentException($"rows must place each of the {items.Count} sequences exactly once; sequence {Array.IndexOf(seen, false)} is missing.", nameof(rows));
        return Build(items, timestamps, null, rows, packed: true, device, kinds, actions);
    }

    private static SequenceBatch Build(IReadOnlyList<long[]> items, IReadOnlyList<long[]> timestamps, IReadOnlyList<long>? queryTimes,
        IReadOnlyList<IReadOnlyList<int>> rows, bool packed, Device device, IReadOnlyList<byte[]?>? kinds, IReadOnlyList<int[]?>? actions)
    {
        int b = rows.Count;
        if (b == 0) throw new ArgumentException("a batch needs at least one sequence.", nameof(items));
        int width = rows.Max(row => row.Sum(i => items[i].Length));
        if (width == 0) throw new ArgumentException("every sequence in a batch is empty.", nameof(items));
        var ids = new long[b * width];
        var ts = new long[b * width];
        var qts = new long[b * width];
        var pos = packed ? new long[b * width] : null;
        var seg = packed ? new long[b * width] : null;
        var lengths = new long[b];
        var starts = new long[items.Count];
        for (int r = 0; r < b; r++)
        {
            int o = r * width, segment = 0;
            foreach (int i in rows[r])
            {
                var s = items[i];
                var t = timestamps[i];
                if (t.Length != s.Length) throw new ArgumentException($"sequence {i}: {s.Length} items but {t.Length} timestamps.");
                starts[i] = o;
                Array.Copy(s, 0, ids, o, s.Length);
                Array.Copy(t, 0, ts, o, t.Length);
                segment++;
                if (s.Length > 0)
                {
                    Array.Copy(t, 1, qts, o, t.Length - 1);
                    qts[o + s.Length - 1] = queryTimes is null ? t[^1] : queryTimes[i];
                }
                for (int j = 0; j < s.Length && packed; j++) { pos![o + j] = j; seg![o + j] = segment; }
                o += s.Length;
            }
            lengths[r] = o - r * width;
        }
        return new SequenceBatch(
            tensor(ids, [b, width], device: device),
            tensor(ts, [b, width], device: device),
            tensor(qts, [b, width], device: device),
            lengths,
            starts,
            Pad(kinds, items, starts, b, width, device, k => (long)k),
            Pad(actions, items, starts, b, width, device, a => (long)a),
            pos is null ? null : tensor(pos, [b, width], device: device),
            seg is null ? null : tensor(seg, [b, width], device: device))
        { Host = (ts, qts, seg) };
    }

    private static Tensor? Pad<T>(IReadOnlyList<T[]?>? values, IReadOnlyList<long[]> items, long[] starts, int b, int width, Device device, Func<T, long> convert)
    {
        if (values is null || values.All(r => r is null)) return null;
        var flat = new long[b * width];
        for (int i = 0; i < items.Count; i++)
        {
            var row = values[i];
            if (row is null) continue;
            if (row.Length != items[i].Length) throw new ArgumentException($"sequence {i}: {items[i].Length} tokens but {row.Length} kinds/actions.");
            for (int j = 0; j < row.Length; j++) flat[starts[i] + j] = convert(row[j]);
        }
        return tensor(flat, [b, width], device: device);
    }

    /// <summary>
    /// Which keys each query may attend to, bool [B, 1, L, L] (true = may): causal within the query's own sequence.
    /// Null for an unpacked batch, where the plain causal mask applies.
    /// </summary>
    public Tensor? AttentionMask()
    {
        if (Segments is null) return null;
        using var scope = NewDisposeScope();
        long l = Width;
        var same = Segments.unsqueeze(2).eq(Segments.unsqueeze(1));
        var causal = ones(l, l, dtype: ScalarType.Bool, device: Segments.device).tril();
        return same.logical_and(causal).unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>[B, L] boolean mask of valid (non-padding) positions.</summary>
    public Tensor ValidMask() => Ids.ne(Scalars.Of(0L));

    /// <inheritdoc />
    public void Dispose()
    {
        Ids.Dispose();
        Kinds?.Dispose();
        Actions?.Dispose();
        Timestamps.Dispose();
        QueryTimestamps.Dispose();
        Positions?.Dispose();
        Segments?.Dispose();
    }
}
