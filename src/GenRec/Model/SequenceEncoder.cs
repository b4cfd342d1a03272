using GenRec.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// What retrieval needs from an encoder: an item embedding table and, for each position of a batch,
/// the L2-normalised user embedding u_i that predicts the next item. HSTU and SASRec both derive from it.
/// </summary>
public abstract class SequenceEncoder : nn.Module<SequenceBatch, Tensor>
{
    /// <summary>Normalisation epsilon for user and item embeddings (the reference: 1e-6).</summary>
    public const double NormEps = 1e-6;

    private readonly Embedding _items;
    private readonly Embedding _positions;
    private readonly Dropout _inputDropout;

    /// <summary>Creates the shared input layer: x_i = E[item_i]·√D + P[i], dropout, padding zeroed.</summary>
    protected SequenceEncoder(string name, ModelConfig config, long itemTableSize) : base(name)
    {
        config.Validate();
        Config = config;
        _items = nn.Embedding(itemTableSize, config.EmbeddingDim, padding_idx: 0);
        _positions = nn.Embedding(config.PaddedLength, config.EmbeddingDim);
        _inputDropout = nn.Dropout(config.Dropout);
        using (no_grad())
        {
            // Truncated normal, std 0.02, as normal → fmod(2) → scale (the reference's recipe). TorchSharp 0.107's
            // nn.init.trunc_normal_ fills every entry with the same value, which leaves all items identical at start.
            _items.weight!.normal_().fmod_(Scalars.Of(2.0)).mul_(Scalars.Of(0.02));
            _items.weight![0].zero_();
            nn.init.xavier_normal_(_positions.weight!);
        }
        // Registered here because RegisterComponents in a derived class does not see a base class's private fields.
        register_module("items", _items);
        register_module("positions", _positions);
        register_module("input_dropout", _inputDropout);
    }

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>Item embedding table E, indexed by raw item id (row 0 = padding).</summary>
    public Embedding ItemEmbeddings => _items;

    /// <summary>Number of rows in the item table.</summary>
    public long ItemTableSize => _items.weight!.shape[0];

    /// <summary>Returns L2-normalised user embeddings [B, L, D]; padding positions are zero.</summary>
    public override Tensor forward(SequenceBatch batch)
    {
        if (batch.Width > Config.PaddedLength)
            throw new ArgumentException($"batch width {batch.Width} exceeds the model's padded length {Config.PaddedLength}.");
        using var scope = NewDisposeScope();
        var valid = batch.ValidMask().unsqueeze(-1).to(_items.weight!.dtype);
        var pos = arange(batch.Width, device: batch.Ids.device);
        var x = _items.forward(batch.Ids).mul(Scalars.Of(Math.Sqrt(Config.EmbeddingDim))) + _positions.forward(pos).unsqueeze(0);
        x = _inputDropout.forward(x) * valid;
        var h = Encode(x, valid, batch);
        return nn.functional.normalize(h, p: 2, dim: -1, eps: NormEps).MoveToOuterDisposeScope();
    }

    /// <summary>The layer stack: from input embeddings [B, L, D] (padding zeroed) to outputs [B, L, D].</summary>
    protected abstract Tensor Encode(Tensor x, Tensor valid, SequenceBatch batch);

    /// <summary>L2-normalised embeddings of the given item ids (any shape → shape + [D]).</summary>
    public Tensor NormalizedItems(Tensor ids) => nn.functional.normalize(_items.forward(ids), p: 2, dim: -1, eps: NormEps);

    /// <summary>The whole L2-normalised item table [ItemTableSize, D] (one normalisation per step instead of one per lookup).</summary>
    public Tensor NormalizedItemTable() => nn.functional.normalize(_items.weight!, p: 2, dim: -1, eps: NormEps);

    /// <summary>Builds the encoder a config names.</summary>
    public static SequenceEncoder Create(ModelConfig config, long itemTableSize) => config.Encoder switch
    {
        "hstu" => new HstuEncoder(config, itemTableSize),
        "sasrec" => new SasRecEncoder(config, itemTableSize),
        _ => throw new ArgumentException($"model.encoder is '{config.Encoder}'; expected hstu or sasrec."),
    };
}
