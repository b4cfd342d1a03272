namespace GenRec.Data.Features;

/// <summary>A schema file that cannot be used: names the file, the field (a JSON path such as <c>sources[1].columns[2].role</c>) and what was expected.</summary>
public sealed class SchemaException : Exception
{
    /// <summary>Creates the error; the message reads <c>file: field: problem</c>.</summary>
    public SchemaException(string file, string field, string problem, Exception? inner = null)
        : base(field.Length > 0 ? $"{file}: {field}: {problem}" : $"{file}: {problem}", inner)
    {
        File = file;
        Field = field;
        Problem = problem;
    }

    /// <summary>The schema file.</summary>
    public string File { get; }

    /// <summary>JSON path of the offending field; empty when about the file as a whole.</summary>
    public string Field { get; }

    /// <summary>What was wrong and what was expected.</summary>
    public string Problem { get; }
}
