using System.CommandLine;
using System.Diagnostics;
using GenRec.Cli.Commands;
using GenRec.Data;
using GenRec.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GenRec.Cli.Bench;

/// <summary><c>genrec bench …</c>: benchmarks that print rates and ratios measured side by side in one run.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks (they print measured times and ratios; nothing is hard-coded).");
        bench.Subcommands.Add(MFalconCommand());
        bench.Subcommands.Add(BenchServeCommand.Create());
        bench.Subcommands.Add(BenchSearchCommand.Create());
        bench.Subcommands.Add(BenchTrainCommand.Create());
        bench.Subcommands.Add(BenchAttentionCommand.Create());
        bench.Subcommands.Add(BenchInferCommand.Create());
        bench.Subcommands.Add(BenchScalingCommand.Create());
        bench.Subcommands.Add(BenchAllreduceCommand.Create());
        bench.Subcommands.Add(BenchItemTableCommand.Create());
        bench.Subcommands.Add(BenchScaleModelCommand.Create());
        return bench;
    }

    private static Command MFalconCommand()
    {
        var history = new Option<int>("--history") { Description = "History length n (items).", DefaultValueFactory = _ => 200 };
        var candidates = new Option<int>("--candidates") { Description = "Candidates m to score.", DefaultValueFactory = _ => 1024 };
        var microBatch = new Option<int>("--micro-batch") { Description = "Candidates per micro-batch b.", DefaultValueFactory = _ => 128 };
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions of the faster methods (the median is reported).", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Random seed for the model and data.", DefaultValueFactory = _ => 1 };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("mfalcon", "Score m candidates for one history three ways — one full forward per candidate, micro-batches without a cache, M-FALCON with the key/value cache — and print the times, ratios and the largest score difference.")
        {
            history, candidates, microBatch, repeats, seed, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            int n = r.GetValue(history), m = r.GetValue(candidates), b = r.GetValue(microBatch), reps = r.GetValue(repeats);
            if (n < 1 || m < 1 || b < 1 || reps < 1) throw new ArgumentException("--history, --candidates, --micro-batch and --repeats must be positive.");
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            manual_seed(r.GetValue(seed));
            // The paper's ML-1M HSTU shape; the padded length fits history + one micro-batch for the uncached variant.
            var cfg = new ModelConfig { EmbeddingDim = 50, NumLayers = 2, NumHeads = 1, QkDim = 50, VDim = 50, MaxLength = n + b, ReservedPositions = 1 };
            const int items = 10_000;
            using var model = new HstuEncoder(cfg, items);
            model.to(dev);
            model.eval();
            var rng = new Random(r.GetValue(seed));
            long t = 1_000_000_000;
            var times = new long[n];
            for (int i = 0; i < n; i++) times[i] = t += rng.Next(60, 86_400);
            var h = new TokenWindow(1, Enumerable.Range(0, n).Select(_ => 1L + rng.Next(items - 1)).ToArray(), times, 0, t);
            var cands = Enumerable.Range(0, m).Select(_ => 1L + rng.Next(items - 1)).ToArray();
            long req = t + 3600;
            var falcon = new MFalcon(model, dev);

            Tensor OneByOne()
            {
                using var _ = no_grad();
                var rows = new List<Tensor>(m);
                foreach (var c in cands)
                {
                    using var batch = SequenceBatch.Create([[.. h.History, c]], [[.. h.HistoryTimestamps, req]], [req], dev);
                    using var o = model.forward(batch);
                    rows.Add(o[0, -1].clone());
                }
                var all = stack(rows);
                foreach (var x in rows) x.Dispose();
                return all;
            }
            Tensor Cached()
            {
                using var cache = falcon.Encode(h, req);
                return falcon.Score(cache, cands, b);
            }
            Tensor Uncached() => falcon.ScoreWithoutCache(h, req, cands, b);

            Cli.Note($"history {n}, candidates {m}, micro-batch {b}, HSTU D=50 2 layers, {TorchSharp.torch.get_num_threads()} threads on {dev.type}");
            // Warm-up: allocator and kernels, on a slice of the work.
            using (var w = falcon.ScoreWithoutCache(h, req, cands[..Math.Min(b, m)], b)) { }
            using (var w = Cached()) { }
            var (oneSeconds, reference) = Time(OneByOne);
            var (uncachedSeconds, uncached) = Median(reps, Uncached);
            var (cachedSeconds, cached) = Median(reps, Cached);
            double diffCached = cached.sub(reference).abs().max().item<float>();
            double diffUncached = uncached.sub(reference).abs().max().item<float>();
            reference.Dispose(); cached.Dispose(); uncached.Dispose();
            var result = new
            {
                history = n,
                candidates = m,
                microBatch = b,
                threads = TorchSharp.torch.get_num_threads(),
                maxAbsDiffCached = diffCached,
                maxAbsDiffUncached = diffUncached,
                perCandidateSeconds = oneSeconds,
                microBatchNoCacheSeconds = uncachedSeconds,
                mFalconSeconds = cachedSeconds,
                speedupVsPerCandidate = oneSeconds / cachedSeconds,
                speedupVsNoCache = uncachedSeconds / cachedSeconds,
                candidatesPerSecond = m / cachedSeconds,
            };
            if (r.GetValue(json)) { Cli.PrintJson(result); return 0; }
            Console.WriteLine($"max |score difference| vs one full forward per candidate: M-FALCON {diffCached:E2}, micro-batches without cache {diffUncached:E2}");
            Console.WriteLine($"one full forward per candidate ({m} passes of {n + 1} tokens):     {oneSeconds * 1000,9:F1} ms");
            Console.WriteLine($"micro-batches of {b} without cache ({(m + b - 1) / b} passes of {n + b} tokens):  {uncachedSeconds * 1000,9:F1} ms");
            Console.WriteLine($"M-FALCON (history once, cached keys/values, {b} per micro-batch):  {cachedSeconds * 1000,9:F1} ms  ({m / cachedSeconds:N0} candidates/s)");
            Console.WriteLine($"M-FALCON speed-up: {oneSeconds / cachedSeconds:F1}x over per-candidate scoring, {uncachedSeconds / cachedSeconds:F1}x over micro-batching without the cache");
            return 0;
        }));
        return cmd;
    }

    private static (double Seconds, Tensor Result) Time(Func<Tensor> run)
    {
        var sw = Stopwatch.StartNew();
        var t = run();
        return (sw.Elapsed.TotalSeconds, t);
    }

    private static (double Seconds, Tensor Result) Median(int repeats, Func<Tensor> run)
    {
        var secs = new List<double>();
        Tensor? last = null;
        for (int i = 0; i < repeats; i++)
        {
            last?.Dispose();
            (double s, last) = Time(run);
            secs.Add(s);
        }
        secs.Sort();
        return (secs[secs.Count / 2], last!);
    }
}
