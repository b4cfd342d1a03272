using GenRec.Data;
using GenRec.Training;

namespace GenRec.Tests.Training;

public class StochasticLengthTests
{
    [Fact]
    public void ThresholdAndKeepProbabilityFollowThePaper()
    {
        Assert.Equal(69, StochasticLength.Threshold(200, 1.6));        // 200^0.8 = 69.3
        Assert.Equal(200, StochasticLength.Threshold(200, 2.0));
        Assert.Equal(Math.Pow(200, 1.6) / 40_000, StochasticLength.KeepProbability(200, 200, 1.6), 12);   // 0.120
        Assert.Equal(1.0, StochasticLength.KeepProbability(60, 200, 1.6));
    }

    [Fact]
    public void LongHistoriesAreMostlyCutToTheThresholdInOrder()
    {
        var s = new TokenWindow(1, Enumerable.Range(1, 200).Select(i => (long)i).ToArray(),
            Enumerable.Range(1, 200).Select(i => 10L * i).ToArray(), 0, 2000);
        var rng = new Random(5);
        int whole = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            var r = StochasticLength.Apply(s, 200, 1.6, rng);
            if (r.History.Length == 200) { whole++; continue; }
            Assert.Equal(69, r.History.Length);
            Assert.True(r.History.Zip(r.History.Skip(1)).All(p => p.First < p.Second), "order kept");
            Assert.Equal(r.History.Select(i => 10 * i), r.HistoryTimestamps);
        }
        Assert.InRange(whole / 2000.0, 0.09, 0.15);   // p = 0.120
        var shortOne = new TokenWindow(2, [1, 2, 3], [1, 2, 3], 0, 3);
        Assert.Same(shortOne, StochasticLength.Apply(shortOne, 200, 1.6, rng));
    }

    [Fact]
    public void ContextualTokensStayAndMasksFollowTheNextKeptToken()
    {
        // Two contextual tokens, then 100 items; item 50 (index 51) is negative feedback: m at index 50 is false.
        int n = 102;
        var kinds = new byte[n];
        kinds[0] = 1;
        kinds[1] = 2;
        var supervised = Enumerable.Range(0, n).Select(i => i >= 1 && i + 1 < n && i != 50).ToArray();
        var s = new TokenWindow(1, Enumerable.Range(0, n).Select(i => (long)i).ToArray(),
            Enumerable.Range(0, n).Select(i => (long)i).ToArray(), 0, n)
        { HistoryKinds = kinds, Supervised = supervised };
        var rng = new Random(1);
        for (int trial = 0; trial < 300; trial++)
        {
            var r = StochasticLength.Apply(s, 100, 1.6, rng);   // threshold 39
            if (r.History.Length == n) continue;
            Assert.Equal(39, r.History.Length);
            Assert.Equal([0L, 1L], r.History[..2]);
            Assert.Equal([(byte)1, (byte)2], r.HistoryKinds![..2]);
            for (int i = 0; i + 1 < r.History.Length; i++)
                Assert.Equal(r.History[i + 1] != 51 && r.History[i + 1] >= 2, r.Supervised![i]);
            Assert.False(r.Supervised![^1]);
        }
    }
}
