using System.CommandLine;
using GenRec.Data;
using GenRec.Evaluation;
using GenRec.Inference;
using GenRec.Model;
using GenRec.Training;

namespace GenRec.Cli.Commands;

/// <summary>
/// <c>genrec demo</c>: the whole pipeline with nothing to download. Generates a dataset with real sequential
/// structure, trains a small HSTU for about a minute, compares it with the most-popular baseline and recommends.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The demo's model: the paper's HSTU at a size that trains in about a minute on 2 cores.</summary>
    public static ExperimentConfig Config(int epochs) => new()
    {
        Name = "hstu-demo",
        Model = new ModelConfig { EmbeddingDim = 48, NumLayers = 2, NumHeads = 2, QkDim = 24, VDim = 24, MaxLength = 100, Dropout = 0.2 },
        Training = new TrainingConfig { Epochs = epochs, BatchSize = 128, NumNegatives = 64, Seed = 42, EvalEvery = 0 },
    };

    public static Command Create()
    {
        var outDir = new Option<string?>("--out") { Description = "Keep the generated dataset (ratings.csv) and the run (checkpoint, metrics, curves) in this folder." };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 30 };
        var json = Options.Json();
        var threads = Options.Threads();
        var device = Options.Device();
        var cmd = new Command("demo", "Generate a synthetic dataset, train HSTU for about a minute, compare with most-popular and recommend (no files, no network).")
        {
            outDir, epochs, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var log = SyntheticData.Generate();
            var dir = r.GetValue(outDir);
            if (dir is not null) WriteCsv(log, Path.Combine(dir, "ratings.csv"));
            if (!asJson) Console.WriteLine($"generated {log.Users.Count:N0} users, {log.Corpus.Length:N0} items, {log.NumEvents:N0} events (drifting interests, Zipf popularity, series-like order, 10% negative ratings)");
            using var data = DataSource.FromRatings(log);

            var cfg = Config(r.GetValue(epochs));
            // The run folder always exists (a temporary one without --out): the demo recommends from its checkpoint
            // through the same pipeline as genrec recommend and the service.
            var run = dir is null ? Directory.CreateTempSubdirectory("genrec-demo-").FullName : Path.Combine(dir, "run");
            using var cleanup = new TemporaryFolder(dir is null ? run : null);
            using var trainer = new Trainer(cfg, data, dev) { RunDirectory = run };
            var results = TrainingView.Run(trainer, asJson);
            var hstu = results.Last().Metrics!;
            var pop = PopularityBaseline.Evaluate(trainer.Split.Eval, data.Corpus, PopularityBaseline.Counts(trainer.Split.Train));

            var user = data.UserKey(0);
            var history = data.Latest(user, cfg.Model.MaxLength, cfg.Features)!;
            using var pipeline = RecommendationPipeline.Load(data, Path.Combine(run, "checkpoint.ckpt"), null, dev);
            var items = pipeline.Retrieve(history, 10, history.HistoryItems.ToHashSet());
            if (asJson)
            {
                Cli.PrintJson(new { hstu, popularity = pop, wallSeconds = clock.Elapsed.TotalSeconds, user, recommendations = items.Select(i => new { item = data.ItemKey(i.Item), score = i.Score, title = data.Describe(i.Item) }) });
                return 0;
            }
            Spectre.Console.AnsiConsole.Write(Cli.MetricsTable(("HSTU", hstu), ("most popular", pop)));
            Console.WriteLine($"HSTU HR@10 is {hstu.Hr10 / Math.Max(pop.Hr10, 1e-9):F1}x and NDCG@10 {hstu.Ndcg10 / Math.Max(pop.Ndcg10, 1e-9):F1}x the most-popular baseline ({clock.Elapsed.TotalSeconds:F0}s in all).");
            RecommendCommand.Print(new GenRec.Data.ItemCatalog(data), user, history, items, asJson: false);
            if (dir is not null) Console.WriteLine($"kept the dataset in {Path.Combine(dir, "ratings.csv")} and the run in {Path.Combine(dir, "run")}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// Writes the events in the order they were trained on, so that <c>--data</c> on this folder numbers the items as
    /// the demo's model does (serve, recommend and eval then accept the model with this folder).
    /// </summary>
    private static void WriteCsv(RatingsLog data, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        using (var w = new StreamWriter(tmp))
        {
            w.WriteLine("user,item,rating,timestamp");
            foreach (var x in data.Events)
                w.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{x.UserId},{x.ItemId},{x.Rating},{x.Timestamp}"));
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Removes a folder when disposed (nothing for null).</summary>
    private sealed class TemporaryFolder(string? path) : IDisposable
    {
        public void Dispose()
        {
            if (path is not null && Directory.Exists(path)) Directory.Delete(path, true);
        }
    }
}
