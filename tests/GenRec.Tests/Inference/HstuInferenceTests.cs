using GenRec.Data;
using GenRec.Inference;
using GenRec.Model;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Tests.Inference;

public class HstuInferenceTests
{
    private static HstuEncoder Model(int heads, int layers, int seed, int items = 300)
    {
        manual_seed(seed);
        var cfg = new ModelConfig { EmbeddingDim = 16, NumLayers = layers, NumHeads = heads, QkDim = 8, VDim = 6, MaxLength = 40, ReservedPositions = 3, TimeBuckets = 32 };
        var model = new HstuEncoder(cfg, items);
        // Trained-looking weights: the initial bias and item scales are too small to exercise every term.
        using (no_grad())
            foreach (var p in model.parameters()) p.mul_(Scalars.Of(5.0));
        model.eval();
        return model;
    }

    private static (long[] Items, long[] Times) History(Random rng, int n, int items)
    {
        var ids = new long[n];
        var times = new long[n];
        long t = 1_000_000;
        for (int i = 0; i < n; i++) { ids[i] = 1 + rng.Next(items - 1); times[i] = t += rng.Next(1, 200_000); }
        return (ids, times);
    }

    private static float[] Reference(HstuEncoder model, long[] items, long[] times, long query)
    {
        using var _ = no_grad();
        using var batch = SequenceBatch.Create([items], [times], [query], CPU);
        using var out_ = model.forward(batch);
        return out_[0, items.Length - 1].data<float>().ToArray();
    }

    [Theory]
    [InlineData(1, 2, 1, 25)]
    [InlineData(2, 3, 2, 40)]
    [InlineData(1, 1, 3, 1)]
    [InlineData(2, 2, 4, 7)]
    public void UserEmbeddingEqualsTheEncodersOutputAtTheLastPosition(int heads, int layers, int seed, int n)
    {
        using var model = Model(heads, layers, seed);
        var lean = new HstuInference(model, Enumerable.Range(1, 299).Select(i => (long)i).ToArray());
        var rng = new Random(seed);
        var (items, times) = History(rng, n, 300);
        long query = times[^1] + 12_345;
        var expected = Reference(model, items, times, query);
        var actual = new float[16];
        lean.Encode(items, times, query, actual);
        for (int i = 0; i < 16; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5, $"component {i}: {actual[i]} vs the encoder's {expected[i]}");
        // Not the trivial answer: the embedding depends on the history and on the query time.
        var other = new float[16];
        lean.Encode(items, times, query + 50_000_000, other);
        Assert.True(actual.Zip(other).Max(p => Math.Abs(p.First - p.Second)) > 1e-4, "the query time changed nothing");
    }

    [Fact]
    public void LongerHistoriesKeepTheirMostRecentEvents()
    {
        using var model = Model(1, 2, 5);
        var lean = new HstuInference(model, [1, 2, 3]);
        var (items, times) = History(new Random(5), 70, 300);
        var whole = new float[16];
        var recent = new float[16];
        lean.Encode(items, times, times[^1] + 1, whole);
        lean.Encode(items[^40..], times[^40..], times[^1] + 1, recent);
        Assert.Equal(recent, whole);
    }

    [Fact]
    public void TopKIsTheExactRankingOfTheCorpusWithTheHistoryExcluded()
    {
        using var model = Model(2, 2, 6);
        var corpus = Enumerable.Range(1, 299).Select(i => (long)i).Where(i => i % 7 != 0).ToArray();
        var lean = new HstuInference(model, corpus);
        var (items, times) = History(new Random(6), 30, 300);
        long query = times[^1] + 60;
        var user = Reference(model, items, times, query);
        float[,] table;
        using (no_grad())
        using (var ids = tensor(corpus))
        using (var t = model.NormalizedItems(ids))
            table = Matrix(t);
        var expected = Enumerable.Range(0, corpus.Length)
            .Where(r => !items.Contains(corpus[r]))
            .Select(r => (Item: corpus[r], Score: Enumerable.Range(0, 16).Sum(c => table[r, c] * user[c])))
            .OrderByDescending(p => p.Score).Take(20).ToArray();
        var got = lean.Recommend(items, times, query, 20);
        Assert.Equal(20, got.Length);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(Math.Abs(expected[i].Score - got[i].Score) < 1e-4, $"rank {i}: score {got[i].Score} vs {expected[i].Score}");
            // Equal items unless two scores are too close to order reliably.
            if (i + 1 < 20 && expected[i].Score - expected[i + 1].Score > 1e-4 && (i == 0 || expected[i - 1].Score - expected[i].Score > 1e-4))
                Assert.Equal(expected[i].Item, got[i].Item);
        }
        Assert.DoesNotContain(got, g => items.Contains(g.Item) || g.Item % 7 == 0);
        var withHistory = lean.Recommend(items, times, query, 20, excludeHistory: false);
        Assert.True(withHistory[0].Score >= got[0].Score);
    }

    [Fact]
    public void AfterWarmUpARequestAllocatesNothing()
    {
        using var model = Model(1, 2, 7);
        var lean = new HstuInference(model, Enumerable.Range(1, 299).Select(i => (long)i).ToArray());
        var (items, times) = History(new Random(7), 40, 300);
        var ids = new long[10];
        var scores = new float[10];
        lean.Recommend(items, times, times[^1] + 5, ids, scores);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) lean.Recommend(items, times, times[^1] + 5 + i, ids, scores);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.All(ids, id => Assert.InRange(id, 1, 299));
    }

    [Fact]
    public void BadInputIsRefusedClearly()
    {
        using var model = Model(1, 1, 8);
        var lean = new HstuInference(model, [1, 2, 3]);
        var dest = new float[16];
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => lean.Encode([], [], 0, dest)).Message);
        Assert.Contains("timestamps", Assert.Throws<ArgumentException>(() => lean.Encode([1, 2], [1], 0, dest)).Message);
        Assert.Contains("item table", Assert.Throws<ArgumentOutOfRangeException>(() => lean.Encode([1, 300], [1, 2], 3, dest)).Message);
        Assert.Contains("item table", Assert.Throws<ArgumentException>(() => new HstuInference(model, [0, 5])).Message);
        Assert.Contains("kinds", Assert.Throws<ArgumentException>(() => lean.Encode([1, 2], [1, 2], new byte[] { 0 }, default, 3, dest)).Message);
        Assert.Contains("feature-token kinds", Assert.Throws<ArgumentOutOfRangeException>(() => lean.Encode([1, 2], [1, 2], new byte[] { 1, 0 }, default, 3, dest)).Message);
    }

    [Theory]
    [InlineData(20, 11)]
    [InlineData(33, 12)]
    public void FeatureSpaceHistoriesEncodeAsInTheEncoder(int n, int seed)
    {
        // Contextual tokens first (two kinds, one hashed), then items with two side features each and an action.
        var (model, h, _, _) = MFalconTests.Setup(contextual: true, n, 1, seed);
        using var __ = model;
        using (no_grad())
            foreach (var p in model.parameters()) p.mul_(Scalars.Of(5.0));
        model.eval();
        long query = h.TargetTimestamp + 99;
        float[] expected;
        using (no_grad())
        using (var batch = SequenceBatch.Create([h.History], [h.HistoryTimestamps], [query], CPU, [h.HistoryKinds], [h.HistoryActions]))
        using (var o = model.forward(batch))
            expected = o[0, n - 1].data<float>().ToArray();
        var lean = new HstuInference(model, [1, 2, 3]);
        var actual = new float[16];
        lean.Encode(h.History, h.HistoryTimestamps, h.HistoryKinds, h.HistoryActions, query, actual);
        for (int i = 0; i < 16; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5, $"component {i}: {actual[i]} vs the encoder's {expected[i]}");
        // The features matter: without them the embedding differs.
        var plain = new float[16];
        lean.Encode(h.History[2..], h.HistoryTimestamps[2..], query, plain);
        Assert.True(actual.Zip(plain).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
    }

    [Theory]
    [InlineData(true, 30, 9, true)]
    [InlineData(false, 12, 40, true)]
    [InlineData(true, 25, 5, false)]
    public void ManagedMFalconEqualsTheLibtorchOne(bool contextual, int n, int m, bool actionCarriesItem)
    {
        // Interleaved ranking histories: contextual tokens, items with side features, action tokens.
        var (model, h, candidates, requestTime) = MFalconTests.Setup(contextual, n, m, seed: n + m, actionCarriesItem);
        using var _ = model;
        var seq = RankingSequence.From(h, [], interleaved: true);
        var history = seq.AsHistory(requestTime);
        Tensor expected;
        using (no_grad())
        {
            var falcon = new MFalcon(model, CPU);
            using var cache = falcon.Encode(history, requestTime);
            expected = falcon.Score(cache, candidates, 4, normalize: false);
        }
        using var __ = expected;
        var lean = new HstuInference(model);
        var hidden = new float[m * 16];
        lean.ScoreCandidates(history.History, history.HistoryTimestamps, history.HistoryKinds, history.HistoryActions, requestTime, candidates, hidden);
        var want = expected.data<float>().ToArray();
        float worst = want.Zip(hidden).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst < 1e-4, $"max |Δ| {worst}");
        // Again, with nothing allocated.
        long before = GC.GetAllocatedBytesForCurrentThread();
        lean.ScoreCandidates(history.History, history.HistoryTimestamps, history.HistoryKinds, history.HistoryActions, requestTime, candidates, hidden);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Throws<ArgumentException>(() => lean.ScoreCandidates(history.History, history.HistoryTimestamps, history.HistoryKinds, history.HistoryActions, requestTime, candidates, new float[3]));
    }

    private static float[,] Matrix(Tensor t)
    {
        var flat = t.data<float>().ToArray();
        int r = (int)t.shape[0], c = (int)t.shape[1];
        var m = new float[r, c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) m[i, j] = flat[i * c + j];
        return m;
    }
}
