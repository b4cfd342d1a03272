using GenRec.Evaluation;

namespace GenRec.Tests.Evaluation;

public class RetrievalMetricsTests
{
    [Fact]
    public void AveragesHandComputedRanks()
    {
        // Ranks 1, 3, 10, 11, 60, 250.
        var m = RetrievalMetrics.FromRanks([1, 3, 10, 11, 60, 250]);
        Assert.Equal(3 / 6.0, m.Hr10, 12);
        Assert.Equal(4 / 6.0, m.Hr50, 12);
        Assert.Equal(5 / 6.0, m.Hr200, 12);
        double ndcg10 = (1.0 + 1 / Math.Log2(4) + 1 / Math.Log2(11)) / 6;
        Assert.Equal(ndcg10, m.Ndcg10, 12);
        double ndcg50 = ndcg10 + 1 / Math.Log2(12) / 6;
        Assert.Equal(ndcg50, m.Ndcg50, 12);
        Assert.Equal(ndcg50 + 1 / Math.Log2(61) / 6, m.Ndcg200, 12);
        Assert.Equal((1 + 1 / 3.0 + 1 / 10.0 + 1 / 11.0 + 1 / 60.0 + 1 / 250.0) / 6, m.Mrr, 12);
        Assert.Equal(6, m.Users);
    }

    [Fact]
    public void RejectsEmptyAndZeroRanks()
    {
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.FromRanks([]));
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.FromRanks([0]));
    }
}
