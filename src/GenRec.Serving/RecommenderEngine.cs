using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Inference;
using GenRec.Inference.Search;
using GenRec.Model;
using GenRec.Serving.Stores;
using static TorchSharp.torch;

namespace GenRec.Serving;

/// <summary>
/// One service generation: the <see cref="RecommendationPipeline"/> (models, item index, the arithmetic, shared with
/// the CLI), the dataset that names items, histories merged with the store, and a popularity list for cold starts.
/// Immutable once built; a reload builds a new engine and swaps it in.
/// </summary>
public sealed class RecommenderEngine : IDisposable
{
    private readonly long[] _popular;
    private int _disposed;

    private RecommenderEngine(PreparedDataset data, RecommendationPipeline pipeline, string version)
    {
        Data = data;
        Pipeline = pipeline;
        Version = version;
        var counts = new long[data.ItemTableSize];
        for (int u = 0; u < data.UserCount; u++)
            foreach (var t in data.Tokens(u))
                if (t.IsItem) counts[t.Value]++;
        _popular = data.Corpus.OrderByDescending(i => counts[i]).ThenBy(i => i).Take(1000).ToArray();
    }

    /// <summary>Opens the data (any <c>--data</c> form) and loads the checkpoints, which must fit it.</summary>
    public static RecommenderEngine Load(string dataPath, string retrievalCheckpoint, string? rankingCheckpoint, Device device, string index = "exact") =>
        Load(dataPath, retrievalCheckpoint, rankingCheckpoint, device, index, null);

    /// <summary>Loads the models that follow <paramref name="previous"/>'s (a reload): an HNSW index is built from its
    /// graph. <paramref name="previous"/> must not be disposed before this returns.</summary>
    public static RecommenderEngine Load(string dataPath, string retrievalCheckpoint, string? rankingCheckpoint,
        Device device, string index, RecommenderEngine? previous)
    {
        if (index is not ("exact" or "hnsw")) throw new ArgumentException($"--index {index}: expected exact (SIMD, every item) or hnsw (approximate, for large catalogs).");
        var data = DataSource.Open(dataPath);
        try
        {
            var pipeline = RecommendationPipeline.Load(data, retrievalCheckpoint, rankingCheckpoint, device, index,
                previous?.Pipeline);
            string version = string.Join("+", new[] { retrievalCheckpoint, rankingCheckpoint }.OfType<string>()
                .Select(p => $"{Path.GetFileName(p)}@{File.GetLastWriteTimeUtc(p):yyyyMMddTHHmmssZ}"));
            data.ItemId("");     // build the lookup tables now, not under concurrent requests
            data.Latest("", 1, new FeatureOptions());
            return new RecommenderEngine(data, pipeline, version)
            {
                RetrievalPath = retrievalCheckpoint,
                WrittenAt = pipeline.RetrievalInfo?.WrittenAt
                    ?? new DateTimeOffset(File.GetLastWriteTimeUtc(retrievalCheckpoint)),
            };
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>The dataset (item keys, titles, training histories).</summary>
    public PreparedDataset Data { get; }

    /// <summary>The items the models know, by id and key (with those incremental training added).</summary>
    public ItemCatalog Items => Pipeline.Items;

    /// <summary>The models and the item index: the same pipeline the CLI runs.</summary>
    public RecommendationPipeline Pipeline { get; }

    /// <summary>The retrieval checkpoint's header.</summary>
    public Checkpoint RetrievalInfo => Pipeline.RetrievalInfo!;

    /// <summary>The ranking checkpoint's header, when a ranker is loaded.</summary>
    public Checkpoint? RankingInfo => Pipeline.RankingInfo;

    /// <summary>Whether a ranker is loaded.</summary>
    public bool CanRank => Pipeline.CanRank;

    /// <summary>The ranker's tasks (empty without a ranker).</summary>
    public IReadOnlyList<RankingTask> Tasks => Pipeline.Tasks;

    /// <summary>Checkpoint files and their times, for /metrics and /healthz.</summary>
    public string Version { get; }

    /// <summary>The retrieval checkpoint's file.</summary>
    public string RetrievalPath { get; private init; } = "";

    /// <summary>When the retrieval model was written (its header, else the file's time): the model's age counts from
    /// it.</summary>
    public DateTimeOffset WrittenAt { get; private init; }

    /// <summary>The last event of the log the retrieval model was trained on (incremental training), or null.</summary>
    public long? Watermark => RetrievalInfo.Stream?.Watermark;

    /// <summary>When these models were loaded (for the age of the model in use, in /metrics).</summary>
    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The item index over the retrieval model's item embeddings (exact or HNSW).</summary>
    public IItemIndex Index => Pipeline.Index!;

    /// <summary>The most popular items of the training log, most popular first.</summary>
    public IReadOnlyList<long> Popular => _popular;

    /// <summary>The user's history for the retrieval model: training window merged with the store's events.</summary>
    public async Task<UserHistory> HistoryAsync(string user, IHistoryStore store, CancellationToken cancel)
    {
        var stored = await store.ReadAsync(user, Pipeline.RetrievalWindow, cancel);
        return HistoryMerger.Merge(Data, Items, user, stored, Pipeline.RetrievalWindow, Pipeline.RetrievalFeatures);
    }

    /// <summary>A history given inline (no store, no training window).</summary>
    public UserHistory Inline(IReadOnlyList<StoredEvent> events) =>
        HistoryMerger.Merge(Data, Items, null, events, Pipeline.RetrievalWindow, Pipeline.RetrievalFeatures);

    /// <summary>The top <paramref name="k"/> items for a history by inner product with its user embedding; popularity for a cold start.</summary>
    public (long Item, float Score)[] Retrieve(UserHistory history, int k, bool excludeSeen)
    {
        var exclude = excludeSeen ? history.Seen : null;
        if (history.Tokens is not { } h)
            return _popular.Where(i => exclude is null || !exclude.Contains(i)).Take(k).Select(i => (i, 0f)).ToArray();
        return Pipeline.Retrieve(h, k, exclude);
    }

    /// <summary>
    /// The candidates ranked best first by task <paramref name="sortTask"/> for a user (the ranker's window merged
    /// with the store) or an inline history; null for a cold start (no history to read).
    /// </summary>
    public async Task<IReadOnlyList<RankedCandidate>?> RankAsync(string? user, IReadOnlyList<StoredEvent> inline, IHistoryStore store,
        long[] candidates, int sortTask, CancellationToken cancel)
    {
        if (!CanRank) throw new InvalidOperationException("no ranking model is loaded (start the service with --ranking CKPT).");
        int max = Pipeline.RankingWindow;
        var stored = user is null ? inline : await store.ReadAsync(user, max, cancel);
        var history = HistoryMerger.Merge(Data, Items, user, stored, max, Pipeline.RankingFeatures);
        return history.Tokens is { } h ? Pipeline.Rank(h, candidates, sortTask) : null;
    }

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Releases the models and the dataset; safe to call more than once (a reload and the host may both do it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Pipeline.Dispose();
        Data.Dispose();
    }
}
