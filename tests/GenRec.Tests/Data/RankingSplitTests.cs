using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using GenRec.Tests.Data.Features;
using static TorchSharp.torch;

namespace GenRec.Tests.Data;

public class RankingSplitTests
{
    [Fact]
    public void RatingsGiveABinaryPositiveTaskAndARegressionTask()
    {
        var (dir, schema) = SequenceBuilderTests.SmallLog();
        using var _ = dir;
        using var d = SequenceBuilderTests.Prepare(dir, schema);
        var tasks = RankingTask.FromActions(d.Features);
        Assert.Equal([new RankingTask("positive", false), new RankingTask("value", true) { Min = 1, Max = 5 }], tasks);
        var u1 = Enumerable.Range(0, d.UserCount).Single(u => d.UserKey(u) == "u1");
        var items = d.Tokens(u1).ToArray().Where(t => t.IsItem).ToArray();
        Assert.Equal([1f, 5f], RankingTask.Labels(tasks, d.Features, items[0]));   // rating 5
        Assert.Equal([0f, 1f], RankingTask.Labels(tasks, d.Features, items[1]));   // rating 1
        Assert.Equal([0f, 3f], RankingTask.Labels(tasks, d.Features, items[3]));   // rating 3: neutral
    }

    [Fact]
    public void RegressionPredictionsStayOnTheScaleOfTheLabels()
    {
        // The ratings 1, 3, 4 and 5 of the log set the scale: a predicted 6.3 is a 5, a −0.4 a 1 (the old head showed
        // 5.3 to 6.3 on the page); binary tasks are untouched.
        var (dir, schema) = SequenceBuilderTests.SmallLog();
        using var _ = dir;
        using var d = SequenceBuilderTests.Prepare(dir, schema);
        var tasks = RankingTask.FromActions(d.Features);
        Assert.Equal(5.0, tasks[1].Predict(6.3));
        Assert.Equal(1.0, tasks[1].Predict(-0.4));
        Assert.Equal(3.7, tasks[1].Predict(3.7));
        Assert.Equal(1 / (1 + Math.Exp(-6.3)), tasks[0].Predict(6.3));
        // Ranking checkpoints from before the bound keep predicting the raw value.
        Assert.Equal(6.3, new RankingTask("value", true).Predict(6.3));
    }

    [Fact]
    public void UsersSplitByASeededHashAndTestCandidatesStayOutOfTheHistory()
    {
        using var dir = new TempDir();
        SyntheticLog.Write(dir.Path, events: 8000, users: 200, items: 100, seed: 5);
        new SequenceBuilder(FeatureSchema.Load(Path.Combine(dir.Path, "schema.json")), dir.Path).Build(Path.Combine(dir.Path, "p"));
        using var d = PreparedDataset.Open(Path.Combine(dir.Path, "p"));
        var split = RankingSplit.Create(d, maxHistoryTokens: 50, candidates: 10, seed: 7);
        Assert.Equal(["click", "like", "share", "skip"], split.Tasks.Select(t => t.Name).Order());
        int total = split.Train.Count + split.Test.Count;
        Assert.InRange(split.Test.Count / (double)total, 0.15, 0.35);
        Assert.All(split.Test, e => Assert.True(RankingSplit.IsTest(e.UserKey, 7)));
        Assert.All(split.Train, e => Assert.False(RankingSplit.IsTest(e.UserKey, 7)));
        Assert.Equal(split.Test.Select(e => e.UserKey), RankingSplit.Create(d, 50, 10, seed: 7).Test.Select(e => e.UserKey));
        Assert.NotEqual(split.Test.Select(e => e.UserKey), RankingSplit.Create(d, 50, 10, seed: 8).Test.Select(e => e.UserKey));
        foreach (var e in split.Test)
        {
            Assert.Equal(10, e.Candidates.Length);
            Assert.All(e.Labels, l => Assert.Equal(1f, l.Sum()));          // exactly one action per event
            Assert.True(e.History.HistoryTimestamps[^1] <= e.RequestTime);
            Assert.True(e.History.History.Length <= 50);
        }
    }

    [Fact]
    public void TheHeadGivesOneLogitPerTaskFromOutputTimesItem()
    {
        manual_seed(1);
        using var head = new MultiTaskHead(8, 16, 3);
        using var h = randn(5, 8);
        using var e = randn(5, 8);
        using var logits = head.forward(h, e);
        Assert.Equal([5L, 3L], logits.shape);
        using var zero = head.forward(h, zeros(5, 8));
        using var other = head.forward(h, e.neg());
        Assert.True(logits.sub(other).abs().max().item<float>() > 1e-4f, "the item embedding must matter");
    }
}
