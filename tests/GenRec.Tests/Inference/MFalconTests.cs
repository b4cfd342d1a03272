using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Tests.Inference;

public class MFalconTests
{
    private static readonly FeatureSpace Space = new()
    {
        TokenKinds = [new TokenKind("gender", "contextual", 3, false), new TokenKind("zip", "contextual", 8, true)],
        Actions = ["1", "2", "3"],
        ItemFeatures = [new ItemFeature("genre", 5, 2)],
    };

    internal static (HstuEncoder Model, TokenWindow History, long[] Candidates, long RequestTime) Setup(bool contextual, int n, int m, int seed, bool actionCarriesItem = true)
    {
        manual_seed(seed);
        var cfg = new ModelConfig { EmbeddingDim = 16, NumLayers = 2, NumHeads = 2, QkDim = 8, VDim = 8, MaxLength = 64, Dropout = 0.3, TimeBuckets = 32, ActionTokenCarriesItem = actionCarriesItem };
        var model = new HstuEncoder(cfg, 60, Space);
        var rng = new Random(seed);
        model.SetItemFeatureIds(0, Enumerable.Range(0, 60 * 2).Select(_ => (long)rng.Next(5)).ToArray());
        int c = contextual ? 2 : 0;
        var ids = new long[n];
        var kinds = new byte[n];
        var actions = new int[n];
        var times = new long[n];
        long t = 1_000_000;
        for (int i = 0; i < n; i++)
        {
            t += rng.Next(1, 5000);
            times[i] = i < c ? 1_000_000 : t;
            if (i < c) { kinds[i] = (byte)(i + 1); ids[i] = 1 + rng.Next(i == 0 ? 2 : 7); }
            else { ids[i] = 1 + rng.Next(59); actions[i] = 1 + rng.Next(3); }
        }
        var history = new TokenWindow(1, ids, times, 0, t) { HistoryKinds = contextual ? kinds : null, HistoryActions = actions };
        var candidates = Enumerable.Range(0, m).Select(_ => 1L + rng.Next(59)).ToArray();
        return (model, history, candidates, t + 777);
    }

    /// <summary>The reference: one full forward pass over history + that candidate, output at the candidate.</summary>
    private static Tensor OneByOne(HstuEncoder model, TokenWindow h, long[] candidates, long requestTime)
    {
        model.eval();
        using var _ = no_grad();
        var rows = new List<Tensor>();
        foreach (var c in candidates)
        {
            using var b = SequenceBatch.Create([[.. h.History, c]], [[.. h.HistoryTimestamps, requestTime]], [requestTime], CPU,
                [h.HistoryKinds is null ? null : [.. h.HistoryKinds, 0]], [h.HistoryActions is null ? null : [.. h.HistoryActions, 0]]);
            using var o = model.forward(b);
            rows.Add(o[0, -1].clone());
        }
        return stack(rows);
    }

    [Theory]
    [InlineData(true, 1, 9)]
    [InlineData(true, 3, 9)]
    [InlineData(true, 4, 8)]
    [InlineData(true, 9, 9)]
    [InlineData(false, 1, 5)]
    [InlineData(false, 2, 7)]
    [InlineData(false, 16, 7)]
    public void CachedMicroBatchedScoresEqualScoringEachCandidateAlone(bool contextual, int microBatch, int m)
    {
        var (model, history, candidates, req) = Setup(contextual, n: 20, m, seed: microBatch * 31 + m);
        using var _ = model;
        using var reference = OneByOne(model, history, candidates, req);
        var falcon = new MFalcon(model, CPU);
        using var cache = falcon.Encode(history, req);
        using var cached = falcon.Score(cache, candidates, microBatch);
        using var uncached = falcon.ScoreWithoutCache(history, req, candidates, microBatch);
        Assert.Equal(reference.shape, cached.shape);
        Assert.True(cached.sub(reference).abs().max().item<float>() <= 1e-4f, $"cached vs alone: {cached.sub(reference).abs().max().item<float>()}");
        Assert.True(uncached.sub(reference).abs().max().item<float>() <= 1e-4f, $"uncached vs alone: {uncached.sub(reference).abs().max().item<float>()}");
        // The outputs differ between candidates (the check is not trivially satisfied by a constant).
        Assert.True(reference[0].sub(reference[1]).abs().max().item<float>() > 1e-3f);
    }

    [Theory]
    [InlineData(true, true, 3, 9)]
    [InlineData(false, true, 4, 8)]
    [InlineData(false, false, 2, 7)]
    public void InterleavedHistoriesScoreTheSameCachedAndAlone(bool contextual, bool actionCarriesItem, int microBatch, int m)
    {
        var (model, history, candidates, req) = Setup(contextual, n: 20, m, seed: microBatch * 17 + m, actionCarriesItem);
        using var _ = model;
        var labels = history.History.Select(_ => (float[]?)null).ToArray();
        var seq = RankingSequence.From(history, labels, interleaved: true);
        Assert.Contains(Token.ActionKind, seq.Kinds);
        var h = seq.AsHistory(history.TargetTimestamp);
        using var reference = OneByOne(model, h, candidates, req);
        var falcon = new MFalcon(model, CPU);
        using var cache = falcon.Encode(h, req);
        using var cached = falcon.Score(cache, candidates, microBatch);
        Assert.True(cached.sub(reference).abs().max().item<float>() <= 1e-4f, $"cached vs alone: {cached.sub(reference).abs().max().item<float>()}");
        Assert.True(reference[0].sub(reference[1]).abs().max().item<float>() > 1e-3f);
    }

    [Fact]
    public void ActionTokensCarryTheirItemOnlyWhenConfigured()
    {
        // Same seed, same weights: the inputs differ exactly by √D·item(Φ_i) at each action token a_i and nowhere else.
        var (paired, history, _, _) = Setup(true, n: 6, 2, seed: 5, actionCarriesItem: true);
        var (plain, _, _, _) = Setup(true, n: 6, 2, seed: 5, actionCarriesItem: false);
        using var a = paired;
        using var b = plain;
        paired.eval();
        plain.eval();
        using var _ = no_grad();
        var s = RankingSequence.From(history, [], interleaved: true);
        using var batch = SequenceBatch.Create([s.Tokens], [s.Timestamps], null, CPU, [s.Kinds], [null]);
        using var positions = arange(Scalars.Of((long)s.Tokens.Length));
        using var diff = paired.InputEmbeddings(batch, positions).sub(plain.InputEmbeddings(batch, positions))[0];
        for (int p = 0; p < s.Tokens.Length; p++)
        {
            using var row = diff[p];
            if (s.Kinds[p] != Token.ActionKind) { Assert.True(row.abs().max().item<float>() < 1e-6f, $"position {p} changed"); continue; }
            Assert.Equal(0, s.Kinds[p - 1]);
            using var expected = paired.ItemVectors(tensor(new[] { s.Tokens[p - 1] })).squeeze(0).mul(Scalars.Of(4.0)); // √16
            Assert.True(row.sub(expected).abs().max().item<float>() < 1e-5f, $"position {p}");
        }
    }

    [Fact]
    public void CandidatesDoNotSeeEachOther()
    {
        using var mask = MFalcon.CandidateMask(3, 3, CPU);
        var got = mask.data<bool>().ToArray();
        bool[] want =
        [
            true, false, false, false, false, false,
            true, true, false, false, false, false,
            true, true, true, false, false, false,
            true, true, true, true, false, false,
            true, true, true, false, true, false,
            true, true, true, false, false, true,
        ];
        Assert.Equal(want, got);
    }
}
