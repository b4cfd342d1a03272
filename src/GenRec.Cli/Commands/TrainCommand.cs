using System.CommandLine;
using GenRec.Training;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec train</c>: trains a model from a config on a dataset.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Experiment config JSON, for example configs/ml-1m/hstu.json.", Required = true };
        var data = Options.Data();
        var outDir = new Option<string?>("--out") { Description = "Run folder for metrics.jsonl, checkpoint.ckpt and curves.png (default: runs/NAME-DATASET-TIME)." };
        var epochs = new Option<int?>("--epochs") { Description = "Override training.epochs." };
        var seed = new Option<int?>("--seed") { Description = "Override training.seed." };
        var set = new Option<string[]>("--set") { Description = "Override any config value: --set model.numLayers=4 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("train", "Train a generative retrieval model (HSTU or SASRec) with sampled softmax, evaluating on the leave-one-out split.")
        {
            config, data, outDir, epochs, seed, set, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var overrides = new List<string>(r.GetValue(set) ?? []);
            if (r.GetValue(epochs) is int e) overrides.Add($"training.epochs={e}");
            if (r.GetValue(seed) is int s) overrides.Add($"training.seed={s}");
            var cfg = ExperimentConfig.Load(r.GetValue(config), overrides);
            bool asJson = r.GetValue(json);
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var dataset = Cli.LoadData(r.GetValue(data)!, asJson);
            var dir = r.GetValue(outDir) ?? Path.Combine("runs", $"{cfg.Name}-{dataset.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var trainer = new Trainer(cfg, dataset, dev) { RunDirectory = dir };
            foreach (var note in trainer.Split.Notes) Cli.Note("note: " + note);
            Cli.Note($"training {cfg.Name} ({cfg.Model.Encoder}, {cfg.Model.NumLayers} layers, D={cfg.Model.EmbeddingDim}) for {cfg.Training.Epochs} epochs on {trainer.Split.Train.Count:N0} users; run folder {dir}");
            var results = TrainingView.Run(trainer, asJson);
            var last = results.LastOrDefault();
            var final = results.LastOrDefault(x => x.Metrics is not null)?.Metrics;
            var summary = new
            {
                config = cfg.Name,
                dataset = dataset.Name,
                runDirectory = dir,
                epochs = results.Count,
                wallSeconds = clock.Elapsed.TotalSeconds,
                medianStepSeconds = results.Select(x => x.MedianStepSeconds).DefaultIfEmpty(0).Order().ElementAt(results.Count / 2),
                tokensPerSecond = results.Select(x => x.TokensPerSecond).DefaultIfEmpty(0).Average(),
                peakMemoryMiB = Trainer.PeakMemoryMiB(),
                trainLoss = last?.TrainLoss,
                metrics = final,
            };
            if (asJson) Cli.PrintJson(summary);
            else
            {
                if (final is not null) Spectre.Console.AnsiConsole.Write(Cli.MetricsTable((cfg.Name, final)));
                Console.WriteLine($"done in {summary.wallSeconds:F0}s, {summary.tokensPerSecond:N0} tokens/s, peak memory {summary.peakMemoryMiB:N0} MiB; checkpoint {Path.Combine(dir, "checkpoint.ckpt")}");
            }
            return 0;
        }));
        return cmd;
    }
}
