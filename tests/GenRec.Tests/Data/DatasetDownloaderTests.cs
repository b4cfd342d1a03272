using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using GenRec.Data;
using GenRec.Data.Download;

namespace GenRec.Tests.Data;

/// <summary>
/// <c>genrec data get</c> against a publisher played by an HTTP server on loopback serving a generated archive: the
/// transfer resumes where it broke, the bytes are checked, the cache is filled whole or not at all, and a cached
/// dataset costs no request. No test reaches the internet.
/// </summary>
public sealed class DatasetDownloaderTests : IDisposable
{
    private readonly HttpListener _server = new();
    private readonly byte[] _archive = Archive();
    private readonly List<string?> _ranges = [];
    private readonly string _prefix;
    private readonly TempDir _cache = new();
    private int _cutFirstAt = -1;

    public DatasetDownloaderTests()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _prefix = $"http://127.0.0.1:{port}/";
        _server.Prefixes.Add(_prefix);
        _server.Start();
        _ = Task.Run(ServeAsync);
    }

    /// <summary>A MovieLens-100K-shaped archive: one top folder holding u.data.</summary>
    private static byte[] Archive()
    {
        var rows = new StringBuilder();
        for (int u = 1; u <= 30; u++)
            for (int i = 0; i < 6; i++)
                rows.Append($"{u}\t{(u * 7 + i * 3) % 40 + 1}\t{1 + i % 5}\t{1000 + u * 100 + i}\n");
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(zip.CreateEntry("ml-test/u.data").Open())) w.Write(rows.ToString());
            // Padding, so that the transfer is long enough to break in the middle.
            var pad = zip.CreateEntry("ml-test/README", CompressionLevel.NoCompression).Open();
            pad.Write(RandomNumberGenerator.GetBytes(200_000));
            pad.Dispose();
        }
        return ms.ToArray();
    }

    private async Task ServeAsync()
    {
        while (_server.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _server.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            var range = ctx.Request.Headers["Range"];
            int first;
            lock (_ranges)
            {
                first = _ranges.Count;
                _ranges.Add(range);
            }
            int from = range is null ? 0
                : int.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            ctx.Response.StatusCode = range is null ? 200 : 206;
            ctx.Response.ContentLength64 = _archive.Length - from;
            try
            {
                if (first == 0 && _cutFirstAt > 0)
                {
                    // The first transfer breaks: half the bytes, then the connection drops.
                    await ctx.Response.OutputStream.WriteAsync(_archive.AsMemory(0, _cutFirstAt));
                    await ctx.Response.OutputStream.FlushAsync();
                    ctx.Response.Abort();
                    continue;
                }
                await ctx.Response.OutputStream.WriteAsync(_archive.AsMemory(from));
                ctx.Response.Close();
            }
            catch (HttpListenerException) { }
        }
    }

    private PublicDataset Dataset(string? sha256 = null) => new()
    {
        Name = "ml-test",
        Url = new Uri(_prefix + "ml-test.zip"),
        Sha256 = sha256 ?? Convert.ToHexStringLower(SHA256.HashData(_archive)),
        Md5 = Convert.ToHexStringLower(MD5.HashData(_archive)),
        Description = "a generated archive",
        Terms = "none",
    };

    [Fact]
    public async Task ABrokenTransferResumesWhereItStoppedAndTheCheckedFolderOpensAsData()
    {
        _cutFirstAt = _archive.Length / 2;
        using var http = new HttpClient();
        var downloader = new DatasetDownloader(http, _cache.Path);
        var broken = await Assert.ThrowsAsync<IOException>(() => downloader.GetAsync(Dataset()));
        Assert.Contains("run the same command again to resume it", broken.Message);
        Assert.False(Directory.Exists(downloader.FolderOf(Dataset())));
        long kept = new FileInfo(Path.Combine(_cache.Path, "ml-test.zip.part")).Length;
        Assert.InRange(kept, 1, _archive.Length - 1);

        var seen = new List<(long Done, long? Total)>();
        var folder = await downloader.GetAsync(Dataset(), new Progress<(long, long?)>(seen.Add));
        // The second request asked only for the missing bytes.
        Assert.Equal($"bytes={kept}-", _ranges[1]);
        Assert.True(File.Exists(Path.Combine(folder, "u.data")));
        Assert.False(File.Exists(Path.Combine(_cache.Path, "ml-test.zip.part")));
        using (var data = DataSource.Open(folder)) Assert.Equal(30, data.UserCount);

        // Cached: no request at all.
        Assert.Equal(folder, await downloader.GetAsync(Dataset()));
        Assert.Equal(2, _ranges.Count);
    }

    [Fact]
    public async Task BytesThatAreNotThePublishedFileAreDeletedAndNothingIsUnpacked()
    {
        using var http = new HttpClient();
        var downloader = new DatasetDownloader(http, _cache.Path);
        var wrong = Dataset(sha256: new string('0', 64));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => downloader.GetAsync(wrong));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains("expected 0000", e.Message);
        Assert.False(File.Exists(Path.Combine(_cache.Path, "ml-test.zip.part")));
        Assert.False(Directory.Exists(downloader.FolderOf(wrong)));
    }

    [Fact]
    public void UnknownNamesAreRefusedWithTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => PublicDatasets.Find("1m"));
        Assert.Contains("ml-1m, ml-100k, ml-20m", e.Message);
        Assert.Contains("did you mean ml-1m", e.Message);
        Assert.All(PublicDatasets.All, d => Assert.True(d.Sha256 is not null || d.Md5 is not null, d.Name));
    }

    public void Dispose()
    {
        _server.Stop();
        _server.Close();
        _cache.Dispose();
    }
}
