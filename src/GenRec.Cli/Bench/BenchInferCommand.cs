using System.CommandLine;
using System.Diagnostics;
using GenRec.Cli.Commands;
using GenRec.Data;
using GenRec.Inference;
using GenRec.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench infer</c>: inference — one user's history encoded without autograd, the user embedding scored
/// against the whole item corpus and the top K taken, by libtorch and by the lean managed path
/// (<see cref="HstuInference"/>) — at several corpus sizes, and M-FALCON throughput at several candidate counts.
/// Untrained weights: speed does not depend on their values.
/// </summary>
internal static class BenchInferCommand
{
    public static Command Create()
    {
        var corpora = new Option<string>("--corpus") { Description = "Comma-separated corpus sizes (items).", DefaultValueFactory = _ => "10000,100000,1000000" };
        var history = new Option<int>("--history") { Description = "History length (items).", DefaultValueFactory = _ => 200 };
        var k = new Option<int>("--k") { Description = "Items returned per request.", DefaultValueFactory = _ => 100 };
        var requests = new Option<int>("--requests") { Description = "Timed requests per corpus size (after 10 warm-up ones).", DefaultValueFactory = _ => 200 };
        var candidates = new Option<string>("--candidates") { Description = "Comma-separated M-FALCON candidate counts; empty skips M-FALCON.", DefaultValueFactory = _ => "64,256,1024,4096" };
        var microBatch = new Option<int>("--micro-batch") { Description = "M-FALCON candidates per micro-batch.", DefaultValueFactory = _ => 128 };
        var seed = new Option<int>("--seed") { Description = "Random seed for the model and histories.", DefaultValueFactory = _ => 1 };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("infer", "Inference: p50/p99 latency of encoding one history and taking the top K of the corpus (10K–1M items) by libtorch and by the lean managed path, items/s, managed bytes per request; M-FALCON candidates/s for 64–4,096 candidates.")
        {
            corpora, history, k, requests, candidates, microBatch, seed, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            int n = r.GetValue(history), topK = r.GetValue(k), reqs = r.GetValue(requests), b = r.GetValue(microBatch);
            if (n < 1 || topK < 1 || reqs < 1 || b < 1) throw new ArgumentException("--history, --k, --requests and --micro-batch must be positive.");
            var sizes = Options.IntList(r.GetValue(corpora)!, "--corpus");
            var counts = string.IsNullOrWhiteSpace(r.GetValue(candidates)) ? [] : Options.IntList(r.GetValue(candidates)!, "--candidates");
            if (sizes.Any(s => s <= topK)) throw new ArgumentException($"--corpus sizes must exceed --k ({topK}).");
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var rng = new Random(r.GetValue(seed));
            manual_seed(r.GetValue(seed));
            // The paper's ML-1M HSTU shape.
            var cfg = new ModelConfig { EmbeddingDim = 50, NumLayers = 2, NumHeads = 1, QkDim = 50, VDim = 50, MaxLength = n, ReservedPositions = 1 };
            Cli.Note($"HSTU D=50, 2 layers, history {n}, top {topK}, {get_num_threads()} threads on {dev.type}");
            var retrieval = new List<object>();
            foreach (int size in sizes)
            {
                using var model = new HstuEncoder(cfg, size + 1);
                model.to(dev);
                model.eval();
                using var corpus = arange(GenRec.Native.Scalars.Of(1L), GenRec.Native.Scalars.Of((long)size + 1), device: dev);
                using var table = WithoutGrad(() => model.NormalizedItems(corpus));
                var total = new List<double>(reqs);
                var encode = new List<double>(reqs);
                long managed = 0;
                for (int i = 0; i < reqs + 10; i++)
                {
                    var (items, times) = History(rng, n, size);
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    var clock = Stopwatch.StartNew();
                    double encoded;
                    long[] top;
                    using (var scope = NewDisposeScope())
                    using (no_grad())
                    {
                        using var batch = SequenceBatch.Create([items], [times], [times[^1] + 60], dev);
                        var user = model.forward(batch)[0, n - 1];
                        encoded = clock.Elapsed.TotalSeconds;
                        var (_, idx) = table.mv(user).topk(topK);
                        top = idx.cpu().data<long>().ToArray();
                    }
                    double secs = clock.Elapsed.TotalSeconds;
                    if (i < 10) continue;
                    managed += GC.GetAllocatedBytesForCurrentThread() - before;
                    total.Add(secs);
                    encode.Add(encoded);
                    if (top.Length != topK) throw new InvalidOperationException("top-k returned the wrong number of items.");
                }
                total.Sort(); encode.Sort();
                double p50 = total[total.Count / 2], p99 = total[(int)(total.Count * 0.99)], e50 = encode[encode.Count / 2];

                // The lean path: the same model and corpus in managed code, caller-owned result buffers.
                var lean = new HstuInference(model, Enumerable.Range(1, size).Select(i => (long)i).ToArray());
                var leanIds = new long[topK];
                var leanScores = new float[topK];
                var leanUser = new float[cfg.EmbeddingDim];
                var leanTotal = new List<double>(reqs);
                var leanEncode = new List<double>(reqs);
                long leanManaged = 0;
                for (int i = 0; i < reqs + 10; i++)
                {
                    var (items, times) = History(rng, n, size);
                    var clock = Stopwatch.StartNew();
                    lean.Encode(items, times, times[^1] + 60, leanUser);
                    double encoded = clock.Elapsed.TotalSeconds;
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    clock.Restart();
                    int got = lean.Recommend(items, times, times[^1] + 60, leanIds, leanScores);
                    double secs = clock.Elapsed.TotalSeconds;
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    if (got != topK) throw new InvalidOperationException("the lean path returned the wrong number of items.");
                    if (i < 10) continue;
                    leanManaged += allocated;
                    leanTotal.Add(secs);
                    leanEncode.Add(encoded);
                }
                leanTotal.Sort(); leanEncode.Sort();
                double l50 = leanTotal[leanTotal.Count / 2], l99 = leanTotal[(int)(leanTotal.Count * 0.99)], le50 = leanEncode[leanEncode.Count / 2];
                foreach (var (path, m50, m99, enc, bytes) in new[] { ("libtorch", p50, p99, e50, managed / reqs), ("lean", l50, l99, le50, leanManaged / reqs) })
                {
                    var row = new { corpus = size, path, p50Ms = m50 * 1000, p99Ms = m99 * 1000, encodeP50Ms = enc * 1000, searchP50Ms = (m50 - enc) * 1000, itemsPerSecond = size / m50, requestsPerSecond = 1 / m50, managedBytesPerRequest = bytes };
                    retrieval.Add(row);
                    if (!r.GetValue(json))
                        Console.WriteLine($"corpus {size,9:N0} {path,-8}: p50 {row.p50Ms,7:F2} ms  p99 {row.p99Ms,7:F2} ms  (encode {row.encodeP50Ms:F2} ms, score + top-{topK} {row.searchP50Ms:F2} ms)  {row.itemsPerSecond,13:N0} items/s  {row.managedBytesPerRequest:N0} managed bytes/request");
                }
            }

            var falconRows = new List<object>();
            if (counts.Length > 0)
            {
                const int items = 10_000;
                using var model = new HstuEncoder(cfg with { MaxLength = n + b }, items);
                model.to(dev);
                model.eval();
                var falcon = new MFalcon(model, dev);
                var (hist, times) = History(rng, n, items - 1);
                var h = new TokenWindow(1, hist, times, 0, times[^1] + 60);
                var leanFalcon = new HstuInference(model);
                foreach (int m in counts)
                {
                    var cands = Enumerable.Range(0, m).Select(_ => 1L + rng.Next(items - 1)).ToArray();
                    var hidden = new float[m * cfg.EmbeddingDim];
                    var secs = new List<double>();
                    var leanSecs = new List<double>();
                    for (int i = 0; i < 6; i++)
                    {
                        var clock = Stopwatch.StartNew();
                        using (var cache = falcon.Encode(h, h.TargetTimestamp))
                        using (var scores = falcon.Score(cache, cands, b)) { }
                        if (i > 0) secs.Add(clock.Elapsed.TotalSeconds);
                        clock.Restart();
                        leanFalcon.ScoreCandidates(h.History, h.HistoryTimestamps, default, default, h.TargetTimestamp, cands, hidden);
                        if (i > 0) leanSecs.Add(clock.Elapsed.TotalSeconds);
                    }
                    secs.Sort(); leanSecs.Sort();
                    double med = secs[secs.Count / 2], leanMed = leanSecs[leanSecs.Count / 2];
                    var row = new { candidates = m, microBatch = b, medianMs = med * 1000, candidatesPerSecond = m / med, leanMedianMs = leanMed * 1000, leanCandidatesPerSecond = m / leanMed };
                    falconRows.Add(row);
                    if (!r.GetValue(json))
                        Console.WriteLine($"M-FALCON {m,5:N0} candidates (history {n}): libtorch (micro-batch {b}) {row.medianMs,8:F2} ms {row.candidatesPerSecond,10:N0} candidates/s   lean {row.leanMedianMs,8:F2} ms {row.leanCandidatesPerSecond,10:N0} candidates/s");
                }
            }
            if (r.GetValue(json)) Cli.PrintJson(new { history = n, k = topK, threads = get_num_threads(), retrieval, mFalcon = falconRows });
            return 0;
        }));
        return cmd;
    }

    private static Tensor WithoutGrad(Func<Tensor> f)
    {
        using var _ = no_grad();
        return f();
    }

    private static (long[] Items, long[] Times) History(Random rng, int n, int items)
    {
        var ids = new long[n];
        var times = new long[n];
        long t = 1_000_000_000;
        for (int i = 0; i < n; i++) { ids[i] = 1 + rng.Next(items); times[i] = t += rng.Next(60, 86_400); }
        return (ids, times);
    }
}
