namespace GenRec.Data;

/// <summary>Input that cannot be read: names the file, the line (1-based, 0 when not about one line) and what was expected.</summary>
public sealed class DataLoadException : Exception
{
    /// <summary>Creates the error; the message is formatted as <c>file:line: problem</c>.</summary>
    public DataLoadException(string file, long line, string problem, Exception? inner = null)
        : base(line > 0 ? $"{file}:{line}: {problem}" : $"{file}: {problem}", inner)
    {
        File = file;
        Line = line;
        Problem = problem;
    }

    /// <summary>The file at fault.</summary>
    public string File { get; }

    /// <summary>1-based line number, 0 when the problem is the file as a whole.</summary>
    public long Line { get; }

    /// <summary>What was wrong and what was expected.</summary>
    public string Problem { get; }
}
