using System.Text;

namespace GenRec.Data.Features;

/// <summary>Delimited text (CSV, TSV, MovieLens "::"), with RFC 4180 quotes when the delimiter is a comma.</summary>
internal sealed class CsvRowReader : RowReader
{
    private readonly StreamReader _reader;
    private readonly string _delimiter;
    private readonly int[] _map;          // schema column → field index
    private readonly int _expectedFields; // headerless: exact count; with header: at least this many
    private int[] _starts = new int[16];
    private int[] _lengths = new int[16];
    private int _count;
    private string _line = "";

    public CsvRowReader(string path, SourceSchema source) : base(path, source)
    {
        // Strict UTF-8: bytes that are not UTF-8 stop the read with the line, never become U+FFFD silently. Latin-1
        // (declared in the schema) maps every byte to a character, so nothing can be invalid.
        _reader = source.Encoding == "latin1"
            ? new StreamReader(path, System.Text.Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 20)
            : new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 20);
        _delimiter = source.Delimiter;
        _map = new int[source.Columns.Count];
        if (source.Header)
        {
            string? first;
            try { first = _reader.ReadLine(); }
            catch (DecoderFallbackException) { throw NotUtf8(); }
            var header = first ?? throw new DataLoadException(path, 1, "the file is empty; expected a header line.");
            Line = 1;
            _line = header;
            Split();
            var names = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int f = 0; f < _count; f++) names.TryAdd(header.Substring(_starts[f], _lengths[f]).Trim(), f);
            for (int c = 0; c < _map.Length; c++)
            {
                if (!names.TryGetValue(source.Columns[c].Name, out _map[c]))
                    throw new DataLoadException(path, 1, $"no column '{source.Columns[c].Name}' in the header; it has {string.Join(", ", names.Keys)}.");
            }
            _expectedFields = _map.Max() + 1;
        }
        else
        {
            for (int c = 0; c < _map.Length; c++) _map[c] = c;
            _expectedFields = _map.Length;
        }
    }

    public override long Position => _reader.BaseStream.Position;

    public override long Length => _reader.BaseStream.Length;

    public override bool Next()
    {
        while (true)
        {
            string? line;
            try { line = _reader.ReadLine(); }
            catch (DecoderFallbackException) { throw NotUtf8(); }
            if (line is null) return false;
            Line++;
            if (line.Length == 0 || (line.Length == 1 && line[0] == '\r')) continue; // blank lines carry no data
            _line = line;
            Split();
            if (Source.Header ? _count < _expectedFields : _count != _expectedFields)
                throw new DataLoadException(Path, Line,
                    $"{_count} field(s) separated by \"{_delimiter}\"; expected {(Source.Header ? "at least " : "")}{_expectedFields} ({string.Join(", ", Source.Columns.Select(c => c.Name))}).");
            return true;
        }
    }

    // The reader decodes ahead in large blocks, so the failing line is found by scanning the bytes.
    private DataLoadException NotUtf8() =>
        new(Path, Utf8Lines.FirstInvalidLine(Path), "is not valid UTF-8; expected UTF-8 text (save the file as UTF-8, or declare \"encoding\": \"latin1\" for this source in the schema).");

    public override ReadOnlySpan<char> Field(int column)
    {
        int f = _map[column];
        return _line.AsSpan(_starts[f], _lengths[f]).Trim();
    }

    private void Split()
    {
        if (_delimiter == "," && _line.Contains('"')) { SplitQuoted(); return; }
        _count = 0;
        int start = 0;
        var span = _line.AsSpan();
        if (span.Length > 0 && span[^1] == '\r') span = span[..^1];
        while (true)
        {
            int at = span[start..].IndexOf(_delimiter, StringComparison.Ordinal);
            int len = at < 0 ? span.Length - start : at;
            Add(start, len);
            if (at < 0) break;
            start += at + _delimiter.Length;
        }
    }

    private void SplitQuoted()
    {
        var (fields, text) = LineFields.SplitCsv(Path, Line, _line.TrimEnd('\r'));
        _count = 0;
        for (int f = 0; f < fields.Count; f++)
        {
            var (start, length) = fields.Range(f);
            Add(start, length);
        }
        _line = text;
    }

    private void Add(int start, int length)
    {
        if (_count == _starts.Length)
        {
            Array.Resize(ref _starts, _count * 2);
            Array.Resize(ref _lengths, _count * 2);
        }
        _starts[_count] = start;
        _lengths[_count] = length;
        _count++;
    }

    public override void Dispose() => _reader.Dispose();
}
