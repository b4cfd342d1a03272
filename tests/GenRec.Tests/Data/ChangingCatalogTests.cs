using GenRec.Data;

namespace GenRec.Tests.Data;

/// <summary>The generated log with item births and deaths (generate-ratings --item-lifetime-days).</summary>
public class ChangingCatalogTests
{
    [Fact]
    public void EveryItemIsChosenOnlyWithinItsLifetimeAndItemsKeepBeingBorn()
    {
        var log = SyntheticData.Generate(new SyntheticOptions
        {
            Users = 400,
            Items = 600,
            ItemLifetimeDays = 30,
            Seed = 3,
        });
        var spans = log.Events.GroupBy(e => e.ItemId)
            .Select(g => (First: g.Min(e => e.Timestamp), Last: g.Max(e => e.Timestamp))).ToList();
        Assert.All(spans, s =>
            Assert.True(s.Last - s.First < 30 * 86_400L, $"{(s.Last - s.First) / 86_400.0:F1} days"));
        // Births spread over the year: items first seen in the last quarter of the log's time, too.
        long start = log.Events.Min(e => e.Timestamp), end = log.Events.Max(e => e.Timestamp);
        Assert.True(spans.Count(s => s.First > start + 3 * (end - start) / 4) > 50);
    }

    [Fact]
    public void WithoutLifetimesItemsStayAvailable()
    {
        var log = SyntheticData.Generate(new SyntheticOptions { Users = 400, Items = 600, Seed = 3 });
        Assert.Contains(log.Events.GroupBy(e => e.ItemId),
            g => g.Max(e => e.Timestamp) - g.Min(e => e.Timestamp) > 60 * 86_400L);
    }
}
