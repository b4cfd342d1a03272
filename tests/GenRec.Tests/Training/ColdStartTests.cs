using GenRec.Data.Features;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>
/// Cold start: an item whose side features (the schema's <c>itemFeature</c> role) are known gets a usable embedding
/// before its first interaction. Here every user follows one category and picks its newest items, so the items users
/// choose in a period are mostly ones nobody chose before; a model that embeds the category ranks them far above an
/// item-id-only model, whose rows for them were never trained.
/// </summary>
public class ColdStartTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long Day = 86_400;

    internal static PreparedDataset Log(TempDir dir)
    {
        const int categories = 10, perCategory = 30;
        var rng = new Random(3);
        // Item i of category c is born on day 2·(i / categories) (items arrive over 60 days, every category alike).
        var born = new long[categories * perCategory];
        var items = new System.Text.StringBuilder("item,category\n");
        for (int id = 0; id < born.Length; id++)
        {
            born[id] = 2 * (id / categories) * Day;
            items.Append($"i{id},c{id % categories}\n");
        }
        var events = new System.Text.StringBuilder("user,item,time\n");
        for (int u = 0; u < 200; u++)
        {
            int category = u % categories;
            for (int day = u % 3; day < 60; day += 2)
            {
                long now = day * Day + 60 * u;
                // One of the category's three newest items born by now.
                var newest = Enumerable.Range(0, born.Length)
                    .Where(id => id % categories == category && born[id] <= now).TakeLast(3).ToList();
                events.Append($"u{u},i{newest[rng.Next(newest.Count)]},{now}\n");
            }
        }
        dir.Write("events.csv", events.ToString());
        dir.Write("items.csv", items.ToString());
        var schema = FeatureSchema.Parse("""
            { "name": "cold", "sources": [
              { "file": "events.csv", "header": true, "columns": [
                { "name": "user", "role": "user" }, { "name": "item", "role": "item" },
                { "name": "time", "role": "timestamp" } ] },
              { "file": "items.csv", "header": true, "columns": [
                { "name": "item", "role": "item" }, { "name": "category", "role": "itemFeature" } ] } ] }
            """);
        var prepared = Path.Combine(dir.Path, "prepared");
        new SequenceBuilder(schema, dir.Path).Build(prepared);
        return PreparedDataset.Open(prepared);
    }

    private static double ColdHr10(PreparedDataset data, bool itemFeatures)
    {
        var cfg = new ExperimentConfig
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
            Training = new TrainingConfig
            {
                Epochs = 8,
                BatchSize = 32,
                NumNegatives = 20,
                LearningRate = 0.02,
                Seed = 1,
                EvalEvery = 0,
            },
            Features = new FeatureOptions { ItemFeatures = itemFeatures },
        };
        var report = new StreamingEvaluation(cfg, data, CPU)
            .Run(TimeSpan.FromDays(10), 0.5, 2, 8, 1, [StreamingPolicy.Frozen]);
        var periods = report.Periods.Where(p => p.ColdTargets > 0).ToList();
        Assert.NotEmpty(periods);
        return periods.Sum(p => p.Scores[StreamingPolicy.Frozen].ColdHr10!.Value * p.ColdTargets)
            / periods.Sum(p => p.ColdTargets);
    }

    [Fact]
    public void ItemsWithSideFeaturesAreRecommendedBeforeAnyoneChoseThem()
    {
        using var dir = new TempDir();
        using var data = Log(dir);
        double withCategory = ColdHr10(data, itemFeatures: true);
        double idsOnly = ColdHr10(data, itemFeatures: false);
        output.WriteLine($"cold-start HR@10: {withCategory:F3} with the category, {idsOnly:F3} with item ids only");
        Assert.True(withCategory > 0.3 && withCategory > 3 * idsOnly,
            $"cold-start HR@10 {withCategory:F3} with the category, {idsOnly:F3} with item ids only");
    }
}
