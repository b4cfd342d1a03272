using GenRec.Data;
using GenRec.Serving.Stores;

namespace GenRec.Cli.Commands;

/// <summary>Reads the event log an <c>--events</c> value names: a file, or the service's store.</summary>
internal static class EventLogs
{
    private const int Page = 10_000;

    /// <summary>
    /// <c>sqlite:PATH</c> or <c>redis:HOST:PORT</c>: every item event the service stored, in arrival order; anything
    /// else: a file with a header <c>user,item,timestamp</c>. Returns the events and a stable name for the log (the
    /// run refuses another log later).
    /// </summary>
    public static (IReadOnlyList<LoggedEvent> Events, string Source) Read(string spec)
    {
        bool sqlite = spec.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase);
        if (!sqlite && !spec.StartsWith("redis:", StringComparison.OrdinalIgnoreCase))
        {
            var file = Path.GetFullPath(spec);
            return (EventLogFile.Read(file), file);
        }
        if (sqlite && !File.Exists(spec["sqlite:".Length..]))
            throw new FileNotFoundException($"--events {spec}: no such SQLite store.", spec["sqlite:".Length..]);
        string source = sqlite ? "sqlite:" + Path.GetFullPath(spec["sqlite:".Length..]) : spec;
        return Task.Run(async () =>
        {
            await using var store = await HistoryStores.OpenAsync(sqlite ? source : spec, default,
                TimeSpan.FromSeconds(30));
            var events = new List<LoggedEvent>();
            long after = 0;
            while (true)
            {
                var page = await store.ReadLogAsync(after, Page);
                if (page.Count == 0) break;
                events.AddRange(page.Where(e => e.Item.Length > 0));
                after = page[^1].Seq;
            }
            return ((IReadOnlyList<LoggedEvent>)events, source);
        }).GetAwaiter().GetResult();
    }
}
