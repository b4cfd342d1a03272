using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using GenRec.Serving.Stores;

namespace GenRec.Tests.Serving;

/// <summary>Faults under load: the store going away and coming back, too many requests at once, a model that fails to reload.</summary>
public class ServingFaultTests(ServiceFixture service, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ServiceFixture>
{
    [RedisFact]
    public async Task StoreOutageUnderLoadFailsFastWith503RecoversAndLosesNoAcknowledgedEvent()
    {
        using var dir = new TempDir();
        using var redis = new RedisServer(durableDir: dir.Path);
        var s = await ServiceFixture.StartAsync(service.Options with { Store = "redis:" + redis.Configuration });
        var acked = new ConcurrentBag<(string User, string Item, long Time)>();
        var statuses = new ConcurrentDictionary<int, int>();
        var outageLatencies = new ConcurrentBag<double>();
        bool outage = false;
        using var stop = new CancellationTokenSource();
        long clock = 1_000_000;
        async Task Writer(int w)
        {
            var rng = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                string user = $"outage-{w}";
                string item = (1 + rng.Next(9)).ToString();
                long time = Interlocked.Increment(ref clock);
                var sw = Stopwatch.StartNew();
                bool read = rng.Next(3) == 0;
                using var response = read
                    ? await s.Client.PostAsJsonAsync("/v1/retrieve", new { user, k = 3 })
                    : await s.Client.PostAsJsonAsync("/v1/events", new { user, events = new[] { new { item, action = "like", timestamp = time } } });
                if (Volatile.Read(ref outage)) outageLatencies.Add(sw.Elapsed.TotalSeconds);
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                if (response.StatusCode == HttpStatusCode.OK && !read) acked.Add((user, item, time));
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    Assert.Contains("unavailable", await response.Content.ReadAsStringAsync());
                await Task.Delay(5);
            }
        }
        try
        {
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() => Writer(w))).ToList();
            await Task.Delay(1000);
            redis.Kill();
            Volatile.Write(ref outage, true);
            await Task.Delay(2000);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await s.Client.GetAsync("/healthz")).StatusCode);
            redis.Restart();
            var recovery = Stopwatch.StartNew();
            while ((await s.Client.GetAsync("/healthz")).StatusCode != HttpStatusCode.OK && recovery.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);
            Volatile.Write(ref outage, false);
            Assert.True(recovery.Elapsed < TimeSpan.FromSeconds(30), "the service did not recover within 30 s of the store coming back");
            int okBefore = statuses.GetValueOrDefault(200);
            await Task.Delay(1000);
            stop.Cancel();
            await Task.WhenAll(writers);

            Assert.True(statuses.GetValueOrDefault(503) > 0, "no request noticed the outage");
            Assert.True(statuses.GetValueOrDefault(200) > okBefore, "no request succeeded after the store came back");
            Assert.Equal([200, 503], statuses.Keys.Order());
            Assert.True(outageLatencies.Max() < 2.0, $"a request took {outageLatencies.Max():F1} s during the outage; expected failing fast");
            output.WriteLine($"requests: {statuses.Values.Sum()} ({string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"))}); acknowledged events {acked.Count}; " +
                $"slowest request during the outage {outageLatencies.Max():F2} s; recovered {recovery.Elapsed.TotalSeconds:F2} s after restart");
            // Every acknowledged event is in the store after the crash and restart.
            await using var check = await RedisHistoryStore.ConnectAsync(redis.Configuration);
            foreach (var user in acked.Select(a => a.User).Distinct())
            {
                var stored = (await check.ReadAsync(user, 100_000)).Select(e => (e.Item, e.Timestamp)).ToHashSet();
                foreach (var a in acked.Where(a => a.User == user)) Assert.Contains((a.Item, a.Time), stored);
            }
        }
        finally
        {
            stop.Cancel();
            await ServiceFixture.StopAsync(s);
        }
    }

    [Fact]
    public async Task RequestsBeyondTheConcurrencyLimitGet503()
    {
        var s = await ServiceFixture.StartAsync(service.Options with { MaxConcurrentRequests = 1, MaxQueuedRequests = 0 });
        try
        {
            // Waves of 24 at once until one overlaps another (on a loaded machine a wave can run one by one).
            var responses = new List<HttpResponseMessage>();
            for (int wave = 0; wave < 20 && !responses.Any(r => r.StatusCode == HttpStatusCode.ServiceUnavailable); wave++)
                responses.AddRange(await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
                    s.Client.PostAsJsonAsync("/v1/recommend", new { user = (i % 9 + 1).ToString(), k = 5 }))));
            var codes = responses.Select(r => (int)r.StatusCode).ToList();
            Assert.Contains(200, codes);
            Assert.Contains(503, codes);
            Assert.All(codes, c => Assert.True(c is 200 or 503, $"status {c}"));
            var refused = responses.First(r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
            Assert.Contains("too many concurrent requests", await refused.Content.ReadAsStringAsync());
            foreach (var r in responses) r.Dispose();
        }
        finally { await ServiceFixture.StopAsync(s); }
    }

    [Fact]
    public async Task AModelThatFailsToReloadLeavesTheOldOneServing()
    {
        using var dir = new TempDir();
        var retrieval = Path.Combine(dir.Path, "retrieval.ckpt");
        File.Copy(service.Options.Retrieval, retrieval);
        var logs = new CapturingLogs();
        var s = await ServiceFixture.StartAsync(
            service.Options with { Retrieval = retrieval, Store = "sqlite:" + Path.Combine(dir.Path, "e.db") }, logs: logs);
        try
        {
            var good = File.ReadAllBytes(retrieval);
            foreach (var damage in new Func<byte[], byte[]>[] { b => b[..(b.Length / 2)], b => { var c = (byte[])b.Clone(); c[c.Length / 3] ^= 0x10; return c; }, _ => [] })
            {
                File.WriteAllBytes(retrieval, damage(good));
                using var reload = await s.Client.PostAsJsonAsync("/admin/reload", new { });
                Assert.Equal(HttpStatusCode.InternalServerError, reload.StatusCode);
                Assert.Contains("reload failed, still serving", await reload.Content.ReadAsStringAsync());
                // A server error: logged once, with the id the response carries.
                string id = reload.Headers.GetValues(GenRec.Serving.ServiceHost.RequestIdHeader).Single();
                Assert.Single(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error
                    && e.Message.Contains(id) && e.Message.Contains("answered 500"));
                await ServiceFixture.PostOkAsync(s.Client, "/v1/recommend", new { user = "2", k = 3 });
            }
            File.WriteAllBytes(retrieval, good);
            await ServiceFixture.PostOkAsync(s.Client, "/admin/reload", new { });
        }
        finally { await ServiceFixture.StopAsync(s); }
    }
}
