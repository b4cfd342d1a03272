using GenRec.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// HSTU's relative attention bias, one per layer and shared by its heads:
/// rab[i, j] = w_pos[j − i + N − 1] + w_time[bucket(t_{i+1} − t_j)], with 2N − 1 position and (buckets + 1) time weights.
/// </summary>
public sealed class RelativeAttentionBias : nn.Module<Tensor, Tensor>
{
    private readonly int _n;
    private readonly Parameter _posWeights;
    private readonly Parameter _timeWeights;

    /// <summary>Creates the bias for padded length <paramref name="paddedLength"/> (N) and <paramref name="timeBuckets"/> buckets.</summary>
    public RelativeAttentionBias(int paddedLength, int timeBuckets) : base(nameof(RelativeAttentionBias))
    {
        _n = paddedLength;
        _posWeights = new Parameter(empty(2 * paddedLength - 1));
        _timeWeights = new Parameter(empty(timeBuckets + 1));
        using (no_grad())
        {
            nn.init.normal_(_posWeights, 0, 0.02);
            nn.init.normal_(_timeWeights, 0, 0.02);
        }
        RegisterComponents();
    }

    /// <summary>Position weights w_pos (2N − 1).</summary>
    public Parameter PositionWeights => _posWeights;

    /// <summary>Time weights w_time (buckets + 1).</summary>
    public Parameter TimeWeights => _timeWeights;

    /// <summary>
    /// Bias [B, Lq, Lk] for queries at logical positions <paramref name="queryPositions"/> [Lq] and keys at
    /// <paramref name="keyPositions"/> [Lk], from time buckets [B, Lq, Lk]. M-FALCON places every candidate at the
    /// position right after the history, so that a candidate scored in a micro-batch sees what it would see alone.
    /// </summary>
    public Tensor ForPositions(Tensor queryPositions, Tensor keyPositions, Tensor timeBuckets)
    {
        using var scope = NewDisposeScope();
        var rel = keyPositions.unsqueeze(0).Minus(queryPositions.unsqueeze(1)).add_(Scalars.Of((long)(_n - 1)));
        if (rel.min().item<long>() < 0 || rel.max().item<long>() > 2 * _n - 2)
            throw new ArgumentException($"relative positions beyond the model's padded length N = {_n}.");
        var pos = _posWeights.index_select(0, rel.flatten()).view(1, rel.shape[0], rel.shape[1]);
        var time = _timeWeights.index_select(0, timeBuckets.flatten()).view(timeBuckets.shape);
        return pos.Plus(time).MoveToOuterDisposeScope();
    }

    /// <summary>The bias given to a (query, key) pair that may not attend: SiLU(x − 1e9) is exactly −0, and so is its gradient.</summary>
    public const double Blocked = -1e9;

    /// <summary>
    /// One index per (query, key) into the table of <see cref="ForIndex"/> (int32, row-major [B, L, L]): position offset
    /// (j − i + N − 1) × (buckets + 1) + time bucket, or the last entry (<see cref="Blocked"/>) where the query may not
    /// attend (causal, and within its own sequence of a packed row). Built on the host from the batch's own arrays:
    /// only pairs that may attend get a logarithm (about half of them, fewer in packed rows), and no B·L·L int64
    /// temporaries are made. Pinned to <see cref="ForPositions"/> by tests/GenRec.Tests/Model/HstuMathTests.cs. <paramref name="segments"/>: per token, which sequence of its row it belongs to
    /// (null: one sequence per row, plain causal).
    /// </summary>
    public static int[] BuildIndex(long[] timestamps, long[] queryTimestamps, long[]? segments, int b, int l, int paddedLength, int maxBucket)
    {
        var index = new int[b * l * l];
        BuildIndex(timestamps, queryTimestamps, segments, b, l, paddedLength, maxBucket, index);
        return index;
    }

    /// <summary>
    /// <see cref="BuildIndex(long[], long[], long[], int, int, int, int)"/> written into <paramref name="destination"/>
    /// (B·L·L values) — for example straight into a CPU tensor's memory, with no managed copy.
    /// </summary>
    public static unsafe void BuildIndex(long[] timestamps, long[] queryTimestamps, long[]? segments, int b, int l, int paddedLength, int maxBucket, Span<int> destination)
    {
        if (l > paddedLength) throw new ArgumentException($"sequence of length {l} is longer than the model's padded length N = {paddedLength}.");
        if (timestamps.Length != b * l || queryTimestamps.Length != b * l || (segments is not null && segments.Length != b * l))
            throw new ArgumentException($"expected {b} × {l} timestamps, query timestamps and segments.");
        if (destination.Length != b * l * l) throw new ArgumentException($"the destination holds {destination.Length} values; expected {b} × {l} × {l}.", nameof(destination));
        int width = maxBucket + 1, blocked = (2 * paddedLength - 1) * width;
        fixed (int* start = destination)
        {
            // Rows are independent; a pointer (not the span) can cross into the parallel loop.
            var basePtr = (IntPtr)start;
            Parallel.For(0, b, r =>
            {
                int row = r * l;
                for (int i = 0; i < l; i++)
                {
                    var span = new Span<int>((int*)basePtr + (long)(row + i) * l, l);
                    int from = 0;
                    if (segments is not null)
                        while (segments[row + from] != segments[row + i]) from++;
                    span[..from].Fill(blocked);
                    if (i + 1 < l) span[(i + 1)..].Fill(blocked);
                    long q = queryTimestamps[row + i];
                    for (int j = from; j <= i; j++)
                        span[j] = (j - i + paddedLength - 1) * width + (int)TimeBuckets.Bucket(q - timestamps[row + j], maxBucket);
                }
            });
        }
    }

    /// <summary>
    /// Bias [B, L, L] from <see cref="BuildIndex(long[], long[], long[], int, int, int, int)"/>: w_pos + w_time read with one lookup in their outer sum (and −1e9 where
    /// attention is blocked), so that building the bias and applying the mask cost one pass over B·L·L, not four.
    /// </summary>
    public Tensor ForIndex(Tensor index)
    {
        using var scope = NewDisposeScope();
        var table = _posWeights.unsqueeze(1).Plus(_timeWeights.unsqueeze(0)).flatten();
        using var blocked = full(1, Scalars.Of(Blocked), dtype: table.dtype, device: table.device);
        var all = cat([table, blocked]);
        return all.index_select(0, index.flatten()).view(index.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Bias [B, L, L] for a plain causal sequence (positions 0 … L − 1) from time buckets [B, L, L] (see <see cref="TimeBuckets.Compute"/>).</summary>
    public override Tensor forward(Tensor timeBuckets)
    {
        long l = timeBuckets.shape[1];
        if (l > _n) throw new ArgumentException($"sequence of length {l} is longer than the model's padded length N = {_n}.");
        using var positions = arange(Scalars.Of(l), device: timeBuckets.device);
        return ForPositions(positions, positions, timeBuckets);
    }
}
