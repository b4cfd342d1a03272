using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using GenRec.Cli.Commands;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench serve</c>: a load generator for a running <c>genrec serve</c>, from a second process: for each
/// concurrency level, closed-loop workers post requests for random users for a fixed time; prints requests/s,
/// p50 / p99 latency and errors, and the server's resident memory (from its /metrics) as the run goes.
/// </summary>
internal static partial class BenchServeCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The service's base address.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var users = new Option<string>("--users") { Description = "Users to ask for: a range FIRST-LAST of numeric ids, or a file with one id per line.", DefaultValueFactory = _ => "1-2999" };
        var endpoint = new Option<string>("--endpoint") { Description = "recommend, retrieve or rank.", DefaultValueFactory = _ => "recommend" };
        var concurrency = new Option<string>("--concurrency") { Description = "Comma-separated numbers of concurrent workers.", DefaultValueFactory = _ => "1,8,64" };
        var duration = new Option<int>("--duration") { Description = "Seconds per concurrency level (after a 3 s warm-up).", DefaultValueFactory = _ => 20 };
        var k = new Option<int>("--k") { Description = "k of each request.", DefaultValueFactory = _ => 10 };
        var retrieve = new Option<int>("--retrieve") { Description = "Retrieval depth of /v1/recommend.", DefaultValueFactory = _ => 100 };
        var json = Options.Json();
        var cmd = new Command("serve", "Load a running genrec serve from this process: requests/s, p50/p99 latency and errors per concurrency level, and the server's memory over the run.")
        {
            url, users, endpoint, concurrency, duration, k, retrieve, json,
        };
        cmd.SetAction(r => Cli.Run(() => RunAsync(r.GetValue(url)!, ParseUsers(r.GetValue(users)!), r.GetValue(endpoint)!,
            Options.IntList(r.GetValue(concurrency)!, "--concurrency"),
            r.GetValue(duration), r.GetValue(k), r.GetValue(retrieve), r.GetValue(json)).GetAwaiter().GetResult()));
        return cmd;
    }

    private static string[] ParseUsers(string spec)
    {
        var m = RangePattern().Match(spec);
        if (m.Success)
        {
            long a = long.Parse(m.Groups[1].Value), b = long.Parse(m.Groups[2].Value);
            if (b < a) throw new ArgumentException($"--users {spec}: the range is empty.");
            return Enumerable.Range(0, (int)(b - a + 1)).Select(i => (a + i).ToString()).ToArray();
        }
        if (!File.Exists(spec)) throw new FileNotFoundException($"--users {spec}: neither a range FIRST-LAST nor a file.", spec);
        var list = File.ReadLines(spec).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        return list.Length > 0 ? list : throw new ArgumentException($"--users {spec}: the file has no users.");
    }

    [GeneratedRegex(@"^(\d+)-(\d+)$")]
    private static partial Regex RangePattern();

    private static async Task<int> RunAsync(string url, string[] users, string endpoint, int[] levels, int seconds, int k, int retrieve, bool asJson)
    {
        if (endpoint is not ("recommend" or "retrieve" or "rank")) throw new ArgumentException($"--endpoint {endpoint}: expected recommend, retrieve or rank.");
        if (seconds < 1) throw new ArgumentException("--duration must be at least 1 second.");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = levels.Max() + 4, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(url),
            Timeout = TimeSpan.FromSeconds(30),
        };
        try { (await http.GetAsync("/healthz")).EnsureSuccessStatusCode(); }
        catch (HttpRequestException e) { throw new IOException($"{url}/healthz: no service answers ({e.Message}); start it with genrec serve.", e); }
        string[] candidates = [];
        if (endpoint == "rank")
        {
            var probe = await http.PostAsJsonAsync("/v1/retrieve", new { user = users[0], k = retrieve });
            var body = await probe.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            candidates = body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("item").GetString()!).ToArray();
        }
        object Request(string user) => endpoint switch
        {
            "recommend" => new { user, k, retrieve },
            "retrieve" => new { user, k },
            _ => (object)new { user, candidates },
        };
        var results = new List<object>();
        long totalErrors = 0;
        var memory = new List<(double Seconds, double Mib, double HeapMib)>();
        var clock = Stopwatch.StartNew();
        foreach (int c in levels)
        {
            await LoadAsync(http, endpoint, users, Request, c, TimeSpan.FromSeconds(3), null);   // warm-up, not counted
            var latencies = new List<double>[c];
            var errors = new long[c];
            using var sampler = new CancellationTokenSource();
            var sampling = SampleMemoryAsync(http, memory, clock, sampler.Token);
            var window = Stopwatch.StartNew();
            await LoadAsync(http, endpoint, users, Request, c, TimeSpan.FromSeconds(seconds), (latencies, errors));
            double elapsed = window.Elapsed.TotalSeconds;
            sampler.Cancel();
            await sampling;
            var all = latencies.SelectMany(l => l).Order().ToArray();
            long failed = errors.Sum();
            totalErrors += failed;
            var row = new
            {
                concurrency = c,
                requests = all.Length,
                errors = failed,
                requestsPerSecond = all.Length / elapsed,
                p50Ms = Percentile(all, 0.50),
                p99Ms = Percentile(all, 0.99),
                maxMs = all.Length > 0 ? all[^1] : double.NaN,
            };
            results.Add(row);
            if (!asJson) Console.WriteLine($"concurrency {c,3}: {row.requestsPerSecond,8:F1} req/s  p50 {row.p50Ms,7:F1} ms  p99 {row.p99Ms,7:F1} ms  max {row.maxMs,7:F1} ms  {all.Length:N0} requests, {failed} errors");
        }
        if (!asJson && memory.Count > 0)
            Console.WriteLine("server memory over the run (s: resident MiB / managed heap MiB): " + string.Join("  ", memory.Select(m => $"{m.Seconds:F0}s {m.Mib:F0}/{m.HeapMib:F0}")));
        if (asJson) Cli.PrintJson(new { url, endpoint, seconds, k, retrieve, levels = results, serverMemory = memory.Select(m => new { seconds = m.Seconds, residentMiB = m.Mib, managedHeapMiB = m.HeapMib }) });
        return totalErrors > 0 ? 2 : 0;
    }

    private static async Task LoadAsync(HttpClient http, string endpoint, string[] users, Func<string, object> request, int workers, TimeSpan duration, (List<double>[] Latencies, long[] Errors)? record)
    {
        var stop = DateTime.UtcNow + duration;
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var rng = new Random(w * 7919 + 1);
            var mine = new List<double>();
            if (record is { } r0) r0.Latencies[w] = mine;
            while (DateTime.UtcNow < stop)
            {
                var user = users[rng.Next(users.Length)];
                long start = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    using var response = await http.PostAsJsonAsync("/v1/" + endpoint, request(user));
                    await response.Content.ReadAsByteArrayAsync();
                    ok = response.IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { ok = false; }
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (record is { } r) { if (ok) mine.Add(ms); else r.Errors[w]++; }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
    }

    private static async Task SampleMemoryAsync(HttpClient http, List<(double, double, double)> memory, Stopwatch clock, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var text = await http.GetStringAsync("/metrics", stop);
                var m = Regex.Match(text, @"^process_working_set_bytes (\S+)$", RegexOptions.Multiline);
                var h = Regex.Match(text, @"^dotnet_total_memory_bytes (\S+)$", RegexOptions.Multiline);
                if (m.Success && h.Success)
                    lock (memory) memory.Add((clock.Elapsed.TotalSeconds, Mib(m.Groups[1].Value), Mib(h.Groups[1].Value)));
                await Task.Delay(TimeSpan.FromSeconds(10), stop);
            }
            catch (OperationCanceledException) { return; }
        }
    }

    private static double Mib(string bytes) => double.Parse(bytes, System.Globalization.CultureInfo.InvariantCulture) / (1 << 20);

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
