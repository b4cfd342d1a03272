using System.CommandLine;
using GenRec.Serving;
using GenRec.Serving.Stores;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec serve</c>: the HTTP service (retrieve, rank, recommend, events) over the data and its checkpoints.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The data the models were trained on: a prepared folder (genrec prepare), a ratings folder (MovieLens) or a ratings CSV.", Required = true };
        var retrieval = new Option<string?>("--retrieval")
        {
            Description = "Retrieval checkpoint (genrec train); with --watch, the model to serve until one is "
                + "published (default: the newest there).",
        };
        var watch = new Option<string?>("--watch")
        {
            Description = "Serve the newest model published into this folder (genrec train --resume RUN --events … "
                + "--publish DIR), checked every --watch-interval seconds; a model that fails to load is skipped and "
                + "the one in use keeps serving.",
        };
        var watchInterval = new Option<double>("--watch-interval")
        {
            Description = "Seconds between looks at the --watch folder.",
            DefaultValueFactory = _ => 2,
        };
        var ranking = new Option<string?>("--ranking") { Description = "Ranking checkpoint (genrec rank-train --out); without it /v1/recommend returns the retrieval order." };
        var store = new Option<string>("--store") { Description = "User history store: sqlite:PATH or redis:HOST:PORT.", DefaultValueFactory = _ => "sqlite:genrec-events.db" };
        var maxConcurrent = new Option<int>("--max-concurrent") { Description = "Requests served at once; more wait in a queue.", DefaultValueFactory = _ => 64 };
        var maxQueued = new Option<int>("--max-queued") { Description = "Requests allowed to wait; beyond that 503 at once.", DefaultValueFactory = _ => 256 };
        var urls = new Option<string>("--urls") { Description = "Addresses to listen on (loopback unless you say otherwise).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var index = new Option<string>("--index") { Description = "Item search: exact (SIMD over every item) or hnsw (approximate, for large catalogs).", DefaultValueFactory = _ => "exact" };
        var storeTimeout = new Option<int>("--store-timeout")
        {
            Description = "Milliseconds a request waits for the store (SQLite locked by another process, Redis not "
                + "answering); then 503 with Retry-After.",
            DefaultValueFactory = _ => 1000,
        };
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("serve", "Serve retrieval and ranking over HTTP: POST /v1/events, /v1/retrieve, /v1/rank, /v1/recommend; GET /healthz, /metrics, /openapi/v1.json.")
        {
            data, retrieval, watch, watchInterval, ranking, store, storeTimeout, urls, index, maxConcurrent, maxQueued,
            device, threads,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var watchDir = r.GetValue(watch);
            if (watchDir is not null && !Directory.Exists(watchDir))
                throw new ArgumentException($"--watch {watchDir}: no such folder; create it or publish into it first.");
            if (r.GetValue(watchInterval) is not (> 0 and <= 3600))
                throw new ArgumentException(
                    $"--watch-interval {r.GetValue(watchInterval)}: expected seconds, 0 < s ≤ 3600.");
            var model = r.GetValue(retrieval) ?? (watchDir is null
                ? throw new ArgumentException(
                    "--retrieval is required (or --watch DIR to serve the newest model published there).")
                : GenRec.Model.PublishFolder.Newest(watchDir)
                    ?? throw new ArgumentException($"--watch {watchDir}: no model published there yet "
                        + "(model-*.ckpt); give --retrieval CKPT to serve until one is."));
            var options = new ServingOptions
            {
                Data = r.GetValue(data)!,
                Retrieval = model,
                Watch = watchDir,
                WatchIntervalSeconds = r.GetValue(watchInterval),
                Ranking = r.GetValue(ranking),
                Store = r.GetValue(store)!,
                Urls = r.GetValue(urls)!,
                Index = r.GetValue(index)!,
                Device = r.GetValue(device)!,
                MaxConcurrentRequests = r.GetValue(maxConcurrent) is > 0 and var c ? c : throw new ArgumentException("--max-concurrent must be positive."),
                MaxQueuedRequests = r.GetValue(maxQueued) is >= 0 and var q ? q : throw new ArgumentException("--max-queued must be 0 or more."),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var engine = RecommenderEngine.Load(options.Data, options.Retrieval, options.Ranking, dev, options.Index);
            if (r.GetValue(storeTimeout) < 1)
                throw new ArgumentException(
                    $"--store-timeout {r.GetValue(storeTimeout)}: expected milliseconds, 1 or more.");
            var historyStore = HistoryStores.OpenAsync(options.Store, default,
                TimeSpan.FromMilliseconds(r.GetValue(storeTimeout))).GetAwaiter().GetResult();
            try
            {
                var app = ServiceHost.Build(options, engine, historyStore);
                Cli.Note($"loaded {engine.Version} over {engine.Data.Name} ({engine.Index.Count:N0} items) in {clock.Elapsed.TotalSeconds:F1}s; store {historyStore.Describe}");
                Cli.Note($"listening on {options.Urls} (Ctrl+C stops)");
                app.Run();
            }
            finally
            {
                historyStore.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return 0;
        }));
        return cmd;
    }
}
