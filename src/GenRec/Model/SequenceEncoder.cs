using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Native;
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
    private readonly FastDropout _inputDropout;
    private readonly ModuleList<Embedding> _tokenKinds = new();
    private readonly ModuleList<Embedding> _itemFeatures = new();
    private readonly Embedding? _actions;
    private readonly Tensor[] _itemFeatureIds;

    /// <summary>
    /// Creates the shared input layer. Plain items: x_i = E[item_i]·√D + P[i]. With a feature space (the unified
    /// sequence): an item token embeds as E[item] + Σ side-feature embeddings + action embedding, a feature token of
    /// kind k as F_k[value]; then ·√D + P[i], dropout, padding zeroed.
    /// </summary>
    protected SequenceEncoder(string name, ModelConfig config, long itemTableSize, FeatureSpace? features = null) : base(name)
    {
        config.Validate();
        Config = config;
        Features = features ?? new FeatureSpace();
        long d = config.EmbeddingDim;
        _items = nn.Embedding(itemTableSize, d, padding_idx: 0);
        _positions = nn.Embedding(config.PaddedLength, d);
        _inputDropout = new FastDropout(config.Dropout);
        foreach (var k in Features.TokenKinds) _tokenKinds.Add(nn.Embedding(k.Size, d, padding_idx: 0));
        foreach (var f in Features.ItemFeatures) _itemFeatures.Add(nn.Embedding(f.Size, d, padding_idx: 0));
        if (Features.Actions.Count > 0) _actions = nn.Embedding(Features.Actions.Count + 1, d, padding_idx: 0);
        _itemFeatureIds = Features.ItemFeatures.Select(f => zeros(itemTableSize, f.Width, dtype: ScalarType.Int64)).ToArray();
        using (no_grad())
        {
            // Truncated normal, std 0.02, as normal → fmod(2) → scale (the reference's recipe). TorchSharp 0.107's
            // nn.init.trunc_normal_ fills every entry with the same value, which leaves all items identical at start.
            foreach (var table in new[] { _items }.Concat(_tokenKinds).Concat(_itemFeatures).Concat(_actions is null ? [] : [_actions]))
            {
                table.weight!.normal_().fmod_(Scalars.Of(2.0)).mul_(Scalars.Of(0.02));
                table.weight![0].zero_();
            }
            nn.init.xavier_normal_(_positions.weight!);
        }
        // Registered here because RegisterComponents in a derived class does not see a base class's private fields.
        register_module("items", _items);
        register_module("positions", _positions);
        register_module("input_dropout", _inputDropout);
        if (_tokenKinds.Count > 0) register_module("token_kinds", _tokenKinds);
        if (_itemFeatures.Count > 0) register_module("item_features", _itemFeatures);
        if (_actions is not null) register_module("actions", _actions);
        for (int g = 0; g < _itemFeatureIds.Length; g++) register_buffer($"item_feature_ids_{g}", _itemFeatureIds[g]);
    }

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>The feature space the input layer embeds (empty: items only).</summary>
    public FeatureSpace Features { get; }

    /// <summary>Sets the side-feature ids of every item for item feature <paramref name="group"/>: row-major [ItemTableSize, width], 0 = none.</summary>
    public void SetItemFeatureIds(int group, long[] ids)
    {
        var buf = _itemFeatureIds[group];
        if (ids.Length != buf.NumberOfElements) throw new ArgumentException($"item feature {Features.ItemFeatures[group].Name}: {ids.Length} ids; expected {buf.shape[0]}×{buf.shape[1]}.");
        if (ids.Length > 0 && (ids.Min() < 0 || ids.Max() >= Features.ItemFeatures[group].Size))
            throw new ArgumentException($"item feature {Features.ItemFeatures[group].Name}: ids must lie in [0, {Features.ItemFeatures[group].Size}).");
        using var _ = no_grad();
        using var src = tensor(ids, buf.shape, device: buf.device);
        buf.copy_(src);
    }

    /// <summary>Item embedding table E, indexed by raw item id (row 0 = padding).</summary>
    public Embedding ItemEmbeddings => _items;

    /// <summary>The embedding table of feature-token kind <paramref name="kind"/> (0-based: token kind byte kind + 1).</summary>
    public Embedding TokenKindEmbeddings(int kind) => _tokenKinds[kind];

    /// <summary>The embedding table of item feature <paramref name="group"/>.</summary>
    public Embedding ItemFeatureEmbeddings(int group) => _itemFeatures[group];

    /// <summary>The side-feature ids of every item for item feature <paramref name="group"/>: [ItemTableSize, width], 0 = none.</summary>
    public Tensor ItemFeatureIds(int group) => _itemFeatureIds[group];

    /// <summary>The action embedding table (row 0 = none), when the feature space has actions.</summary>
    public Embedding? ActionEmbeddings => _actions;

    /// <summary>Position embedding table P [N, D] (x_i = E[item_i]·√D + P[i]).</summary>
    public Embedding PositionEmbeddings => _positions;

    /// <summary>Number of rows in the item table.</summary>
    public long ItemTableSize => _items.weight!.shape[0];

    /// <summary>
    /// Grows the item table to <paramref name="rows"/> rows for items first seen after training (the dynamic
    /// vocabulary): existing rows keep their values, new rows get the same initialisation as at construction. Returns
    /// the new weight, for the optimiser to carry its state across (<see cref="Native.AdamW.Replace"/>). New rows have
    /// no side features.
    /// </summary>
    public TorchSharp.Modules.Parameter GrowItems(long rows)
    {
        var old = _items.weight!;
        if (rows <= old.shape[0])
            throw new ArgumentException(
                $"the item table has {old.shape[0]} rows; growing it to {rows} would not add any.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The side-feature ids grow in place (the registered buffers stay the same objects); new rows have none.
        long have = old.shape[0];
        foreach (var ids in _itemFeatureIds)
        {
            var grownIds = cat([ids, zeros(rows - have, ids.shape[1], dtype: ids.dtype, device: ids.device)], 0);
            ids.set_(grownIds);
        }
        var extra = empty(rows - have, old.shape[1], dtype: old.dtype, device: old.device);
        extra.normal_().fmod_(Scalars.Of(2.0)).mul_(Scalars.Of(0.02));
        var grown = new TorchSharp.Modules.Parameter(cat([old.detach(), extra], 0), requires_grad: true);
        grown.MoveToOuterDisposeScope();
        _items.weight = grown;
        return grown;
    }

    /// <summary>
    /// Makes <paramref name="weight"/> [rows, D] the item table (a new parameter, returned): the seeded initial table
    /// (<see cref="SeededItemRows"/>), the full table gathered from shards, or, for a sharded table's step, just the
    /// rows that step uses under ids of their own. Side-feature ids are cleared when the row count changes.
    /// </summary>
    public TorchSharp.Modules.Parameter UseItemTable(Tensor weight)
    {
        if (weight.dim() != 2 || weight.shape[1] != Config.EmbeddingDim)
            throw new ArgumentException($"an item table of shape [{string.Join(", ", weight.shape)}]; expected "
                + $"[rows, {Config.EmbeddingDim}].");
        long rows = weight.shape[0];
        using (no_grad())
            foreach (var ids in _itemFeatureIds)
                if (ids.shape[0] != rows)
                    ids.set_(zeros(rows, ids.shape[1], dtype: ids.dtype, device: ids.device));
        var table = weight as TorchSharp.Modules.Parameter
            ?? new TorchSharp.Modules.Parameter(weight.to(_items.weight!.device), requires_grad: true);
        _items.weight = table;
        return table;
    }

    /// <summary>
    /// Sets the side-feature ids of one item (an item added after training, described by the catalog): for each item
    /// feature group, up to its width of value ids (0 = none).
    /// </summary>
    public void SetItemFeatures(long item, IReadOnlyList<long[]> values)
    {
        if (values.Count != _itemFeatureIds.Length)
            throw new ArgumentException(
                $"{values.Count} feature groups given; the model has {_itemFeatureIds.Length}.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int g = 0; g < values.Count; g++)
        {
            var buf = _itemFeatureIds[g];
            var row = new long[buf.shape[1]];
            for (int i = 0; i < Math.Min(row.Length, values[g].Length); i++) row[i] = values[g][i];
            buf[item].copy_(tensor(row, device: buf.device));
        }
    }

    /// <summary>
    /// Gives the rows <paramref name="ids"/> a fresh initialisation and no side features (an evicted item's row,
    /// handed to a new item).
    /// </summary>
    public void ResetItemRows(long[] ids)
    {
        if (ids.Length == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = _items.weight!;
        var fresh = empty(ids.Length, w.shape[1], dtype: w.dtype, device: w.device);
        fresh.normal_().fmod_(Scalars.Of(2.0)).mul_(Scalars.Of(0.02));
        var rows = tensor(ids, device: w.device);
        w.index_copy_(0, rows, fresh);
        foreach (var side in _itemFeatureIds) side.index_fill_(0, rows, Scalars.Of(0L));
    }

    /// <summary>Returns L2-normalised user embeddings [B, L, D]; padding positions are zero.</summary>
    public override Tensor forward(SequenceBatch batch)
    {
        if (batch.Width > Config.PaddedLength)
            throw new ArgumentException($"batch width {batch.Width} exceeds the model's padded length {Config.PaddedLength}.");
        using var scope = NewDisposeScope();
        return Normalize(Hidden(batch)).MoveToOuterDisposeScope();
    }

    /// <summary>The encoder outputs [B, L, D] before normalisation (what the ranking head reads); padding positions are zero.</summary>
    public Tensor Hidden(SequenceBatch batch)
    {
        if (batch.Width > Config.PaddedLength)
            throw new ArgumentException($"batch width {batch.Width} exceeds the model's padded length {Config.PaddedLength}.");
        using var scope = NewDisposeScope();
        var valid = batch.ValidMask().unsqueeze(-1).to(_items.weight!.dtype);
        var x = InputEmbeddings(batch, batch.Positions ?? arange(Scalars.Of((long)batch.Width), device: batch.Ids.device)) * valid;
        return Encode(x, valid, batch).MoveToOuterDisposeScope();
    }

    /// <summary>The input layer: token embeddings ·√D + the position embeddings of <paramref name="positions"/> ([L], or [B, L] for packed rows), then dropout.</summary>
    public Tensor InputEmbeddings(SequenceBatch batch, Tensor positions)
    {
        var p = _positions.forward(positions);
        var x = EmbedTokens(batch).mul(Scalars.Of(Math.Sqrt(Config.EmbeddingDim))).Plus(positions.dim() == 1 ? p.unsqueeze(0) : p);
        return _inputDropout.forward(x);
    }

    /// <summary>L2 normalisation of encoder outputs (the user embeddings).</summary>
    public static Tensor Normalize(Tensor h) => nn.functional.normalize(h, p: 2, dim: -1, eps: NormEps);

    /// <summary>Token embeddings before scaling: items (with side features and actions) and feature tokens, each from its own table.</summary>
    private Tensor EmbedTokens(SequenceBatch batch)
    {
        if (batch.Kinds is null) return WithActions(ItemVectors(batch.Ids), batch);
        var zero = Scalars.Of(0L);
        // Masks, not id 0, keep item vectors off other tokens: item 0's side features need not be padding.
        var notItem = batch.Kinds.ne(zero);
        var e = ItemVectors(batch.Ids.masked_fill(notItem, zero)).masked_fill(notItem.unsqueeze(-1), Scalars.Of(0.0));
        for (int k = 0; k < _tokenKinds.Count; k++)
            e = e.Plus(_tokenKinds[k].forward(batch.Ids.masked_fill(batch.Kinds.ne(Scalars.Of((long)(k + 1))), zero)));
        // Interleaved ranking sequences carry actions as tokens of their own, embedded with the action table.
        if (_actions is not null)
        {
            var notAction = batch.Kinds.ne(Scalars.Of((long)Token.ActionKind));
            e = e.Plus(_actions.forward(batch.Ids.masked_fill(notAction, zero)));
            // An action token always follows its item (RankingSequence), so the item is one position back.
            if (Config.ActionTokenCarriesItem)
                e = e.Plus(ItemVectors(batch.Ids.roll(1, 1).masked_fill(notAction, zero)).masked_fill(notAction.unsqueeze(-1), Scalars.Of(0.0)));
        }
        return WithActions(e, batch);
    }

    private Tensor WithActions(Tensor e, SequenceBatch batch) => _actions is null || batch.Actions is null ? e : e.Plus(_actions.forward(batch.Actions));

    /// <summary>Item representations (any id shape → shape + [D]): E[item] plus the sum of the item's side-feature embeddings.</summary>
    public Tensor ItemVectors(Tensor ids)
    {
        var e = _items.forward(ids);
        for (int g = 0; g < _itemFeatures.Count; g++)
        {
            var buf = _itemFeatureIds[g];
            var side = buf.index_select(0, ids.reshape(-1)).reshape([.. ids.shape, buf.shape[1]]);
            e = e.Plus(_itemFeatures[g].forward(side).sum(-2));
        }
        return e;
    }

    /// <summary>The layer stack: from input embeddings [B, L, D] (padding zeroed) to outputs [B, L, D].</summary>
    protected abstract Tensor Encode(Tensor x, Tensor valid, SequenceBatch batch);

    /// <summary>L2-normalised embeddings of the given item ids (any shape → shape + [D]).</summary>
    public Tensor NormalizedItems(Tensor ids) => nn.functional.normalize(ItemVectors(ids), p: 2, dim: -1, eps: NormEps);

    /// <summary>The whole L2-normalised item table [ItemTableSize, D] (one normalisation per step instead of one per lookup).</summary>
    public Tensor NormalizedItemTable()
    {
        if (_itemFeatures.Count == 0) return nn.functional.normalize(_items.weight!, p: 2, dim: -1, eps: NormEps);
        using var all = arange(Scalars.Of(ItemTableSize), device: _items.weight!.device);
        return nn.functional.normalize(ItemVectors(all), p: 2, dim: -1, eps: NormEps);
    }

    /// <summary>Builds the encoder a config names.</summary>
    public static SequenceEncoder Create(ModelConfig config, long itemTableSize, FeatureSpace? features = null) => config.Encoder switch
    {
        "hstu" => new HstuEncoder(config, itemTableSize, features),
        "sasrec" => new SasRecEncoder(config, itemTableSize, features),
        _ => throw new ArgumentException($"model.encoder is '{config.Encoder}'; expected hstu or sasrec."),
    };

    /// <summary>Picks the embedding at each row's last valid position: [B, L, D] → [B, D].</summary>
    public static Tensor LastPosition(Tensor embeddings, long[] lengths)
    {
        var idx = tensor(lengths.Select(l => l - 1).ToArray(), device: embeddings.device);
        return embeddings[arange(Scalars.Of(embeddings.shape[0]), device: embeddings.device), idx];
    }
}
