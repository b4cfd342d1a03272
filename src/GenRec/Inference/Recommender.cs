using GenRec.Data;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Inference;

/// <summary>
/// Serves a trained retrieval model: the user embedding at the next-to-predict position against every item of the
/// corpus, exact inner-product top-K, items already in the history excluded.
/// </summary>
public sealed class Recommender : IDisposable
{
    private readonly SequenceEncoder _model;
    private readonly long[] _corpus;
    private readonly Tensor _items;
    private readonly Device _device;

    /// <summary>Precomputes the normalised embeddings of <paramref name="corpus"/>.</summary>
    public Recommender(SequenceEncoder model, long[] corpus, Device device)
    {
        _model = model;
        _corpus = corpus;
        _device = device;
        model.eval();
        using var _ = no_grad();
        using var ids = tensor(corpus, device: device);
        _items = model.NormalizedItems(ids);
    }

    /// <summary>Top-<paramref name="k"/> (item, cosine score) for a tokenised history (kinds and actions included), best first; history items excluded.</summary>
    public IReadOnlyList<(long Item, float Score)> Recommend(EvalExample history, int k)
    {
        if (history.History.Length == 0) throw new ArgumentException("the history is empty: nothing to recommend from.", nameof(history));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var batch = SequenceBatch.Create([history.History], [history.HistoryTimestamps], [history.TargetTimestamp], _device, [history.HistoryKinds], [history.HistoryActions]);
        return TopK(batch, history.HistoryItems.ToHashSet(), k);
    }

    private List<(long Item, float Score)> TopK(SequenceBatch batch, HashSet<long> seen, int k)
    {
        var user = SequenceEncoder.LastPosition(_model.forward(batch), batch.Lengths);
        using var scores = user.matmul(_items.t()).squeeze(0);
        // The best k + |seen| always hold the best k unseen items: no sort of the whole corpus.
        var (values, indices) = scores.topk((int)Math.Min(_corpus.Length, (long)k + seen.Count));
        var best = values.cpu().data<float>().ToArray();
        var rows = indices.cpu().data<long>().ToArray();
        var result = new List<(long Item, float Score)>(k);
        for (int i = 0; i < rows.Length && result.Count < k; i++)
            if (!seen.Contains(_corpus[rows[i]])) result.Add((_corpus[rows[i]], best[i]));
        return result;
    }

    /// <summary>Top-<paramref name="k"/> (item, cosine score) for a history, best first. The query time defaults to the last event's.</summary>
    public IReadOnlyList<(long Item, float Score)> Recommend(long[] history, long[] timestamps, int k, long? queryTime = null, bool excludeHistory = true)
    {
        if (history.Length == 0) throw new ArgumentException("the history is empty: nothing to recommend from.", nameof(history));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        int max = _model.Config.MaxLength;
        if (history.Length > max) { history = history[^max..]; timestamps = timestamps[^max..]; }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var batch = SequenceBatch.Create([history], [timestamps], [queryTime ?? timestamps[^1]], _device);
        return TopK(batch, excludeHistory ? history.ToHashSet() : [], k);
    }

    /// <inheritdoc />
    public void Dispose() => _items.Dispose();
}
