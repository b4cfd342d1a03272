namespace GenRec.Data.Features;

/// <summary>One input file: its format and its columns.</summary>
public sealed record SourceSchema
{
    /// <summary>Path relative to the data folder.</summary>
    public string File { get; init; } = "";

    /// <summary>csv or parquet; unset: parquet for <c>.parquet</c> files, csv otherwise.</summary>
    public string? Format { get; init; }

    /// <summary>CSV field separator (any string: ",", "\t", "::", "|"); default ",".</summary>
    public string Delimiter { get; init; } = ",";

    /// <summary>
    /// Text encoding of a CSV source: <c>utf-8</c> (default; bytes that are not UTF-8 stop the read, naming the line) or
    /// <c>latin1</c> (ISO-8859-1: every byte is a character, as in MovieLens' <c>movies.dat</c>).
    /// </summary>
    public string Encoding { get; init; } = "utf-8";

    /// <summary>Whether the first CSV line names the columns. Without a header, <see cref="Columns"/> lists every column in order.</summary>
    public bool Header { get; init; }

    /// <summary>The columns this schema uses.</summary>
    public List<ColumnSchema> Columns { get; init; } = [];

    /// <summary>The resolved format.</summary>
    public string ResolvedFormat => Format ?? (File.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? "parquet" : "csv");

    /// <summary>Finds the column with a role, or null.</summary>
    public ColumnSchema? Find(ColumnRole role) => Columns.FirstOrDefault(c => c.ParsedRole == role);

    /// <summary>What the source holds, from its key columns.</summary>
    public SourceKind Kind =>
        Find(ColumnRole.User) is not null && Find(ColumnRole.Item) is not null ? SourceKind.Events
        : Find(ColumnRole.User) is not null ? SourceKind.UserFeatures
        : Find(ColumnRole.Item) is not null ? SourceKind.ItemFeatures
        : SourceKind.Unkeyed;
}
