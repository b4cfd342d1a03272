using System.Runtime.InteropServices;

namespace GenRec.Native;

/// <summary>
/// A thin binding of the MPI C API as Open MPI (Debian's <c>openmpi-bin</c>) provides it: the calls data-parallel
/// training needs (init, rank and size, all-reduce, broadcast, all-gather, all-to-all, barrier). MPI.NET 1.4.0 from
/// NuGet cannot serve here: it binds MS-MPI (<c>msmpi.dll</c>) and its integer handles, while Open MPI's handles
/// (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>) are addresses of objects the library exports, which
/// this class looks up by name. Every call's return code is checked; a failure throws naming the call.
/// </summary>
public static unsafe partial class Mpi
{
    private const string Library = "libmpi.so.40";
    private static readonly Lazy<IntPtr> Handle = new(LoadLibrary);

    /// <summary>Whether this process was started by mpirun (or another Open MPI launcher).</summary>
    public static bool Launched =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null
        || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <summary>Whether <see cref="Init"/> ran (and <see cref="Shutdown"/> did not).</summary>
    public static bool Initialized { get; private set; }

    /// <summary>This process's rank in the world communicator.</summary>
    public static int Rank { get; private set; }

    /// <summary>Processes in the world communicator.</summary>
    public static int Size { get; private set; } = 1;

    /// <summary>
    /// Initialises MPI (MPI_THREAD_FUNNELED: only the calling thread makes MPI calls) and reads rank and size.
    /// </summary>
    public static void Init()
    {
        if (Initialized) return;
        int provided;
        Check(MPI_Init_thread(null, null, ThreadFunneled, &provided), "MPI_Init_thread");
        int rank, size;
        Check(MPI_Comm_rank(World, &rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(World, &size), "MPI_Comm_size");
        (Rank, Size, Initialized) = (rank, size, true);
    }

    /// <summary>Shuts MPI down (every rank must call it).</summary>
    public static void Shutdown()
    {
        if (!Initialized) return;
        Check(MPI_Finalize(), "MPI_Finalize");
        Initialized = false;
    }

    /// <summary>Sums <paramref name="values"/> over all ranks, in place.</summary>
    public static void AllreduceSum(Span<float> values)
    {
        fixed (float* p = values) Check(MPI_Allreduce(InPlace, p, values.Length, Float, Sum, World), "MPI_Allreduce");
    }

    /// <summary>Sums <paramref name="values"/> over all ranks, in place.</summary>
    public static void AllreduceSum(Span<double> values)
    {
        fixed (double* p = values) Check(MPI_Allreduce(InPlace, p, values.Length, Double, Sum, World), "MPI_Allreduce");
    }

    /// <summary>Sums <paramref name="values"/> over all ranks, in place.</summary>
    public static void AllreduceSum(Span<long> values)
    {
        fixed (long* p = values) Check(MPI_Allreduce(InPlace, p, values.Length, Long, Sum, World), "MPI_Allreduce");
    }

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="bytes"/> to every rank.</summary>
    public static void Broadcast(Span<byte> bytes, int root = 0)
    {
        fixed (byte* p = bytes) Check(MPI_Bcast(p, bytes.Length, Byte, root, World), "MPI_Bcast");
    }

    /// <summary>
    /// Gathers every rank's <paramref name="mine"/> (lengths may differ) into one array, in rank order, on every rank.
    /// Element types: float, double, long.
    /// </summary>
    public static T[] AllgatherV<T>(ReadOnlySpan<T> mine) where T : unmanaged => AllgatherV(mine, out _);

    /// <summary>As <see cref="AllgatherV{T}(ReadOnlySpan{T})"/>, with the number of values each rank gave.</summary>
    public static T[] AllgatherV<T>(ReadOnlySpan<T> mine, out int[] counts) where T : unmanaged
    {
        var type = TypeOf<T>();
        counts = new int[Size];
        counts[Rank] = mine.Length;
        fixed (int* c = counts) Check(MPI_Allgather(InPlace, 0, Int, c, 1, Int, World), "MPI_Allgather");
        var displacements = Displacements(counts);
        var all = new T[counts.Sum()];
        fixed (T* s = mine)
        fixed (T* r = all)
        fixed (int* c = counts)
        fixed (int* d = displacements)
            Check(MPI_Allgatherv(s, mine.Length, type, r, c, d, type, World), "MPI_Allgatherv");
        return all;
    }

    /// <summary>
    /// Sends <paramref name="send"/>'s part <c>i</c> (<paramref name="sendCounts"/>[i] values) to rank i and returns
    /// what every rank sent to this one, in rank order, with the counts received. Element types: float, double, long.
    /// </summary>
    public static (T[] Values, int[] Counts) AlltoallV<T>(ReadOnlySpan<T> send, int[] sendCounts) where T : unmanaged
    {
        if (sendCounts.Length != Size)
            throw new ArgumentException($"{sendCounts.Length} send counts for {Size} ranks.", nameof(sendCounts));
        var type = TypeOf<T>();
        var receiveCounts = new int[Size];
        fixed (int* s = sendCounts)
        fixed (int* r = receiveCounts)
            Check(MPI_Alltoall(s, 1, Int, r, 1, Int, World), "MPI_Alltoall");
        var received = new T[receiveCounts.Sum()];
        var sd = Displacements(sendCounts);
        var rd = Displacements(receiveCounts);
        fixed (T* sp = send)
        fixed (T* rp = received)
        fixed (int* sc = sendCounts)
        fixed (int* rc = receiveCounts)
        fixed (int* sdp = sd)
        fixed (int* rdp = rd)
            Check(MPI_Alltoallv(sp, sc, sdp, type, rp, rc, rdp, type, World), "MPI_Alltoallv");
        return (received, receiveCounts);
    }

    private static IntPtr TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? Float
        : typeof(T) == typeof(double) ? Double
        : typeof(T) == typeof(long) ? Long
        : throw new NotSupportedException($"MPI collectives of {typeof(T).Name}: float, double or long expected.");

    /// <summary>
    /// Ends every rank of the job with <paramref name="code"/> (MPI_Abort): what a rank that failed must do, since the
    /// others may be waiting for it in a collective, where MPI_Finalize would wait for them in turn.
    /// </summary>
    public static void Abort(int code) => MPI_Abort(World, code);

    /// <summary>Waits until every rank got here.</summary>
    public static void Barrier() => Check(MPI_Barrier(World), "MPI_Barrier");

    private static int[] Displacements(int[] counts)
    {
        var d = new int[counts.Length];
        for (int i = 1; i < counts.Length; i++) d[i] = d[i - 1] + counts[i - 1];
        return d;
    }

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed on rank {Rank} (MPI error {code}).");
    }

    // Open MPI: MPI_IN_PLACE is ((void *) 1); MPI_THREAD_FUNNELED is 1; handles are exported objects.
    private static readonly void* InPlace = (void*)1;
    private const int ThreadFunneled = 1;
    // Looked up once (the training step makes several calls), on first use.
    private static readonly Lazy<(IntPtr World, IntPtr Float, IntPtr Double, IntPtr Long, IntPtr Int, IntPtr Byte,
        IntPtr Sum)> Handles = new(() => (Export("ompi_mpi_comm_world"), Export("ompi_mpi_float"),
        Export("ompi_mpi_double"), Export("ompi_mpi_long_long_int"), Export("ompi_mpi_int"), Export("ompi_mpi_byte"),
        Export("ompi_mpi_op_sum")));
    private static IntPtr World => Handles.Value.World;
    private static IntPtr Float => Handles.Value.Float;
    private static IntPtr Double => Handles.Value.Double;
    private static IntPtr Long => Handles.Value.Long;
    private static IntPtr Int => Handles.Value.Int;
    private static IntPtr Byte => Handles.Value.Byte;
    private static IntPtr Sum => Handles.Value.Sum;

    private static IntPtr Export(string name) => NativeLibrary.GetExport(Handle.Value, name);

    private static IntPtr LoadLibrary()
    {
        foreach (var name in new[] { Library, "libmpi.so" })
            if (NativeLibrary.TryLoad(name, out var handle)) return handle;
        throw new DllNotFoundException("Open MPI's libmpi.so.40 was not found: install Debian's openmpi-bin "
            + "(apt-get install openmpi-bin) and start the command with mpirun.");
    }

    [LibraryImport(Library)]
    private static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);

    [LibraryImport(Library)]
    private static partial int MPI_Finalize();

    [LibraryImport(Library)]
    private static partial int MPI_Comm_rank(IntPtr comm, int* rank);

    [LibraryImport(Library)]
    private static partial int MPI_Comm_size(IntPtr comm, int* size);

    [LibraryImport(Library)]
    private static partial int MPI_Allreduce(void* send, void* receive, int count, IntPtr type, IntPtr op,
        IntPtr comm);

    [LibraryImport(Library)]
    private static partial int MPI_Bcast(void* buffer, int count, IntPtr type, int root, IntPtr comm);

    [LibraryImport(Library)]
    private static partial int MPI_Allgather(void* send, int sendCount, IntPtr sendType, void* receive,
        int receiveCount, IntPtr receiveType, IntPtr comm);

    [LibraryImport(Library)]
    private static partial int MPI_Allgatherv(void* send, int sendCount, IntPtr sendType, void* receive,
        int* receiveCounts, int* displacements, IntPtr receiveType, IntPtr comm);

    [LibraryImport(Library)]
    private static partial int MPI_Alltoall(void* send, int sendCount, IntPtr sendType, void* receive,
        int receiveCount, IntPtr receiveType, IntPtr comm);

    [LibraryImport(Library)]
    private static partial int MPI_Alltoallv(void* send, int* sendCounts, int* sendDisplacements, IntPtr sendType,
        void* receive, int* receiveCounts, int* receiveDisplacements, IntPtr receiveType, IntPtr comm);

    [LibraryImport(Library)]
    private static partial int MPI_Barrier(IntPtr comm);

    [LibraryImport(Library)]
    private static partial int MPI_Abort(IntPtr comm, int code);
}
