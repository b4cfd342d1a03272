using System.CommandLine;
using GenRec.Cli.Commands;
using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using GenRec.Training;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench item-table</c>: training steps on a generated catalog of many items (10 million by default), with
/// the item table replicated on every process or sharded over the mpirun ranks (<c>--shard</c>): the bytes each rank
/// holds for the table and its moments, its peak memory, the median step, tokens per second, and the bytes each rank
/// exchanged per step. Every rank generates the same data: users with random histories over the catalog, and users
/// who name every other item once, so that the table has the catalog's size.
/// </summary>
internal static class BenchItemTableCommand
{
    public static Command Create()
    {
        var items = new Option<int>("--items") { Description = "Catalog size.", DefaultValueFactory = _ => 10_000_000 };
        var users = new Option<int>("--users")
        {
            Description = "Users with random histories (the timed steps' data).",
            DefaultValueFactory = _ => 2_000
        };
        var length = new Option<int>("--length") { Description = "History length.", DefaultValueFactory = _ => 200 };
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 2 };
        var shard = new Option<bool>("--shard")
        {
            Description = "Shard the item table over the ranks "
            + "(training.shardItems); otherwise every rank holds all of it."
        };
        var set = new Option<string[]>("--set") { Description = "Config overrides, e.g. --set training.batchSize=64." };
        var json = Options.Json();
        var threads = Options.Threads();
        var cmd = new Command("item-table", "Time training steps on a large generated catalog, the item table "
            + "replicated or sharded over mpirun's ranks: memory per rank, step time, bytes exchanged per step.")
        {
            items, users, length, steps, warmup, shard, set, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            int n = r.GetValue(steps), w = r.GetValue(warmup), catalog = r.GetValue(items), len = r.GetValue(length);
            if (n < 1 || w < 0 || catalog < 2 || len < 2 || r.GetValue(users) < 1)
                throw new ArgumentException("--steps, --items, --length and --users must be positive (--items and "
                    + "--length at least 2) and --warmup at least 0.");
            Cli.Setup("cpu", r.GetValue(threads));
            int Run() => Measure(r.GetValue(users), len, catalog, n, w, r.GetValue(shard), r.GetValue(set) ?? [],
                r.GetValue(json));
            return Mpi.Launched ? Cli.RunRank(Run) : Run();
        }));
        return cmd;
    }

    private static int Measure(int users, int length, int catalog, int steps, int warmup, bool shard,
        string[] overrides, bool asJson)
    {
        bool quiet = asJson || Mpi.Rank != 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rng = new Random(17);
        var events = new List<Interaction>(users * (length + 2) + catalog + catalog / (length + 2) + 1);
        for (int u = 1; u <= users; u++)
        {
            long t = 1_000_000_000;
            for (int i = 0; i < length + 2; i++)
                events.Add(new Interaction(u, 1 + rng.Next(catalog), 5, t += rng.Next(60, 86_400)));
        }
        var seen = new bool[catalog + 1];
        foreach (var e in events) seen[e.ItemId] = true;
        int user = users;
        for (int item = 1, k = 0; item <= catalog; item++)
        {
            if (seen[item]) continue;
            if (k++ % (length + 2) == 0) user++;
            events.Add(new Interaction(user, item, 5, 1_000_000_000L + k));
        }
        using var data = DataSource.FromRatings(new RatingsLog($"generated-{catalog}", events));
        events = null;
        if (!quiet) Cli.Note($"generated {data.ItemTableSize - 1:N0} items, {data.UserCount:N0} users in "
            + $"{clock.Elapsed.TotalSeconds:F0}s");
        var cfg = ExperimentConfig.Load(null, overrides);
        cfg = cfg with
        {
            Model = cfg.Model with
            {
                EmbeddingDim = 50,
                NumLayers = 2,
                NumHeads = 1,
                QkDim = 50,
                VDim = 50,
                MaxLength = length
            },
            Training = cfg.Training with { EvalEvery = 0, ExampleSeeded = true, ShardItems = shard },
        };
        GC.Collect();
        double dataMiB = ResidentMiB();
        double generationPeakMiB = Trainer.PeakMemoryMiB();
        // Linux: the peak resident set restarts from here, so that it measures training, not the data generation.
        if (File.Exists("/proc/self/clear_refs")) File.WriteAllText("/proc/self/clear_refs", "5");
        using var trainer = new Trainer(cfg, data, TorchSharp.torch.CPU);
        double builtMiB = ResidentMiB();
        var times = TrainingStepTimer.TimeSteps(trainer, warmup, steps);
        var sorted = times.Select(x => x.Seconds).Order().ToArray();
        double median = sorted[sorted.Length / 2], tokensPerSecond = times.Sum(x => x.Tokens) / sorted.Sum();
        // Per rank: bytes held for the table, peak memory, bytes exchanged in the last step, seconds in MPI.
        double[] mine = [trainer.ItemTableBytesHeld, Trainer.PeakMemoryMiB(), trainer.GradientBytesPerStep,
            trainer.CommunicationSeconds, dataMiB, generationPeakMiB, builtMiB];
        var all = Mpi.Initialized ? Mpi.AllgatherV<double>(mine) : mine;
        int ranks = all.Length / mine.Length;
        double Max(int field) => Enumerable.Range(0, ranks).Max(r => all[r * mine.Length + field]);
        var summary = new
        {
            items = data.ItemTableSize - 1,
            ranks,
            sharded = shard,
            threads = TorchSharp.torch.get_num_threads(),
            batchSize = cfg.Training.BatchSize,
            length,
            steps,
            medianStepSeconds = median,
            tokensPerSecond,
            itemTableMiBPerRank = Max(0) / (1 << 20),
            peakMemoryMiBPerRank = Max(1),
            dataMiBPerRank = Max(4),
            generationPeakMiBPerRank = Max(5),
            builtMiBPerRank = Max(6),
            exchangedMiBPerStepPerRank = Max(2) / (1 << 20),
            communicationShare = Max(3) / ((warmup + steps) * times.Average(x => x.Seconds)),
        };
        if (Mpi.Rank != 0) return 0;
        if (asJson) { Cli.PrintJson(summary); return 0; }
        Console.WriteLine($"{summary.items:N0} items, {ranks} rank(s) × {summary.threads} thread(s), item table "
            + $"{(shard ? "sharded" : "replicated")}, batch {summary.batchSize} × {length}, {steps} steps after "
            + $"{warmup} warm-up:");
        Console.WriteLine($"  item table + AdamW moments per rank {summary.itemTableMiBPerRank:N0} MiB   peak RSS per "
            + $"rank while training {summary.peakMemoryMiBPerRank:N0} MiB (once the model was built: "
            + $"{summary.builtMiBPerRank:N0} MiB; the generated data: "
            + $"{summary.dataMiBPerRank:N0} MiB resident before the model was built, "
            + $"{summary.generationPeakMiBPerRank:N0} MiB peak while generating it)");
        Console.WriteLine($"  median {median:F3} s/step   {tokensPerSecond:N0} tokens/s   exchanged per step per rank "
            + $"{summary.exchangedMiBPerStepPerRank:F2} MiB   in MPI {summary.communicationShare:P0} of the time");
        return 0;
    }

    private static double ResidentMiB()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.WorkingSet64 / (1024.0 * 1024);
    }
}
