using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>A list of candidate items to rank: a text file with one item id (as in the source data) per line.</summary>
public static class CandidateFile
{
    /// <summary>
    /// Reads the items' model ids, in file order. Blank lines are skipped and <c>#</c> starts a comment; an unknown
    /// item or a file without items is an error naming the file (and line).
    /// </summary>
    public static List<long> Read(string file, PreparedDataset dataset)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: candidate file not found.", file);
        var items = new List<long>();
        int line = 0;
        foreach (var raw in File.ReadLines(file))
        {
            line++;
            int hash = raw.IndexOf('#');
            var key = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (key.Length == 0) continue;
            items.Add(dataset.ItemId(key) ?? throw new DataLoadException(file, line, $"item '{key}' is not in {dataset.Name}; expected an item id as in its source data."));
        }
        if (items.Count == 0) throw new DataLoadException(file, 0, "no candidates; expected one item id per line.");
        return items;
    }
}
