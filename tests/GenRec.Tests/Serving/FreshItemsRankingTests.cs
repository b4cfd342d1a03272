using GenRec.Data;
using GenRec.Inference;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Tests.Serving;

/// <summary>
/// A retrieval model that incremental training grew past the ranker's items still ranks: the ranker orders the
/// candidates it knows exactly as it would without the fresh ones, a fresh candidate keeps its retrieval place
/// without scores, and a fresh item in the history is left out of what the ranker reads.
/// </summary>
public class FreshItemsRankingTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public void TheRankerOrdersWhatItKnowsAndFreshCandidatesKeepTheirPlace()
    {
        using var dir = new TempDir();
        using var data = DataSource.Open(service.Options.Data);
        var header = Checkpoint.ReadHeader(service.Options.Retrieval);
        string[] fresh = ["new-a", "new-b", "new-c"];
        var grownPath = Path.Combine(dir.Path, "grown.ckpt");
        using (var grown = SequenceEncoder.Create(header.Config.Model, header.ItemTableSize + 3, header.Features))
            (header with { ItemTableSize = header.ItemTableSize + 3, ItemKeys = [.. header.ItemKeys!, .. fresh] })
                .Save(grownPath, grown);
        using var pipeline = RecommendationPipeline.Load(data, grownPath, service.Options.Ranking, CPU);
        long a = pipeline.Items.Id("new-a")!.Value, b = pipeline.Items.Id("new-b")!.Value;
        Assert.Equal(data.ItemKeys.Count + 1, a);
        Assert.False(pipeline.RankerKnows(a));
        Assert.Equal(data.ItemKeys.Count + 3, pipeline.Index!.Count);

        var history = data.Latest("7", pipeline.RankingWindow, pipeline.RankingFeatures)!;
        var withFresh = history with
        {
            History = [.. history.History, a],
            HistoryTimestamps = [.. history.HistoryTimestamps, history.HistoryTimestamps[^1]],
            HistoryKinds = history.HistoryKinds is { } k ? [.. k, 0] : null,
            HistoryActions = history.HistoryActions is { } x ? [.. x, 0] : null,
        };
        long[] known = [3, 14, 15];
        var alone = pipeline.Rank(history, known, 0);
        var mixed = pipeline.Rank(withFresh, [a, known[0], known[1], b, known[2]], 0);

        Assert.Equal((a, 0), (mixed[0].Item, mixed[0].Scores.Length));
        Assert.Equal((b, 0), (mixed[3].Item, mixed[3].Scores.Length));
        var ranked = mixed.Where(c => c.Scores.Length > 0).ToList();
        Assert.Equal(alone.Select(c => c.Item), ranked.Select(c => c.Item));
        for (int i = 0; i < alone.Count; i++) Assert.Equal(alone[i].Scores, ranked[i].Scores);
    }
}
