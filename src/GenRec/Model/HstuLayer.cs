using GenRec.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// One HSTU layer (Zhai et al. 2024, eqs. 1–3):
/// U, V, Q, K = split(SiLU(LN(X) · W_uvqk));
/// A = SiLU(Q Kᵀ + rab) / N under a causal mask, no softmax;
/// Y = X + W_o · Dropout(U ⊙ LN(A V)) + b_o.
/// </summary>
public sealed class HstuLayer : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly int _heads, _qk, _v, _n;
    private readonly double _attnDropout;
    private readonly Parameter _uvqk;
    private readonly Linear _o;
    private readonly FastDropout _dropout;

    /// <summary>Creates a layer of width <paramref name="dim"/> with <paramref name="heads"/> heads.</summary>
    public HstuLayer(int dim, int heads, int qkDim, int vDim, int paddedLength, double dropout, double attentionDropout)
        : base(nameof(HstuLayer))
    {
        _heads = heads; _qk = qkDim; _v = vDim; _n = paddedLength; _attnDropout = attentionDropout;
        _uvqk = new Parameter(empty(dim, 2 * heads * vDim + 2 * heads * qkDim));
        _o = nn.Linear(heads * vDim, dim);
        _dropout = new FastDropout(dropout);
        using (no_grad())
        {
            nn.init.normal_(_uvqk, 0, 0.02);
            nn.init.xavier_uniform_(_o.weight!);
        }
        RegisterComponents();
    }

    /// <summary>The packed projection W_uvqk, D × (2·H·d_v + 2·H·d_qk).</summary>
    public Parameter Uvqk => _uvqk;

    /// <summary>The output projection W_o, b_o.</summary>
    public Linear Output => _o;

    /// <summary>
    /// x: [B, L, D]; rab: [B, L, L] (or broadcastable); valid: [B, L, 1] float mask of non-padding positions.
    /// Returns [B, L, D] with padding rows zeroed.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor rab, Tensor valid) => Forward(x, rab, valid, null, out _, out _);

    /// <summary>
    /// The layer with an optional attention pattern <paramref name="allowed"/> (bool, broadcastable to [B, L, L]; null: causal),
    /// also returning this layer's keys and values [B, H, L, d] (the M-FALCON cache; valid while the caller holds them).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor rab, Tensor valid, Tensor? allowed, out Tensor keys, out Tensor values)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1];
        var (u, v, q, k) = Project(x);
        var attn = PointwiseAttentionWeights(q, k, rab.unsqueeze(1), _n, allowed is { } a && a.dim() == 3 ? a.unsqueeze(1) : allowed);
        if (_attnDropout > 0) attn = FastDropout.Apply(attn, _attnDropout, training);
        var o = attn.matmul(v);
        var y = Combine(x, u, o) * valid;
        keys = k.MoveToOuterDisposeScope();
        values = v.MoveToOuterDisposeScope();
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The training path: the layer with a bias that already carries the attention pattern (<see cref="RelativeAttentionBias.ForIndex"/>:
    /// −1e9 where a query may not attend, which SiLU turns into exact zeros), Q Kᵀ added to it inside the matrix
    /// product, and 1/N applied to A·V rather than to the L × L weights. The same function as <see cref="Forward"/>
    /// with fewer passes over B·L·L memory.
    /// </summary>
    public Tensor ForwardWithMaskedBias(Tensor x, Tensor maskedRab, Tensor valid) => ForwardWithMaskedBias(x, [maskedRab], valid);

    /// <summary>
    /// <see cref="ForwardWithMaskedBias(Tensor, Tensor, Tensor)"/> on causal row blocks: block r holds the bias of the
    /// queries that follow the previous blocks' rows ([B, rows_r, keys_r]) against keys 0 … keys_r − 1, its last row's
    /// causal prefix. Keys beyond a block's last row are blocked for every query in it, so they are never computed: with
    /// four blocks, 5/8 of the L × L scores, weights and products instead of all of them (<see cref="CausalRowBlocks"/>).
    /// </summary>
    public Tensor ForwardWithMaskedBias(Tensor x, IReadOnlyList<Tensor> maskedRabBlocks, Tensor valid)
    {
        using var scope = NewDisposeScope();
        var (u, v, q, k) = Project(x);
        var outputs = new Tensor[maskedRabBlocks.Count];
        long start = 0;
        for (int r = 0; r < outputs.Length; r++)
        {
            var rab = maskedRabBlocks[r];
            long rows = rab.shape[1], keys = rab.shape[2];
            var qr = q.narrow(2, start, rows);
            var kr = k.narrow(2, 0, keys);
            // One head: a batched product that starts from the bias (TorchSharp's order: batch1.baddbmm(batch2, added)).
            // Several: the bias broadcast over heads.
            var scores = _heads == 1
                ? qr.squeeze(1).baddbmm(kr.squeeze(1).transpose(1, 2), rab).unsqueeze(1)
                : qr.matmul(kr.transpose(-2, -1)).Plus(rab.unsqueeze(1));
            var attn = nn.functional.silu(scores);
            if (_attnDropout > 0) attn = FastDropout.Apply(attn, _attnDropout, training);
            outputs[r] = attn.matmul(v.narrow(2, 0, keys));
            start += rows;
        }
        if (start != x.shape[1]) throw new ArgumentException($"the bias blocks cover {start} rows; the input has {x.shape[1]}.", nameof(maskedRabBlocks));
        var o = (outputs.Length == 1 ? outputs[0] : cat(outputs, 2)).div(Scalars.Of((double)_n));
        return Combine(x, u, o).mul(valid).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// M-FALCON's cached candidate step (the paper's section 3.4): candidates x [b, 1, D], each at the position right
    /// after a history, attend to that history's cached keys and values [1, H, n, d] and to themselves only, never to
    /// each other. <paramref name="historyBias"/> [1, 1, 1, n] and <paramref name="selfBias"/> [1, 1, 1, 1] are the
    /// relative bias from the candidate position to the history and to itself. The same eqs. 1–3 as <see cref="Forward"/>
    /// over history + one candidate (tests/GenRec.Tests/Inference/MFalconTests.cs), with the history's part computed once.
    /// </summary>
    public Tensor ForwardCandidates(Tensor x, Tensor historyKeys, Tensor historyValues, Tensor historyBias, Tensor selfBias)
    {
        using var scope = NewDisposeScope();
        var (u, v, q, k) = Project(x);                                             // q, k: [b, H, 1, d]
        var sHistory = q.matmul(historyKeys.transpose(-2, -1)).Plus(historyBias);  // [b, H, 1, n]
        var sSelf = (q * k).sum(-1, keepdim: true).Plus(selfBias);                 // [b, H, 1, 1]
        var norm = Scalars.Of((double)_n);
        var o = nn.functional.silu(sHistory).div(norm).matmul(historyValues)
            .Plus(nn.functional.silu(sSelf).div(norm) * v);                        // [b, H, 1, d_v]
        return Combine(x, u, o).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Row blocks (first row, row count) for causal attention over <paramref name="width"/> positions: about 48 rows
    /// each, at most four. Fewer, larger blocks waste more of the upper triangle; more, smaller ones lose more to
    /// per-product overhead (one ML-1M layer, forward + backward: 1 block 16.8 ms, 2 blocks 15.0–16.1, 4 blocks 14.9–15.2,
    /// 8 blocks 17.5).
    /// </summary>
    public static (int Start, int Rows)[] CausalRowBlocks(int width)
    {
        int count = Math.Clamp(width / 48, 1, 4), size = (width + count - 1) / count;
        var blocks = new List<(int, int)>();
        for (int s = 0; s < width; s += size) blocks.Add((s, Math.Min(size, width - s)));
        return [.. blocks];
    }

    /// <summary>Eq. 1: U [B, L, H·d_v] and V, Q, K [B, H, L, d] from SiLU(LN(X) · W_uvqk).</summary>
    public (Tensor U, Tensor V, Tensor Q, Tensor K) Project(Tensor x)
    {
        long b = x.shape[0], l = x.shape[1];
        var normed = nn.functional.layer_norm(x, [x.shape[2]], eps: 1e-6);
        var uvqk = nn.functional.silu(normed.matmul(_uvqk));
        var parts = uvqk.split([_heads * _v, _heads * _v, _heads * _qk, _heads * _qk], dim: -1);
        return (parts[0],
            parts[1].view(b, l, _heads, _v).transpose(1, 2),
            parts[2].view(b, l, _heads, _qk).transpose(1, 2),
            parts[3].view(b, l, _heads, _qk).transpose(1, 2));
    }

    /// <summary>Eq. 3 from the attention output o = A·V [B, H, L, d_v]: Y = X + W_o · Dropout(U ⊙ LN(o)) + b_o.</summary>
    public Tensor Combine(Tensor x, Tensor u, Tensor o)
    {
        long b = x.shape[0], l = x.shape[1];
        var flat = o.transpose(1, 2).reshape(b, l, _heads * _v);
        var gated = u * nn.functional.layer_norm(flat, [_heads * _v], eps: 1e-6);
        return x.Plus(_o.forward(_dropout.forward(gated)));
    }

    /// <summary>The attention normaliser N (the padded length).</summary>
    public int Normalizer => _n;

    /// <summary>
    /// HSTU's pointwise aggregated attention weights: SiLU(Q Kᵀ + rab) / N with the causal mask (key j ≤ query i),
    /// or the pattern <paramref name="allowed"/> (bool, true = may attend). q, k: [B, H, L, d]; rab broadcastable to
    /// [B, H, L, L]. No 1/√d scaling and no softmax, as in the paper.
    /// </summary>
    public static Tensor PointwiseAttentionWeights(Tensor q, Tensor k, Tensor rab, int n, Tensor? allowed = null)
    {
        using var scope = NewDisposeScope();
        long l = q.shape[2];
        var scores = q.matmul(k.transpose(-2, -1)).Plus(rab);
        var mask = allowed ?? ones(l, k.shape[2], dtype: ScalarType.Bool, device: q.device).tril();
        var a = nn.functional.silu(scores).div(Scalars.Of((double)n)).masked_fill(mask.logical_not(), Scalars.Of(0.0));
        return a.MoveToOuterDisposeScope();
    }
}
