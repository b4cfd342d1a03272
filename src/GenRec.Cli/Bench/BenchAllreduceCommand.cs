using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using GenRec.Cli.Commands;
using GenRec.Native;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>mpirun -np N genrec bench allreduce</c>: the MPI collectives data-parallel training uses, checked for the right
/// answer on every rank, then timed: all-reduce bandwidth per message size (the bus bandwidth of a ring all-reduce,
/// 2 (N − 1) / N × bytes / time, so that sizes and rank counts compare).
/// </summary>
internal static class BenchAllreduceCommand
{
    public static Command Create()
    {
        var sizes = new Option<string>("--sizes")
        {
            Description = "Message sizes in float32 values, comma-separated.",
            DefaultValueFactory = _ => "1024,65536,1048576,8388608",
        };
        var repeats = new Option<int>("--repeats")
        {
            Description = "Timed all-reduces per size (the median is reported).",
            DefaultValueFactory = _ => 20,
        };
        var cmd = new Command("allreduce", "Under mpirun: check all-reduce, broadcast, all-gather and all-to-all on "
            + "every rank, then time all-reduce per message size (rank 0 prints).")
        {
            sizes, repeats,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            if (!Mpi.Launched)
                throw new ArgumentException("bench allreduce runs under mpirun: mpirun -np 2 genrec bench allreduce "
                    + "(as root add --allow-run-as-root; on fewer cores than ranks, --oversubscribe).");
            var counts = Options.IntList(r.GetValue(sizes)!, "--sizes");
            int times = r.GetValue(repeats) is > 0 and var t
                ? t
                : throw new ArgumentException("--repeats must be positive.");
            return Cli.RunRank(() =>
            {
                string? wrong = Check();
                var verdicts = new long[] { wrong is null ? 0 : 1 };
                Mpi.AllreduceSum(verdicts.AsSpan());
                if (verdicts[0] > 0)
                {
                    string what = wrong ?? "correct here; another rank was not";
                    Console.Error.WriteLine($"genrec: rank {Mpi.Rank}: {what}");
                    return 1;
                }
                if (Mpi.Rank == 0)
                    Console.WriteLine($"{Mpi.Size} ranks: all-reduce, broadcast, all-gather and all-to-all correct");
                foreach (int n in counts)
                {
                    var buffer = new float[n];
                    var ms = new double[times];
                    Mpi.AllreduceSum(buffer.AsSpan());   // warm-up, untimed
                    for (int i = 0; i < times; i++)
                    {
                        Mpi.Barrier();
                        long t0 = Stopwatch.GetTimestamp();
                        Mpi.AllreduceSum(buffer.AsSpan());
                        ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    }
                    Array.Sort(ms);
                    double median = ms[times / 2], bytes = 4.0 * n;
                    double bus = 2.0 * (Mpi.Size - 1) / Mpi.Size * bytes / (median / 1000) / 1e9;
                    if (Mpi.Rank == 0)
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"all-reduce {bytes / 1024:N0} KiB: median {median:F3} ms, bus bandwidth {bus:F2} GB/s"));
                }
                return 0;
            });
        }));
        return cmd;
    }

    /// <summary>Each collective on values whose right answer every rank can compute; the first wrong one.</summary>
    private static string? Check()
    {
        int rank = Mpi.Rank, size = Mpi.Size;
        var sum = Enumerable.Repeat((float)(rank + 1), 1000).ToArray();
        Mpi.AllreduceSum(sum.AsSpan());
        float want = size * (size + 1) / 2f;
        if (sum.Any(x => x != want)) return $"all-reduce gave {sum[0]}, expected {want}";
        var bytes = rank == 0 ? "genrec"u8.ToArray() : new byte[6];
        Mpi.Broadcast(bytes);
        if (System.Text.Encoding.ASCII.GetString(bytes) != "genrec") return "broadcast did not arrive";
        // Rank r contributes r + 1 copies of r.
        var gathered = Mpi.AllgatherV<float>(Enumerable.Repeat((float)rank, rank + 1).ToArray());
        var expected = Enumerable.Range(0, size).SelectMany(i => Enumerable.Repeat((float)i, i + 1));
        if (!gathered.SequenceEqual(expected)) return "all-gather gave the wrong values";
        // Rank r sends j + 1 copies of 100 r + j to rank j.
        var sendCounts = Enumerable.Range(0, size).Select(j => j + 1).ToArray();
        var send = Enumerable.Range(0, size).SelectMany(j => Enumerable.Repeat(100f * rank + j, j + 1)).ToArray();
        var (received, receivedCounts) = Mpi.AlltoallV<float>(send, sendCounts);
        var fromEach = Enumerable.Range(0, size).SelectMany(i => Enumerable.Repeat(100f * i + rank, rank + 1));
        if (!received.SequenceEqual(fromEach) || receivedCounts.Any(c => c != rank + 1))
            return "all-to-all gave the wrong values";
        // Item ids past float's 2^24: the sharded item table sends them as int64.
        var ids = Enumerable.Range(0, size).Select(j => 10_000_000_007L * (rank + 1) + j).ToArray();
        var (got, _) = Mpi.AlltoallV<long>(ids, Enumerable.Repeat(1, size).ToArray());
        if (!got.SequenceEqual(Enumerable.Range(0, size).Select(i => 10_000_000_007L * (i + 1) + rank)))
            return "all-to-all of int64 ids gave the wrong values";
        return null;
    }
}
