using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>
/// The streaming protocol on a catalog that changes: items 31–50 are born on day 50, when every user moves on to
/// them.
/// Evaluate-then-learn, per period; a model that follows the events learns the new items, a frozen one cannot.
/// </summary>
public class StreamingEvaluationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long Day = 86_400;

    /// <summary>Each user walks a chain (item i → i + 1) of old items 1–30, then, from day 50, of new items 31–50.
    /// </summary>
    private static PreparedDataset Log()
    {
        var rng = new Random(7);
        var events = new List<Interaction>();
        for (int u = 1; u <= 80; u++)
        {
            int item = rng.Next(30);
            int fresh = rng.Next(20);
            for (int day = u % 5; day < 90; day++)
            {
                long time = day * Day + u * 60;
                if (day < 50) events.Add(new Interaction(u, 1 + (item++ % 30), 5, time));
                else events.Add(new Interaction(u, 31 + (fresh++ % 20), 5, time));
            }
        }
        return DataSource.FromRatings(new RatingsLog("births", events));
    }

    private static ExperimentConfig Config => new()
    {
        Model = new ModelConfig
        {
            EmbeddingDim = 16,
            NumLayers = 1,
            NumHeads = 1,
            QkDim = 16,
            VDim = 16,
            MaxLength = 20,
            Dropout = 0,
        },
        Training = new TrainingConfig { Epochs = 6, BatchSize = 16, NumNegatives = 10, LearningRate = 0.02, Seed = 1 },
    };

    [Fact]
    public void EachPeriodIsScoredBeforeAnyPolicyLearnsFromItAndOnlyAFollowingModelLearnsNewItems()
    {
        using var data = Log();
        var protocol = new StreamingEvaluation(Config, data, CPU);
        var policies = new[] { StreamingPolicy.Frozen, StreamingPolicy.Streaming, StreamingPolicy.Retrain };
        // Half the events: the initial span ends a few days before the new items are born.
        var report = protocol.Run(TimeSpan.FromDays(10), 0.5, 3, epochs: 6, streamEpochs: 1, policies);

        Assert.Equal(3, report.Periods.Count);
        var first = report.Periods[0];
        // Period 1: all three are still the initial model, and the new items were born inside it (not yet known).
        Assert.Equal(first.Scores[StreamingPolicy.Frozen], first.Scores[StreamingPolicy.Streaming]);
        Assert.Equal(first.Scores[StreamingPolicy.Frozen], first.Scores[StreamingPolicy.Retrain]);
        Assert.True(first.UnknownTargets > 0, "items first seen in a period cannot be targets in it");
        // ... but they are scored apart, as cold-start targets, among the items listed by the period's end.
        Assert.InRange(first.ColdTargets, 1, first.UnknownTargets);
        Assert.All(first.Scores.Values, s => Assert.NotNull(s.ColdHr10));
        Assert.Equal(Cost.Zero, first.RetrainCost);
        Assert.True(first.StreamCost.Steps > 0);
        foreach (var p in report.Periods)
            Assert.True(p.Evaluated + p.UnknownTargets <= p.Events);

        // Period 2: every target is a new item; the frozen model never saw one, the others learnt them from period 1.
        var second = report.Periods[1];
        Assert.Equal(second.Evaluated, second.NewItemTargets);
        double frozen = second.Scores[StreamingPolicy.Frozen].NewItemHr10!.Value;
        double streaming = second.Scores[StreamingPolicy.Streaming].NewItemHr10!.Value;
        double retrain = second.Scores[StreamingPolicy.Retrain].NewItemHr10!.Value;
        output.WriteLine($"new-item HR@10 in period 2: frozen {frozen:F3}, streaming {streaming:F3}, retrain "
            + $"{retrain:F3}; tokens: streaming {second.StreamCost.Tokens:N0}, retrain {second.RetrainCost.Tokens:N0}");
        Assert.True(streaming > frozen + 0.2, $"streaming {streaming:F3}, frozen {frozen:F3}");
        Assert.True(retrain > frozen + 0.2, $"retrain {retrain:F3}, frozen {frozen:F3}");
        // A streaming update costs a small part of a retrain.
        Assert.True(second.StreamCost.Tokens * 4 < second.RetrainCost.Tokens);
    }

    [Fact]
    public void ReplayMixesEarlierWindowsIntoEachUpdate()
    {
        using var data = Log();
        var streaming = new[] { StreamingPolicy.Streaming };
        var plain = new StreamingEvaluation(Config, data, CPU).Run(TimeSpan.FromDays(10), 0.5, 2, 2, 1, streaming);
        var mixed = new StreamingEvaluation(Config, data, CPU)
            .Run(TimeSpan.FromDays(10), 0.5, 2, 2, 1, streaming, replay: 2);
        // Twice as many earlier windows as new ones: more than twice the tokens.
        Assert.True(mixed.Periods[0].StreamCost.Tokens > 2 * plain.Periods[0].StreamCost.Tokens);
        Assert.Throws<ArgumentException>(() => new StreamingEvaluation(Config, data, CPU)
            .Run(TimeSpan.FromDays(10), 0.5, 2, 2, 1, streaming, replay: -1));
    }
}
