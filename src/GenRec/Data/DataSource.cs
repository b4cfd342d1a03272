using System.Globalization;
using System.Text;
using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// The one way into the data pipeline: every <c>--data</c> form becomes a <see cref="PreparedDataset"/>. A prepared
/// folder (<c>genrec prepare</c>) is opened as it is; a ratings folder or file in a built-in layout (MovieLens-1M,
/// -20M / latest, -100K, generic ratings CSV) is read and checked by <see cref="DatasetReader"/> and then built by
/// the same <see cref="SequenceBuilder"/> through the built-in ratings schema (<see cref="RatingsSchema"/>). Items are
/// numbered in order of first appearance in the events, as <c>prepare</c> numbers them, so a raw MovieLens folder and
/// the same folder prepared with <c>configs/ml-1m/schema.json</c> have one item-id space.
/// </summary>
public static class DataSource
{
    /// <summary>Opens <paramref name="path"/>: a prepared folder, or ratings in a built-in layout (bad rows per
    /// <paramref name="badRows"/>).</summary>
    public static PreparedDataset Open(string path, BadRows? badRows = null) =>
        PreparedDataset.IsPrepared(path) ? PreparedDataset.Open(path) : FromRatings(DatasetReader.Read(path, badRows));

    /// <summary>
    /// The built-in ratings schema: the events (user, item, rating, timestamp; the rating is read and dropped, as the
    /// paper's retrieval experiments use items only) and, where the source has them, item titles.
    /// </summary>
    public static FeatureSchema RatingsSchema(string name, bool titles)
    {
        var sources = new List<SourceSchema>
        {
            new()
            {
                File = EventsFile, Delimiter = "\t",
                Columns =
                [
                    new() { Name = "user", Role = "user" },
                    new() { Name = "item", Role = "item" },
                    new() { Name = "rating", Role = "dense" },
                    new() { Name = "timestamp", Role = "timestamp" },
                ],
            },
        };
        if (titles)
            sources.Add(new()
            {
                File = TitlesFile,
                Delimiter = "\t",
                Columns = [new() { Name = "item", Role = "item" },
                new() { Name = "title", Role = "title" }]
            });
        var schema = new FeatureSchema { Name = name, Sources = sources };
        schema.Validate("built-in ratings schema");
        return schema;
    }

    /// <summary>
    /// Builds a checked ratings log through the built-in ratings schema into a private temporary folder and opens it;
    /// the folder is removed as soon as it is mapped (or, where the platform forbids that, when the dataset is
    /// disposed).
    /// </summary>
    public static PreparedDataset FromRatings(RatingsLog log, CancellationToken cancel = default)
    {
        SweepAbandoned();
        var work = Path.Combine(Path.GetTempPath(), $"{TempPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var source = Path.Combine(work, "source");
            Directory.CreateDirectory(source);
            using (var w = new StreamWriter(Path.Combine(source, EventsFile), false, new UTF8Encoding(false), 1 << 20))
                foreach (var x in log.Events)
                {
                    var (user, item) = (Clean(log.UserKey(x.UserId)), Clean(log.ItemKey(x.ItemId)));
                    w.Write(string.Create(CultureInfo.InvariantCulture,
                        $"{user}\t{item}\t{x.Rating}\t{x.Timestamp}\n"));
                }
            bool titles = log.ItemTitles.Count > 0;
            if (titles)
                using (var w = new StreamWriter(Path.Combine(source, TitlesFile), false, new UTF8Encoding(false)))
                    foreach (var (item, title) in log.ItemTitles.OrderBy(kv => kv.Key))
                        w.Write($"{Clean(log.ItemKey(item))}\t{Clean(title)}\n");
            var prepared = Path.Combine(work, "prepared");
            new SequenceBuilder(RatingsSchema(log.Name, titles), source).Build(prepared, cancel);
            return PreparedDataset.OpenTemporary(prepared, work);
        }
        catch
        {
            if (Directory.Exists(work)) Directory.Delete(work, true);
            throw;
        }
    }

    private const string EventsFile = "events.tsv";
    private const string TitlesFile = "titles.tsv";
    private const string TempPrefix = "genrec-ratings-";

    private static string Clean(string s) => s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');

    /// <summary>Removes temporary folders left by processes that were killed before they could clean up.</summary>
    private static void SweepAbandoned()
    {
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), TempPrefix + "*"))
            {
                var rest = Path.GetFileName(dir)[TempPrefix.Length..];
                int dash = rest.IndexOf('-');
                if (dash <= 0 || !int.TryParse(rest[..dash], out int pid) || Alive(pid)) continue;
                try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }

        static bool Alive(int pid)
        {
            try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
            catch (ArgumentException) { return false; }
            catch (InvalidOperationException) { return false; }
        }
    }
}
