using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GenRec.Serving;
using GenRec.Serving.Stores;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace GenRec.Tests.Serving;

/// <summary>
/// What a failing store or a failing service looks like from outside: a store that cannot serve (loading, hung,
/// damaged) is a 503 with a reason and Retry-After, never a 500; a fault of the service is a 500 counted as one,
/// logged once with the request id the response carries; a retried append with a client event id is stored once.
/// </summary>
public class StoreFailureTests(ServiceFixture service, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<ServiceFixture>
{
    private static object OneEvent(string item, long time, string? id = null) =>
        new { item, action = "like", timestamp = time, id };

    private static object Events(string user, params object[] events) => new { user, events };

    [RedisFact]
    public async Task RedisLoadingItsDataAfterARestartIsA503WithRetryAfterNeverA500()
    {
        using var dir = new TempDir();
        using var redis = new RedisServer(durableDir: dir.Path, snapshot: true);
        // Enough keys that reading them back, slowed per key, keeps Redis in LOADING for a few seconds.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",allowAdmin=true"))
        {
            var db = admin.GetDatabase();
            for (int b = 0; b < 20; b++)
                await Task.WhenAll(Enumerable.Range(b * 1000, 1000).Select(i => db.StringSetAsync($"filler:{i}", i)));
            await db.ExecuteAsync("SAVE");
        }
        var s = await ServiceFixture.StartAsync(service.Options with { Store = "redis:" + redis.Configuration });
        var statuses = new ConcurrentDictionary<int, int>();
        var reasons = new ConcurrentBag<string>();
        try
        {
            await ServiceFixture.PostOkAsync(s.Client, "/v1/events", Events("loading", OneEvent("3", 1)));
            redis.Kill();
            redis.Restart("--key-load-delay 100 --loading-process-events-interval-bytes 1024");
            var clock = Stopwatch.StartNew();
            bool loaded = false;
            while (!loaded && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                using var response = await s.Client.PostAsJsonAsync("/v1/retrieve", new { user = "loading", k = 3 });
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Assert.Equal("1", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString());
                    var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                    reasons.Add(body.GetProperty("error").GetString()!);
                }
                loaded = response.StatusCode == HttpStatusCode.OK;
                await Task.Delay(20);
            }
            var counts = statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}");
            output.WriteLine($"statuses while Redis loaded its data: {string.Join(", ", counts)}");
            Assert.True(loaded, "the service did not recover within 30 s of Redis restarting");
            Assert.Equal([200, 503], statuses.Keys.Order());
            foreach (var r in reasons.Distinct()) output.WriteLine(r);
            Assert.Contains(reasons, r => r.Contains("is loading its data set into memory"));
        }
        finally { await ServiceFixture.StopAsync(s); }
    }

    [RedisFact]
    public async Task ARedisErrorReplyIsA503WithItsReasonNotA500()
    {
        using var redis = new RedisServer();
        var s = await ServiceFixture.StartAsync(service.Options with { Store = "redis:" + redis.Configuration });
        try
        {
            await ServiceFixture.PostOkAsync(s.Client, "/v1/events", Events("oom", OneEvent("3", 1)));
            await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",allowAdmin=true"))
                await admin.GetServer(redis.Configuration).ConfigSetAsync("maxmemory", "1");
            using var response = await s.Client.PostAsJsonAsync("/v1/events", Events("oom", OneEvent("4", 2)));
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"{(int)response.StatusCode} {body}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("OOM command not allowed", body);
            Assert.NotNull(response.Headers.RetryAfter);
            // Reads still work: only what Redis refused is refused.
            await ServiceFixture.PostOkAsync(s.Client, "/v1/retrieve", new { user = "oom", k = 3 });
        }
        finally { await ServiceFixture.StopAsync(s); }
    }

    [RedisFact]
    public async Task AHungRedisIsA503WithinTheStoreTimeoutAndARetriedEventWithAnIdIsStoredOnce()
    {
        using var redis = new RedisServer();
        var s = await ServiceFixture.StartAsync(service.Options with { Store = "redis:" + redis.Configuration });
        try
        {
            await ServiceFixture.PostOkAsync(s.Client, "/v1/events", Events("hung", OneEvent("1", 1)));
            redis.Pause();
            var clock = Stopwatch.StartNew();
            using (var response = await s.Client.PostAsJsonAsync("/v1/events",
                Events("hung", OneEvent("2", 2, "click-2"), OneEvent("4", 3))))
            {
                double seconds = clock.Elapsed.TotalSeconds;
                output.WriteLine($"hung Redis answered {(int)response.StatusCode} after {seconds:F2} s");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.True(seconds < 1.5, $"503 after {seconds:F2} s; the store timeout is 1 s");
                Assert.Contains("did not answer within 1000 ms", await response.Content.ReadAsStringAsync());
            }
            // Redis was sent the append before it hung; once it goes on, it stores it: the client, told 503, cannot
            // know. Its retry is stored once for the event with an id, twice for the one without.
            redis.Resume();
            JsonElement retry = default;
            for (int attempt = 0; attempt < 50; attempt++)
            {
                using var response = await s.Client.PostAsJsonAsync("/v1/events",
                    Events("hung", OneEvent("2", 2, "click-2"), OneEvent("4", 3)));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    retry = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                    break;
                }
                await Task.Delay(100);
            }
            Assert.Equal(1, retry.GetProperty("appended").GetInt32());
            Assert.Equal(1, retry.GetProperty("duplicates").GetInt32());
            var stored = await s.Store.ReadAsync("hung", 100);
            Assert.Equal(["1", "2", "4", "4"], stored.Select(e => e.Item).Order());
        }
        finally
        {
            redis.Resume();
            await ServiceFixture.StopAsync(s);
        }
    }

    [RedisFact]
    public async Task ClientsRetryingThroughAHangAndACrashStoreEveryEventWithAnIdExactlyOnce()
    {
        using var dir = new TempDir();
        using var redis = new RedisServer(durableDir: dir.Path);
        var s = await ServiceFixture.StartAsync(service.Options with { Store = "redis:" + redis.Configuration });
        const int Writers = 4;
        var retries = new int[Writers];
        var sent = new int[Writers];
        using var stop = new CancellationTokenSource();
        // Each client sends events 0, 1, 2 … one at a time, until the failures are over.
        async Task Writer(int w)
        {
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                var body = Events($"retry-{w}", OneEvent((1 + n % 9).ToString(), n, $"w{w}-e{n}"));
                // A client that retries until told OK: after a 503, a refused connection or its own timeout.
                while (true)
                {
                    try
                    {
                        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                        using var response = await s.Client.PostAsJsonAsync("/v1/events", body, cancel.Token);
                        if (response.StatusCode == HttpStatusCode.OK) break;
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                    Interlocked.Increment(ref retries[w]);
                    await Task.Delay(50);
                }
                sent[w] = n + 1;
                await Task.Delay(10);
            }
        }
        try
        {
            var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => Writer(w))).ToList();
            await Task.Delay(300);
            redis.Pause();
            await Task.Delay(1500);
            redis.Resume();
            await Task.Delay(300);
            redis.Kill();
            await Task.Delay(500);
            redis.Restart();
            await Task.Delay(500);
            stop.Cancel();
            await Task.WhenAll(writers);
            output.WriteLine($"events per writer: {string.Join(", ", sent)}; retries: {string.Join(", ", retries)}");
            Assert.All(retries, r => Assert.True(r > 0, "a client met no failure"));
            await using var check = await RedisHistoryStore.ConnectAsync(redis.Configuration);
            for (int w = 0; w < Writers; w++)
            {
                var times = (await check.ReadAsync($"retry-{w}", 100_000)).Select(e => e.Timestamp).ToList();
                Assert.Equal(Enumerable.Range(0, sent[w]).Select(n => (long)n), times.Order());
            }
        }
        finally { await ServiceFixture.StopAsync(s); }
    }

    [Fact]
    public async Task ADamagedSqliteStoreIsA503NamingTheErrorNotA500()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "events.db");
        var s = await ServiceFixture.StartAsync(service.Options with { Store = "sqlite:" + path });
        try
        {
            await ServiceFixture.PostOkAsync(s.Client, "/v1/events", Events("d", OneEvent("3", 1)));
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(dir.Path, "events.db*"))
                File.WriteAllBytes(file, Enumerable.Repeat((byte)0x5A, 8192).ToArray());
            using var response = await s.Client.PostAsJsonAsync("/v1/retrieve", new { user = "d", k = 3 });
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("SQLite error", body);
            Assert.NotNull(response.Headers.RetryAfter);
        }
        finally { await ServiceFixture.StopAsync(s); }
    }

    [Fact]
    public async Task AServiceFaultIsA500CountedAsOneAndLoggedOnceWithTheRequestIdItCarries()
    {
        var logs = new CapturingLogs();
        var s = await ServiceFixture.StartAsync(service.Options, new FaultyStore(), logs);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/retrieve")
            {
                Content = JsonContent.Create(new { user = "5", k = 3 }),
            };
            request.Headers.Add(ServiceHost.RequestIdHeader, "trace-42");
            using var response = await s.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("trace-42", body.GetProperty("requestId").GetString());
            Assert.Equal("trace-42", response.Headers.GetValues(ServiceHost.RequestIdHeader).Single());
            Assert.Contains("trace-42", body.GetProperty("error").GetString());
            // Without a usable id of the client's, the server gives its own.
            using var own = await s.Client.PostAsJsonAsync("/v1/retrieve", new { user = "6", k = 3 });
            string ownId = own.Headers.GetValues(ServiceHost.RequestIdHeader).Single();
            Assert.NotEmpty(ownId);
            var errors = logs.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
            Assert.Equal(2, errors.Count);
            Assert.Contains("trace-42", errors[0].Message);
            Assert.Contains("broken on purpose", errors[0].Exception);
            Assert.Contains(ownId, errors[1].Message);
            var metrics = await s.Client.GetStringAsync("/metrics");
            Assert.Matches("http_requests_received_total\\{code=\"500\",[^}]*endpoint=\"/v1/retrieve\"\\} 2\n",
                metrics);
            Assert.DoesNotMatch("http_requests_received_total\\{code=\"200\",[^}]*endpoint=\"/v1/retrieve\"", metrics);
            Assert.Contains("genrec_server_errors_total 2", metrics);
        }
        finally { await ServiceFixture.StopAsync(s); }
    }

    /// <summary>A store with a bug: every read throws what no store should.</summary>
    private sealed class FaultyStore : IHistoryStore
    {
        public string Describe => "faulty";

        public Task<int> AppendAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel) =>
            Task.FromResult(events.Count);

        public Task<IReadOnlyList<StoredEvent>> ReadAsync(string user, int max, CancellationToken cancel) =>
            throw new InvalidOperationException("broken on purpose");

        public Task<IReadOnlyList<GenRec.Data.LoggedEvent>> ReadLogAsync(long after, int max,
            CancellationToken cancel) => throw new InvalidOperationException("broken on purpose");

        public Task<bool> PingAsync(CancellationToken cancel) => Task.FromResult(true);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
