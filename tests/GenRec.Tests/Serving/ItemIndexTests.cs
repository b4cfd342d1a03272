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
}
