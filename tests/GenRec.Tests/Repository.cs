namespace GenRec.Tests;

/// <summary>The repository the tests run from (its configs and sources), found above the test binaries.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "GenRec.slnx"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException($"no repository above {AppContext.BaseDirectory}");
    }
}
