using GenRec.Data;
using GenRec.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// SASRec (Kang &amp; McAuley 2018), the paper's baseline row: causal softmax self-attention whose queries are
/// layer-normalised, then a ReLU feed-forward of width D. Two layouts (<see cref="ModelConfig.SasRecLayout"/>):
/// <list type="bullet">
/// <item><c>official</c>, the generative-recommenders code's SASRec that the paper's table ran: h = LN(LN(x) +
/// MHA(LN(x), x, x)), x' = h + FFN(h), with parameter-free layer norms and no final norm; every matrix xavier-normal
/// (the attention's fused [3D, D] input projection included), the attention biases zero.</item>
/// <item><c>kang2018</c>, the original paper's public code: the same block with learned layer norms, a final layer
/// norm, and PyTorch's default initialisation.</item>
/// </list>
/// </summary>
public sealed class SasRecEncoder : SequenceEncoder
{
    private const double LayerNormEps = 1e-8;
    private readonly bool _official;
    private readonly ModuleList<LayerNorm> _attnNorms = new();
    private readonly ModuleList<Linear> _qProj = new(), _kProj = new(), _vProj = new(), _outProj = new();
    private readonly ModuleList<LayerNorm> _ffnNorms = new();
    private readonly ModuleList<Linear> _ffn1 = new(), _ffn2 = new();
    private readonly LayerNorm? _last;
    private readonly FastDropout _dropout;

    /// <summary>Creates the encoder with an item table of <paramref name="itemTableSize"/> rows and, optionally, a feature space's embedding tables.</summary>
    public SasRecEncoder(ModelConfig config, long itemTableSize, GenRec.Data.Features.FeatureSpace? features = null) : base(nameof(SasRecEncoder), config, itemTableSize, features)
    {
        int d = config.EmbeddingDim;
        _official = config.SasRecLayout == ModelConfig.OfficialSasRec;
        for (int i = 0; i < config.NumLayers; i++)
        {
            if (!_official)
            {
                _attnNorms.Add(nn.LayerNorm(d, eps: LayerNormEps));
                _ffnNorms.Add(nn.LayerNorm(d, eps: LayerNormEps));
            }
            _qProj.Add(nn.Linear(d, d));
            _kProj.Add(nn.Linear(d, d));
            _vProj.Add(nn.Linear(d, d));
            _outProj.Add(nn.Linear(d, d));
            _ffn1.Add(nn.Linear(d, d));
            _ffn2.Add(nn.Linear(d, d));
        }
        if (!_official) _last = nn.LayerNorm(d, eps: LayerNormEps);
        _dropout = new FastDropout(config.Dropout);
        if (_official) InitialiseAsOfficial(d);
        RegisterComponents();
    }

    /// <summary>
    /// The official reset_state: xavier_normal_ on every matrix. Q, K and V are thirds of one [3D, D] projection there,
    /// so their std is √(2 / (D + 3D)); nn.MultiheadAttention starts its biases at zero; the FFN's 1×1 convolutions
    /// keep their default bias, which is nn.Linear's.
    /// </summary>
    private void InitialiseAsOfficial(int d)
    {
        using var _ = no_grad();
        double fused = Math.Sqrt(2.0 / (d + 3 * d));
        for (int i = 0; i < _qProj.Count; i++)
        {
            foreach (var p in new[] { _qProj[i], _kProj[i], _vProj[i] })
            {
                p.weight!.normal_(0, fused);
                p.bias!.zero_();
            }
            nn.init.xavier_normal_(_outProj[i].weight!);
            _outProj[i].bias!.zero_();
            nn.init.xavier_normal_(_ffn1[i].weight!);
            nn.init.xavier_normal_(_ffn2[i].weight!);
        }
    }

    /// <summary>The query, key, value and output projections of layer <paramref name="layer"/>.</summary>
    public (Linear Q, Linear K, Linear V, Linear Out) Attention(int layer) =>
        (_qProj[layer], _kProj[layer], _vProj[layer], _outProj[layer]);

    /// <summary>The feed-forward's two projections of layer <paramref name="layer"/>.</summary>
    public (Linear First, Linear Second) FeedForward(int layer) => (_ffn1[layer], _ffn2[layer]);

    private Tensor Norm(ModuleList<LayerNorm> norms, int i, Tensor x) =>
        _official ? nn.functional.layer_norm(x, [x.shape[2]], eps: LayerNormEps) : norms[i].forward(x);

    /// <inheritdoc />
    protected override Tensor Encode(Tensor x, Tensor valid, SequenceBatch batch)
    {
        long b = x.shape[0], l = x.shape[1];
        int h = Config.NumHeads, d = Config.EmbeddingDim, dh = d / h;
        using var allowed = batch.AttentionMask();
        using var causal = allowed is null ? ones(l, l, dtype: ScalarType.Bool, device: x.device).tril().logical_not() : allowed.logical_not();
        for (int i = 0; i < _qProj.Count; i++)
        {
            using var scope = NewDisposeScope();
            var qIn = Norm(_attnNorms, i, x);
            var q = _qProj[i].forward(qIn).view(b, l, h, dh).transpose(1, 2);
            var k = _kProj[i].forward(x).view(b, l, h, dh).transpose(1, 2);
            var v = _vProj[i].forward(x).view(b, l, h, dh).transpose(1, 2);
            var scores = q.matmul(k.transpose(-2, -1)).div(Scalars.Of(Math.Sqrt(dh))).masked_fill(causal, Scalars.Of(double.NegativeInfinity));
            var attn = FastDropout.Apply(scores.softmax(-1), Config.Dropout, training);
            var o = _outProj[i].forward(attn.matmul(v).transpose(1, 2).reshape(b, l, d));
            var hIn = Norm(_ffnNorms, i, qIn.Plus(o));
            var ffn = _dropout.forward(_ffn2[i].forward(_dropout.forward(nn.functional.relu(_ffn1[i].forward(hIn)))));
            x = (hIn.Plus(ffn) * valid).MoveToOuterDisposeScope();
        }
        return _last is null ? x : _last.forward(x) * valid;
    }
}
