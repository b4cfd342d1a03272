namespace GenRec.Tests.Architecture;

/// <summary>
/// Lines are at most 120 characters. Files written before the limit keep their counted overruns in
/// long-lines.tsv, and those counts may only go down: a new file, or a new long line in an old one, fails here.
/// </summary>
public class LineWidthTests
{
    private const int Width = 120;

    [Fact]
    public void NoFileHasMoreLinesOver120CharactersThanItsBaseline()
    {
        var root = Repository.Root;
        var baseline = File.ReadAllLines(Path.Combine(root, "tests", "GenRec.Tests", "Architecture", "long-lines.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
        var problems = new List<string>();
        foreach (var relative in Sources(root))
        {
            var lines = File.ReadAllLines(Path.Combine(root, relative));
            var over = Enumerable.Range(0, lines.Length).Where(i => lines[i].Length > Width).ToList();
            int allowed = baseline.GetValueOrDefault(relative);
            if (over.Count > allowed)
                problems.Add($"{relative}: {over.Count} lines over {Width} characters (allowed {allowed}), "
                    + $"first at line {over[0] + 1}");
            else if (over.Count < allowed)
                problems.Add($"{relative}: {over.Count} lines over {Width} characters; "
                    + $"lower its count in long-lines.tsv from {allowed}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static IEnumerable<string> Sources(string root) =>
        new[] { "src", "tests", "samples" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal));
}
