using System.CommandLine;
using GenRec.Cli.Commands;
using GenRec.Model;
using ScottPlot;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench scale-model</c>: a cost model on paper of data-parallel training on many ranks, from rates measured
/// on this machine. Weak scaling: every rank trains <c>--tokens-per-rank</c> tokens per step at the measured compute
/// rate. Per step each rank also (1) exchanges gradients: "dense" all-reduces everything including the item table
/// (ring: 2(N − 1)/N of the buffer), "sparse" all-reduces the encoder and all-gathers the touched item rows ((N − 1)
/// ranks' rows arrive), "sharded" all-reduces the encoder and moves the touched rows by all-to-all (ids out, rows
/// back, gradients out: (N − 1)/N of them cross the network); (2) runs the dense AdamW step over the table rows it
/// holds, bounded by memory bandwidth. Touched rows per rank and step: k = V·(1 − e^(−m/V)) for m = tokens × (1 +
/// negatives) uniform draws. A strategy whose table, gradient and moments do not fit in a host's memory is marked.
/// </summary>
internal static class BenchScaleModelCommand
{
    /// <summary>A workload: catalog size, events of one pass, embedding width.</summary>
    private sealed record Workload(string Name, long Items, double Events, int Dim);

    /// <summary>One projection.</summary>
    private sealed record Row(string Workload, string Strategy, int Ranks, double Gbps, double BytesPerRank,
        double MemoryGiB, bool Fits, double StepSeconds, double TokensPerSecond, double PassHours);

    public static Command Create()
    {
        var config = new Option<string?>("--config")
        {
            Description = "Model config whose encoder is projected (default: the built-in config, the paper's "
                + "ML-1M HSTU shape as in configs/ml-1m/hstu.json)."
        };
        // Defaults: this project's 2-core VM (docs/results/distributed.md): one single-thread rank on ML-1M-U3K with
        // 64 windows per step, and the optimiser time of the sharded 10 M-item run for its 1 GiB of rows.
        var rate = new Option<double>("--compute-tokens-per-second")
        {
            Description = "Measured training rate of one "
            + "rank (without communication), tokens/s.",
            DefaultValueFactory = _ => 14_100
        };
        var perRank = new Option<int>("--tokens-per-rank")
        {
            Description = "Tokens each rank trains per step.",
            DefaultValueFactory = _ => 6_350
        };
        var ranks = new Option<string>("--ranks")
        {
            Description = "Rank counts.",
            DefaultValueFactory = _ => "8,64,512",
        };
        var links = new Option<string>("--gbps")
        {
            Description = "Network links per rank, Gb/s.",
            DefaultValueFactory = _ => "10,25,100"
        };
        var memory = new Option<double>("--memory-gbps")
        {
            Description = "Memory bandwidth of one rank for the "
            + "optimiser step over the table, GB/s.",
            DefaultValueFactory = _ => 3
        };
        var host = new Option<double>("--host-gib")
        {
            Description = "Memory of one rank's host, GiB.",
            DefaultValueFactory = _ => 512
        };
        var latency = new Option<double>("--latency-us")
        {
            Description = "Per-message latency, µs.",
            DefaultValueFactory = _ => 5
        };
        var check = new Option<string[]>("--check")
        {
            Description = "A measured exchange to compare with the model: STRATEGY:RANKS:ITEMS:TOKENS_PER_RANK:MIB "
                + "(MiB sent per rank per step, as genrec train --json and genrec bench item-table report); "
                + "repeatable.",
        };
        var plot = new Option<string>("--plot")
        {
            Description = "PNG to draw.",
            DefaultValueFactory = _ => "scale-model.png",
        };
        var cmd = new Command("scale-model", "Project data-parallel training to many ranks and links (dense "
            + "all-reduce, sparse item rows, sharded item table) from rates measured here: bytes, memory, tokens/s.")
        {
            config, rate, perRank, ranks, links, memory, host, latency, check, plot,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var cfg = ExperimentConfig.Load(r.GetValue(config), []);
            var rankCounts = Options.IntList(r.GetValue(ranks)!, "--ranks");
            var gbps = r.GetValue(links)!.Split(',').Select(s => double.TryParse(s.Trim(),
                System.Globalization.CultureInfo.InvariantCulture, out double g) && g > 0 ? g
                : throw new ArgumentException($"--gbps: '{s}' is not a positive number of Gb/s.")).ToArray();
            using var encoder = SequenceEncoder.Create(cfg.Model, 1);
            long denseBytes = encoder.named_parameters().Where(p => p.name != "items.weight")
                .Sum(p => p.parameter.NumberOfElements) * sizeof(float);
            var workloads = new[]
            {
                new Workload("ML-1M (3,706 items, 1M events)", 3_706, 1e6, cfg.Model.EmbeddingDim),
                new Workload("100M items, 1B events", 100_000_000, 1e9, cfg.Model.EmbeddingDim),
            };
            var rows = new List<Row>();
            foreach (var w in workloads)
                foreach (int n in rankCounts)
                    foreach (double g in gbps)
                        foreach (var s in new[] { "dense", "sparse", "sharded" })
                            rows.Add(Project(w, s, n, g, denseBytes, cfg.Training.NumNegatives, r.GetValue(perRank),
                                r.GetValue(rate), r.GetValue(memory), r.GetValue(host), r.GetValue(latency)));
            Console.WriteLine($"encoder {cfg.Model.Encoder}, D = {cfg.Model.EmbeddingDim}, dense parameters "
                + $"{denseBytes / 1024.0:N0} KiB, {cfg.Training.NumNegatives} negatives, {r.GetValue(perRank):N0} "
                + $"tokens per rank per step at {r.GetValue(rate):N0} tokens/s per rank");
            foreach (var c in r.GetValue(check) ?? [])
            {
                var f = c.Split(':');
                if (f.Length != 5 || f[0] is not ("dense" or "sparse" or "sharded") || !int.TryParse(f[1], out int cn)
                    || !long.TryParse(f[2], out long cv) || !int.TryParse(f[3], out int ct)
                    || !double.TryParse(f[4], System.Globalization.CultureInfo.InvariantCulture, out double mib))
                    throw new ArgumentException($"--check '{c}': expected STRATEGY:RANKS:ITEMS:TOKENS_PER_RANK:MIB, "
                        + "for example sharded:2:10000000:3300:79.5.");
                var p = Project(new Workload("check", cv, 0, cfg.Model.EmbeddingDim), f[0], cn, 100, denseBytes,
                    cfg.Training.NumNegatives, ct, r.GetValue(rate), r.GetValue(memory), r.GetValue(host),
                    r.GetValue(latency));
                double model = p.BytesPerRank / (1 << 20);
                Console.WriteLine($"check {f[0]}, {cn} ranks, {cv:N0} items, {ct:N0} tokens per rank: model "
                    + $"{model:N2} MiB per rank per step, measured {mib:N2} MiB ({model / mib - 1:+0.0%;-0.0%})");
            }
            Console.WriteLine($"{"workload",-32} {"strategy",-8} {"ranks",5} {"Gb/s",5} {"MiB/step/rank",13} "
                + $"{"GiB/rank",9} {"s/step",8} {"tokens/s",14} {"one pass",10}");
            foreach (var row in rows)
                Console.WriteLine($"{row.Workload,-32} {row.Strategy,-8} {row.Ranks,5} {row.Gbps,5} "
                    + $"{row.BytesPerRank / (1 << 20),13:N1} {row.MemoryGiB,9:N1} "
                    + (row.Fits ? $"{row.StepSeconds,8:F3} {row.TokensPerSecond,14:N0} {Hours(row.PassHours),10}"
                        : $"{"does not fit in one host",34}"));
            foreach (var w in workloads)
                foreach (var g in gbps)
                {
                    // Strategies within 1 % of the fastest are listed together: the model cannot tell them apart.
                    var best = rows.Where(x => x.Workload == w.Name && x.Gbps == g && x.Fits).GroupBy(x => x.Ranks)
                        .Select(grp => (Ranks: grp.Key, Winners: grp.Where(x => x.TokensPerSecond
                            >= 0.99 * grp.Max(y => y.TokensPerSecond)).Select(x => x.Strategy)));
                    Console.WriteLine($"best at {g} Gb/s, {w.Name}: " + string.Join(", ", best.Select(b =>
                        $"{b.Ranks} ranks {string.Join(" = ", b.Winners)}")));
                }
            Draw(r.GetValue(plot)!, rows, workloads, gbps);
            Console.WriteLine($"plot {r.GetValue(plot)}");
            return 0;
        }));
        return cmd;
    }

    private static string Hours(double h) => h < 1 ? $"{h * 60:F1} min" : $"{h:F1} h";

    /// <summary>Touched rows per rank and step: distinct ids among m uniform draws from v items.</summary>
    internal static double Touched(double v, double m) => v * -double.ExpM1(-m / v);

    private static Row Project(Workload w, string strategy, int n, double gbps, long denseBytes, int negatives,
        int tokens, double rate, double memoryGbps, double hostGiB, double latencyUs)
    {
        double d = w.Dim, table = w.Items * d * sizeof(float);
        double k = Touched(w.Items, (double)tokens * (1 + negatives));
        double ring = 2.0 * (n - 1) / n;
        double alpha = latencyUs * 1e-6;
        (double bytes, double messages, double heldRows) = strategy switch
        {
            "dense" => (ring * (denseBytes + table), 2.0 * (n - 1), w.Items),
            "sparse" => (ring * denseBytes + (n - 1) * k * (4 * d + 8), 2.0 * (n - 1) + (n - 1), w.Items),
            _ => (ring * denseBytes + (n - 1.0) / n * k * (8 * d + 8), 2.0 * (n - 1) + 3.0 * (n - 1),
                (double)w.Items / n),
        };
        // Replicated: weights, gradient, two moments; sharded: weights and moments of 1/N, plus the step's rows and
        // their gradient.
        double memory = strategy == "sharded" ? 3 * heldRows * d * 4 + 2 * k * d * 4 : 4 * table;
        double optimiser = heldRows * d * 4 * 7 / (memoryGbps * 1e9);
        double step = tokens / rate + optimiser + bytes / (gbps * 1e9 / 8) + messages * alpha;
        double tokensPerSecond = n * tokens / step;
        return new Row(w.Name, strategy, n, gbps, bytes, (memory + denseBytes * 4) / (1L << 30),
            memory / (1L << 30) <= hostGiB, step, tokensPerSecond, w.Events / tokensPerSecond / 3600);
    }

    private static void Draw(string path, List<Row> rows, Workload[] workloads, double[] gbps)
    {
        var multi = new Multiplot();
        multi.AddPlots(workloads.Length);
        for (int i = 0; i < workloads.Length; i++)
        {
            var plot = multi.GetPlot(i);
            plot.Title($"projected training rate: {workloads[i].Name}");
            plot.XLabel("ranks (log scale)");
            plot.YLabel("tokens/s (log10)");
            foreach (var strategy in new[] { "dense", "sparse", "sharded" })
                foreach (var g in gbps)
                {
                    var pts = rows.Where(r => r.Workload == workloads[i].Name && r.Strategy == strategy
                        && r.Gbps == g && r.Fits).OrderBy(r => r.Ranks).ToList();
                    if (pts.Count == 0) continue;
                    var line = plot.Add.Scatter(pts.Select(p => Math.Log10(p.Ranks)).ToArray(),
                        pts.Select(p => Math.Log10(p.TokensPerSecond)).ToArray());
                    line.LegendText = $"{strategy}, {g} Gb/s";
                }
            var ticks = rows.Select(r => r.Ranks).Distinct().Order()
                .Select(n => new Tick(Math.Log10(n), n.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    true)).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
            plot.ShowLegend(Alignment.UpperLeft);
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = path + ".tmp.png";
        multi.SavePng(tmp, 1000, 900);
        File.Move(tmp, path, overwrite: true);
    }
}
