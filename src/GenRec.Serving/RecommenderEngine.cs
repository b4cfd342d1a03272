using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Evaluation;
using GenRec.Inference;
using GenRec.Model;
using GenRec.Serving.Search;
using GenRec.Serving.Stores;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Serving;

/// <summary>
/// The models of one service generation: the retrieval encoder with its item index, the optional ranker, the
/// dataset that names items, and a popularity list for cold starts. Immutable once built; a reload builds a new
/// engine and swaps it in. Tensor work is serialised by a lock: libtorch already uses every core per call.
/// </summary>
public sealed class RecommenderEngine : IDisposable
{
    private readonly object _gate = new();
    private readonly SequenceEncoder _retrieval;
    private readonly HstuInference? _lean;
    private readonly HstuInference? _leanRanker;
    private readonly float[] _user;
    private readonly Ranker? _ranker;
    private readonly Device _device;
    private readonly long[] _popular;
    private int _disposed;

    private RecommenderEngine(PreparedDataset data, Checkpoint retrievalInfo, SequenceEncoder retrieval, Checkpoint? rankingInfo, Ranker? ranker, Device device, string version, string index)
    {
        Data = data;
        RetrievalInfo = retrievalInfo;
        RankingInfo = rankingInfo;
        _retrieval = retrieval;
        _ranker = ranker;
        _device = device;
        Version = version;
        // HSTU histories are encoded by the lean managed path (no tensors, nothing allocated per request); SASRec goes
        // through its encoder.
        if (retrieval is HstuEncoder hstu) _lean = new HstuInference(hstu);
        // Likewise M-FALCON for an interleaved HSTU ranker; its task head stays in libtorch (one small product).
        if (ranker is RankingModel { Interleaved: true } rm) _leanRanker = new HstuInference(rm.Encoder);
        _user = new float[retrieval.Config.EmbeddingDim];
        using (no_grad())
        {
            using var ids = tensor(data.Corpus, device: device);
            using var vectors = retrieval.NormalizedItems(ids).cpu();
            var flat = vectors.data<float>().ToArray();
            int dim = (int)vectors.shape[1];
            Index = index switch
            {
                "exact" => new ExactItemIndex(data.Corpus, flat, dim),
                "hnsw" => new HnswItemIndex(data.Corpus, flat, dim),
                _ => throw new ArgumentException($"--index {index}: expected exact or hnsw."),
            };
        }
        var counts = new long[data.ItemTableSize];
        for (int u = 0; u < data.UserCount; u++)
            foreach (var t in data.Tokens(u))
                if (t.IsItem) counts[t.Value]++;
        _popular = data.Corpus.OrderByDescending(i => counts[i]).ThenBy(i => i).Take(1000).ToArray();
    }

    /// <summary>Loads the checkpoints (and checks that they fit the dataset).</summary>
    public static RecommenderEngine Load(string dataPath, string retrievalCheckpoint, string? rankingCheckpoint, Device device, string index = "exact")
    {
        if (index is not ("exact" or "hnsw")) throw new ArgumentException($"--index {index}: expected exact (SIMD, every item) or hnsw (approximate, for large catalogs).");
        var data = DataSource.Open(dataPath);
        try
        {
            var (rinfo, retrieval) = Checkpoint.Load(retrievalCheckpoint, device);
            try { rinfo.EnsureFits(retrievalCheckpoint, data); }
            catch { retrieval.Dispose(); throw; }
            Checkpoint? kinfo = null;
            Ranker? ranker = null;
            if (rankingCheckpoint is not null)
            {
                (kinfo, ranker) = Checkpoint.LoadRanker(rankingCheckpoint, device);
                try
                {
                    ItemIds.EnsureSame(retrievalCheckpoint, rinfo.ItemKeys, rankingCheckpoint, kinfo.ItemKeys);
                    kinfo.EnsureFits(rankingCheckpoint, data);
                }
                catch
                {
                    retrieval.Dispose();
                    ranker.Dispose();
                    throw;
                }
            }
            string version = string.Join("+", new[] { retrievalCheckpoint, rankingCheckpoint }.OfType<string>()
                .Select(p => $"{Path.GetFileName(p)}@{File.GetLastWriteTimeUtc(p):yyyyMMddTHHmmssZ}"));
            data.ItemId("");     // build the lookup tables now, not under concurrent requests
            data.Latest("", 1, new FeatureOptions());
            return new RecommenderEngine(data, rinfo, retrieval, kinfo, ranker, device, version, index);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>The dataset (item keys, titles, training histories).</summary>
    public PreparedDataset Data { get; }

    /// <summary>The retrieval checkpoint's header.</summary>
    public Checkpoint RetrievalInfo { get; }

    /// <summary>The ranking checkpoint's header, when a ranker is loaded.</summary>
    public Checkpoint? RankingInfo { get; }

    /// <summary>Whether a ranker is loaded.</summary>
    public bool CanRank => _ranker is not null;

    /// <summary>The ranker's tasks (empty without a ranker).</summary>
    public IReadOnlyList<RankingTask> Tasks => _ranker?.Tasks ?? [];

    /// <summary>Checkpoint files and their times, for /metrics and /healthz.</summary>
    public string Version { get; }

    /// <summary>The item index over the retrieval model's item embeddings (exact or HNSW).</summary>
    public IItemIndex Index { get; }

    /// <summary>The most popular items of the training log, most popular first.</summary>
    public IReadOnlyList<long> Popular => _popular;

    /// <summary>The user's history for the retrieval model: training window merged with the store's events.</summary>
    public async Task<UserHistory> HistoryAsync(string user, IHistoryStore store, CancellationToken cancel)
    {
        var stored = await store.ReadAsync(user, RetrievalInfo.Config.Model.MaxLength, cancel);
        return Merge(user, stored, RetrievalInfo.Config.Model.MaxLength, RetrievalInfo.Config.Features);
    }

    /// <summary>A history given inline (no store, no training window).</summary>
    public UserHistory Inline(IReadOnlyList<StoredEvent> events) => Merge(null, events, RetrievalInfo.Config.Model.MaxLength, RetrievalInfo.Config.Features);

    private UserHistory Merge(string? user, IReadOnlyList<StoredEvent> stored, int maxLength, FeatureOptions options) =>
        HistoryMerger.Merge(Data, user, stored, maxLength, options);

    /// <summary>The top <paramref name="k"/> items for a history by inner product with its user embedding; popularity for a cold start.</summary>
    public (long Item, float Score)[] Retrieve(UserHistory history, int k, bool excludeSeen)
    {
        var exclude = excludeSeen ? history.Seen : null;
        if (history.Tokens is not { } h)
            return _popular.Where(i => exclude is null || !exclude.Contains(i)).Take(k).Select(i => (i, 0f)).ToArray();
        float[] user;
        lock (_gate) user = EncodeUser(h);
        return Index.Search(user, k, exclude);
    }

    /// <summary>The user embedding for a tokenised history: the lean managed path for HSTU, the encoder otherwise. Caller holds the gate.</summary>
    private float[] EncodeUser(EvalExample h)
    {
        if (_lean is not null)
        {
            _lean.Encode(h.History, h.HistoryTimestamps, h.HistoryKinds, h.HistoryActions, h.TargetTimestamp, _user);
            return (float[])_user.Clone();
        }
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var batch = SequenceBatch.Create([h.History], [h.HistoryTimestamps], [h.TargetTimestamp], _device, [h.HistoryKinds], [h.HistoryActions]);
        return SequenceEncoder.LastPosition(_retrieval.forward(batch), batch.Lengths).cpu().data<float>().ToArray();
    }

    /// <summary>Per-task scores [m][T] (probabilities for binary tasks, predictions for regression) of candidates for a user; null for a cold start (no history to read).</summary>
    public async Task<double[][]?> RankAsync(string? user, IReadOnlyList<StoredEvent> inline, IHistoryStore store, long[] candidates, CancellationToken cancel)
    {
        if (_ranker is null) throw new InvalidOperationException("no ranking model is loaded (start the service with --ranking CKPT).");
        var info = RankingInfo!;
        int contextual = (info.Features ?? new FeatureSpace()).TokenKinds.Count(t => t.Role == "contextual");
        int max = info.Config.Ranking.HistoryItems + contextual;
        var stored = user is null ? inline : await store.ReadAsync(user, max, cancel);
        var history = Merge(user, stored, max, info.Config.Features);
        var tasks = _ranker.Tasks;
        if (history.Tokens is not { } h) return null;
        float[] z;
        lock (_gate)
        {
            using var _ = no_grad();
            var seq = RankingSequence.From(h, [], _ranker.Interleaved);
            var asHistory = seq.AsHistory(h.TargetTimestamp);
            if (_leanRanker is not null && _ranker is RankingModel rm && asHistory.History.Length + 1 <= rm.Encoder.Config.PaddedLength)
            {
                var hidden = new float[candidates.Length * rm.Encoder.Config.EmbeddingDim];
                _leanRanker.ScoreCandidates(asHistory.History, asHistory.HistoryTimestamps, asHistory.HistoryKinds, asHistory.HistoryActions, h.TargetTimestamp, candidates, hidden);
                using var ht = tensor(hidden, [candidates.Length, rm.Encoder.Config.EmbeddingDim], device: _device);
                using var logits = rm.HeadLogits(ht, candidates);
                z = logits.cpu().data<float>().ToArray();
            }
            else
            {
                using var logits = _ranker.ScoreCandidates(asHistory, candidates, h.TargetTimestamp, _device, info.Config.Ranking.MicroBatch);
                z = logits.cpu().data<float>().ToArray();
            }
        }
        var result = new double[candidates.Length][];
        for (int c = 0; c < candidates.Length; c++)
        {
            result[c] = new double[tasks.Count];
            for (int t = 0; t < tasks.Count; t++) result[c][t] = tasks[t].Predict(z[c * tasks.Count + t]);
        }
        return result;
    }

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Releases the models and the dataset; safe to call more than once (a reload and the host may both do it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _retrieval.Dispose();
        _ranker?.Dispose();
        Index.Dispose();
        Data.Dispose();
    }
}
