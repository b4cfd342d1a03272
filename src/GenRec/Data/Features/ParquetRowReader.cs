using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace GenRec.Data.Features;

/// <summary>Parquet through Parquet.Net: one row group at a time, each needed column converted to text once.</summary>
internal sealed class ParquetRowReader : RowReader
{
    private readonly FileStream _stream;
    private readonly ParquetReader _reader;
    private readonly DataField[] _fields;
    private string?[][] _columns = [];
    private int _group = -1;
    private int _row = -1;

    public ParquetRowReader(string path, SourceSchema source) : base(path, source)
    {
        _stream = File.OpenRead(path);
        try { _reader = ParquetReader.CreateAsync(_stream).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not DataLoadException)
        {
            _stream.Dispose();
            throw new DataLoadException(path, 0, $"not a readable Parquet file: {e.Message}", e);
        }
        var all = _reader.Schema.GetDataFields();
        _fields = new DataField[source.Columns.Count];
        for (int c = 0; c < _fields.Length; c++)
        {
            var name = source.Columns[c].Name;
            _fields[c] = all.FirstOrDefault(f => f.Name == name)
                ?? throw new DataLoadException(path, 0, $"no column '{name}' in the Parquet schema; it has {string.Join(", ", all.Select(f => f.Name))}.");
            if (_fields[c].IsArray) throw new DataLoadException(path, 0, $"column '{name}' is a list; expected a scalar column (use a separator on a string column for multi-valued features).");
        }
    }

    public override long Position => _stream.Position;

    public override long Length => _stream.Length;

    public override bool Next()
    {
        while (_group < 0 || _row + 1 >= (_columns.Length == 0 ? 0 : _columns[0].Length))
        {
            if (_group + 1 >= _reader.RowGroupCount) return false;
            _group++;
            _row = -1;
            // A file whose footer parses can still hold damaged column chunks: Parquet.Net then throws its own
            // exceptions (or others) from the read, which must name the file like every other data error.
            try
            {
                using var rg = _reader.OpenRowGroupReader(_group);
                _columns = _fields.Select(f => ReadAsText(rg, f, (int)rg.RowCount)).ToArray();
            }
            catch (Exception e) when (e is not DataLoadException)
            {
                throw new DataLoadException(Path, 0, $"row group {_group} is not readable Parquet data: {e.Message}", e);
            }
        }
        _row++;
        Line++;
        return true;
    }

    public override ReadOnlySpan<char> Field(int column) => _columns[column][_row] is { } s ? s.AsSpan() : ReadOnlySpan<char>.Empty;

    private string?[] ReadAsText(ParquetRowGroupReader rg, DataField field, int rows)
    {
        var t = Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType;
        if (t == typeof(string) || t == typeof(ReadOnlyMemory<char>))
        {
            var values = new string?[rows];
            rg.ReadAsync(field, values.AsMemory(), null, default).AsTask().GetAwaiter().GetResult();
            return values;
        }
        if (t == typeof(long)) return Read<long>(rg, field, rows, v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(int)) return Read<int>(rg, field, rows, v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(short)) return Read<short>(rg, field, rows, v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(byte)) return Read<byte>(rg, field, rows, v => v.ToString(CultureInfo.InvariantCulture));
        if (t == typeof(double)) return Read<double>(rg, field, rows, v => v.ToString("R", CultureInfo.InvariantCulture));
        if (t == typeof(float)) return Read<float>(rg, field, rows, v => v.ToString("R", CultureInfo.InvariantCulture));
        if (t == typeof(bool)) return Read<bool>(rg, field, rows, v => v ? "1" : "0");
        if (t == typeof(DateTime)) return Read<DateTime>(rg, field, rows, v => new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        if (t == typeof(DateTimeOffset)) return Read<DateTimeOffset>(rg, field, rows, v => v.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        throw new DataLoadException(Path, 0, $"column '{field.Name}' has type {t.Name}; expected text, an integer, a number, a boolean or a timestamp.");
    }

    private static string?[] Read<T>(ParquetRowGroupReader rg, DataField field, int rows, Func<T, string> format) where T : struct
    {
        var text = new string?[rows];
        if (field.IsNullable)
        {
            var values = new T?[rows];
            rg.ReadAsync(field, values.AsMemory(), null, default).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < rows; i++) text[i] = values[i] is { } v ? format(v) : null;
        }
        else
        {
            var values = new T[rows];
            rg.ReadAsync(field, values.AsMemory(), null, default).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < rows; i++) text[i] = format(values[i]);
        }
        return text;
    }

    public override void Dispose()
    {
        _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream.Dispose();
    }
}
