using System.CommandLine;
using GenRec.Model;
using GenRec.Training;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec train</c>: trains a model from a config on a dataset.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Experiment config JSON, for example configs/ml-1m/hstu.json (not with --resume: the run's own config is used)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its checkpoint (same weights as an uninterrupted run); --epochs may extend it." };
        var data = Options.Data();
        var outDir = new Option<string?>("--out") { Description = "Run folder for metrics.jsonl, checkpoint.ckpt and curves.png (default: runs/NAME-DATASET-TIME)." };
        var epochs = new Option<int?>("--epochs") { Description = "Override training.epochs." };
        var seed = new Option<int?>("--seed") { Description = "Override training.seed." };
        var set = new Option<string[]>("--set") { Description = "Override any config value: --set model.numLayers=4 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var selectBy = new Option<string?>("--select-by")
        {
            Description = "Model selection: hold out the last two items, evaluate on the second-to-last (validation) "
                + "each evaluation, keep the best epoch by this metric (hr@10, ndcg@10, hr@50, ndcg@50, hr@200, ndcg@200, "
                + "mrr) in best.ckpt, and report the last item (test) once, at that epoch. Sets training.selectBy and "
                + "training.split=validation.",
        };
        var patience = new Option<int?>("--patience")
        {
            Description = "With --select-by: stop after this many evaluations without a better validation value "
                + "(training.patience; 0 trains every epoch).",
        };
        var events = new Option<string?>("--events")
        {
            Description = "With --resume: train on the events that arrived after the run's watermark (incremental "
                + "training): a file with a header user,item,timestamp that only grows at its end, or the service's "
                + "store (sqlite:PATH, redis:HOST:PORT). One update per call; exactly once across crashes.",
        };
        var passes = new Option<int>("--passes")
        {
            Description = "With --events: passes over the new events (1: the one-pass streaming setting).",
            DefaultValueFactory = _ => 1,
        };
        var replay = new Option<double>("--replay")
        {
            Description = "With --events: windows of earlier history mixed in per new window (0: none).",
        };
        var maxEvents = new Option<int>("--max-events")
        {
            Description = "With --events: most new events one update takes (0: all).",
        };
        var checkpointEvery = new Option<int>("--checkpoint-every")
        {
            Description = "With --events: steps between checkpoints inside an update.",
            DefaultValueFactory = _ => 1,
        };
        var publish = new Option<string?>("--publish")
        {
            Description = "With --events: publish each updated model into this folder (model-WATERMARK.ckpt, "
                + "written atomically) for genrec serve --watch.",
        };
        var keep = new Option<int>("--keep")
        {
            Description = "With --publish: published models kept.",
            DefaultValueFactory = _ => 3,
        };
        var capacity = new Option<int?>("--item-capacity")
        {
            Description = "With --events: most rows of the item table (training.itemCapacity; 0: no bound); past it "
                + "the least recently seen added items are evicted.",
        };
        var minItemEvents = new Option<int?>("--min-item-events")
        {
            Description = "With --events: events a new item needs before it gets a row (training.minItemEvents).",
        };
        var items = new Option<string?>("--items")
        {
            Description = "With --events: new items with their side features (header: item, then the dataset's item "
                + "features; values separated by |), listed at this update before anyone chose them (cold start).",
        };
        var skipBad = Options.SkipBadRows();
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("train", "Train a generative retrieval model (HSTU or SASRec) with sampled softmax, evaluating on the leave-one-out split.")
        {
            config, data, skipBad, outDir, resume, epochs, seed, set, selectBy, patience, events, passes, replay,
            maxEvents, checkpointEvery, publish, keep, capacity, minItemEvents, items, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var overrides = new List<string>(r.GetValue(set) ?? []);
            if (r.GetValue(epochs) is int e) overrides.Add($"training.epochs={e}");
            if (r.GetValue(seed) is int s) overrides.Add($"training.seed={s}");
            if (r.GetValue(selectBy) is { } metric)
                overrides.AddRange([$"training.selectBy={metric}", "training.split=validation"]);
            if (r.GetValue(patience) is int p) overrides.Add($"training.patience={p}");
            var resumeDir = r.GetValue(resume);
            if (r.GetValue(events) is { } eventLog)
            {
                if (resumeDir is null)
                    throw new ArgumentException("--events continues a run: give its folder with --resume RUN_DIR.");
                if (r.GetValue(config) is not null || r.GetValue(set) is { Length: > 0 }
                    || r.GetValue(epochs) is not null || r.GetValue(seed) is not null
                    || r.GetValue(outDir) is not null || r.GetValue(selectBy) is not null
                    || r.GetValue(patience) is not null)
                    throw new ArgumentException("--events trains the run's model on new events with the run's config; "
                        + "--config, --set, --epochs, --seed, --out, --select-by and --patience do not apply.");
                return IncrementalTrain.Run(resumeDir, r.GetValue(data)!, eventLog, r.GetValue(items),
                    new IncrementalOptions
                    {
                        Passes = r.GetValue(passes),
                        Replay = r.GetValue(replay),
                        MaxEvents = r.GetValue(maxEvents),
                        CheckpointEvery = r.GetValue(checkpointEvery),
                        PublishDirectory = r.GetValue(publish),
                        KeepPublished = r.GetValue(keep),
                        ItemCapacity = r.GetValue(capacity),
                        MinItemEvents = r.GetValue(minItemEvents),
                    }, Cli.Setup(r.GetValue(device)!, r.GetValue(threads)), r.GetValue(json));
            }
            if (r.GetValue(items) is not null || r.GetValue(publish) is not null || r.GetValue(capacity) is not null
                || r.GetValue(minItemEvents) is not null || r.GetValue(maxEvents) != 0 || r.GetValue(replay) != 0
                || r.GetValue(passes) != 1)
                throw new ArgumentException("--items, --publish, --item-capacity, --min-item-events, --max-events, "
                    + "--replay and --passes apply to incremental training: add --events LOG (with --resume RUN).");
            ExperimentConfig cfg;
            if (resumeDir is not null)
            {
                if (r.GetValue(config) is not null || r.GetValue(set) is { Length: > 0 } || r.GetValue(seed) is not null
                    || r.GetValue(outDir) is not null || r.GetValue(selectBy) is not null
                    || r.GetValue(patience) is not null)
                    throw new ArgumentException("--resume continues a run with its own config and folder; only --epochs (and --data, --device, --threads) may be given with it.");
                var ckpt = Path.Combine(resumeDir, "checkpoint.ckpt");
                if (!File.Exists(ckpt)) throw new FileNotFoundException($"{ckpt}: no checkpoint to resume from; a run writes one at the end of each epoch (and every training.checkpointEvery steps).", ckpt);
                cfg = Checkpoint.ReadHeader(ckpt).Config;
                if (r.GetValue(epochs) is int more) cfg = cfg with { Training = cfg.Training with { Epochs = more } };
            }
            else cfg = ExperimentConfig.Load(r.GetValue(config) ?? throw new ArgumentException("--config is required (or --resume RUN_DIR to continue a run)."), overrides);
            bool asJson = r.GetValue(json);
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            // Under mpirun: data-parallel training (docs/distributed.md); rank 0 writes the run folder and reports.
            bool mpi = GenRec.Native.Mpi.Launched;
            if (mpi && resumeDir is null && r.GetValue(outDir) is null)
                throw new ArgumentException("under mpirun every rank must name the same run folder: give --out DIR.");
            if (!mpi) return Train(cfg, asJson, false);
            return Cli.RunRank(() =>
            {
                bool silent = GenRec.Native.Mpi.Rank != 0;
                return Train(cfg, asJson || silent, silent);
            });

            int Train(ExperimentConfig cfg, bool asJson, bool silent)
            {
                var dataset = Cli.LoadData(r.GetValue(data)!, asJson, r.GetValue(skipBad));
                var dir = resumeDir ?? r.GetValue(outDir) ?? Path.Combine("runs", $"{cfg.Name}-{dataset.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                using var trainer = new Trainer(cfg, dataset, dev) { RunDirectory = dir };
                foreach (var note in trainer.Split.Notes) Cli.Note("note: " + note);
                if (resumeDir is not null)
                {
                    trainer.Resume();
                    Cli.Note($"resuming {dir} after epoch {trainer.EpochsDone}{(trainer.StepsIntoEpoch > 0 ? $", step {trainer.StepsIntoEpoch} of epoch {trainer.EpochsDone + 1}" : "")}");
                }
                Cli.Note($"training {cfg.Name} ({cfg.Model.Encoder}, {cfg.Model.NumLayers} layers, D={cfg.Model.EmbeddingDim}) for {cfg.Training.Epochs} epochs on {trainer.Split.Train.Count:N0} users; run folder {dir}");
                if (cfg.Training.Selects)
                    Cli.Note("evaluating on the validation item (second-to-last); keeping the best epoch by "
                        + cfg.Training.SelectBy
                        + (cfg.Training.Patience > 0
                            ? $", stopping after {cfg.Training.Patience} evaluations without a better one" : "")
                        + "; the test item is evaluated once, at the end");
                var results = TrainingView.Run(trainer, asJson);
                if (trainer.Interrupted)
                {
                    Console.Error.WriteLine($"genrec: stopped after epoch {trainer.EpochsDone}{(trainer.StepsIntoEpoch > 0 ? $", step {trainer.StepsIntoEpoch} of epoch {trainer.EpochsDone + 1}" : "")}; checkpoint written. Continue with: genrec train --resume {dir} --data {r.GetValue(data)}");
                    return 130;
                }
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
                    metrics = trainer.Selection?.Test ?? final,
                    ranks = mpi ? GenRec.Native.Mpi.Size : 1,
                    communicationSeconds = trainer.CommunicationSeconds,
                    gradientBytesPerStep = trainer.GradientBytesPerStep,
                    selection = trainer.Selection,
                };
                if (silent) return 0;
                if (asJson) Cli.PrintJson(summary);
                else if (trainer.Selection is { } chosen)
                {
                    Spectre.Console.AnsiConsole.Write(
                        Cli.MetricsTable(("validation", chosen.Validation), ("test", chosen.Test)));
                    Console.WriteLine($"selected epoch {chosen.BestEpoch} of {chosen.EpochsTrained} by validation "
                        + $"{chosen.SelectBy} {SelectionResult.Value(cfg.Training.SelectBy, chosen.Validation):F4}"
                        + (chosen.StoppedEarly
                            ? $" (stopped early: no better value in {cfg.Training.Patience} evaluations)" : "")
                        + $"; model {Path.Combine(dir, "best.ckpt")}, test metrics in "
                        + $"{Path.Combine(dir, "selection.json")}");
                    Console.WriteLine($"done in {summary.wallSeconds:F0}s, {summary.tokensPerSecond:N0} tokens/s, "
                        + $"peak memory {summary.peakMemoryMiB:N0} MiB");
                }
                else
                {
                    if (final is not null) Spectre.Console.AnsiConsole.Write(Cli.MetricsTable((cfg.Name, final)));
                    Console.WriteLine($"done in {summary.wallSeconds:F0}s, {summary.tokensPerSecond:N0} tokens/s, peak memory {summary.peakMemoryMiB:N0} MiB; checkpoint {Path.Combine(dir, "checkpoint.ckpt")}");
                }
                return 0;
            }
        }));
        return cmd;
    }
}
