using System.Globalization;

namespace GenRec.Data;

/// <summary>
/// An event log kept as a text file that grows at its end: a header <c>user,item,timestamp</c> (tabs or commas),
/// then one event per line. An event's sequence number is its line number, so lines must only ever be appended.
/// </summary>
public static class EventLogFile
{
    /// <summary>Reads every event of <paramref name="path"/>; a bad line is refused naming the file and line.</summary>
    public static List<LoggedEvent> Read(string path)
    {
        if (!File.Exists(path)) throw new DataLoadException(path, 0, "event log not found.");
        var events = new List<LoggedEvent>();
        int line = 0;
        char sep = '\t';
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (line == 1)
            {
                sep = text.Contains('\t') ? '\t' : ',';
                var header = text.Split(sep).Select(h => h.Trim().ToLowerInvariant()).ToArray();
                if (header is not ["user", "item", "timestamp", ..])
                    throw new DataLoadException(path, 1, $"header '{text}': expected user,item,timestamp (tabs or "
                        + "commas).");
                continue;
            }
            if (text.Length == 0) continue;
            var f = text.Split(sep);
            if (f.Length < 3 || f[0].Length == 0 || f[1].Length == 0)
                throw new DataLoadException(path, line, $"'{text}': expected user{sep}item{sep}timestamp.");
            if (!long.TryParse(f[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ts))
                throw new DataLoadException(path, line, $"timestamp '{f[2]}': expected Unix seconds.");
            events.Add(new LoggedEvent(line, f[0], f[1], ts));
        }
        return events;
    }
}
