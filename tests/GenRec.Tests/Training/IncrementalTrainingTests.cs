using System.Diagnostics;
using GenRec.Data;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>
/// Freshness: a run continues on the events that arrived after it. Items first seen there get rows without
/// disturbing the others (the dynamic vocabulary), admission and capacity decide which, the watermark in the
/// checkpoint says where the log was read to, and after a SIGKILL at any moment every event is trained exactly once.
/// </summary>
public class IncrementalTrainingTests
{
    private static readonly RatingsLog Log = SyntheticData.Generate(new SyntheticOptions
    {
        Users = 120,
        Items = 50,
        Interests = 4,
        MinLength = 6,
        MaxLength = 20,
        Seed = 21,
    });

    private static readonly GenRec.Data.Features.PreparedDataset Data = DataSource.FromRatings(Log);

    private static ExperimentConfig Config() => new()
    {
        Model = new ModelConfig
        {
            EmbeddingDim = 8,
            NumLayers = 2,
            NumHeads = 1,
            QkDim = 8,
            VDim = 8,
            MaxLength = 20,
            Dropout = 0.2,
        },
        Training = new TrainingConfig { Epochs = 2, BatchSize = 16, NumNegatives = 6, EvalEvery = 0 },
    };

    private static long LastTime => Log.Events.Max(e => e.Timestamp);

    /// <summary>New events: users 0…count−1 each view an old item, then new items n0, n1, … (round robin).
    /// </summary>
    private static List<LoggedEvent> NewEvents(int users, int newItems, long firstSeq = 1, int perUser = 3)
    {
        var events = new List<LoggedEvent>();
        long seq = firstSeq;
        for (int u = 0; u < users; u++)
            for (int k = 0; k < perUser; k++)
            {
                string item = k == 0 ? Data.ItemKeys[u % Data.ItemKeys.Count] : $"n{(u + k) % newItems}";
                events.Add(new LoggedEvent(seq++, Data.UserKey(u), item, LastTime + 60 * (u * perUser + k + 1)));
            }
        return events;
    }

    private static string BaseRun(TempDir dir, ExperimentConfig? cfg = null)
    {
        var run = Path.Combine(dir.Path, "run");
        using var t = new Trainer(cfg ?? Config(), Data, CPU) { RunDirectory = run };
        t.Run();
        return run;
    }

    private static Dictionary<string, float[]> Weights(string checkpoint)
    {
        var (_, model) = Checkpoint.Load(checkpoint, CPU);
        using (model)
            return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
    }

    [Fact]
    public void ItemsFirstSeenInTheLogGetRowsAndTheWatermarkMoves()
    {
        using var dir = new TempDir();
        var run = BaseRun(dir);
        var before = Weights(Path.Combine(run, "checkpoint.ckpt"));
        var log = NewEvents(users: 40, newItems: 5);
        var report = new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run(log, "test-log");

        Assert.Equal(log.Count, report.Events);
        Assert.Equal(5, report.ItemsAdmitted);
        Assert.Equal(log[^1].Seq, report.To);
        var header = Checkpoint.ReadHeader(Path.Combine(run, "checkpoint.ckpt"));
        // The dataset's ids keep their keys; the new items follow in order of first appearance in the log.
        var firstSeen = log.Select(e => e.Item).Where(i => i.StartsWith('n')).Distinct().ToList();
        Assert.Equal(Data.ItemKeys.Concat(firstSeen), header.ItemKeys!);
        Assert.True(header.ItemTableSize >= header.ItemKeys!.Count + 1);
        Assert.Equal(log[^1].Seq, header.Stream!.Watermark);
        Assert.Equal((long)log.Count, header.Stream.EventsTrained);
        Assert.Null(header.Stream.Pending);
        var after = Weights(Path.Combine(run, "checkpoint.ckpt"));
        var old = before["items.weight"];
        Assert.False(old.AsSpan().SequenceEqual(after["items.weight"].AsSpan(0, old.Length)),
            "the update did not train the item table");

        // Nothing after the watermark: nothing to do, and the model stays as it is.
        var again = new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run(log, "test-log");
        Assert.True(again.NothingNew);
        var unchanged = Weights(Path.Combine(run, "checkpoint.ckpt"))["items.weight"];
        Assert.True(after["items.weight"].AsSpan().SequenceEqual(unchanged));
    }

    [Fact]
    public void GrowingTheTableLeavesEveryExistingRowAndItsOptimiserStateAsTheyWere()
    {
        using var dir = new TempDir();
        var run = BaseRun(dir);
        var windows = new Trainer(Config(), Data, CPU).Split.Train.Take(32).ToList();
        Dictionary<string, float[]> Train(bool grow)
        {
            using var t = new Trainer(Config(), Data, CPU, Data.ItemTableSize);
            t.RestoreState(Path.Combine(run, "checkpoint.ckpt"));
            if (grow) t.GrowItems(Data.ItemTableSize + 17);
            manual_seed(5);
            t.TrainOn(windows, Data.Corpus, 7);
            return t.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
        }
        var plain = Train(grow: false);
        var grown = Train(grow: true);
        Assert.Equal(Data.ItemTableSize + 17, grown["items.weight"].Length / 8);
        foreach (var (name, w) in plain)
            Assert.True(w.AsSpan().SequenceEqual(grown[name].AsSpan(0, w.Length)), $"{name} differs after growing");
    }

    [Fact]
    public void AnItemWaitsForItsMinimumEventsAndTheLeastRecentlySeenAddedItemIsEvicted()
    {
        using var dir = new TempDir();
        var run = BaseRun(dir);
        long t0 = LastTime;
        LoggedEvent E(long seq, int user, string item) => new(seq, Data.UserKey(user), item, t0 + 60 * seq);
        var log = new List<LoggedEvent>
        {
            E(1, 0, "a"), E(2, 1, "a"), E(3, 2, "b"), E(4, 3, "b"), E(5, 4, "c"),   // a and b have 2 events, c has 1
        };
        int capacity = Data.ItemKeys.Count + 1 + 2;   // room for two added items
        var options = new IncrementalOptions { MinItemEvents = 2, ItemCapacity = capacity };
        var first = new IncrementalTraining(run, Data, CPU, options).Run(log, "test-log");
        Assert.Equal((2, 1, 0), (first.ItemsAdmitted, first.ItemsWaiting, first.ItemsEvicted));
        var added = Checkpoint.ReadHeader(Path.Combine(run, "checkpoint.ckpt")).ItemKeys!.Skip(Data.ItemKeys.Count);
        Assert.Equal(["a", "b"], added);

        // c's second event admits it; the table is full, so a (seen least recently) hands its row to c.
        log.AddRange([E(6, 5, "b"), E(7, 6, "c")]);
        var second = new IncrementalTraining(run, Data, CPU, options).Run(log, "test-log");
        Assert.Equal((1, 1), (second.ItemsAdmitted, second.ItemsEvicted));
        var header = Checkpoint.ReadHeader(Path.Combine(run, "checkpoint.ckpt"));
        Assert.Equal(["c", "b"], header.ItemKeys!.Skip(Data.ItemKeys.Count));
        Assert.True(header.ItemTableSize <= capacity);
        Assert.Equal(capacity * 8L * 4 * 3, second.TableBytes);
    }

    [Fact]
    public void AnotherLogAShortenedLogOrAChangedPendingSpanIsRefused()
    {
        using var dir = new TempDir();
        var run = BaseRun(dir);
        var log = NewEvents(users: 20, newItems: 3);
        new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run(log, "log-a");

        var other = Assert.Throws<ArgumentException>(() =>
            new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run(log, "log-b"));
        Assert.Contains("reads events from log-a, not log-b", other.Message);
        var shorter = Assert.Throws<InvalidDataException>(() =>
            new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run(log.Take(10).ToList(), "log-a"));
        Assert.Contains("before the run's watermark", shorter.Message);

        // An update interrupted (cancelled after its first checkpoint), then its events rewritten: refused.
        var more = NewEvents(users: 40, newItems: 3, firstSeq: log[^1].Seq + 1);
        using var cancel = new CancellationTokenSource();
        var t = new IncrementalTraining(run, Data, CPU, new IncrementalOptions())
        {
            Progress = new Reporter(_ => cancel.Cancel()),
        };
        Assert.True(t.Run([.. log, .. more], "log-a", cancel.Token).Interrupted);
        var rewritten = more.Select(e => e with { Item = "x" }).ToList();
        var changed = Assert.Throws<InvalidDataException>(() =>
            new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run([.. log, .. rewritten], "log-a"));
        Assert.Contains("changed while an update over them was under way", changed.Message);
    }

    [Fact]
    public void AModelWithItemSideFeaturesAddsItemsWithoutThem()
    {
        using var dir = new TempDir();
        using var data = ColdStartTests.Log(dir);
        var run = Path.Combine(dir.Path, "run");
        using (var t = new Trainer(Config(), data, CPU) { RunDirectory = run }) t.Run();
        long t0 = Enumerable.Range(0, data.UserCount).Max(u => data.Tokens(u)[^1].Timestamp);
        var log = Enumerable.Range(0, 30).Select(i =>
            new LoggedEvent(i + 1, data.UserKey(i), i % 2 == 0 ? "brand-new" : data.ItemKeys[i], t0 + 60 * (i + 1)))
            .ToList();
        var report = new IncrementalTraining(run, data, CPU, new IncrementalOptions()).Run(log, "log");
        Assert.Equal(1, report.ItemsAdmitted);
        var (header, model) = Checkpoint.Load(Path.Combine(run, "checkpoint.ckpt"), CPU);
        using (model)
        {
            long id = header.ItemKeys!.ToList().IndexOf("brand-new") + 1;
            Assert.Equal(data.ItemKeys.Count + 1, id);
            Assert.Equal(header.ItemTableSize, model.ItemFeatureIds(0).shape[0]);
            Assert.All(model.ItemFeatureIds(0)[id].data<long>().ToArray(), v => Assert.Equal(0L, v));
            // The dataset's items keep their categories.
            Assert.Equal(data.ItemFeatureIds(0)!.Take(data.ItemKeys.Count + 1).Sum(),
                model.ItemFeatureIds(0).narrow(0, 0, data.ItemKeys.Count + 1).sum().item<long>());
        }
    }

    [Fact]
    public void AListedItemWithItsCategoryIsRetrievedBeforeAnyoneChoseIt()
    {
        using var dir = new TempDir();
        using var data = ColdStartTests.Log(dir);
        var run = Path.Combine(dir.Path, "run");
        var cfg = Config() with
        {
            Model = Config().Model with { EmbeddingDim = 16, QkDim = 16, VDim = 16, Dropout = 0 },
            Training = Config().Training with { Epochs = 8, LearningRate = 0.02, NumNegatives = 20 },
        };
        using (var t = new Trainer(cfg, data, CPU) { RunDirectory = run }) t.Run();
        var catalogFile = dir.Write("new-items.csv", "item,category\ncold-a,c3\ncold-b,\n");
        var catalog = ItemCatalogFile.Read(catalogFile, data, out int unknown);
        Assert.Equal(0, unknown);
        long t0 = Enumerable.Range(0, data.UserCount).Max(u => data.Tokens(u)[^1].Timestamp);
        // Another user's event: the update that lists the new items.
        LoggedEvent[] log = [new(1, data.UserKey(0), data.ItemKeys[0], t0 + 60)];
        var report = new IncrementalTraining(run, data, CPU, new IncrementalOptions()).Run(log, "log", catalog);
        Assert.Equal(2, report.ItemsAdmitted);

        using var pipeline = GenRec.Inference.RecommendationPipeline.Load(data, Path.Combine(run, "checkpoint.ckpt"),
            null, CPU);
        long a = pipeline.Items.Id("cold-a")!.Value, b = pipeline.Items.Id("cold-b")!.Value;
        int aInCategory = 0, bInCategory = 0, users = 0;
        for (int u = 3; u < 200; u += 10)   // the users of category c3
        {
            var history = data.Latest(data.UserKey(u), cfg.Model.MaxLength, cfg.Features)!;
            var top = pipeline.Retrieve(history, 30, null).Select(x => x.Item).ToList();   // c3 has 30 items
            users++;
            if (top.Contains(a)) aInCategory++;
            if (top.Contains(b)) bInCategory++;
        }
        Assert.True(aInCategory >= 0.9 * users && aInCategory > 2 * bInCategory,
            $"of {users} users of c3, {aInCategory} have the listed c3 item in their top 30, {bInCategory} the "
            + "featureless one");
    }

    [Fact]
    public void ASecondTrainerOnTheSameRunIsRefused()
    {
        using var dir = new TempDir();
        var run = BaseRun(dir);
        using (new FileStream(Path.Combine(run, "update.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite,
            FileShare.None))
        {
            var e = Assert.Throws<IOException>(() =>
                new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run(NewEvents(5, 2), "log"));
            Assert.Contains("another genrec train is updating this run", e.Message);
        }
        Assert.Equal(15, new IncrementalTraining(run, Data, CPU, new IncrementalOptions()).Run(NewEvents(5, 2), "log")
            .Events);
    }

    [Fact]
    public void SigkillAtAnyMomentThenRerunningTrainsEveryEventExactlyOnce()
    {
        using var dir = new TempDir();
        var csv = Path.Combine(dir.Path, "log.csv");
        TestData.WriteRatingsCsv(Log, csv);
        var cfgPath = dir.Write("cfg.json", Config().ToJson());
        var straight = Path.Combine(dir.Path, "straight");
        Assert.Equal(0, GenRecCli.Run("train", "--config", cfgPath, "--data", csv, "--out", straight, "--threads", "1")
            .ExitCode);
        // The users of the CSV are the generator's ids; the events name them so.
        var events = Path.Combine(dir.Path, "events.tsv");
        long t0 = LastTime;
        File.WriteAllLines(events, new[] { "user\titem\ttimestamp" }.Concat(Enumerable.Range(0, 300).Select(i =>
            $"{Log.Users[i % 100].UserId}\t"
            + $"{(i % 3 == 0 ? $"new{i % 7}" : Log.Users[(i * 7) % 100].Items[0].ToString())}"
            + $"\t{t0 + 60 * (i + 1)}")));
        var killedBase = Path.Combine(dir.Path, "killed");
        CopyFolder(straight, killedBase);
        string[] Update(string run) => ["train", "--resume", run, "--data", csv, "--events", events, "--passes", "3",
            "--threads", "1"];
        var done = GenRecCli.Run(Update(straight));
        Assert.True(done.ExitCode == 0, done.Output);
        var want = Weights(Path.Combine(straight, "checkpoint.ckpt"));

        var rng = new Random(11);
        int kills = 0;
        for (int trial = 0; trial < 3; trial++)
        {
            var run = Path.Combine(dir.Path, $"killed-{trial}");
            CopyFolder(killedBase, run);
            var ckpt = Path.Combine(run, "checkpoint.ckpt");
            for (int attempt = 0; attempt < 2; attempt++)
            {
                var before = File.GetLastWriteTimeUtc(ckpt);
                using var p = GenRecCli.Start(Update(run));
                var clock = Stopwatch.StartNew();
                while (!p.HasExited && File.GetLastWriteTimeUtc(ckpt) == before
                    && clock.Elapsed < TimeSpan.FromSeconds(60))
                    Thread.Sleep(5);
                Thread.Sleep(rng.Next(0, 300));
                if (!p.HasExited) { p.Kill(entireProcessTree: true); kills++; }
                p.WaitForExit();
            }
            var last = GenRecCli.Run(Update(run));
            Assert.True(last.ExitCode == 0, last.Output);
            var header = Checkpoint.ReadHeader(ckpt);
            Assert.Equal(300L, header.Stream!.EventsTrained);
            Assert.Equal(301L, header.Stream.Watermark);   // line 1 is the header
            Assert.Equal(1, header.Stream.Updates);
            var got = Weights(ckpt);
            foreach (var (name, w) in want) Assert.True(w.AsSpan().SequenceEqual(got[name]), $"{name} differs");
        }
        Assert.True(kills >= 3, $"only {kills} of the SIGKILLs landed before the update finished");
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
