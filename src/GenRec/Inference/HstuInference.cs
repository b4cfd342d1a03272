using System.Numerics.Tensors;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Inference;

/// <summary>
/// The lean inference path for a trained HSTU encoder (plain items or a feature space), in managed code from a copy
/// of the weights — no autograd state, no tensors and no allocation per request beyond what the caller asks for (with
/// the span overloads, none at all): retrieval (one history encoded, the top K of the item corpus by exact inner
/// product) and ranking (<see cref="ScoreCandidates"/>: M-FALCON, many candidates against one encoded history).
/// <para>
/// Only what the next-item prediction reads is computed: every layer but the last runs on all positions (the next
/// layer's keys and values need them), the last one only at the final position (its keys and values, and the query
/// and gate of that one position). The arithmetic is the encoder's own in float32 — layer norm, SiLU(LN(X)·W_uvqk),
/// SiLU(QKᵀ + rab)/N over the causal prefix, U ⊙ LN(A·V), W_o, the L2-normalised output — so it agrees with
/// <see cref="SequenceEncoder.forward"/> up to float rounding (tests/GenRec.Tests/Inference/HstuInferenceTests.cs).
/// </para>
/// <para>
/// This is the managed mirror of the libtorch reference: <see cref="HstuLayer"/> (eqs. 1–3; one attention row here,
/// <see cref="Attend"/>, serves history rows and M-FALCON candidates alike), <see cref="RelativeAttentionBias"/> and
/// <see cref="MFalcon"/>. HstuInferenceTests binds them: encodings equal the encoder's to 2e-5, candidate outputs equal
/// <see cref="MFalcon.Score"/>'s to 1e-4, with and without feature tokens, side features and actions
/// (docs/design/hstu-paths.md).
/// </para>
/// An instance owns its scratch memory (sized for the longest history, and for the largest k asked for) and is not
/// thread-safe: use one per thread, or one behind a lock. Each copies the weights: the item tables, D floats per corpus
/// item for the normalised corpus, and a few hundred KB for the layers.
/// </summary>
public sealed class HstuInference
{
    private const float LayerNormEps = 1e-6f;

    private readonly int _d, _heads, _qk, _v, _n, _maxLength, _maxBucket, _width;
    private readonly float _scale;
    private readonly float[] _items;       // [table, D], row 0 = padding
    private readonly float[] _positions;   // [N, D]
    private readonly float[][] _kindTables;     // per feature-token kind: [size, D]
    private readonly float[][] _featureTables;  // per item feature: [size, D]
    private readonly long[][] _featureIds;      // per item feature: [table, width]
    private readonly int[] _featureWidths;
    private readonly float[]? _actions;         // [actions + 1, D], row 0 = none
    private readonly Layer[] _layers;
    private readonly long[] _corpus;
    private readonly float[] _corpusVectors; // [corpus, D], L2-normalised

    // Scratch, sized for the padded length N (a history and an M-FALCON candidate).
    private readonly float[] _x, _normed, _scores, _flat, _gated, _user, _candidate, _candidateBias;
    private readonly float[][] _uvqk;   // per layer [N, width]: U | V | Q | K of every position (M-FALCON reads the keys and values)
    private readonly bool _actionCarriesItem;
    private readonly long[] _seen;
    private int[] _heapRows = [];
    private float[] _heapScores = [];

    /// <summary>Leaves out corpus rows whose item is in the (sorted) history. A ref struct: it holds a span of the instance's scratch.</summary>
    private readonly ref struct HistoryFilter(long[] corpus, ReadOnlySpan<long> seen) : IRowFilter
    {
        private readonly ReadOnlySpan<long> _seen = seen;

        public bool Skip(int row) => _seen.Length > 0 && _seen.BinarySearch(corpus[row]) >= 0;
    }

    private sealed record Layer(float[] Uvqk, float[] OutWeight, float[] OutBias, float[] PositionWeights, float[] TimeWeights);

    /// <summary>
    /// Copies <paramref name="model"/>'s weights and the normalised embeddings of <paramref name="corpus"/> (the item
    /// ids that may be recommended; null or empty: <see cref="Encode(ReadOnlySpan{long}, ReadOnlySpan{long}, long, Span{float})"/>
    /// only, for callers with an item index of their own). Models with a feature space are supported: contextual and
    /// auxiliary tokens, item side features and per-event actions embed as in <see cref="SequenceEncoder"/>.
    /// </summary>
    public HstuInference(HstuEncoder model, long[]? corpus = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        corpus ??= [];
        var c = model.Config;
        _d = c.EmbeddingDim; _heads = c.NumHeads; _qk = c.QkDim; _v = c.VDim; _n = c.PaddedLength; _maxLength = c.MaxLength; _maxBucket = c.TimeBuckets;
        _width = 2 * _heads * _v + 2 * _heads * _qk;
        _scale = MathF.Sqrt(_d);
        long table = model.ItemTableSize;
        foreach (long id in corpus)
            if (id < 1 || id >= table) throw new ArgumentException($"corpus item {id} is outside the model's item table [1, {table}).", nameof(corpus));
        using (no_grad())
        {
            _items = Copy(model.ItemEmbeddings.weight!);
            _positions = Copy(model.PositionEmbeddings.weight!);
            _kindTables = Enumerable.Range(0, model.Features.TokenKinds.Count).Select(k => Copy(model.TokenKindEmbeddings(k).weight!)).ToArray();
            _featureTables = Enumerable.Range(0, model.Features.ItemFeatures.Count).Select(g => Copy(model.ItemFeatureEmbeddings(g).weight!)).ToArray();
            _featureIds = Enumerable.Range(0, model.Features.ItemFeatures.Count).Select(g => CopyIds(model.ItemFeatureIds(g))).ToArray();
            _featureWidths = model.Features.ItemFeatures.Select(f => f.Width).ToArray();
            _actions = model.ActionEmbeddings is { } a ? Copy(a.weight!) : null;
            _layers = model.Layers.Zip(model.Biases, (l, b) => new Layer(Copy(l.Uvqk), Copy(l.Output.weight!), Copy(l.Output.bias!), Copy(b.PositionWeights), Copy(b.TimeWeights))).ToArray();
            if (corpus.Length > 0)
            {
                using var ids = tensor(corpus);
                using var normed = model.NormalizedItems(ids);
                _corpusVectors = Copy(normed);
            }
            else _corpusVectors = [];
        }
        _corpus = (long[])corpus.Clone();
        _actionCarriesItem = c.ActionTokenCarriesItem;
        int l = _n;   // the padded length: a history plus an M-FALCON candidate fit in it
        _x = new float[l * _d];
        _normed = new float[_d];
        _uvqk = _layers.Select(_ => new float[l * _width]).ToArray();
        _scores = new float[l];
        _candidate = new float[_d];
        _candidateBias = new float[_layers.Length * l];
        _flat = new float[_heads * _v];
        _gated = new float[_heads * _v];
        _user = new float[_d];
        _seen = new long[l];
    }

    /// <summary>Embedding width D.</summary>
    public int Dim => _d;

    /// <summary>The longest history encoded whole; longer ones keep their most recent <see cref="MaxLength"/> events.</summary>
    public int MaxLength => _maxLength;

    /// <summary>Number of items that can be recommended.</summary>
    public int CorpusSize => _corpus.Length;

    /// <summary>
    /// Writes the L2-normalised user embedding that predicts the next item after the history into
    /// <paramref name="destination"/> (D values). <paramref name="queryTime"/> is the time of the prediction (the
    /// relative time bias of the last position reads it). Allocates nothing.
    /// </summary>
    public void Encode(ReadOnlySpan<long> items, ReadOnlySpan<long> timestamps, long queryTime, Span<float> destination) =>
        Encode(items, timestamps, default, default, queryTime, destination);

    /// <summary>
    /// <see cref="Encode(ReadOnlySpan{long}, ReadOnlySpan{long}, long, Span{float})"/> for a tokenised history of a
    /// feature-space model: <paramref name="kinds"/> per token (0 = item, k = feature-token kind k; empty: all items)
    /// and <paramref name="actions"/> per token (0 = none; empty: none).
    /// </summary>
    public void Encode(ReadOnlySpan<long> items, ReadOnlySpan<long> timestamps, ReadOnlySpan<byte> kinds, ReadOnlySpan<int> actions, long queryTime, Span<float> destination)
    {
        if (items.Length == 0) throw new ArgumentException("the history is empty: nothing to encode.", nameof(items));
        if (timestamps.Length != items.Length) throw new ArgumentException($"{items.Length} items but {timestamps.Length} timestamps.", nameof(timestamps));
        if (!kinds.IsEmpty && kinds.Length != items.Length) throw new ArgumentException($"{items.Length} tokens but {kinds.Length} kinds.", nameof(kinds));
        if (!actions.IsEmpty && actions.Length != items.Length) throw new ArgumentException($"{items.Length} tokens but {actions.Length} actions.", nameof(actions));
        if (destination.Length != _d) throw new ArgumentException($"the destination holds {destination.Length} values; expected D = {_d}.", nameof(destination));
        if (items.Length > _maxLength)
        {
            int drop = items.Length - _maxLength;
            items = items[drop..]; timestamps = timestamps[drop..];
            if (!kinds.IsEmpty) kinds = kinds[drop..];
            if (!actions.IsEmpty) actions = actions[drop..];
        }
        int n = items.Length, d = _d;
        var x = EmbedHistory(items, kinds, actions);
        for (int layer = 0; layer < _layers.Length; layer++)
            Forward(layer, x, n, timestamps, queryTime, first: layer == _layers.Length - 1 ? n - 1 : 0);
        var last = x.Slice((n - 1) * d, d);
        float norm = MathF.Max(TensorPrimitives.Norm(last), (float)SequenceEncoder.NormEps);
        TensorPrimitives.Divide(last, norm, destination);
    }

    /// <summary>The input layer on a history: rows [0, n) of the scratch x, token embedding · √D + P[i].</summary>
    private Span<float> EmbedHistory(ReadOnlySpan<long> items, ReadOnlySpan<byte> kinds, ReadOnlySpan<int> actions)
    {
        int n = items.Length, d = _d;
        var x = _x.AsSpan(0, n * d);
        for (int i = 0; i < n; i++)
        {
            var row = x.Slice(i * d, d);
            EmbedToken(items[i], kinds.IsEmpty ? (byte)0 : kinds[i], actions.IsEmpty ? 0 : actions[i], i > 0 ? items[i - 1] : 0, i, row);
            TensorPrimitives.Multiply(row, _scale, row);
            TensorPrimitives.Add(row, _positions.AsSpan(i * d, d), row);
        }
        return x;
    }

    /// <summary>
    /// The input layer's token embedding before scaling: an item with its side features; a feature token from its
    /// kind's table; an action token (interleaved ranking sequences) from the action table, plus the item before it
    /// when the model's action tokens carry their item; then the per-event action's embedding, if any.
    /// </summary>
    private void EmbedToken(long id, byte kind, int action, long previousId, int position, Span<float> row)
    {
        int d = _d;
        if (kind == 0) ItemVector(id, position, row);
        else if (kind == GenRec.Data.Features.Token.ActionKind)
        {
            if (_actions is null) throw new ArgumentOutOfRangeException("kinds", kind, $"token {position}: an action token, but the model has no action table.");
            CheckRow(_actions, id, position, "action");
            _actions.AsSpan((int)(id * d), d).CopyTo(row);
            if (_actionCarriesItem)
            {
                Span<float> item = stackalloc float[d];
                ItemVector(previousId, position - 1, item);
                TensorPrimitives.Add(row, item, row);
            }
        }
        else
        {
            if (kind > _kindTables.Length) throw new ArgumentOutOfRangeException("kinds", kind, $"token {position}: kind {kind}, but the model has {_kindTables.Length} feature-token kinds.");
            var t = _kindTables[kind - 1];
            if (id < 0 || id >= t.Length / d)
                throw new ArgumentOutOfRangeException("items", id, $"token {position}: value {id} outside the table of feature-token kind {kind} [0, {t.Length / d}).");
            t.AsSpan((int)(id * d), d).CopyTo(row);
        }
        if (action != 0 && _actions is not null)
        {
            CheckRow(_actions, action, position, "action");
            TensorPrimitives.Add(row, _actions.AsSpan(action * d, d), row);
        }
    }

    /// <summary>E[id] plus the sum of the item's side-feature embeddings (the encoder's ItemVectors).</summary>
    private void ItemVector(long id, int position, Span<float> row)
    {
        int d = _d;
        long table = _items.Length / d;
        if (id < 1 || id >= table) throw new ArgumentOutOfRangeException("items", id, $"token {position}: item outside the model's item table [1, {table}).");
        _items.AsSpan((int)(id * d), d).CopyTo(row);
        for (int g = 0; g < _featureTables.Length; g++)
        {
            int w = _featureWidths[g];
            for (int j = 0; j < w; j++)
                TensorPrimitives.Add(row, _featureTables[g].AsSpan((int)(_featureIds[g][id * w + j] * d), d), row);
        }
    }

    private void CheckRow(float[] table, long id, int position, string what)
    {
        if (id < 0 || id >= table.Length / _d)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token {position}: {what} {id} outside its table [0, {table.Length / _d}).");
    }

    /// <summary>
    /// M-FALCON (the paper's section 3.4) in managed code: the history is encoded once with every layer's keys and
    /// values kept; then each candidate, placed at the position right after the history, attends to the whole history
    /// and to itself, never to another candidate. Writes the encoder output (not normalised: what a ranking head
    /// reads) of candidate c into <paramref name="hidden"/>[c·D, (c+1)·D). Equal to <see cref="MFalcon.Score"/> with
    /// normalize: false. The history must leave room for the candidate (n + 1 ≤ N). Allocates nothing.
    /// </summary>
    public void ScoreCandidates(ReadOnlySpan<long> items, ReadOnlySpan<long> timestamps, ReadOnlySpan<byte> kinds, ReadOnlySpan<int> actions,
        long requestTime, ReadOnlySpan<long> candidates, Span<float> hidden)
    {
        int n = items.Length, d = _d, layers = _layers.Length;
        if (n == 0) throw new ArgumentException("the history is empty.", nameof(items));
        if (n + 1 > _n) throw new ArgumentException($"history of {n} tokens plus a candidate exceeds the model's padded length {_n}.", nameof(items));
        if (timestamps.Length != n) throw new ArgumentException($"{n} tokens but {timestamps.Length} timestamps.", nameof(timestamps));
        if (!kinds.IsEmpty && kinds.Length != n) throw new ArgumentException($"{n} tokens but {kinds.Length} kinds.", nameof(kinds));
        if (!actions.IsEmpty && actions.Length != n) throw new ArgumentException($"{n} tokens but {actions.Length} actions.", nameof(actions));
        if (hidden.Length != candidates.Length * d) throw new ArgumentException($"the destination holds {hidden.Length} values; expected {candidates.Length} × D = {candidates.Length * d}.", nameof(hidden));
        var x = EmbedHistory(items, kinds, actions);
        // The history's own query times end at the request; the last layer needs only its keys and values.
        for (int layer = 0; layer < layers; layer++)
            Forward(layer, x, n, timestamps, requestTime, first: layer == layers - 1 ? n : 0);
        // The relative bias from the candidate's position n to history key j (the same for every candidate).
        for (int layer = 0; layer < layers; layer++)
        {
            var w = _layers[layer];
            var bias = _candidateBias.AsSpan(layer * _n, n);
            for (int j = 0; j < n; j++) bias[j] = Bias(w, n, j, requestTime, timestamps[j]);
        }
        for (int m = 0; m < candidates.Length; m++)
        {
            var xc = _candidate.AsSpan();
            EmbedToken(candidates[m], 0, 0, 0, n, xc);
            TensorPrimitives.Multiply(xc, _scale, xc);
            TensorPrimitives.Add(xc, _positions.AsSpan(n * d, d), xc);
            for (int layer = 0; layer < layers; layer++) CandidateLayer(layer, xc, timestamps, requestTime);
            xc.CopyTo(hidden.Slice(m * d, d));
        }
    }

    /// <summary>
    /// One layer for one candidate at position n: its U, V, Q, K go into row n of the layer's cache (a history leaves
    /// room for it), then the same attention row as the history's (<see cref="Attend"/>) over the history's keys and
    /// values and its own, with the history part of the bias precomputed once for every candidate.
    /// </summary>
    private void CandidateLayer(int layer, Span<float> xc, ReadOnlySpan<long> timestamps, long requestTime)
    {
        var w = _layers[layer];
        int n = timestamps.Length, c = _width;
        var uvqk = _uvqk[layer].AsSpan(0, (n + 1) * c);
        LayerNorm(xc, _normed);
        Project(w.Uvqk, _normed, uvqk.Slice(n * c, c), 0, c);
        Attend(w, uvqk, n, timestamps, requestTime, _candidateBias.AsSpan(layer * _n, n));
        Combine(w, uvqk.Slice(n * c, c), xc);
    }

    /// <summary>
    /// The best corpus items for a history, best first, as many as <paramref name="items"/> holds: writes them into
    /// <paramref name="items"/> and their scores (cosine) into <paramref name="scores"/> and returns how many were
    /// written (fewer only when the corpus, less the excluded history, is smaller). Allocates nothing.
    /// </summary>
    public int Recommend(ReadOnlySpan<long> history, ReadOnlySpan<long> timestamps, long queryTime, Span<long> items, Span<float> scores, bool excludeHistory = true)
    {
        int k = items.Length;
        if (_corpus.Length == 0) throw new InvalidOperationException("this instance was built without a corpus: it can encode, not recommend.");
        if (k < 1) throw new ArgumentException("there must be room for at least one item.", nameof(items));
        if (scores.Length != k) throw new ArgumentException($"{k} item slots but {scores.Length} score slots.", nameof(scores));
        Encode(history, timestamps, queryTime, _user);
        var seen = _seen.AsSpan(0, 0);
        if (excludeHistory)
        {
            var recent = history.Length > _maxLength ? history[^_maxLength..] : history;
            seen = _seen.AsSpan(0, recent.Length);
            recent.CopyTo(seen);
            seen.Sort();
        }
        k = Math.Min(k, _corpus.Length);
        // The heap grows to the largest k asked for, once; requests up to that size allocate nothing.
        if (_heapRows.Length < k) { _heapRows = new int[k]; _heapScores = new float[k]; }
        int count = ExactTopK.Search(_user, _corpusVectors, _d, _heapRows.AsSpan(0, k), _heapScores.AsSpan(0, k), new HistoryFilter(_corpus, seen));
        for (int i = 0; i < count; i++) { items[i] = _corpus[_heapRows[i]]; scores[i] = _heapScores[i]; }
        return count;
    }

    /// <summary>The top <paramref name="k"/> (item, cosine score) for a history, best first; the array is the one allocation.</summary>
    public (long Item, float Score)[] Recommend(ReadOnlySpan<long> history, ReadOnlySpan<long> timestamps, long queryTime, int k, bool excludeHistory = true)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        if (_corpus.Length == 0) throw new InvalidOperationException("this instance was built without a corpus: it can encode, not recommend.");
        k = Math.Min(k, _corpus.Length);
        Span<long> ids = k <= 1024 ? stackalloc long[k] : new long[k];
        Span<float> s = k <= 1024 ? stackalloc float[k] : new float[k];
        int count = Recommend(history, timestamps, queryTime, ids, s, excludeHistory);
        var result = new (long, float)[count];
        for (int i = 0; i < count; i++) result[i] = (ids[i], s[i]);
        return result;
    }

    /// <summary>
    /// Eqs. 1–3 of one layer in place on x [n, D] for rows first … n − 1; rows before <paramref name="first"/> get only
    /// their values and keys (what the later rows, or M-FALCON's candidates, attend to).
    /// </summary>
    private void Forward(int layer, Span<float> x, int n, ReadOnlySpan<long> timestamps, long queryTime, int first)
    {
        var w = _layers[layer];
        int d = _d, c = _width, hv = _heads * _v, hq = _heads * _qk;
        var uvqk = _uvqk[layer].AsSpan(0, n * c);
        var normed = _normed.AsSpan(0, d);
        // U, V, Q, K = SiLU(LN(x) · W_uvqk), laid out U | V | Q | K.
        for (int i = 0; i < n; i++)
        {
            LayerNorm(x.Slice(i * d, d), normed);
            var row = uvqk.Slice(i * c, c);
            if (i >= first) Project(w.Uvqk, normed, row, 0, c);
            else
            {
                Project(w.Uvqk, normed, row, hv, hv);
                Project(w.Uvqk, normed, row, 2 * hv + hq, hq);
            }
        }
        for (int i = first; i < n; i++)
        {
            Attend(w, uvqk, i, timestamps, i + 1 < n ? timestamps[i + 1] : queryTime, default);
            Combine(w, uvqk.Slice(i * c, c), x.Slice(i * d, d));
        }
    }

    /// <summary>
    /// Eq. 2 for query row <paramref name="i"/> of a layer's U | V | Q | K rows, per head, into the scratch _flat:
    /// A·V = Σ_{j ≤ i} SiLU(q_i · k_j + rab(i, j)) / N · v_j. The bias of key j is <paramref name="bias"/>[j] where
    /// given (precomputed), else <see cref="Bias"/>; a key beyond the timestamps (M-FALCON's candidate itself) has
    /// the query's time. The one managed copy of eq. 2, mirroring <see cref="HstuLayer"/>.
    /// </summary>
    private void Attend(Layer w, ReadOnlySpan<float> uvqk, int i, ReadOnlySpan<long> timestamps, long queryTime, ReadOnlySpan<float> bias)
    {
        int c = _width, hv = _heads * _v, hq = _heads * _qk;
        float invN = 1f / _n;
        var query = uvqk.Slice(i * c + 2 * hv, hq);
        var scores = _scores.AsSpan(0, i + 1);
        for (int h = 0; h < _heads; h++)
        {
            var q = query.Slice(h * _qk, _qk);
            for (int j = 0; j <= i; j++)
                scores[j] = TensorPrimitives.Dot(q, uvqk.Slice(j * c + 2 * hv + hq + h * _qk, _qk))
                    + (j < bias.Length ? bias[j] : Bias(w, i, j, queryTime, j < timestamps.Length ? timestamps[j] : queryTime));
            SiLU(scores);
            var o = _flat.AsSpan(h * _v, _v);
            o.Clear();
            for (int j = 0; j <= i; j++)
                TensorPrimitives.MultiplyAdd(uvqk.Slice(j * c + hv + h * _v, _v), scores[j] * invN, o, o);
        }
    }

    /// <summary>The relative attention bias of query i (at time <paramref name="queryTime"/>) and key j (at <paramref name="keyTime"/>): w_pos[j − i + N − 1] + w_time[bucket].</summary>
    private float Bias(Layer w, int i, int j, long queryTime, long keyTime) =>
        w.PositionWeights[j - i + _n - 1] + w.TimeWeights[(int)TimeBuckets.Bucket(queryTime - keyTime, _maxBucket)];

    /// <summary>Eq. 3 from the attention output in the scratch: x += W_o · (U ⊙ LN(A·V)) + b_o.</summary>
    private void Combine(Layer w, ReadOnlySpan<float> row, Span<float> x)
    {
        int hv = _heads * _v;
        LayerNorm(_flat, _gated);
        TensorPrimitives.Multiply(row[..hv], _gated, _gated);
        for (int r = 0; r < x.Length; r++)
            x[r] += TensorPrimitives.Dot(w.OutWeight.AsSpan(r * hv, hv), _gated) + w.OutBias[r];
    }

    /// <summary>Columns [from, from + count) of SiLU(normed · W) into the same columns of <paramref name="row"/> (W row-major, one row per input).</summary>
    private void Project(float[] weights, ReadOnlySpan<float> normed, Span<float> row, int from, int count)
    {
        var o = row.Slice(from, count);
        o.Clear();
        for (int k = 0; k < normed.Length; k++)
            TensorPrimitives.MultiplyAdd(weights.AsSpan(k * _width + from, count), normed[k], o, o);
        SiLU(o);
    }

    /// <summary>Layer norm without affine parameters (the encoder's <c>layer_norm(x, [D], eps: 1e-6)</c>).</summary>
    private static void LayerNorm(ReadOnlySpan<float> x, Span<float> destination)
    {
        float mean = TensorPrimitives.Sum(x) / x.Length;
        TensorPrimitives.Subtract(x, mean, destination);
        float variance = TensorPrimitives.SumOfSquares(destination) / x.Length;
        TensorPrimitives.Multiply(destination, 1f / MathF.Sqrt(variance + LayerNormEps), destination);
    }

    /// <summary>SiLU in place: x · σ(x).</summary>
    private static void SiLU(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = x[i] / (1f + MathF.Exp(-x[i]));
    }

    private static long[] CopyIds(TorchSharp.torch.Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.data<long>().ToArray();
    }

    private static float[] Copy(TorchSharp.torch.Tensor t)
    {
        using var c = t.detach().cpu().contiguous().to(ScalarType.Float32);
        return c.data<float>().ToArray();
    }
}
