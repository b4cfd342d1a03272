using System.CommandLine;

namespace GenRec.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class Options
{
    public static Option<bool> Json() => new("--json") { Description = "Print the results as one JSON object on standard output (progress and notes go to standard error)." };

    public static Option<string> Device() => new("--device") { Description = "cpu or cuda[:N].", DefaultValueFactory = _ => "cpu" };

    public static Option<int> Threads() => new("--threads") { Description = "CPU threads for tensor math; 0 = all cores.", DefaultValueFactory = _ => 0 };

    public static Option<string> Data(bool required = true) => new("--data") { Description = "A folder made by genrec prepare, a MovieLens folder (1M, 20M/latest, 100K), or a user,item,rating,timestamp CSV.", Required = required };

    public static Option<bool> SkipBadRows() => new("--skip-bad-rows") { Description = "Drop unusable rows (malformed, duplicated, not UTF-8, ids beyond the embedding table, negative times, users with one event), count them and print a summary, instead of stopping at the first with its file and line." };

    public static Option<string> Checkpoint() => new("--checkpoint") { Description = "A checkpoint.ckpt written by genrec train.", Required = true };

    /// <summary>Parses a comma-separated list of integers of at least <paramref name="min"/>, naming the option on error.</summary>
    public static int[] IntList(string text, string option, int min = 1)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out values[i]) || values[i] < min) throw new ArgumentException($"{option}: '{parts[i]}' is not an integer ≥ {min}.");
        if (values.Length == 0) throw new ArgumentException($"{option}: no values given.");
        return values;
    }
}
