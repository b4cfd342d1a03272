using GenRec.Data;
using GenRec.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// SASRec (Kang &amp; McAuley 2018), the paper's baseline row: causal softmax self-attention with pre-LayerNorm
/// queries, a ReLU feed-forward of width D with residual, and a final LayerNorm, laid out as in the public reference.
/// </summary>
public sealed class SasRecEncoder : SequenceEncoder
{
    private readonly ModuleList<LayerNorm> _attnNorms = new();
    private readonly ModuleList<Linear> _qProj = new(), _kProj = new(), _vProj = new(), _outProj = new();
    private readonly ModuleList<LayerNorm> _ffnNorms = new();
    private readonly ModuleList<Linear> _ffn1 = new(), _ffn2 = new();
    private readonly LayerNorm _last;
    private readonly FastDropout _dropout;

    /// <summary>Creates the encoder with an item table of <paramref name="itemTableSize"/> rows and, optionally, a feature space's embedding tables.</summary>
    public SasRecEncoder(ModelConfig config, long itemTableSize, GenRec.Data.Features.FeatureSpace? features = null) : base(nameof(SasRecEncoder), config, itemTableSize, features)
    {
        int d = config.EmbeddingDim;
        for (int i = 0; i < config.NumLayers; i++)
        {
            _attnNorms.Add(nn.LayerNorm(d, eps: 1e-8));
            _qProj.Add(nn.Linear(d, d)); _kProj.Add(nn.Linear(d, d)); _vProj.Add(nn.Linear(d, d)); _outProj.Add(nn.Linear(d, d));
            _ffnNorms.Add(nn.LayerNorm(d, eps: 1e-8));
            _ffn1.Add(nn.Linear(d, d)); _ffn2.Add(nn.Linear(d, d));
        }
        _last = nn.LayerNorm(d, eps: 1e-8);
        _dropout = new FastDropout(config.Dropout);
        RegisterComponents();
    }

    /// <inheritdoc />
    protected override Tensor Encode(Tensor x, Tensor valid, SequenceBatch batch)
    {
        long b = x.shape[0], l = x.shape[1];
        int h = Config.NumHeads, d = Config.EmbeddingDim, dh = d / h;
        using var allowed = batch.AttentionMask();
        using var causal = allowed is null ? ones(l, l, dtype: ScalarType.Bool, device: x.device).tril().logical_not() : allowed.logical_not();
        for (int i = 0; i < _attnNorms.Count; i++)
        {
            using var scope = NewDisposeScope();
            var qIn = _attnNorms[i].forward(x);
            var q = _qProj[i].forward(qIn).view(b, l, h, dh).transpose(1, 2);
            var k = _kProj[i].forward(x).view(b, l, h, dh).transpose(1, 2);
            var v = _vProj[i].forward(x).view(b, l, h, dh).transpose(1, 2);
            var scores = q.matmul(k.transpose(-2, -1)).div(Scalars.Of(Math.Sqrt(dh))).masked_fill(causal, Scalars.Of(double.NegativeInfinity));
            var attn = FastDropout.Apply(scores.softmax(-1), Config.Dropout, training);
            var o = _outProj[i].forward(attn.matmul(v).transpose(1, 2).reshape(b, l, d));
            x = qIn.Plus(o);
            x = _ffnNorms[i].forward(x);
            var ffn = _dropout.forward(_ffn2[i].forward(_dropout.forward(nn.functional.relu(_ffn1[i].forward(x)))));
            x = (x.Plus(ffn) * valid).MoveToOuterDisposeScope();
        }
        return _last.forward(x) * valid;
    }
}
