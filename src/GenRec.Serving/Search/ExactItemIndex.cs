using System.Numerics.Tensors;

namespace GenRec.Serving.Search;

/// <summary>
/// Exact inner-product top-K over item embeddings: one SIMD dot product per item (System.Numerics.Tensors) and a
/// bounded min-heap of the best K, so a query allocates only its result. Embeddings are stored row-major in one
/// array; the index is immutable and safe to query from many threads.
/// </summary>
public sealed class ExactItemIndex : IItemIndex
{
    private readonly float[] _vectors;
    private readonly long[] _items;

    /// <summary>Builds the index from row-major <paramref name="vectors"/> [items.Length × dim].</summary>
    public ExactItemIndex(long[] items, float[] vectors, int dim)
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dimension must be positive.");
        if (vectors.Length != (long)items.Length * dim)
            throw new ArgumentException($"expected {items.Length} × {dim} = {(long)items.Length * dim} values, got {vectors.Length}.", nameof(vectors));
        _items = items;
        _vectors = vectors;
        Dim = dim;
    }

    /// <inheritdoc />
    public int Dim { get; }

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <inheritdoc />
    public (long Item, float Score)[] Search(ReadOnlySpan<float> query, int k, IReadOnlySet<long>? exclude = null)
    {
        if (query.Length != Dim) throw new ArgumentException($"query has {query.Length} values; the index holds {Dim}-dimensional vectors.", nameof(query));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        k = Math.Min(k, _items.Length);
        // A min-heap on score: the root is the weakest of the best k so far.
        var heap = new PriorityQueue<long, float>(k + 1);
        var vectors = _vectors.AsSpan();
        for (int i = 0; i < _items.Length; i++)
        {
            if (exclude is not null && exclude.Contains(_items[i])) continue;
            float s = TensorPrimitives.Dot(query, vectors.Slice(i * Dim, Dim));
            if (heap.Count < k) heap.Enqueue(_items[i], s);
            else if (heap.TryPeek(out _, out float weakest) && s > weakest) heap.EnqueueDequeue(_items[i], s);
        }
        var result = new (long, float)[heap.Count];
        for (int n = result.Length - 1; n >= 0; n--)
        {
            heap.TryDequeue(out long item, out float score);
            result[n] = (item, score);
        }
        return result;
    }
}
