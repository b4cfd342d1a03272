using GenRec.Data;

namespace GenRec.Tests.Data;

public class RankingTaskTests
{
    [Fact]
    public void PredictionsAreProbabilitiesForBinaryTasksAndValuesForRegression()
    {
        Assert.Equal(0.5, new RankingTask("like", false).Predict(0), 12);
        Assert.Equal(1 / (1 + Math.Exp(-2)), new RankingTask("like", false).Predict(2), 12);
        Assert.Equal(3.75, new RankingTask("value", true).Predict(3.75), 12);
    }

    [Fact]
    public void CandidatesAreOrderedByTheNamedTaskOrTheFirstBinaryOne()
    {
        RankingTask[] tasks = [new("value", true), new("pv", false), new("buy", false)];
        Assert.Equal(1, RankingTask.SortIndex(tasks));
        Assert.Equal(2, RankingTask.SortIndex(tasks, "buy"));
        Assert.Equal(-1, RankingTask.SortIndex(tasks, "cart"));
        Assert.Equal(0, RankingTask.SortIndex([new("value", true)]));
    }
}
