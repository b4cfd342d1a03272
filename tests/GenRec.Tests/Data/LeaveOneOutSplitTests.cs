using GenRec.Data;
using GenRec.Data.Features;

namespace GenRec.Tests.Data;

public class LeaveOneOutSplitTests
{
    // Ratings go through the built-in ratings schema, as every --data does; items 1, 2, … of the first user keep their ids.
    private static PreparedDataset Make(params (long User, int Count)[] users) => DataSource.FromRatings(
        new RatingsLog("t", users.SelectMany(u => Enumerable.Range(1, u.Count).Select(i => new Interaction(u.User, i, 5, i * 10))).ToList()));

    private static LeaveOneOutSplit Split(PreparedDataset data, int maxLength, EvalSplit split = EvalSplit.Test) =>
        data.Split(maxLength, split, new FeatureOptions());

    [Fact]
    public void TestSplitHoldsOutTheLastItemAndTruncates()
    {
        var s = Split(Make((1, 10)), maxLength: 4);
        var t = Assert.Single(s.Train);
        Assert.Equal([5L, 6, 7, 8, 9], t.History);      // 4 inputs + the final supervised target, without item 10
        var e = Assert.Single(s.Eval);
        Assert.Equal([6L, 7, 8, 9], e.History);
        Assert.Equal(10, e.Target);
        Assert.Equal(100, e.TargetTimestamp);
    }

    [Fact]
    public void ValidationSplitHoldsOutTheSecondToLast()
    {
        var s = Split(Make((1, 10)), maxLength: 4, EvalSplit.Validation);
        Assert.Equal([4L, 5, 6, 7, 8], s.Train[0].History);
        Assert.Equal(9, s.Eval[0].Target);
        Assert.Equal([5L, 6, 7, 8], s.Eval[0].History);
    }

    [Fact]
    public void ShortUsersAreReportedNotDroppedSilently()
    {
        var s = Split(Make((1, 10), (2, 1), (3, 2)), maxLength: 50);
        Assert.Equal(2, s.Eval.Count);           // users 1 and 3
        Assert.Single(s.Train);                 // only user 1 has a supervised position
        Assert.Contains(s.Notes, n => n.Contains("not evaluated: 2", StringComparison.Ordinal));
        Assert.Contains(s.Notes, n => n.Contains("no training signal: 2, 3", StringComparison.Ordinal));
    }

    [Fact]
    public void AllSingleEventUsersIsAClearError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Split(Make((1, 1), (2, 1)), 10));
        Assert.Contains("nothing to train on", e.Message);
    }
}
