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
    private readonly int _expansionAdd;

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
        _expansionAdd = expansionAdd;
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

    private HnswItemIndex(USearchIndex index, long[] items, int dim, int expansionAdd, int expansionSearch)
    {
        _expansionAdd = expansionAdd;
        _index = index;
        _items = items;
        Dim = dim;
        ExpansionSearch = expansionSearch;
    }

    /// <summary>
    /// The index of a model that an incremental update produced, built from <paramref name="previous"/>'s graph
    /// instead of from scratch: the graph is copied (saved and loaded), rows whose item is new, was handed to another
    /// item (<paramref name="sameItem"/> false) or whose vector moved by more than <paramref name="tolerance"/>
    /// (Euclidean, on unit vectors) are removed and added again, new rows are added, and the others keep their place
    /// in the graph. Keys are rows, so <paramref name="items"/> must extend <paramref name="previous"/>'s items.
    /// </summary>
    public static HnswItemIndex Update(HnswItemIndex previous, long[] items, float[] vectors, int dim,
        Func<long, bool> sameItem, float tolerance, out (int Kept, int Moved, int Added) counts)
    {
        if (vectors.Length != (long)items.Length * dim)
            throw new ArgumentException($"expected {items.Length} × {dim} values, got {vectors.Length}.",
                nameof(vectors));
        if (dim != previous.Dim || items.Length < previous.Count
            || !items.AsSpan(0, previous.Count).SequenceEqual(previous._items))
            throw new ArgumentException("the new items do not extend the previous index's items; build a new index.");
        var file = Path.Combine(Path.GetTempPath(), $"genrec-hnsw-{Environment.ProcessId}-{Guid.NewGuid():N}.usearch");
        USearchIndex copy;
        try
        {
            previous._index.Save(file);
            copy = new USearchIndex(file);
            USearchTuning.SetExpansion(copy, previous._expansionAdd, previous.ExpansionSearch);
        }
        finally
        {
            File.Delete(file);
        }
        int kept = 0, moved = 0, added = 0;
        try
        {
            for (int row = 0; row < items.Length; row++)
            {
                var v = vectors.AsSpan(row * dim, dim).ToArray();
                if (row < previous.Count)
                {
                    if (sameItem(items[row]) && copy.Get((ulong)row, out float[] old) == 1
                        && System.Numerics.Tensors.TensorPrimitives.Distance(old, v) <= tolerance)
                    {
                        kept++;
                        continue;
                    }
                    copy.Remove((ulong)row);
                    moved++;
                }
                else added++;
                copy.Add((ulong)row, v);
            }
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        counts = (kept, moved, added);
        return new HnswItemIndex(copy, items, dim, previous._expansionAdd, previous.ExpansionSearch);
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
