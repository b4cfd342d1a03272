using System.Runtime.InteropServices;

namespace GenRec.Data.Features;

/// <summary>Buffers records of one partition and spills them to its file.</summary>
internal sealed class PartitionWriter : IDisposable
{
    private readonly string _path;
    private FileStream? _file;
    private readonly BuildRecord[] _buffer = new BuildRecord[8192];
    private int _count;

    public PartitionWriter(string path)
    {
        _path = path;
        _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    public void Add(in BuildRecord r)
    {
        _buffer[_count++] = r;
        if (_count == _buffer.Length) Flush();
    }

    private void Flush()
    {
        _file!.Write(MemoryMarshal.AsBytes(_buffer.AsSpan(0, _count)));
        _count = 0;
    }

    public void Finish() => Flush();

    public BuildRecord[] ReadAll()
    {
        var f = _file!;
        f.Flush();
        long n = f.Length / Marshal.SizeOf<BuildRecord>();
        if (n > Array.MaxLength)
            throw new InvalidOperationException($"partition {_path} holds {n} records; lower PartitionBytes.");
        var recs = new BuildRecord[n];
        f.Position = 0;
        f.ReadExactly(MemoryMarshal.AsBytes(recs.AsSpan()));
        return recs;
    }

    public void Delete()
    {
        _file?.Dispose();
        _file = null;
        File.Delete(_path);
    }

    public void Dispose()
    {
        _file?.Dispose();
        if (File.Exists(_path)) File.Delete(_path);
    }
}
