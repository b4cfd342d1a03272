using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace GenRec.Data.Download;

/// <summary>
/// Fetches a <see cref="PublicDataset"/> into a cache folder and returns the folder to pass as <c>--data</c>: the
/// archive is downloaded to <c>NAME.zip.part</c> (an interrupted download resumes from where it stopped, with an HTTP
/// range request), checked (SHA-256 and the publisher's MD5; a mismatch deletes it), unpacked into a temporary folder
/// and renamed into place, so that the cache never holds half a dataset. A dataset already there is returned without
/// a request.
/// </summary>
public sealed class DatasetDownloader(HttpClient http, string cacheFolder)
{
    /// <summary>The marker written last into a complete dataset folder: the archive's SHA-256.</summary>
    public const string CompleteMarker = ".genrec-complete";

    /// <summary>
    /// The default cache: <c>$GENREC_DATA</c>, else <c>$XDG_CACHE_HOME/genrec/datasets</c>, else
    /// <c>~/.cache/genrec/datasets</c>.
    /// </summary>
    public static string DefaultCache()
    {
        var own = Environment.GetEnvironmentVariable("GENREC_DATA");
        if (!string.IsNullOrEmpty(own)) return own;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "genrec", "datasets");
    }

    /// <summary>The folder <paramref name="dataset"/> is (or will be) unpacked into.</summary>
    public string FolderOf(PublicDataset dataset) => Path.Combine(cacheFolder, dataset.Name);

    /// <summary>
    /// Returns the dataset's folder, downloading and unpacking it first unless the cache holds it.
    /// <paramref name="progress"/> gets (bytes so far, total bytes where the server says).
    /// </summary>
    public async Task<string> GetAsync(PublicDataset dataset, IProgress<(long Done, long? Total)>? progress = null,
        CancellationToken cancel = default)
    {
        var folder = FolderOf(dataset);
        if (File.Exists(Path.Combine(folder, CompleteMarker))) return folder;
        Directory.CreateDirectory(cacheFolder);
        var part = Path.Combine(cacheFolder, dataset.Name + ".zip.part");
        await DownloadAsync(dataset, part, progress, cancel).ConfigureAwait(false);
        var sha = Verify(dataset, part);
        Unpack(dataset, part, folder, sha);
        File.Delete(part);
        return folder;
    }

    private async Task DownloadAsync(PublicDataset dataset, string part, IProgress<(long, long?)>? progress,
        CancellationToken cancel)
    {
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, dataset.Url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel)
                .ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"{dataset.Url}: the publisher cannot be reached ({e.Message}); check the network, "
                + "or download the archive by hand, unzip it and pass the folder as --data.", e);
        }
        using var _ = response;
        if (have > 0 && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return; // all there
        if (!response.IsSuccessStatusCode)
            throw new IOException($"{dataset.Url}: the server answered {(int)response.StatusCode} "
                + $"{response.ReasonPhrase}; try again later, or download it by hand and pass the folder as --data.");
        bool resumed = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) have = 0;
        long? total = response.Content.Headers.ContentLength is long n ? n + have : null;
        await using var body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
        await using var file = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write);
        var buffer = new byte[1 << 16];
        long done = have;
        progress?.Report((done, total));
        int read;
        try
        {
            while ((read = await body.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), cancel).ConfigureAwait(false);
                done += read;
                progress?.Report((done, total));
            }
        }
        catch (Exception e) when (e is HttpRequestException or HttpIOException)
        {
            throw new IOException($"{dataset.Url}: the transfer broke at {done:N0} bytes ({e.Message}); run the same "
                + "command again to resume it.", e);
        }
        if (total is long t && done != t)
            throw new IOException($"{dataset.Url}: the transfer stopped at {done:N0} of {t:N0} bytes; run the same "
                + "command again to resume it.");
    }

    /// <summary>Checks the archive against the pinned SHA-256 and the publisher's MD5; returns its SHA-256.</summary>
    private static string Verify(PublicDataset dataset, string part)
    {
        // Both digests in one pass over the archive (ML-20M is 190 MB).
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5Hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using (var stream = File.OpenRead(part))
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                sha256.AppendData(buffer, 0, read);
                md5Hash.AppendData(buffer, 0, read);
            }
        }
        string sha = Convert.ToHexStringLower(sha256.GetHashAndReset());
        string md5 = Convert.ToHexStringLower(md5Hash.GetHashAndReset());
        string? wrong = dataset.Sha256 is { } s && s != sha ? $"SHA-256 {sha}, expected {s}"
            : dataset.Md5 is { } m && m != md5 ? $"MD5 {md5}, expected the publisher's {m}"
            : null;
        if (wrong is null) return sha;
        File.Delete(part);
        throw new InvalidDataException($"{dataset.Url}: the downloaded archive has {wrong}; it is damaged or not the "
            + "published file, and was deleted. Run the command again.");
    }

    private static void Unpack(PublicDataset dataset, string archive, string folder, string sha)
    {
        var temp = folder + $".unpacking-{Environment.ProcessId}";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        try
        {
            ZipFile.ExtractToDirectory(archive, temp);
            // Archives hold one top folder (ml-1m/…): that folder is the dataset.
            var dirs = Directory.GetDirectories(temp);
            var root = dirs.Length == 1 && Directory.GetFiles(temp).Length == 0 ? dirs[0] : temp;
            File.WriteAllText(Path.Combine(root, CompleteMarker), sha + "\n");
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(root, folder);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{dataset.Url}: not a readable zip archive ({e.Message}).", e);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }
}
