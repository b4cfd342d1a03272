using GenRec.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>The HSTU encoder: a stack of <see cref="HstuLayer"/>s, each with its own <see cref="RelativeAttentionBias"/>.</summary>
public sealed class HstuEncoder : SequenceEncoder
{
    private readonly ModuleList<HstuLayer> _layers = new();
    private readonly ModuleList<RelativeAttentionBias> _biases = new();

    /// <summary>Creates the encoder with an item table of <paramref name="itemTableSize"/> rows and, optionally, a feature space's embedding tables.</summary>
    public HstuEncoder(ModelConfig config, long itemTableSize, GenRec.Data.Features.FeatureSpace? features = null) : base(nameof(HstuEncoder), config, itemTableSize, features)
    {
        for (int i = 0; i < config.NumLayers; i++)
        {
            _layers.Add(new HstuLayer(config.EmbeddingDim, config.NumHeads, config.QkDim, config.VDim, config.PaddedLength, config.Dropout, config.AttentionDropout));
            _biases.Add(new RelativeAttentionBias(config.PaddedLength, config.TimeBuckets));
        }
        RegisterComponents();
    }

    /// <summary>The layers, bottom first.</summary>
    public IReadOnlyList<HstuLayer> Layers => _layers.ToArray();

    /// <summary>The relative attention biases, one per layer.</summary>
    public IReadOnlyList<RelativeAttentionBias> Biases => _biases.ToArray();

    private Tensor BiasIndex(SequenceBatch batch)
    {
        var (ts, qts, seg) = batch.Host;
        // Written straight into a CPU tensor's memory: torch.tensor(array) would copy B·L·L values twice.
        var index = empty([batch.Count, batch.Width, batch.Width], dtype: ScalarType.Int32);
        RelativeAttentionBias.BuildIndex(ts, qts, seg, batch.Count, batch.Width, Config.PaddedLength, Config.TimeBuckets,
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(index.bytes));
        if (batch.Ids.device.type == DeviceType.CPU) return index;
        using (index) return index.to(batch.Ids.device);
    }

    /// <inheritdoc />
    protected override Tensor Encode(Tensor x, Tensor valid, SequenceBatch batch)
    {
        using var index = BiasIndex(batch);
        // Each row block's index: its queries against the keys up to its last row (the rest is blocked by causality).
        var blocks = HstuLayer.CausalRowBlocks(batch.Width);
        var blockIndex = blocks.Select(b => index.narrow(1, b.Start, b.Rows).narrow(2, 0, b.Start + b.Rows).contiguous()).ToArray();
        try
        {
            for (int i = 0; i < _layers.Count; i++)
            {
                var rabs = blockIndex.Select(_biases[i].ForIndex).ToArray();
                try { x = _layers[i].ForwardWithMaskedBias(x, rabs, valid); }
                finally { foreach (var r in rabs) r.Dispose(); }
            }
            return x;
        }
        finally
        {
            foreach (var b in blockIndex) b.Dispose();
        }
    }
}
