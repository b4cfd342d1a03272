using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Inference.Search;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Inference;

/// <summary>
/// The one retrieve-then-rank pipeline, used by <c>genrec recommend</c>, <c>genrec rank</c> and the service alike:
/// retrieval (history → user embedding at the next position → top-K through an <see cref="IItemIndex"/>, exact or
/// HNSW) and ranking (candidates → M-FALCON → task scores → sorted by a task). Callers bring histories (the CLI from
/// the dataset, the service merged with its store); the pipeline owns the models, the item index and the arithmetic.
/// HSTU models run on the lean managed path (<see cref="HstuInference"/>), other models through libtorch. Tensor work
/// is serialised by a lock: libtorch already uses every core per call.
/// </summary>
public sealed class RecommendationPipeline : IDisposable
{
    private readonly object _gate = new();
    private readonly SequenceEncoder? _retrieval;
    private readonly HstuInference? _lean;
    private readonly HstuInference? _leanRanker;
    private readonly float[] _user = [];
    private readonly Ranker? _ranker;
    private readonly Device _device;
    private readonly bool[]? _rankerKnows;

    private RecommendationPipeline(PreparedDataset data, Checkpoint? retrievalInfo, SequenceEncoder? retrieval,
        Checkpoint? rankingInfo, Ranker? ranker, Device device, string index, RecommendationPipeline? previous)
    {
        Data = data;
        RetrievalInfo = retrievalInfo;
        RankingInfo = rankingInfo;
        _retrieval = retrieval;
        _ranker = ranker;
        _device = device;
        Items = new ItemCatalog(data, (retrievalInfo ?? rankingInfo)!.ItemKeys);
        if (rankingInfo?.ItemKeys is { } rankerKeys)
        {
            // Items the ranker was trained with: the same key at the same id (an incremental update may have added
            // items after the ranker was trained, or handed an evicted item's id to another).
            _rankerKnows = new bool[Items.Count + 1];
            for (int id = 1; id <= Math.Min(Items.Count, rankerKeys.Count); id++)
                _rankerKnows[id] = rankerKeys[id - 1] == Items.Key(id);
        }
        if (retrieval is HstuEncoder hstu) _lean = new HstuInference(hstu);
        // M-FALCON for an interleaved HSTU ranker runs managed too; its head stays in libtorch (one small product).
        if (ranker is RankingModel { Interleaved: true } rm) _leanRanker = new HstuInference(rm.Encoder);
        if (retrieval is null) return;
        _user = new float[retrieval.Config.EmbeddingDim];
        using (no_grad())
        {
            using var ids = tensor(Items.Corpus, device: device);
            using var vectors = retrieval.NormalizedItems(ids).cpu();
            var flat = vectors.data<float>().ToArray();
            int dim = (int)vectors.shape[1];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            if (index == "hnsw" && previous?.Index is HnswItemIndex old && old.Dim == dim
                && old.Count <= Items.Count)
            {
                var before = previous.Items;
                Index = HnswItemIndex.Update(old, Items.Corpus, flat, dim,
                    id => id <= before.Count && before.Key(id) == Items.Key(id), IncrementalTolerance,
                    out var counts);
                IndexBuild = $"hnsw from the previous graph in {clock.Elapsed.TotalSeconds:F2}s: {counts.Kept:N0} "
                    + $"rows kept, {counts.Moved:N0} re-added (moved more than {IncrementalTolerance}), "
                    + $"{counts.Added:N0} added";
            }
            else
            {
                Index = index switch
                {
                    "exact" => new ExactItemIndex(Items.Corpus, flat, dim),
                    "hnsw" => new HnswItemIndex(Items.Corpus, flat, dim),
                    _ => throw new ArgumentException($"--index {index}: expected exact or hnsw."),
                };
                IndexBuild = $"{index} over {Items.Count:N0} items in {clock.Elapsed.TotalSeconds:F2}s";
            }
        }
    }

    /// <summary>
    /// Loads a retrieval checkpoint, a ranking one, or both over <paramref name="data"/>, after checking that each was
    /// trained on its item ids and feature space (and both on the same ids). The pipeline owns the models; the caller
    /// keeps the dataset.
    /// </summary>
    public static RecommendationPipeline Load(PreparedDataset data, string? retrievalCheckpoint,
        string? rankingCheckpoint, Device device,
        string index = "exact") => Load(data, retrievalCheckpoint, rankingCheckpoint, device, index, null);

    /// <summary>
    /// <see cref="Load(PreparedDataset, string?, string?, Device, string)"/> for a model that follows the one
    /// <paramref name="previous"/> serves (a reload): an HNSW index is then built from the previous graph, adding the
    /// new items and re-adding only the rows that moved (<see cref="HnswItemIndex.Update"/>). The previous pipeline
    /// must stay undisposed until this returns.
    /// </summary>
    public static RecommendationPipeline Load(PreparedDataset data, string? retrievalCheckpoint,
        string? rankingCheckpoint, Device device, string index, RecommendationPipeline? previous)
    {
        if (index is not ("exact" or "hnsw"))
            throw new ArgumentException($"--index {index}: expected exact (SIMD, every item) or hnsw (approximate, "
                + "for large catalogs).");
        if (retrievalCheckpoint is null && rankingCheckpoint is null)
            throw new ArgumentException("no model given: a retrieval or a ranking checkpoint is needed.");
        Checkpoint? rinfo = null, kinfo = null;
        SequenceEncoder? retrieval = null;
        Ranker? ranker = null;
        try
        {
            if (retrievalCheckpoint is not null)
            {
                (rinfo, retrieval) = Checkpoint.Load(retrievalCheckpoint, device);
                rinfo.EnsureFits(retrievalCheckpoint, data);
            }
            if (rankingCheckpoint is not null)
            {
                (kinfo, ranker) = Checkpoint.LoadRanker(rankingCheckpoint, device);
                if (rinfo is not null) ItemIds.EnsureSame(retrievalCheckpoint!, rinfo.ItemKeys, rankingCheckpoint,
                    kinfo.ItemKeys);
                kinfo.EnsureFits(rankingCheckpoint, data);
            }
            return new RecommendationPipeline(data, rinfo, retrieval, kinfo, ranker, device, index, previous);
        }
        catch
        {
            retrieval?.Dispose();
            ranker?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// How far a row of an incrementally updated HNSW index may lie from the model's vector and keep its place in the
    /// graph (Euclidean distance between unit vectors; scores of such rows are within this of the model's).
    /// </summary>
    public const float IncrementalTolerance = 1e-3f;

    /// <summary>How the item index was built (for logs).</summary>
    public string IndexBuild { get; } = "";

    /// <summary>The items the models know, by id and key (the retrieval model's id map).</summary>
    public ItemCatalog Items { get; }

    /// <summary>Whether the ranker was trained with item <paramref name="id"/>.</summary>
    public bool RankerKnows(long id) => _rankerKnows is { } k && id > 0 && id < k.Length && k[id];

    /// <summary>The dataset that names the items.</summary>
    public PreparedDataset Data { get; }

    /// <summary>The retrieval checkpoint's header, when a retrieval model is loaded.</summary>
    public Checkpoint? RetrievalInfo { get; }

    /// <summary>The ranking checkpoint's header, when a ranker is loaded.</summary>
    public Checkpoint? RankingInfo { get; }

    /// <summary>The item index over the retrieval model's item embeddings (exact or HNSW); null without one.</summary>
    public IItemIndex? Index { get; }

    /// <summary>Whether a ranker is loaded.</summary>
    public bool CanRank => _ranker is not null;

    /// <summary>The ranker's tasks (empty without a ranker).</summary>
    public IReadOnlyList<RankingTask> Tasks => _ranker?.Tasks ?? [];

    /// <summary>Tokens of history the retrieval model reads.</summary>
    public int RetrievalWindow => RetrievalModel.Config.Model.MaxLength;

    /// <summary>The parts of the feature space the retrieval model was trained with.</summary>
    public FeatureOptions RetrievalFeatures => RetrievalModel.Config.Features;

    private Checkpoint RetrievalModel => RetrievalInfo
        ?? throw new InvalidOperationException("no retrieval model is loaded.");

    /// <summary>
    /// Tokens of history the ranker reads (its history items plus the contextual tokens in front); 0 without a ranker.
    /// </summary>
    public int RankingWindow => RankingInfo is not { } info ? 0
        : info.Config.Ranking.HistoryItems
            + (info.Features ?? new FeatureSpace()).TokenKinds.Count(t => t.Role == "contextual");

    /// <summary>The parts of the feature space the ranker was trained with.</summary>
    public FeatureOptions RankingFeatures => RankingInfo?.Config.Features ?? new FeatureOptions();

    /// <summary>
    /// The index of the task to sort by (<paramref name="name"/>, or the first binary task), or −1 for an unknown name.
    /// </summary>
    public int SortTask(string? name) => RankingTask.SortIndex(Tasks, name);

    /// <summary>
    /// The top <paramref name="k"/> (item, cosine score) for a history, best first, skipping
    /// <paramref name="exclude"/>.
    /// </summary>
    public (long Item, float Score)[] Retrieve(TokenWindow history, int k, IReadOnlySet<long>? exclude)
    {
        if (history.History.Length == 0)
            throw new ArgumentException("the history is empty: nothing to retrieve from.", nameof(history));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        if (Index is null) throw new InvalidOperationException("no retrieval model is loaded.");
        float[] user;
        lock (_gate) user = EncodeUser(history);
        return Index.Search(user, k, exclude);
    }

    /// <summary>The user embedding: the lean managed path for HSTU, else the encoder. Caller holds the gate.</summary>
    private float[] EncodeUser(TokenWindow h)
    {
        if (_lean is not null)
        {
            _lean.Encode(h.History, h.HistoryTimestamps, h.HistoryKinds, h.HistoryActions, h.TargetTimestamp, _user);
            return (float[])_user.Clone();
        }
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var batch = SequenceBatch.Create([h.History], [h.HistoryTimestamps], [h.TargetTimestamp], _device,
            [h.HistoryKinds], [h.HistoryActions]);
        return SequenceEncoder.LastPosition(_retrieval!.forward(batch), batch.Lengths).cpu().data<float>().ToArray();
    }

    /// <summary>
    /// Per-task scores [m][T] of <paramref name="candidates"/> after <paramref name="history"/> (read with the ranker's
    /// window and features): probabilities for binary tasks, predictions for regression tasks.
    /// </summary>
    public double[][] Score(TokenWindow history, long[] candidates)
    {
        if (_ranker is null) throw new InvalidOperationException("no ranking model is loaded.");
        var info = RankingInfo!;
        var tasks = _ranker.Tasks;
        float[] z;
        lock (_gate)
        {
            using var _ = no_grad();
            var seq = RankingSequence.From(history, [], _ranker.Interleaved);
            var asHistory = seq.AsHistory(history.TargetTimestamp);
            if (_leanRanker is not null && _ranker is RankingModel rm
                && asHistory.History.Length < rm.Encoder.Config.PaddedLength)
            {
                var hidden = new float[candidates.Length * rm.Encoder.Config.EmbeddingDim];
                _leanRanker.ScoreCandidates(asHistory.History, asHistory.HistoryTimestamps, asHistory.HistoryKinds,
                    asHistory.HistoryActions, history.TargetTimestamp, candidates, hidden);
                using var ht = tensor(hidden, [candidates.Length, rm.Encoder.Config.EmbeddingDim], device: _device);
                using var logits = rm.HeadLogits(ht, candidates);
                z = logits.cpu().data<float>().ToArray();
            }
            else
            {
                using var logits = _ranker.ScoreCandidates(asHistory, candidates, history.TargetTimestamp, _device,
                    info.Config.Ranking.MicroBatch);
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

    /// <summary>
    /// The candidates scored and ordered best first by task <paramref name="sortTask"/> (a stable order: ties keep the
    /// given order, so retrieval order breaks them). Items added after the ranker was trained (incremental training
    /// of the retrieval model) cannot be scored: they keep their place in the given order, without scores, and the
    /// ranker orders the others around them; such items in the history are left out of what the ranker reads.
    /// </summary>
    public IReadOnlyList<RankedCandidate> Rank(TokenWindow history, long[] candidates, int sortTask)
    {
        if (sortTask < 0 || sortTask >= Tasks.Count)
            throw new ArgumentOutOfRangeException(nameof(sortTask), sortTask, "no such task.");
        if (candidates.Length == 0) return [];
        var known = Enumerable.Range(0, candidates.Length).Where(c => RankerKnows(candidates[c])).ToArray();
        var readable = RankerReadable(history);
        var scores = known.Length == 0 || readable.History.Length == 0 ? []
            : Score(readable, known.Select(c => candidates[c]).ToArray());
        var ranked = new Queue<int>(Enumerable.Range(0, known.Length).OrderByDescending(i => scores[i][sortTask]));
        var result = new List<RankedCandidate>(candidates.Length);
        for (int c = 0; c < candidates.Length; c++)
        {
            if (scores.Length > 0 && RankerKnows(candidates[c]))
            {
                int i = ranked.Dequeue();
                result.Add(new RankedCandidate(candidates[known[i]], known[i], scores[i]));
            }
            else result.Add(new RankedCandidate(candidates[c], c, []));
        }
        return result;
    }

    /// <summary>The history without the items the ranker was not trained with.</summary>
    private TokenWindow RankerReadable(TokenWindow h)
    {
        var keep = Enumerable.Range(0, h.History.Length)
            .Where(i => (h.HistoryKinds?[i] ?? 0) != 0 || RankerKnows(h.History[i])).ToArray();
        if (keep.Length == h.History.Length) return h;
        return h with
        {
            History = [.. keep.Select(i => h.History[i])],
            HistoryTimestamps = [.. keep.Select(i => h.HistoryTimestamps[i])],
            HistoryKinds = h.HistoryKinds is { } k ? [.. keep.Select(i => k[i])] : null,
            HistoryActions = h.HistoryActions is { } a ? [.. keep.Select(i => a[i])] : null,
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _retrieval?.Dispose();
        _ranker?.Dispose();
        Index?.Dispose();
    }
}
