using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GenRec.Tests.Serving;

/// <summary>
/// A throwaway redis-server on a free loopback port, no persistence. Tests that need it are skipped where
/// redis-server is not installed, unless GENREC_REQUIRE_REDIS=1 (set by .ci/run, which installs it) makes that a failure.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private Process _process;
    private readonly string? _dataDir;
    private readonly bool _snapshot;

    public static string? Executable =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    public static bool Required => Environment.GetEnvironmentVariable("GENREC_REQUIRE_REDIS") == "1";

    /// <summary>
    /// Starts a server; with <paramref name="durableDir"/> it keeps an append-only file there, fsynced on every
    /// write, or with <paramref name="snapshot"/> only the snapshot SAVE writes (read back key by key on restart).
    /// </summary>
    public RedisServer(string? durableDir = null, bool snapshot = false)
    {
        _snapshot = snapshot;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        _dataDir = durableDir;
        _process = Launch();
    }

    /// <summary>Kills the server (SIGKILL): what it acknowledged is on disk only if it is durable.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
    }

    /// <summary>Starts the server again on the same port (and data folder), with <paramref name="extraArgs"/>.
    /// </summary>
    public void Restart(string extraArgs = "")
    {
        _process.Dispose();
        _process = Launch(extraArgs);
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing is answered, like a hung host.
    /// </summary>
    public void Pause() => Signal("STOP");

    /// <summary>Lets a paused server go on (SIGCONT): it then runs what it received meanwhile.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string name)
    {
        using var kill = Process.Start("kill", $"-{name} {_process.Id}");
        kill.WaitForExit();
    }

    private Process Launch(string extraArgs = "")
    {
        var exe = Executable ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server); .ci/run installs it.");
        string persistence = (_dataDir, _snapshot) switch
        {
            (null, _) => "--save \"\" --appendonly no",
            (_, true) => $"--save \"\" --appendonly no --dir {_dataDir} --dbfilename dump.rdb",
            _ => $"--save \"\" --appendonly yes --appendfsync always --dir {_dataDir}",
        };
        var arguments = $"--port {Port} --bind 127.0.0.1 {persistence} {extraArgs}";
        var process = Process.Start(new ProcessStartInfo(exe, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, Port); return process; }
            catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(50); }
        }
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>A fact that needs redis-server: skipped where it is missing, unless CI requires it.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.Executable is null && !RedisServer.Required) Skip = "redis-server is not installed (.ci/run installs it and sets GENREC_REQUIRE_REDIS=1).";
    }
}
