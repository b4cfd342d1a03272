using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// New items with their side features, for incremental training to list before anyone interacted with them (cold
/// start): a header <c>item</c> then item-feature names of the dataset (tabs or commas), one item per line, several
/// values of one feature separated by <c>|</c>. Values are mapped with the dataset's vocabularies.
/// </summary>
public static class ItemCatalogFile
{
    /// <summary>
    /// Reads <paramref name="path"/>: each item's key and, per item feature of <paramref name="data"/> (in the
    /// dataset's order), its value ids. A value the dataset never had has no embedding: it is left out and counted in
    /// <paramref name="unknownValues"/>.
    /// </summary>
    public static List<(string Key, long[][] Features)> Read(string path, PreparedDataset data, out int unknownValues)
    {
        if (!File.Exists(path)) throw new DataLoadException(path, 0, "item catalog not found.");
        var groups = data.Features.ItemFeatures;
        var items = new List<(string, long[][])>();
        unknownValues = 0;
        int line = 0;
        char sep = '\t';
        int[] column = [];
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (line == 1)
            {
                sep = text.Contains('\t') ? '\t' : ',';
                var header = text.Split(sep).Select(h => h.Trim()).ToArray();
                if (header.Length == 0 || !header[0].Equals("item", StringComparison.OrdinalIgnoreCase))
                    throw new DataLoadException(path, 1, $"header '{text}': expected item, then item features.");
                column = new int[header.Length];
                for (int c = 1; c < header.Length; c++)
                {
                    column[c] = groups.Select(g => g.Name).ToList().IndexOf(header[c]);
                    if (column[c] < 0)
                        throw new DataLoadException(path, 1, $"column '{header[c]}' is not an item feature of "
                            + $"{data.Name} (it has {(groups.Count == 0 ? "none" : Names(groups))}).");
                }
                continue;
            }
            if (text.Length == 0) continue;
            var f = text.Split(sep);
            if (f.Length != column.Length || f[0].Length == 0)
                throw new DataLoadException(path, line,
                    $"expected {column.Length} fields (item first), got {f.Length}.");
            var features = groups.Select(_ => Array.Empty<long>()).ToArray();
            for (int c = 1; c < f.Length; c++)
            {
                int g = column[c];
                var ids = new List<long>();
                foreach (var value in f[c].Split('|', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (data.ItemFeatureValueId(g, value) is int id) ids.Add(id);
                    else unknownValues++;
                }
                features[g] = [.. ids.Distinct().Take(groups[g].Width)];
            }
            items.Add((f[0], features));
        }
        return items;
    }

    private static string Names(IReadOnlyList<ItemFeature> groups) => string.Join(", ", groups.Select(g => g.Name));
}
