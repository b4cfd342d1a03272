namespace GenRec.Data.Features;

/// <summary>
/// Reads a source row by row and hands out the schema's columns as character spans, so that the sequence builder
/// parses ids and times without allocating a string per field. Errors name the file and line (CSV) or row (Parquet).
/// </summary>
internal abstract class RowReader : IDisposable
{
    protected RowReader(string path, SourceSchema source)
    {
        Path = path;
        Source = source;
    }

    /// <summary>The file being read.</summary>
    public string Path { get; }

    /// <summary>Its schema.</summary>
    public SourceSchema Source { get; }

    /// <summary>1-based line (CSV, counting the header) or row (Parquet) of the current row.</summary>
    public long Line { get; protected set; }

    /// <summary>Bytes read so far, for progress.</summary>
    public abstract long Position { get; }

    /// <summary>Total bytes, for progress.</summary>
    public abstract long Length { get; }

    /// <summary>Advances to the next row; false at the end.</summary>
    public abstract bool Next();

    /// <summary>The value of schema column <paramref name="column"/> (its index in <see cref="SourceSchema.Columns"/>) in the current row.</summary>
    public abstract ReadOnlySpan<char> Field(int column);

    /// <summary>An error about the current row and a column.</summary>
    public DataLoadException Error(int column, string problem) =>
        new(Path, Line, $"column '{Source.Columns[column].Name}': {problem}");

    /// <summary>Opens a source in its format.</summary>
    public static RowReader Open(string path, SourceSchema source)
    {
        if (!File.Exists(path)) throw new DataLoadException(path, 0, "file not found (named in the schema's sources).");
        return source.ResolvedFormat == "parquet" ? new ParquetRowReader(path, source) : new CsvRowReader(path, source);
    }

    /// <inheritdoc />
    public abstract void Dispose();
}
