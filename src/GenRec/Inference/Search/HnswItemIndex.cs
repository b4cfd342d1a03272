using Cloud.Unum.USearch;

namespace GenRec.Inference.Search;

/// <summary>
/// Approximate inner-product top-K for large catalogs: an HNSW graph from USearch (Cloud.Unum.USearch). Excluded
/// items are filtered after the search, so it asks for k plus the number of exclusions. Recall against
/// <see cref="ExactItemIndex"/> is measured by <c>genrec bench search</c>.
/// </summary>
public sealed class HnswItemIndex : IItemIndex
{
    private readonly USearchIndex _index;
    private readonly long[] _items;

    /// <summary>Builds the graph from row-major <paramref name="vectors"/> [items.Length × dim].</summary>
    /// <param name="items">Item ids (the keys returned by searches).</param>
    /// <param name="vectors">The embeddings.</param>
    /// <param name="dim">Embedding width.</param>
    /// <param name="connectivity">Graph degree M (USearch default 16).</param>
    /// <param name="expansionAdd">Beam width while building (ef_construction).</param>
    /// <param name="expansionSearch">Beam width while searching (ef); raised to k when k is larger.</param>
    /// <param name="progress">Called with the number of items added so far.</param>
    public HnswItemIndex(long[] items, float[] vectors, int dim, int connectivity = 16, int expansionAdd = 128, int expansionSearch = 256, Action<int>? progress = null)
    {
        if (vectors.Length != (long)items.Length * dim)
            throw new ArgumentException($"expected {items.Length} × {dim} values, got {vectors.Length}.", nameof(vectors));
        _items = items;
        Dim = dim;
        ExpansionSearch = expansionSearch;
        _index = new USearchIndex(MetricKind.Ip, ScalarKind.Float32, (ulong)dim, (ulong)connectivity, (ulong)expansionAdd, (ulong)expansionSearch);
        const int chunk = 10_000;
        for (int start = 0; start < items.Length; start += chunk)
        {
            int n = Math.Min(chunk, items.Length - start);
            var keys = new ulong[n];
            var rows = new float[n][];
            for (int i = 0; i < n; i++)
            {
                keys[i] = (ulong)(start + i);   // the key is the row; the row gives the item id
                rows[i] = vectors.AsSpan((start + i) * dim, dim).ToArray();
            }
            _index.Add(keys, rows);
            progress?.Invoke(start + n);
        }
    }

    /// <inheritdoc />
    public int Dim { get; }

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <summary>Search beam width (ef).</summary>
    public int ExpansionSearch { get; }

    /// <inheritdoc />
    public (long Item, float Score)[] Search(ReadOnlySpan<float> query, int k, IReadOnlySet<long>? exclude = null)
    {
        if (query.Length != Dim) throw new ArgumentException($"query has {query.Length} values; the index holds {Dim}-dimensional vectors.", nameof(query));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        int want = Math.Min(_items.Length, k + (exclude?.Count ?? 0));
        _index.Search(query.ToArray(), want, out ulong[] keys, out float[] distances);
        var result = new List<(long, float)>(k);
        for (int i = 0; i < keys.Length && result.Count < k; i++)
        {
            long item = _items[(int)keys[i]];
            if (exclude is not null && exclude.Contains(item)) continue;
            result.Add((item, 1 - distances[i]));   // USearch's inner-product distance is 1 − q·x
        }
        return result.ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _index.Dispose();
}
