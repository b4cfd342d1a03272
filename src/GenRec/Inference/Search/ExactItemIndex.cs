using System.Buffers;

namespace GenRec.Inference.Search;

/// <summary>
/// Exact inner-product top-K over item embeddings (<see cref="ExactTopK"/>: one SIMD dot product per item and a
/// bounded min-heap of the best K, in pooled buffers), so a query allocates only its result. Embeddings are stored row-major in one
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
        var rows = ArrayPool<int>.Shared.Rent(k);
        var scores = ArrayPool<float>.Shared.Rent(k);
        try
        {
            int count = ExactTopK.Search(query, _vectors, Dim, rows.AsSpan(0, k), scores.AsSpan(0, k), new Excluded(_items, exclude));
            var result = new (long, float)[count];
            for (int i = 0; i < count; i++) result[i] = (_items[rows[i]], scores[i]);
            return result;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rows);
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    private readonly struct Excluded(long[] items, IReadOnlySet<long>? exclude) : IRowFilter
    {
        public bool Skip(int row) => exclude is not null && exclude.Contains(items[row]);
    }
}
