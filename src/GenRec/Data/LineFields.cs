using System.Globalization;

namespace GenRec.Data;

/// <summary>Splits and parses one text line into fields, with errors that name the file, line and field.</summary>
internal readonly struct LineFields
{
    private readonly string _file;
    private readonly long _line;
    private readonly string _text;
    private readonly List<(int Start, int Length)> _fields;

    private LineFields(string file, long line, string text, List<(int, int)> fields)
    {
        _file = file; _line = line; _text = text; _fields = fields;
    }

    public int Count => _fields.Count;

    /// <summary>Splits on a separator string (no quoting: MovieLens .dat, u.data).</summary>
    public static LineFields Split(string file, long line, string text, string separator)
    {
        var fields = new List<(int, int)>(6);
        int start = 0;
        while (true)
        {
            int at = text.IndexOf(separator, start, StringComparison.Ordinal);
            if (at < 0) { fields.Add((start, text.Length - start)); break; }
            fields.Add((start, at - start));
            start = at + separator.Length;
        }
        return new LineFields(file, line, text, fields);
    }

    /// <summary>Splits a CSV line (RFC 4180 quotes: "a, b" and "" inside quotes).</summary>
    public static (LineFields Fields, string Text) SplitCsv(string file, long line, string text)
    {
        if (text.IndexOf('"') < 0) return (Split(file, line, text, ","), text);
        var sb = new System.Text.StringBuilder(text.Length);
        var fields = new List<(int, int)>();
        int fieldStart = 0;
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add((fieldStart, sb.Length - fieldStart)); fieldStart = sb.Length; }
            else sb.Append(c);
        }
        if (quoted) throw new DataLoadException(file, line, "unterminated quoted field; expected a closing \".");
        fields.Add((fieldStart, sb.Length - fieldStart));
        var unquoted = sb.ToString();
        return (new LineFields(file, line, unquoted, fields), unquoted);
    }

    public void Expect(int count, string layout)
    {
        if (_fields.Count != count)
            throw new DataLoadException(_file, _line, $"found {_fields.Count} field(s); expected {count}: {layout}.");
    }

    public ReadOnlySpan<char> this[int i] => _text.AsSpan(_fields[i].Start, _fields[i].Length);

    /// <summary>Where field <paramref name="i"/> lies in the (unquoted) text.</summary>
    public (int Start, int Length) Range(int i) => _fields[i];

    public string Text(int i) => this[i].ToString();

    public long Long(int i, string name)
    {
        var s = this[i].Trim();
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)) return v;
        // Some exports write integer timestamps as 1.2e9 or 978300760.0.
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && Math.Abs(d) < 9e18) return (long)Math.Floor(d);
        throw new DataLoadException(_file, _line, $"field {i + 1} ({name}) is '{s}'; expected an integer.");
    }

    public long PositiveId(int i, string name)
    {
        long v = Long(i, name);
        if (v <= 0) throw new DataLoadException(_file, _line, $"field {i + 1} ({name}) is {v}; expected a positive id (0 is reserved for padding).");
        return v;
    }

    public float Float(int i, string name)
    {
        var s = this[i].Trim();
        if (float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)) return v;
        throw new DataLoadException(_file, _line, $"field {i + 1} ({name}) is '{s}'; expected a number.");
    }
}
