using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using GenRec.Cli.Commands;
using GenRec.Data;
using GenRec.Model;
using GenRec.Training;
using ScottPlot;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench scaling</c>: training cost as the history length and the catalog grow. Each point runs in a child
/// process of its own (so that its peak memory is its own) on random data of exactly that shape: HSTU at the paper's
/// ML-1M width, a fixed number of tokens per step, and the config's training switches. Prints a table and draws a PNG.
/// </summary>
internal static class BenchScalingCommand
{
    public static Command Create()
    {
        var lengths = new Option<string>("--lengths") { Description = "History lengths to measure (with the smallest catalog).", DefaultValueFactory = _ => "200,512,1024,2048,4096" };
        var catalogs = new Option<string>("--items") { Description = "Catalog sizes to measure (with the shortest length).", DefaultValueFactory = _ => "4000,100000,1000000" };
        var tokens = new Option<int>("--tokens-per-step") { Description = "Tokens per training step; the batch is this divided by the length.", DefaultValueFactory = _ => 16384 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per point.", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 2 };
        var set = new Option<string[]>("--set") { Description = "Training overrides for every point, e.g. --set training.packSequences=true." };
        var plot = new Option<string>("--plot") { Description = "PNG to draw.", DefaultValueFactory = _ => "scaling.png" };
        var one = new Option<string?>("--one") { Description = "Measure one point LENGTH:ITEMS in this process and print JSON (what the parent runs).", Hidden = true };
        var json = Options.Json();
        var threads = Options.Threads();
        var cmd = new Command("scaling", "Training seconds per million tokens and peak memory as the history length (200 → 4,096) and the catalog (4K → 1M items) grow; a table and a PNG plot.")
        {
            lengths, catalogs, tokens, steps, warmup, set, plot, one, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            int perStep = r.GetValue(tokens), n = r.GetValue(steps), w = r.GetValue(warmup);
            if (perStep < 1 || n < 1 || w < 0) throw new ArgumentException("--tokens-per-step and --steps must be positive, --warmup at least 0.");
            var overrides = r.GetValue(set) ?? [];
            if (r.GetValue(one) is { } point)
            {
                var parts = point.Split(':');
                if (parts.Length != 2 || !int.TryParse(parts[0], out int len) || !int.TryParse(parts[1], out int items) || len < 2 || items < 2)
                    throw new ArgumentException($"--one '{point}': expected LENGTH:ITEMS, both at least 2.");
                Cli.Setup("cpu", r.GetValue(threads));
                Cli.PrintJson(Measure(len, items, perStep, n, w, overrides));
                return 0;
            }
            var ls = Options.IntList(r.GetValue(lengths)!, "--lengths", min: 2);
            var vs = Options.IntList(r.GetValue(catalogs)!, "--items", min: 2);
            var points = ls.Select(l => (Length: l, Items: vs.Min())).Concat(vs.Where(v => v != vs.Min()).Select(v => (Length: ls.Min(), Items: v))).ToList();
            var rows = new List<Point>();
            foreach (var (l, v) in points)
            {
                Cli.Note($"length {l:N0}, {v:N0} items …");
                var row = RunChild(l, v, perStep, n, w, overrides, r.GetValue(threads));
                rows.Add(row);
                if (!r.GetValue(json))
                    Console.WriteLine($"length {row.Length,5:N0}  items {row.Items,9:N0}  batch {row.Batch,4}  {row.MedianStepSeconds,7:F3} s/step  {row.TokensPerSecond,9:N0} tokens/s  {row.SecondsPerMillionTokens,7:F1} s per 1M tokens  peak RSS {row.PeakMemoryMiB,7:N0} MiB");
            }
            Draw(r.GetValue(plot)!, rows, ls.Min(), vs.Min());
            if (r.GetValue(json)) Cli.PrintJson(new { tokensPerStep = perStep, steps = n, overrides, points = rows });
            else Console.WriteLine($"plot: {r.GetValue(plot)}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>One measured point.</summary>
    internal sealed record Point(int Length, int Items, int Batch, double MedianStepSeconds, double TokensPerSecond, double SecondsPerMillionTokens, double PeakMemoryMiB);

    private static Point Measure(int length, int items, int perStep, int steps, int warmup, string[] overrides)
    {
        int batch = Math.Max(1, perStep / length);
        int users = batch * (steps + warmup) + 1;
        var rng = new Random(length * 31 + items);
        var events = new List<Interaction>(users * (length + 2));
        for (int u = 1; u <= users; u++)
        {
            long t = 1_000_000_000 + rng.Next(1_000_000);
            // length + 2 events: leave-one-out holds out the last two, which leaves a training sequence of length + 1.
            for (int i = 0; i < length + 2; i++) events.Add(new Interaction(u, 1 + rng.Next(items), 5, t += rng.Next(60, 86_400)));
        }
        // The item table holds the items that occur: users past the timed ones name every other item of the catalog
        // once, so that the table (and its optimiser state) has the catalog's size.
        var seen = new bool[items + 1];
        foreach (var e in events) seen[e.ItemId] = true;
        var unseen = Enumerable.Range(1, items).Where(i => !seen[i]).ToArray();
        for (int start = 0, u = users + 1; start < unseen.Length; start += length + 2, u++)
        {
            long t = 1_000_000_000;
            for (int i = 0; i < length + 2; i++) events.Add(new Interaction(u, unseen[(start + i) % unseen.Length], 5, t += 60));
        }
        using var data = DataSource.FromRatings(new RatingsLog($"random-{length}x{items}", events));
        var cfg = ExperimentConfig.Load(null, overrides);
        cfg = cfg with
        {
            Model = new ModelConfig { EmbeddingDim = 50, NumLayers = 2, NumHeads = 1, QkDim = 50, VDim = 50, MaxLength = length, ReservedPositions = 1, Dropout = 0.2 },
            Training = cfg.Training with { BatchSize = batch, EvalEvery = 0 },
        };
        using var trainer = new Trainer(cfg, data, TorchSharp.torch.CPU);
        var times = TrainingStepTimer.TimeSteps(trainer, warmup, steps);
        var sorted = times.Select(x => x.Seconds).Order().ToArray();
        double tokensPerSecond = times.Sum(x => x.Tokens) / sorted.Sum();
        return new Point(length, items, batch, sorted[sorted.Length / 2], tokensPerSecond, 1e6 / tokensPerSecond, Trainer.PeakMemoryMiB());
    }

    private static Point RunChild(int length, int items, int perStep, int steps, int warmup, string[] overrides, int threads)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path to start a measurement.");
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Under `dotnet GenRec.Cli.dll` the process is dotnet itself: pass the assembly first.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(BenchScalingCommand).Assembly.Location);
        foreach (var a in new[] { "bench", "scaling", "--one", $"{length}:{items}", "--tokens-per-step", $"{perStep}", "--steps", $"{steps}", "--warmup", $"{warmup}", "--threads", $"{threads}" })
            psi.ArgumentList.Add(a);
        foreach (var o in overrides) { psi.ArgumentList.Add("--set"); psi.ArgumentList.Add(o); }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start a measurement process.");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"measuring length {length}, {items} items failed (exit {p.ExitCode}): {stderr.Result.Trim()}");
        return JsonSerializer.Deserialize<Point>(stdout, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidOperationException($"measuring length {length}, {items} items printed no result.");
    }

    private static void Draw(string path, List<Point> rows, int baseLength, int baseItems)
    {
        var multi = new Multiplot();
        multi.AddPlots(2);
        void Panel(Plot plot, List<Point> pts, Func<Point, double> x, string xLabel, string title)
        {
            plot.Title(title);
            plot.XLabel(xLabel);
            plot.YLabel("seconds per 1M training tokens");
            var xs = pts.Select(p => Math.Log10(x(p))).ToArray();
            var time = plot.Add.Scatter(xs, pts.Select(p => p.SecondsPerMillionTokens).ToArray());
            time.LegendText = "s per 1M tokens";
            var mem = plot.Add.Scatter(xs, pts.Select(p => p.PeakMemoryMiB / 1024).ToArray());
            mem.LegendText = "peak RSS (GiB)";
            mem.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "peak RSS (GiB)";
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                pts.Select(p => (Math.Log10(x(p)), x(p).ToString("N0"))).Select(t => new Tick(t.Item1, t.Item2, true)).ToArray());
            plot.ShowLegend(Alignment.UpperLeft);
        }
        Panel(multi.GetPlot(0), rows.Where(p => p.Items == baseItems).OrderBy(p => p.Length).ToList(), p => p.Length, "history length (log scale)", $"HSTU training vs history length ({baseItems:N0} items)");
        Panel(multi.GetPlot(1), rows.Where(p => p.Length == baseLength).OrderBy(p => p.Items).ToList(), p => p.Items, "catalog size (log scale)", $"HSTU training vs catalog size (length {baseLength:N0})");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = path + ".tmp.png";
        multi.SavePng(tmp, 1000, 900);
        File.Move(tmp, path, overwrite: true);
    }
}
