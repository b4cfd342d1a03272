namespace GenRec.Inference.Search;

/// <summary>Inner-product top-K search over item embeddings; implementations are safe to query from many threads.</summary>
public interface IItemIndex : IDisposable
{
    /// <summary>Embedding width.</summary>
    int Dim { get; }

    /// <summary>Number of items.</summary>
    int Count { get; }

    /// <summary>The best <paramref name="k"/> (item, inner product) for <paramref name="query"/>, best first, skipping items in <paramref name="exclude"/>.</summary>
    (long Item, float Score)[] Search(ReadOnlySpan<float> query, int k, IReadOnlySet<long>? exclude = null);
}
