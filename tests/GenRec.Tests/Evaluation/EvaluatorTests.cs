using GenRec.Data;
using GenRec.Evaluation;
using GenRec.Tests.Model;
using static TorchSharp.torch;

namespace GenRec.Tests.Evaluation;

public class EvaluatorTests
{
    [Fact]
    public void RankCountsHigherScoringItemsAndExcludesHistory()
    {
        using var model = HstuMathTests.TinyHstu();
        long[] corpus = Enumerable.Range(1, 19).Select(i => (long)i).ToArray();
        var ex = new TokenWindow(1, [3, 7, 11], [10, 20, 30], 5, 40);
        var rank = Evaluator.Ranks(model, [ex], corpus, CPU)[0];

        // Brute force in managed code from the same embeddings.
        using var _ = no_grad();
        using var b = SequenceBatch.Create([ex.History], [ex.HistoryTimestamps], [ex.TargetTimestamp], CPU);
        var u = model.forward(b)[0, 2].data<float>().ToArray();
        var items = model.NormalizedItems(tensor(corpus));
        double Score(long id) { var e = items[(int)id - 1].data<float>().ToArray(); return u.Zip(e, (a, c) => (double)a * c).Sum(); }
        double target = Score(5);
        long expected = 1 + corpus.Count(c => c != 5 && !ex.History.Contains(c) && Score(c) > target + 1e-7);
        Assert.Equal(expected, rank);
    }

    [Fact]
    public void PopularityRanksByTrainingCountWithoutHistory()
    {
        var train = new[] { new TokenWindow(1, [1, 2, 2, 3], [1, 2, 3, 4], 0, 4), new TokenWindow(2, [2, 3, 4], [1, 2, 3], 0, 3) };
        var counts = PopularityBaseline.Counts(train); // 2:3, 3:2, 1:1, 4:1
        long[] corpus = [1, 2, 3, 4, 5];
        // Target 3: only item 2 is more popular → rank 2; with 2 in history → rank 1.
        Assert.Equal(0.5, PopularityBaseline.Evaluate([new TokenWindow(9, [5], [1], 3, 2)], corpus, counts).Mrr, 12);
        Assert.Equal(1.0, PopularityBaseline.Evaluate([new TokenWindow(9, [2], [1], 3, 2)], corpus, counts).Mrr, 12);
    }

    [Theory]
    [InlineData(256, 200, 256)]
    [InlineData(256, 2048, 16)]
    [InlineData(256, 8192, 1)]
    [InlineData(0, 10, 1)]
    public void EvaluationBatchesShrinkForLongHistories(int asked, int longest, int expected) =>
        Assert.Equal(expected, Evaluator.BatchFor(asked, longest));
}
