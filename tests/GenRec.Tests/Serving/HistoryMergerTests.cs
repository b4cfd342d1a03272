using GenRec.Data.Features;
using GenRec.Serving;
using GenRec.Serving.Stores;
using GenRec.Tests.Data.Features;

namespace GenRec.Tests.Serving;

public class HistoryMergerTests
{
    [Fact]
    public void StoredItemsAndFeatureValuesJoinTheTrainingWindow()
    {
        var (dir, schema) = SequenceBuilderTests.SmallLog();
        using var _ = dir;
        using var data = SequenceBuilderTests.Prepare(dir, schema);
        var kinds = data.Features.TokenKinds;
        int gender = kinds.ToList().FindIndex(k => k.Name == "gender"), creator = kinds.ToList().FindIndex(k => k.Name == "creator");
        var options = new FeatureOptions();
        var before = HistoryMerger.Merge(data, "u1", [], 50, options).Tokens!;

        StoredEvent[] stored =
        [
            new(null, null, 400, new Dictionary<string, string> { ["gender"] = "M" }),
            new(null, null, 410, new Dictionary<string, string> { ["creator"] = "Y", ["shoe-size"] = "44" }),
            new("B", "5", 420),
            new(null, null, 430, new Dictionary<string, string> { ["creator"] = "never-seen" }),
            new("no-such-item", null, 440),
        ];
        var merged = HistoryMerger.Merge(data, "u1", stored, 50, options);
        var h = merged.Tokens!;
        // The contextual gender token is replaced in place, not appended.
        int g = Array.IndexOf(h.HistoryKinds!, (byte)(gender + 1));
        Assert.Equal(Array.IndexOf(before.HistoryKinds!, (byte)(gender + 1)), g);
        Assert.Equal(data.FeatureValueId(gender, "M"), (int)h.History[g]);
        Assert.NotEqual(before.History[g], h.History[g]);
        // Then the window, then the auxiliary token and the item, in time order.
        Assert.Equal(before.History.Length + 2, h.History.Length);
        Assert.Equal((byte)(creator + 1), h.HistoryKinds![^2]);
        Assert.Equal(data.FeatureValueId(creator, "Y"), (int)h.History[^2]);
        Assert.Equal(data.ItemId("B"), h.History[^1]);
        Assert.Equal(data.Features.Actions.ToList().IndexOf("5") + 1, h.HistoryActions![^1]);
        Assert.Equal([410L, 420], h.HistoryTimestamps[^2..]);
        Assert.Equal(["no-such-item"], merged.UnknownItems);
        Assert.Equal(["shoe-size=44", "creator=never-seen"], merged.UnknownFeatures);

        // Trimming keeps the contextual tokens in front.
        var short_ = HistoryMerger.Merge(data, "u1", stored, 4, options).Tokens!;
        Assert.Equal(4, short_.History.Length);
        Assert.Equal(h.HistoryKinds![..2], short_.HistoryKinds![..2]);
        Assert.Equal(data.ItemId("B"), short_.History[^1]);

        // Switched-off features are left out; a new user with only feature values is still a cold start.
        var noAux = HistoryMerger.Merge(data, "u1", stored, 50, options with { Auxiliary = false }).Tokens!;
        Assert.DoesNotContain((byte)(creator + 1), noAux.HistoryKinds!);
        Assert.True(HistoryMerger.Merge(data, "new", [stored[0]], 50, options).IsColdStart);
    }

    [Fact]
    public void HashedFeaturesAreBucketedLikeTheBuilderDoes()
    {
        var (dir, schema) = SequenceBuilderTests.SmallLog();
        using var _ = dir;
        using var data = SequenceBuilderTests.Prepare(dir, schema);
        int zip = data.Features.TokenKinds.ToList().FindIndex(k => k.Name == "zip");
        Assert.True(data.Features.TokenKinds[zip].Hashed);
        Assert.Equal(ValueVocabulary.Bucket("12345", 7), data.FeatureValueId(zip, "12345"));
        Assert.Equal(ValueVocabulary.Bucket("any new zip", 7), data.FeatureValueId(zip, "any new zip"));
    }
}
