using GenRec.Evaluation;

namespace GenRec.Tests.Evaluation;

public class RankingMetricsTests
{
    [Fact]
    public void AucCountsCorrectlyOrderedPairsWithTiesAsHalf()
    {
        // Positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) → 3/4.
        Assert.Equal(0.75, RankingMetrics.AreaUnderCurve([true, false, true, false], [0.9, 0.5, 0.4, 0.1]), 12);
        // A tie between a positive and a negative counts one half: pairs (0.5=0.5 → ½, 0.5>0.2 → 1) → 0.75.
        Assert.Equal(0.75, RankingMetrics.AreaUnderCurve([true, false, false], [0.5, 0.5, 0.2]), 12);
        Assert.Equal(1.0, RankingMetrics.AreaUnderCurve([false, true], [0.1, 0.2]), 12);
        Assert.True(double.IsNaN(RankingMetrics.AreaUnderCurve([true, true], [0.1, 0.2])));
    }

    [Fact]
    public void GaucWeightsUsersByExamplesAndSkipsOneClassUsers()
    {
        bool[] y = [true, false, true, false, false, true, true];
        double[] p = [0.9, 0.1, 0.2, 0.8, 0.3, 0.5, 0.6];
        long[] u = [1, 1, 2, 2, 2, 3, 3];
        // user 1: AUC 1 (2 examples); user 2: positive 0.2 vs negatives 0.8, 0.3 → 0 (3 examples); user 3: one class, skipped.
        Assert.Equal((1.0 * 2 + 0.0 * 3) / 5, RankingMetrics.GroupedAuc(y, p, u), 12);
    }

    [Fact]
    public void NormalisedEntropyIsLogLossOverTheBaseRateEntropy()
    {
        bool[] y = [true, false, false, false];
        double[] p = [0.8, 0.2, 0.1, 0.4];
        double ll = -(Math.Log(0.8) + Math.Log(0.8) + Math.Log(0.9) + Math.Log(0.6)) / 4;
        double h = -(0.25 * Math.Log(0.25) + 0.75 * Math.Log(0.75));
        var m = RankingMetrics.Compute(y, p);
        Assert.Equal(ll, m.LogLoss, 12);
        Assert.Equal(ll / h, m.Ne, 12);
        Assert.Equal(0.25, m.BaseRate, 12);
        // Predicting the base rate everywhere gives NE = 1 exactly.
        Assert.Equal(1.0, RankingMetrics.Compute(y, [0.25, 0.25, 0.25, 0.25]).Ne, 12);
        Assert.Equal(2.5, RankingMetrics.Mse([1.0, 3.0], [2.0, 5.0]), 12);
    }
}
