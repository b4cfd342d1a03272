using GenRec.Inference.Search;

namespace GenRec.Tests.Serving;

public class ItemIndexTests
{
    private static (long[] Ids, float[] Vectors) Catalog(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n * d];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return (Enumerable.Range(0, n).Select(i => 1000L + i).ToArray(), v);
    }

    [Fact]
    public void ExactSearchMatchesHandComputedScores()
    {
        // Items 1..4 in 2-D; query (1, 2): scores 1, 2, 3, -1.
        var index = new ExactItemIndex([1, 2, 3, 4], [1, 0, 0, 1, 1, 1, -1, 0], 2);
        var top = index.Search([1f, 2f], 3);
        Assert.Equal([3L, 2, 1], top.Select(t => t.Item));
        Assert.Equal([3f, 2f, 1f], top.Select(t => t.Score));
        Assert.Equal([2L, 1], index.Search([1f, 2f], 2, new HashSet<long> { 3 }).Select(t => t.Item));
        Assert.Equal(4, index.Search([1f, 2f], 99).Length);
        Assert.Throws<ArgumentException>(() => index.Search([1f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search([1f, 2f], 0));
    }

    [Fact]
    public void HnswFindsNearlyWhatExactSearchFindsAndHonoursExclusions()
    {
        var (ids, v) = Catalog(5000, 16, 3);
        var exact = new ExactItemIndex(ids, v, 16);
        using var hnsw = new HnswItemIndex(ids, v, 16, expansionSearch: 128);
        var rng = new Random(4);
        double recall = 0;
        for (int q = 0; q < 50; q++)
        {
            var query = Enumerable.Range(0, 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var truth = exact.Search(query, 10);
            var found = hnsw.Search(query, 10);
            recall += found.Count(f => truth.Any(t => t.Item == f.Item)) / 10.0;
            // Scores are inner products, like the exact index's.
            foreach (var f in found) Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(query, v.AsSpan((int)(f.Item - 1000) * 16, 16)), f.Score, 3);
            var exclude = truth.Take(3).Select(t => t.Item).ToHashSet();
            var filtered = hnsw.Search(query, 10, exclude);
            Assert.Equal(10, filtered.Length);
            Assert.DoesNotContain(filtered, f => exclude.Contains(f.Item));
        }
        Assert.True(recall / 50 > 0.9, $"recall@10 {recall / 50:F3}");
    }

    [Fact]
    public void AnHnswIndexUpdatedFromThePreviousGraphAddsNewItemsAndReAddsOnlyMovedRows()
    {
        var (ids, v) = Catalog(3000, 16, 5);
        using var before = new HnswItemIndex(ids, v, 16, expansionSearch: 128);
        // The next model: 300 rows moved, one row handed to another item, 200 new items.
        var (more, extra) = Catalog(3200, 16, 6);
        var next = v.Concat(extra.AsSpan(3000 * 16).ToArray()).ToArray();
        for (int row = 0; row < 300; row++) next[row * 16] += 0.5f;
        long[] nextIds = [.. ids, .. more.Skip(3000).Select(i => i + 10_000)];
        using var updated = HnswItemIndex.Update(before, nextIds, next, 16, id => id != 2999L + 1000, 1e-3f,
            out var counts);
        Assert.Equal((2699, 301, 200), counts);
        Assert.Equal(3200, updated.Count);

        var exact = new ExactItemIndex(nextIds, next, 16);
        var rng = new Random(7);
        double recall = 0;
        for (int q = 0; q < 50; q++)
        {
            var query = Enumerable.Range(0, 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var truth = exact.Search(query, 10);
            recall += updated.Search(query, 10).Count(f => truth.Any(t => t.Item == f.Item)) / 10.0;
        }
        Assert.True(recall / 50 > 0.9, $"recall@10 {recall / 50:F3}");
        // The previous index still answers as before (it was copied, not changed).
        Assert.Equal(3000, before.Count);
        Assert.Throws<ArgumentException>(() =>
            HnswItemIndex.Update(before, nextIds.Skip(1).ToArray(), next.AsSpan(16).ToArray(), 16, _ => true, 1e-3f,
                out _));
    }
}
