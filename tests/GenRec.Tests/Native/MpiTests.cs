namespace GenRec.Tests.Native;

/// <summary>
/// The MPI binding (GenRec.Native.Mpi) against Debian's Open MPI: two and three ranks under mpirun agree on
/// all-reduce, broadcast, all-gather and all-to-all, each rank checking the answer it can compute itself.
/// </summary>
public class MpiTests
{
    [MpiFact]
    public void CollectivesGiveEveryRankTheRightAnswer()
    {
        foreach (var ranks in new[] { "2", "3" })
        {
            var (code, output) = Mpirun(ranks, "bench", "allreduce", "--sizes", "1024,65536", "--repeats", "2");
            Assert.True(code == 0, output);
            Assert.Contains($"{ranks} ranks: all-reduce, broadcast, all-gather and all-to-all correct", output);
            Assert.Matches(@"all-reduce 256 KiB: median [0-9.]+ ms, bus bandwidth [0-9.]+ GB/s", output);
        }
    }

    /// <summary>
    /// Data parallel: two ranks with half the batch each take the same steps as one process with the whole batch
    /// (negatives and dropout masks drawn from each token's place in the epoch, gradients summed over the ranks),
    /// whether the item table's gradient is all-reduced with the rest or exchanged as touched rows, in one bucket or
    /// in many, or the table itself is sharded over the ranks; evaluation sharded over the ranks reports what one
    /// process reports.
    /// </summary>
    [MpiFact]
    public void TwoRanksWithHalfTheBatchTrainTheWeightsOneProcessTrainsWithTheWholeBatch()
    {
        using var dir = new TempDir();
        var rng = new Random(3);
        var rows = new List<string>();
        for (int u = 1; u <= 120; u++)
        {
            long t = 1_000_000;
            for (int i = 0, n = rng.Next(6, 21); i < n; i++)
                rows.Add($"{u},{rng.Next(1, 51)},5,{t += rng.Next(60, 6000)}");
        }
        File.WriteAllLines(Path.Combine(dir.Path, "log.csv"), rows);
        var cfg = dir.Write("cfg.json", """
            { "name": "dp", "model": { "encoder": "hstu", "embeddingDim": 8, "numLayers": 2, "numHeads": 1,
                "qkDim": 8, "vDim": 8, "maxLength": 20, "dropout": 0.2 },
              "training": { "epochs": 2, "batchSize": 16, "numNegatives": 6, "evalEvery": 1,
                "exampleSeeded": true } }
            """);
        string[] Train(string run) => ["train", "--config", cfg, "--data", Path.Combine(dir.Path, "log.csv"), "--out",
            Path.Combine(dir.Path, run), "--threads", "1"];
        var one = GenRecCli.Run(Train("one"));
        Assert.True(one.ExitCode == 0, one.Output);
        var two = Mpirun("2", [.. Train("two"), "--set", "training.itemGradientExchange=dense"]);
        Assert.True(two.Code == 0, two.Output);
        var sparse = Mpirun("2", [.. Train("sparse"), "--set", "training.itemGradientExchange=sparse",
            "--set", "training.allreduceBucketMiB=0.001"]);
        Assert.True(sparse.Code == 0, sparse.Output);
        var sharded = Mpirun("2", [.. Train("sharded"), "--set", "training.shardItems=true"]);
        Assert.True(sharded.Code == 0, sharded.Output);
        // One epoch less: the comparison is between trained weights, which a wrong step would tell apart.
        Assert.Equal(0, GenRecCli.Run([.. Train("short"), "--epochs", "1"]).ExitCode);
        double apart = Largest(dir, "one", "two"), moved = Largest(dir, "one", "short");
        Assert.True(apart < 1e-5, $"largest weight difference {apart:E2} between 1 and 2 ranks");
        double sparseApart = Largest(dir, "one", "sparse");
        Assert.True(sparseApart < 1e-5,
            $"largest weight difference {sparseApart:E2} with sparse item rows and small buckets");
        double shardApart = Largest(dir, "one", "sharded");
        Assert.True(shardApart < 1e-5,
            $"largest weight difference {shardApart:E2} with the item table sharded over 2 ranks");
        // The last epoch's metrics line: the sharded evaluation gathers every user's rank.
        static string Hr(TempDir d, string run) => System.Text.Json.JsonDocument.Parse(File.ReadLines(
            Path.Combine(d.Path, run, "metrics.jsonl")).Last()).RootElement.GetProperty("metrics").GetRawText();
        Assert.Equal(Hr(dir, "one"), Hr(dir, "two"));
        Assert.True(moved > 1e-3, $"the second epoch moved no weight more than {moved:E2}");
    }

    /// <summary>
    /// A sharded item table: each of 2 ranks holds half the rows (and their moments) of the table one process holds,
    /// and sends the other rank only the rows its batch needs.
    /// </summary>
    [MpiFact]
    public void ShardingTheItemTableOverTwoRanksHalvesWhatEachHolds()
    {
        // A catalog larger than what a step touches: 4 negatives per position, 20,000 items.
        string[] bench = ["bench", "item-table", "--items", "20000", "--users", "40", "--length", "20", "--steps", "1",
            "--warmup", "0", "--threads", "1", "--json", "--set", "training.numNegatives=4"];
        var one = GenRecCli.Run(bench);
        Assert.True(one.ExitCode == 0, one.Output);
        var two = Mpirun("2", [.. bench, "--shard"]);
        Assert.True(two.Code == 0, two.Output);
        static System.Text.Json.JsonElement Json(string output) =>
            System.Text.Json.JsonDocument.Parse(output[output.IndexOf('{')..(output.LastIndexOf('}') + 1)]).RootElement;
        var replicated = Json(one.Output);
        var sharded = Json(two.Output);
        double whole = replicated.GetProperty("itemTableMiBPerRank").GetDouble();
        double half = sharded.GetProperty("itemTableMiBPerRank").GetDouble();
        Assert.InRange(half / whole, 0.49, 0.51);
        // Less than the rank's share of the weights alone (a third of what it holds: weights and two moments).
        double sent = sharded.GetProperty("exchangedMiBPerStepPerRank").GetDouble();
        Assert.InRange(sent, 1e-3, half / 3);
    }

    /// <summary>
    /// A rank whose part fails (here: its data file does not exist) prints its error and ends the whole job, rather
    /// than leaving the other ranks waiting for it in a collective.
    /// </summary>
    [MpiFact]
    public void ARankThatFailsStopsTheWholeJobWithItsError()
    {
        using var dir = new TempDir();
        var rows = new List<string>();
        for (int u = 1; u <= 40; u++)
            for (int i = 0; i < 8; i++) rows.Add($"{u},{1 + (u * 7 + i * 3) % 30},5,{1_000_000 + i * 60}");
        var log = Path.Combine(dir.Path, "log.csv");
        File.WriteAllLines(log, rows);
        var cfg = dir.Write("cfg.json", """
            { "name": "fail", "model": { "encoder": "hstu", "embeddingDim": 8, "numLayers": 1, "numHeads": 1,
                "qkDim": 8, "vDim": 8, "maxLength": 8 },
              "training": { "epochs": 50, "batchSize": 8, "numNegatives": 4, "exampleSeeded": true } }
            """);
        string[] Train(string data) => ["train", "--config", cfg, "--data", data, "--out",
            Path.Combine(dir.Path, "run"), "--threads", "1"];
        // mpirun's MPMD form: rank 0 trains, rank 1 is given a file that does not exist.
        var (code, output) = Mpirun("1", [.. Train(log), ":", "-np", "1", "dotnet",
            Path.Combine(AppContext.BaseDirectory, "GenRec.Cli.dll"), .. Train(Path.Combine(dir.Path, "none.csv"))]);
        Assert.True(code is not (0 or -1), $"exit {code}: {output}");
        Assert.Contains("genrec: error on rank 1 of 2:", output);
        Assert.Contains("none.csv", output);
    }

    /// <summary>
    /// A rank that dies stops the whole job (mpirun ends the others; rank 0's last checkpoint is whole), and the run
    /// resumes from it on the same number of ranks or on another, to the weights of a run never interrupted.
    /// </summary>
    [MpiFact]
    public void KillingOneRankStopsTheJobWhichResumesOnAnyNumberOfRanksToTheSameWeights()
    {
        using var dir = new TempDir();
        var rng = new Random(5);
        var rows = new List<string>();
        for (int u = 1; u <= 600; u++)
        {
            long t = 1_000_000;
            for (int i = 0, n = rng.Next(6, 21); i < n; i++)
                rows.Add($"{u},{rng.Next(1, 201)},5,{t += rng.Next(60, 6000)}");
        }
        var log = Path.Combine(dir.Path, "log.csv");
        File.WriteAllLines(log, rows);
        var cfg = dir.Write("cfg.json", """
            { "name": "dp", "model": { "encoder": "hstu", "embeddingDim": 8, "numLayers": 2, "numHeads": 1,
                "qkDim": 8, "vDim": 8, "maxLength": 20, "dropout": 0.2 },
              "training": { "epochs": 12, "batchSize": 16, "numNegatives": 6, "evalEvery": 0,
                "exampleSeeded": true, "checkpointEvery": 5 } }
            """);
        string[] Train(string run) => ["train", "--config", cfg, "--data", log, "--out", Path.Combine(dir.Path, run),
            "--threads", "1"];
        var full = Mpirun("2", Train("full"));
        Assert.True(full.Code == 0, full.Output);
        foreach (var ranks in new[] { "2", "1" })
        {
            string run = Path.Combine(dir.Path, "killed-then-" + ranks);
            using var job = StartMpirun("2", Train(Path.GetFileName(run)));
            var drained = (job.StandardOutput.ReadToEndAsync(), job.StandardError.ReadToEndAsync());
            var metrics = Path.Combine(run, "metrics.jsonl");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 2) && clock.Elapsed.TotalSeconds < 60)
                Thread.Sleep(20);
            int victim = RankProcess(run, 1);
            Assert.True(victim > 0 && !job.HasExited, "the job ended before a rank could be killed");
            System.Diagnostics.Process.GetProcessById(victim).Kill();
            Assert.True(job.WaitForExit(60_000), "the job went on after rank 1 died");
            Assert.NotEqual(0, job.ExitCode);
            Assert.Contains("exited on signal 9", drained.Item1.Result + drained.Item2.Result);
            Assert.Equal(-1, RankProcess(run, 0));
            var stopped = GenRec.Model.Checkpoint.ReadHeader(Path.Combine(run, "checkpoint.ckpt"));
            Assert.InRange(stopped.Epoch, 2, 11);
            string[] resume = ["train", "--resume", run, "--data", log, "--threads", "1"];
            var resumed = ranks == "1" ? GenRecCli.Run(resume) : Mpirun(ranks, resume);
            Assert.True(resumed.Item1 == 0, resumed.Item2);
            double apart = Largest(dir, "full", Path.GetFileName(run));
            Assert.True(apart < 1e-5, $"resumed on {ranks} rank(s): largest weight difference {apart:E2}");
        }
    }

    /// <summary>
    /// Multi-host: two network namespaces joined by a veth pair act as two hosts (deploy/mpi/two-hosts-netns.sh);
    /// mpirun with a hostfile starts one rank on each, MPI traffic goes over TCP on the veth only, and the model
    /// trained across the two hosts is the one a single process trains.
    /// </summary>
    [NetnsFact]
    public void TwoHostsJoinedByANetworkTrainTheModelOfOneProcess()
    {
        using var dir = new TempDir();
        var rng = new Random(9);
        var rows = new List<string>();
        for (int u = 1; u <= 100; u++)
        {
            long t = 1_000_000;
            for (int i = 0, n = rng.Next(6, 16); i < n; i++)
                rows.Add($"{u},{rng.Next(1, 41)},5,{t += rng.Next(60, 6000)}");
        }
        var log = Path.Combine(dir.Path, "log.csv");
        File.WriteAllLines(log, rows);
        var cfg = dir.Write("cfg.json", """
            { "name": "hosts", "model": { "encoder": "hstu", "embeddingDim": 8, "numLayers": 1, "numHeads": 1,
                "qkDim": 8, "vDim": 8, "maxLength": 16, "dropout": 0.2 },
              "training": { "epochs": 2, "batchSize": 16, "numNegatives": 4, "evalEvery": 0,
                "exampleSeeded": true } }
            """);
        string[] Train(string run) => ["train", "--config", cfg, "--data", log, "--out", Path.Combine(dir.Path, run),
            "--threads", "1"];
        var script = Path.Combine(Repository.Root, "deploy", "mpi", "two-hosts-netns.sh");
        var cli = Path.Combine(AppContext.BaseDirectory, "GenRec.Cli.dll");
        var up = Shell(script, cli, "up");
        try
        {
            Assert.True(up.Code == 0, up.Output);
            var hosts = Shell(script, cli, ["run", .. Train("hosts")]);
            Assert.True(hosts.Code == 0, hosts.Output);
            var one = GenRecCli.Run(Train("one"));
            Assert.True(one.ExitCode == 0, one.Output);
            double apart = Largest(dir, "one", "hosts");
            Assert.True(apart < 1e-5, $"largest weight difference {apart:E2} between two hosts and one process");
        }
        finally { Shell(script, cli, "down"); }
    }

    private static (int Code, string Output) Shell(string script, string cli, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(script)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["GENREC_CLI"] = cli;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(180_000)) p.Kill(entireProcessTree: true);
        return (p.ExitCode, output + "\n" + err.Result);
    }

    /// <summary>The process id of rank <paramref name="rank"/> of the job training into <paramref name="run"/>, or
    /// -1.</summary>
    private static int RankProcess(string run, int rank)
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline"));
                if (!cmdline.Contains("GenRec.Cli.dll") || !cmdline.Contains(run)) continue;
                if (File.ReadAllText(Path.Combine(proc, "environ")).Split('\0')
                    .Contains($"OMPI_COMM_WORLD_RANK={rank}"))
                    return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return -1;
    }

    internal static double Largest(TempDir dir, string first, string second)
    {
        var (_, a) = GenRec.Model.Checkpoint.Load(Path.Combine(dir.Path, first, "checkpoint.ckpt"),
            TorchSharp.torch.CPU);
        var (_, b) = GenRec.Model.Checkpoint.Load(Path.Combine(dir.Path, second, "checkpoint.ckpt"),
            TorchSharp.torch.CPU);
        using (a)
        using (b) return WeightDifference.Largest(a, b);
    }

    [Fact]
    public void WithoutMpirunTheCommandSaysHowToStartIt()
    {
        var (code, output) = GenRecCli.Run("bench", "allreduce");
        Assert.NotEqual(0, code);
        Assert.Contains("runs under mpirun: mpirun -np 2 genrec bench allreduce", output);
    }

    private static (int Code, string Output) Mpirun(string ranks, params string[] args)
    {
        using var p = StartMpirun(ranks, args);
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        // A job that hangs (ranks waiting for each other) fails the test with what it printed, not the suite.
        if (!p.WaitForExit(180_000))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, "mpirun ran past 180 s and was killed\n" + output.Result + "\n" + err.Result);
        }
        return (p.ExitCode, output.Result + "\n" + err.Result);
    }

    private static System.Diagnostics.Process StartMpirun(string ranks, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("mpirun")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // CI runs as root on 2 cores: both flags are needed there and harmless elsewhere.
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks, "dotnet",
            Path.Combine(AppContext.BaseDirectory, "GenRec.Cli.dll") }.Concat(args))
            psi.ArgumentList.Add(a);
        return System.Diagnostics.Process.Start(psi)!;
    }
}
