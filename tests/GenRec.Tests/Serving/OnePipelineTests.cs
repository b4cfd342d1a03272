using System.Text.Json;

namespace GenRec.Tests.Serving;

/// <summary>
/// One inference pipeline: for the same models, history and candidates, <c>genrec recommend</c> and <c>genrec rank</c>
/// give the answers /v1/retrieve, /v1/rank and /v1/recommend give (same items, same order, same scores).
/// </summary>
public class OnePipelineTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private const string User = "7";

    [Fact]
    public async Task RecommendAndRetrieveAgree()
    {
        var cli = Run("recommend", "--checkpoint", service.Options.Retrieval, "--data", service.Options.Data, "--user",
            User, "--k", "10");
        var http = await service.PostOkAsync("/v1/retrieve", new { user = User, k = 10 });
        var want = cli.GetProperty("recommendations").EnumerateArray().ToList();
        var got = http.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(want.Select(x => x.GetProperty("item").GetString()),
            got.Select(x => x.GetProperty("item").GetString()));
        for (int i = 0; i < want.Count; i++)
            Assert.Equal(want[i].GetProperty("score").GetDouble(), got[i].GetProperty("score").GetDouble(), 6);
    }

    [Fact]
    public async Task RankWithCandidatesAgreesWithTheRankEndpoint()
    {
        using var dir = new TempDir();
        string[] candidates = ["3", "14", "15", "9", "26", "5", "35"];
        var file = dir.Write("candidates.txt", string.Join('\n', candidates));
        var cli = Run("rank", "--checkpoint", service.Options.Ranking!, "--data", service.Options.Data, "--user", User,
            "--candidates", file);
        var http = await service.PostOkAsync("/v1/rank", new { user = User, candidates });
        AssertSameRanking(cli.GetProperty("ranked"), http.GetProperty("items"));
    }

    [Fact]
    public async Task RetrieveThenRankAgreesWithTheRecommendEndpoint()
    {
        var cli = Run("rank", "--checkpoint", service.Options.Ranking!, "--data", service.Options.Data, "--user", User,
            "--top-from-retrieval", "20", "--retrieval", service.Options.Retrieval, "--k", "10");
        var http = await service.PostOkAsync("/v1/recommend", new { user = User, k = 10, retrieve = 20 });
        Assert.True(http.GetProperty("ranked").GetBoolean());
        AssertSameRanking(cli.GetProperty("ranked"), http.GetProperty("items"));
    }

    private static void AssertSameRanking(JsonElement cli, JsonElement http)
    {
        var want = cli.EnumerateArray().ToList();
        var got = http.EnumerateArray().ToList();
        Assert.Equal(want.Select(x => x.GetProperty("item").GetString()),
            got.Select(x => x.GetProperty("item").GetString()));
        for (int i = 0; i < want.Count; i++)
            foreach (var task in want[i].GetProperty("scores").EnumerateObject())
            {
                var served = got[i].GetProperty("scores").GetProperty(task.Name).GetDouble();
                Assert.Equal(task.Value.GetDouble(), served, 6);
            }
    }

    private static JsonElement Run(params string[] args)
    {
        var (code, output) = GenRecCli.Run([.. args, "--threads", "1", "--json"]);
        Assert.True(code == 0, output);
        return JsonDocument.Parse(output.Split('\n').First(l => l.StartsWith('{'))).RootElement.Clone();
    }
}
