namespace GenRec.Tests;

/// <summary>A temporary folder the test writes its own data into; removed afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"genrec-test-{Guid.NewGuid():N}");

    public string Write(string name, string content, System.Text.Encoding? encoding = null)
    {
        var p = System.IO.Path.Combine(Path, name);
        File.WriteAllText(p, content, encoding ?? new System.Text.UTF8Encoding(false));
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
