using System.CommandLine;
using System.Globalization;
using GenRec.Model;
using GenRec.Training;
using Spectre.Console;

namespace GenRec.Cli.Commands;

/// <summary>
/// <c>genrec stream-eval</c>: the streaming protocol (<see cref="StreamingEvaluation"/>) with a frozen model, one-pass
/// streaming updates and a full retrain each period, side by side; a table, and with --out a JSON file and a plot.
/// </summary>
internal static class StreamEvalCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config")
        {
            Description = "Experiment config JSON, e.g. configs/ml-1m/hstu-fast.json.",
            Required = true,
        };
        var data = Options.Data();
        var period = new Option<string>("--period")
        {
            Description = "Length of a period: hour, day, week, or seconds.",
            DefaultValueFactory = _ => "week",
        };
        var initial = new Option<double>("--initial")
        {
            Description = "Share of the events (by time) in the initial span the first model trains on.",
            DefaultValueFactory = _ => 0.8,
        };
        var periods = new Option<int>("--periods")
        {
            Description = "Most periods after the initial span.",
            DefaultValueFactory = _ => 8,
        };
        var epochs = new Option<int?>("--epochs")
        {
            Description = "Epochs of the initial model and of each retrain (default: the config's).",
        };
        var streamEpochs = new Option<int>("--stream-epochs")
        {
            Description = "Passes of a streaming update over its period (1: the paper's one-pass setting).",
            DefaultValueFactory = _ => 1,
        };
        var replay = new Option<double>("--replay")
        {
            Description = "Windows of earlier history mixed into each streaming pass, per window of the new period "
                + "(0: the period's events only).",
            DefaultValueFactory = _ => 0,
        };
        var policies = new Option<string>("--policies")
        {
            Description = "Comma-separated: frozen, streaming, retrain.",
            DefaultValueFactory = _ => "frozen,streaming,retrain",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override any config value (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        var outDir = new Option<string?>("--out") { Description = "Folder for streaming.json and streaming.png." };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("stream-eval", "Streaming evaluation: train on an initial span, then per period "
            + "evaluate every event from the history before it over the items known by then, and learn from the "
            + "period; frozen, one-pass streaming and full-retrain policies side by side, with HR@10 / NDCG@10 overall "
            + "and on new items, and compute.")
        {
            config, data, period, initial, periods, epochs, streamEpochs, replay, policies, set, outDir, device,
            threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var overrides = new List<string>(r.GetValue(set) ?? []);
            if (r.GetValue(epochs) is int e) overrides.Add($"training.epochs={e}");
            var cfg = ExperimentConfig.Load(r.GetValue(config)!, overrides);
            var length = ParsePeriod(r.GetValue(period)!);
            var chosen = r.GetValue(policies)!
                .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(p => Enum.TryParse<StreamingPolicy>(p, ignoreCase: true, out var x) ? x
                    : throw new ArgumentException(
                        $"--policies: '{p}' is not a policy; expected frozen, streaming or retrain."))
                .Distinct().ToList();
            if (r.GetValue(streamEpochs) < 1) throw new ArgumentException("--stream-epochs: expected 1 or more.");
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            using var dataset = Cli.LoadData(r.GetValue(data)!, asJson);
            var protocol = new StreamingEvaluation(cfg, dataset, dev)
            {
                Progress = new Progress<string>(m => Cli.Note(m)),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var report = protocol.Run(length, r.GetValue(initial), r.GetValue(periods), cfg.Training.Epochs,
                r.GetValue(streamEpochs), chosen, r.GetValue(replay));
            if (r.GetValue(outDir) is { } dir)
            {
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "streaming.json"), System.Text.Json.JsonSerializer.Serialize(report,
                    new System.Text.Json.JsonSerializerOptions(Cli.Json) { WriteIndented = true }));
                Plot(report, chosen).SavePng(Path.Combine(dir, "streaming.png"), 900, 560);
            }
            if (asJson) { Cli.PrintJson(report); return 0; }
            Print(report, chosen);
            Console.WriteLine($"done in {clock.Elapsed.TotalSeconds:F0}s");
            return 0;
        }));
        return cmd;
    }

    private static TimeSpan ParsePeriod(string value) => value.ToLowerInvariant() switch
    {
        "hour" => TimeSpan.FromHours(1),
        "day" => TimeSpan.FromDays(1),
        "week" => TimeSpan.FromDays(7),
        var s when long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 =>
            TimeSpan.FromSeconds(n),
        _ => throw new ArgumentException($"--period {value}: expected hour, day, week or a number of seconds."),
    };

    private static void Print(StreamingReport report, IReadOnlyList<StreamingPolicy> policies)
    {
        var table = new Table().AddColumns("period", "start", "scored", "new items", "policy", "HR@10", "NDCG@10",
            "new HR@10", "cold", "cold HR@10");
        foreach (var period in report.Periods)
            foreach (var p in policies)
            {
                var s = period.Scores[p];
                bool first = p == policies[0];
                table.AddRow(
                    first ? period.Index.ToString(CultureInfo.InvariantCulture) : "",
                    first ? period.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "",
                    first ? period.Evaluated.ToString("N0", CultureInfo.InvariantCulture) : "",
                    !first ? "" : period.Evaluated == 0 ? "-"
                        : (period.NewItemTargets / (double)period.Evaluated)
                            .ToString("P1", CultureInfo.InvariantCulture),
                    p.ToString().ToLowerInvariant(),
                    s.Hr10.ToString("F4", CultureInfo.InvariantCulture),
                    s.Ndcg10.ToString("F4", CultureInfo.InvariantCulture),
                    s.NewItemHr10?.ToString("F4", CultureInfo.InvariantCulture) ?? "-",
                    first ? period.ColdTargets.ToString("N0", CultureInfo.InvariantCulture) : "",
                    s.ColdHr10?.ToString("F4", CultureInfo.InvariantCulture) ?? "-");
            }
        AnsiConsole.Write(table);
        foreach (var p in policies)
        {
            double hr = Weighted(report, p, s => s.Hr10);
            var cost = p switch
            {
                StreamingPolicy.Streaming => report.Periods.Aggregate(Cost.Zero, (a, x) => a + x.StreamCost),
                StreamingPolicy.Retrain => report.Periods.Aggregate(Cost.Zero, (a, x) => a + x.RetrainCost),
                _ => Cost.Zero,
            };
            int coldN = report.Periods.Where(x => x.Scores[p].ColdHr10 is not null).Sum(x => x.ColdTargets);
            double coldHr = coldN == 0 ? double.NaN : report.Periods.Where(x => x.Scores[p].ColdHr10 is not null)
                .Sum(x => x.Scores[p].ColdHr10!.Value * x.ColdTargets) / coldN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p,-9}: HR@10 {hr:F4} over all scored events, cold-start HR@10 {coldHr:F4} over {coldN:N0}; "
                + $"updates {cost.Steps:N0} steps, "
                + $"{cost.Tokens:N0} tokens, {cost.Seconds:F0}s"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"initial model: {report.InitialCost.Steps:N0} steps, {report.InitialCost.Tokens:N0} tokens, "
            + $"{report.InitialCost.Seconds:F0}s (events before {report.InitialEnd:yyyy-MM-dd HH:mm})"));
    }

    /// <summary>A metric over all scored events of all periods (periods weighted by their events).</summary>
    internal static double Weighted(StreamingReport report, StreamingPolicy policy,
        Func<StreamingScores, double> metric)
    {
        int n = report.Periods.Sum(p => p.Evaluated);
        return n == 0 ? double.NaN : report.Periods.Sum(p => metric(p.Scores[policy]) * p.Evaluated) / n;
    }

    private static ScottPlot.Plot Plot(StreamingReport report, IReadOnlyList<StreamingPolicy> policies)
    {
        var plot = new ScottPlot.Plot();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        double[] xs = report.Periods.Select(p => (double)p.Index).ToArray();
        foreach (var policy in policies)
        {
            var all = plot.Add.Scatter(xs, report.Periods.Select(p => p.Scores[policy].Hr10).ToArray());
            all.LegendText = $"{policy} HR@10";
            var fresh = report.Periods.Select(p => p.Scores[policy].NewItemHr10 ?? double.NaN).ToArray();
            if (fresh.Any(double.IsFinite))
            {
                var line = plot.Add.Scatter(xs, fresh);
                line.LegendText = $"{policy} HR@10 on new items";
                line.LinePattern = ScottPlot.LinePattern.Dashed;
                line.Color = all.Color;
            }
        }
        plot.Title($"{report.Dataset}: streaming evaluation ({report.Config})");
        plot.XLabel("period");
        plot.YLabel("HR@10");
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        return plot;
    }
}
