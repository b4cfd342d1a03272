using System.Net;
using System.Text;
using System.Text.Json;

namespace GenRec.Tests.Serving;

public class ServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private HttpClient Client => service.Client;

    private async Task<(HttpStatusCode Status, string Error)> PostRawAsync(string path, string json)
    {
        using var response = await Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        string error = "";
        if (!response.IsSuccessStatusCode)
        {
            Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
        }
        return (response.StatusCode, error);
    }

    [Fact]
    public async Task HealthMetricsAndOpenApiAnswer()
    {
        var health = JsonDocument.Parse(await Client.GetStringAsync("/healthz")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("ranking").GetBoolean());
        var openapi = JsonDocument.Parse(await Client.GetStringAsync("/openapi/v1.json")).RootElement;
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/v1/recommend", out _));
        // The errors are documented beside the 200s, with the JSON error body.
        foreach (var path in new[] { "/v1/events", "/v1/retrieve", "/v1/rank", "/v1/recommend" })
        {
            var responses = openapi.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("responses");
            foreach (var status in new[] { "200", "400", "415", "503" })
                Assert.True(responses.TryGetProperty(status, out _), $"{path} lists no {status}");
        }
        await service.PostOkAsync("/v1/retrieve", new { user = "5", k = 3 });
        var metrics = await Client.GetStringAsync("/metrics");
        // Counted by prometheus-net with the status really sent.
        const string Retrieve = "code=\"200\",method=\"POST\",[^}]*endpoint=\"/v1/retrieve\"";
        Assert.Matches("http_requests_received_total\\{" + Retrieve + "\\} [1-9]", metrics);
        Assert.Matches("http_request_duration_seconds_bucket\\{" + Retrieve + ",le=\"\\+Inf\"\\}", metrics);
        Assert.Contains("genrec_model_info{version=\"retrieval.ckpt@", metrics);
    }

    [Fact]
    public async Task RetrieveExcludesTheHistoryAndAppendedEvents()
    {
        var before = await service.PostOkAsync("/v1/retrieve", new { user = "7", k = 10 });
        Assert.False(before.GetProperty("coldStart").GetBoolean());
        var first = before.GetProperty("items")[0].GetProperty("item").GetString()!;
        var appended = await service.PostOkAsync("/v1/events", new { user = "7", events = new[] { new { item = first, action = "like", timestamp = 9_000_000_000L } } });
        Assert.Equal(1, appended.GetProperty("appended").GetInt32());
        var after = await service.PostOkAsync("/v1/retrieve", new { user = "7", k = 10 });
        var items = after.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("item").GetString()).ToList();
        Assert.Equal(10, items.Count);
        Assert.DoesNotContain(first, items);
        var withSeen = await service.PostOkAsync("/v1/retrieve", new { user = "7", k = 60, includeSeen = true });
        Assert.Contains(first, withSeen.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("item").GetString()));
    }

    [Fact]
    public async Task ThePageAndTheHistoryEndpointAnswer()
    {
        var page = await Client.GetStringAsync("/");
        Assert.Contains("<form id=\"ask\">", page);
        Assert.Contains("/v1/recommend", page);
        await service.PostOkAsync("/v1/events", new { user = "9", events = new[] { new { item = "5", action = "skip", timestamp = 9_100_000_000L } } });
        var h = await service.PostOkAsync("/v1/history", new { user = "9", k = 4 });
        Assert.True(h.GetProperty("known").GetBoolean());
        var items = h.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(4, items.Count);
        Assert.Equal("5", items[0].GetProperty("item").GetString());       // newest first
        Assert.Equal("skip", items[0].GetProperty("action").GetString());
        Assert.False((await service.PostOkAsync("/v1/history", new { user = "stranger" })).GetProperty("known").GetBoolean());
    }

    [Fact]
    public async Task AnHnswIndexServesTheSameApi()
    {
        var other = await ServiceFixture.StartAsync(service.Options with { Index = "hnsw", Store = service.Options.Store.Replace("events.db", "events-hnsw.db") });
        try
        {
            var r = await ServiceFixture.PostOkAsync(other.Client, "/v1/retrieve", new { user = "4", k = 5 });
            Assert.Equal(5, r.GetProperty("items").GetArrayLength());
            Assert.IsType<GenRec.Inference.Search.HnswItemIndex>(other.Engine.Index);
        }
        finally
        {
            await ServiceFixture.StopAsync(other);
        }
    }

    [Fact]
    public async Task RankScoresEveryTaskAndListsUnknownItems()
    {
        var r = await service.PostOkAsync("/v1/rank", new { user = "3", candidates = new[] { "1", "2", "3", "4", "no-such-item" }, sortBy = "like" });
        var items = r.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(4, items.Count);
        Assert.Equal(["no-such-item"], r.GetProperty("unknownItems").EnumerateArray().Select(e => e.GetString()));
        var likes = items.Select(i => i.GetProperty("scores").GetProperty("like").GetDouble()).ToList();
        Assert.All(likes, p => Assert.InRange(p, 0.0, 1.0));
        Assert.Equal(likes.OrderByDescending(p => p), likes);
        Assert.Equal([1, 2, 3, 4], items.Select(i => i.GetProperty("rank").GetInt32()));
    }

    [Fact]
    public async Task RecommendRetrievesThenRanks()
    {
        var r = await service.PostOkAsync("/v1/recommend", new { user = "11", k = 5, retrieve = 20 });
        Assert.True(r.GetProperty("ranked").GetBoolean());
        var items = r.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, items.Count);
        Assert.All(items, i => Assert.True(i.GetProperty("retrievalScore").ValueKind == JsonValueKind.Number));
        var inline = await service.PostOkAsync("/v1/recommend", new { history = new[] { new { item = "3", action = "like", timestamp = 100L }, new { item = "6", action = "like", timestamp = 200L } }, k = 3 });
        Assert.Equal(3, inline.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task UnknownUsersGetPopularItemsFlaggedAsColdStart()
    {
        var r = await service.PostOkAsync("/v1/recommend", new { user = "nobody-at-all", k = 4 });
        Assert.True(r.GetProperty("coldStart").GetBoolean());
        Assert.Equal(4, r.GetProperty("items").GetArrayLength());
        var rank = await service.PostOkAsync("/v1/rank", new { user = "nobody-at-all", candidates = new[] { "1", "2" } });
        Assert.True(rank.GetProperty("coldStart").GetBoolean());
    }

    [Theory]
    [InlineData("/v1/retrieve", "{\"user\": \"3\", \"k\": ", 400, "malformed JSON")]
    [InlineData("/v1/retrieve", "{\"user\": \"3\", \"k\": \"ten\"}", 400, "malformed JSON")]
    [InlineData("/v1/retrieve", "{\"user\": \"3\", \"k\": -1}", 400, "k: -1")]
    [InlineData("/v1/retrieve", "{\"user\": \"3\", \"k\": 1000000}", 400, "at most 100")]
    [InlineData("/v1/retrieve", "{\"k\": 3}", 400, "exactly one of user and history")]
    [InlineData("/v1/retrieve", "{\"user\": \"3\", \"history\": []}", 400, "exactly one of user and history")]
    [InlineData("/v1/recommend", "{\"history\": [{\"item\": \"3\"}]}", 400, "history[0].timestamp")]
    [InlineData("/v1/recommend", "{\"user\": \"3\", \"k\": 10, \"retrieve\": 5}", 400, "retrieve: 5 is less than k")]
    [InlineData("/v1/rank", "{\"user\": \"3\"}", 400, "candidates: required")]
    [InlineData("/v1/rank", "{\"user\": \"3\", \"candidates\": [\"1\"], \"sortBy\": \"buy\"}", 400, "sortBy: 'buy'")]
    [InlineData("/v1/events", "{\"user\": \"3\", \"events\": []}", 400, "events: empty")]
    [InlineData("/v1/events", "{\"user\": \"\", \"events\": [{\"item\": \"1\", \"timestamp\": 5}]}", 400, "user: required")]
    [InlineData("/v1/events", "{\"user\": \"3\", \"events\": [{\"item\": \"1\", \"action\": \"love\", \"timestamp\": 5}]}", 400, "events[0].action: 'love'")]
    [InlineData("/v1/events", "[1, 2]", 400, "malformed JSON")]
    [InlineData("/v1/events", "{\"user\": \"3\", \"events\": [{\"features\": {\"zip\": \"1\"}, \"timestamp\": 5}]}", 400, "events[0].features.zip: not a contextual or auxiliary feature")]
    [InlineData("/v1/events", "{\"user\": \"3\", \"events\": [{\"timestamp\": 5}]}", 400, "events[0].item: required unless the event carries features")]
    [InlineData("/v1/events", "null", 400, "expected a JSON body")]
    [InlineData("/v1/retrieve", """{"history": [{"item": "1", "action": "love", "timestamp": 5}]}""", 400,
        "history[0].action: 'love'")]
    [InlineData("/v1/recommend", """{"history": [{"item": "1", "action": "love", "timestamp": 5}]}""", 400,
        "history[0].action: 'love'")]
    [InlineData("/v1/retrieve", """{"history": [{"features": {"zip": "1"}, "timestamp": 5}]}""", 400,
        "history[0].features.zip: not a contextual or auxiliary feature")]
    [InlineData("/v1/events", """{"user": "3", "events": [{"item": "ITEM300", "timestamp": 5}]}""", 400,
        "events[0].item: longer than 256 characters")]
    [InlineData("/v1/retrieve", """{"history": [{"item": "ITEM300", "timestamp": 5}]}""", 400,
        "history[0].item: longer than 256 characters")]
    public async Task BadRequestsGetAClearClientError(string path, string body, int status, string message)
    {
        var (code, error) = await PostRawAsync(path, body.Replace("ITEM300", new string('x', 300)));
        Assert.Equal(status, (int)code);
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("POST", "/v1/retrieve", "text/plain", 415, "unsupported media type 'text/plain")]
    [InlineData("POST", "/v1/nope", "application/json", 404, "no endpoint POST /v1/nope")]
    [InlineData("GET", "/v1/retrieve", null, 405, "GET is not allowed on /v1/retrieve")]
    public async Task ErrorsTheFrameworkAnswersCarryTheJsonErrorBodyToo(string method, string path, string? type,
        int status, string message)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (type is not null) request.Content = new StringContent("{\"user\": \"3\"}", Encoding.UTF8, type);
        using var response = await Client.SendAsync(request);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Contains(message, error.GetString());
    }

    [Fact]
    public async Task LimitsOnCandidatesEventsAndBodySize()
    {
        var many = Enumerable.Range(1, 51).Select(i => i.ToString()).ToArray();
        var (code, error) = await PostRawAsync("/v1/rank", JsonSerializer.Serialize(new { user = "3", candidates = many }));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("at most 50", error);
        var events = Enumerable.Range(1, 21).Select(i => new { item = "1", timestamp = (long)i }).ToArray();
        (code, error) = await PostRawAsync("/v1/events", JsonSerializer.Serialize(new { user = "3", events }));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("at most 20", error);
        (code, error) = await PostRawAsync("/v1/retrieve", "{\"user\": \"" + new string('x', 100_000) + "\"}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, code);
        Assert.Contains("too large", error);
    }

    [Fact]
    public async Task ReloadSwapsModelsWithoutDroppingRequests()
    {
        var load = Enumerable.Range(0, 20).Select(i => service.PostOkAsync("/v1/recommend", new { user = (i % 9 + 1).ToString(), k = 3 })).ToList();
        var reload = await service.PostOkAsync("/admin/reload", new { });
        Assert.Contains("ranking.ckpt", reload.GetProperty("reloaded").GetString());
        await Task.WhenAll(load);
        await service.PostOkAsync("/v1/recommend", new { user = "2", k = 3 });
    }
}

public class RedisServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [RedisFact]
    public async Task TwoReplicasShareHistoriesThroughRedisAndServeEveryEndpoint()
    {
        using var redis = new RedisServer();
        var options = service.Options with { Store = "redis:" + redis.Configuration };
        var a = await ServiceFixture.StartAsync(options);
        var b = await ServiceFixture.StartAsync(options);
        try
        {
            var health = System.Text.Json.JsonDocument.Parse(await b.Client.GetStringAsync("/healthz")).RootElement;
            Assert.StartsWith("redis:", health.GetProperty("store").GetString());
            var before = await ServiceFixture.PostOkAsync(b.Client, "/v1/retrieve", new { user = "new-user", k = 5 });
            Assert.True(before.GetProperty("coldStart").GetBoolean());
            // Replica A takes the events; replica B, holding no state of its own, serves from them.
            await ServiceFixture.PostOkAsync(a.Client, "/v1/events", new { user = "new-user", events = new[] { new { item = "3", action = "like", timestamp = 100L }, new { item = "6", action = "like", timestamp = 200L } } });
            var after = await ServiceFixture.PostOkAsync(b.Client, "/v1/retrieve", new { user = "new-user", k = 5 });
            Assert.False(after.GetProperty("coldStart").GetBoolean());
            var items = after.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("item").GetString()).ToList();
            Assert.DoesNotContain("3", items);
            Assert.DoesNotContain("6", items);
            var ranked = await ServiceFixture.PostOkAsync(b.Client, "/v1/rank", new { user = "new-user", candidates = new[] { "1", "2", "4" } });
            Assert.False(ranked.GetProperty("coldStart").GetBoolean());
            var rec = await ServiceFixture.PostOkAsync(a.Client, "/v1/recommend", new { user = "new-user", k = 3 });
            Assert.Equal(3, rec.GetProperty("items").GetArrayLength());
            Assert.Matches("http_requests_received_total\\{code=\"200\",[^}]*endpoint=\"/v1/recommend\"\\} 1\n",
                await a.Client.GetStringAsync("/metrics"));
        }
        finally
        {
            await ServiceFixture.StopAsync(a);
            await ServiceFixture.StopAsync(b);
        }
    }
}
