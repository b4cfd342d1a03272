using TorchSharp;
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

    /// <summary>Bias [B, L, L] from precomputed time buckets [B, L, L] (see <see cref="TimeBuckets.Compute"/>).</summary>
    public override Tensor forward(Tensor timeBuckets)
    {
        long l = timeBuckets.shape[1];
        if (l > _n) throw new ArgumentException($"sequence of length {l} is longer than the model's padded length N = {_n}.");
        using var scope = NewDisposeScope();
        var i = arange(l, device: timeBuckets.device).unsqueeze(1);
        var j = arange(l, device: timeBuckets.device).unsqueeze(0);
        var pos = _posWeights.index_select(0, j.Minus(i).add_(Scalars.Of((long)(_n - 1))).flatten()).view(1, l, l);
        var time = _timeWeights.index_select(0, timeBuckets.flatten()).view(timeBuckets.shape);
        return pos.Plus(time).MoveToOuterDisposeScope();
    }
}
