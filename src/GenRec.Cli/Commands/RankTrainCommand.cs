using System.CommandLine;
using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using GenRec.Training;
using Spectre.Console;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec rank-train</c>: trains and evaluates a ranking model (HSTU interleaved or summed, or the DLRM baseline) on a prepared folder.</summary>
internal static class RankTrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Experiment config JSON with a ranking section, for example configs/ml-1m/rank-hstu.json.", Required = true };
        var data = new Option<string>("--data") { Description = "A prepared folder (genrec prepare) whose schema has actions.", Required = true };
        var variant = new Option<string?>("--variant") { Description = "Override ranking.variant: interleaved, summed or dlrm." };
        var epochs = new Option<int?>("--epochs") { Description = "Override training.epochs." };
        var set = new Option<string[]>("--set") { Description = "Override any config value (repeatable)." };
        var output = new Option<string?>("--out") { Description = "Write the trained model to this checkpoint file (for genrec rank)." };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("rank-train", "Train a generative ranking model on the last-N-candidates user split and report AUC, GAUC, NE and log loss per task (MSE for regression tasks).")
        {
            config, data, variant, epochs, set, output, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var overrides = new List<string>(r.GetValue(set) ?? []);
            if (r.GetValue(epochs) is int e) overrides.Add($"training.epochs={e}");
            if (r.GetValue(variant) is { } v) overrides.Add($"ranking.variant={v}");
            var cfg = ExperimentConfig.Load(r.GetValue(config), overrides);
            bool asJson = r.GetValue(json);
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var path = r.GetValue(data)!;
            if (!PreparedDataset.IsPrepared(path)) throw new ArgumentException($"--data {path}: ranking reads a prepared folder; run genrec prepare with a schema that has actions.");
            using var dataset = PreparedDataset.Open(path);
            var rc = cfg.Ranking;
            // The window counts stored tokens (one per item); interleaving then adds one action token per item.
            int contextual = dataset.Features.TokenKinds.Count(k => k.Role == "contextual");
            var split = RankingSplit.Create(dataset, rc.HistoryItems + contextual, rc.Candidates, rc.SplitSeed, rc.TestFraction);
            Cli.Note($"{dataset.Name}: {split.Train.Count:N0} train users, {split.Test.Count:N0} test users, {rc.Candidates} candidates each; tasks {string.Join(", ", split.Tasks.Select(t => t.Name + (t.IsRegression ? " (regression)" : "")))}; variant {rc.Variant}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var trainer = new RankingTrainer(cfg, dataset, split, dev);
            trainer.EpochCompleted = (ep, loss, secs) => (asJson ? Console.Error : Console.Out).WriteLine($"epoch {ep,3}  loss {loss:F4}  {secs:F1}s");
            trainer.Run();
            double trainSeconds = clock.Elapsed.TotalSeconds;
            var evalClock = System.Diagnostics.Stopwatch.StartNew();
            var result = trainer.Evaluate();
            if (r.GetValue(output) is { } outPath)
            {
                trainer.Save(outPath, dataset, cfg.Training.Epochs, result);
                Cli.Note($"wrote {outPath}");
            }
            var summary = new { config = cfg.Name, dataset = dataset.Name, variant = rc.Variant, trainUsers = split.Train.Count, testUsers = split.Test.Count, epochs = cfg.Training.Epochs, trainSeconds, evalSeconds = evalClock.Elapsed.TotalSeconds, result.Binary, result.Mse };
            if (asJson) { Cli.PrintJson(summary); return 0; }
            var t = new Spectre.Console.Table().AddColumns("task", "AUC", "GAUC", "NE", "log loss", "base rate");
            foreach (var (name, m) in result.Binary) t.AddRow(Spectre.Console.Markup.Escape(name), F(m.Auc), F(m.Gauc), F(m.Ne), F(m.LogLoss), F(m.BaseRate));
            foreach (var (name, mse) in result.Mse) t.AddRow(Spectre.Console.Markup.Escape(name) + " (MSE)", F(mse), "", "", "", "");
            Spectre.Console.AnsiConsole.Write(t);
            Console.WriteLine($"{rc.Variant}: trained {trainSeconds:F0}s, evaluated {result.Users:N0} test users in {summary.evalSeconds:F1}s");
            return 0;
        }));
        return cmd;
        static string F(double v) => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
    }
}
