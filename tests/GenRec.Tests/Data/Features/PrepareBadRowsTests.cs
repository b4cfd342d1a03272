using GenRec.Data;
using GenRec.Data.Features;

namespace GenRec.Tests.Data.Features;

public class PrepareBadRowsTests
{
    [Theory]
    [InlineData("u1,A,5\n", "field(s)")]
    [InlineData(",A,5,120\n", "empty user id")]
    [InlineData("u1,,5,120\n", "empty item id")]
    [InlineData("u1,A,5,soon\n", "'soon' is not a timestamp")]
    public void MalformedEventRowsStopThePreparationOrAreSkippedAndCounted(string badRow, string message)
    {
        var (dir, schema) = SequenceBuilderTests.SmallLog();
        using var _ = dir;
        // The bad row goes in as line 3 of events.csv.
        var lines = File.ReadAllLines(Path.Combine(dir.Path, "events.csv")).ToList();
        lines.Insert(2, badRow.TrimEnd('\n'));
        File.WriteAllLines(Path.Combine(dir.Path, "events.csv"), lines);
        var e = Assert.Throws<DataLoadException>(() => new SequenceBuilder(schema, dir.Path).Build(Path.Combine(dir.Path, "strict")));
        Assert.Equal(3, e.Line);
        Assert.Contains(message, e.Message);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "strict")));
        var bad = new BadRows(skip: true);
        var summary = new SequenceBuilder(schema, dir.Path) { BadRows = bad }.Build(Path.Combine(dir.Path, "skipping"));
        Assert.Equal(1, bad.Count);
        Assert.Equal(7, summary.Events);
    }

    [Fact]
    public void BytesThatAreNotUtf8StopThePreparationNamingTheLine()
    {
        var (dir, schema) = SequenceBuilderTests.SmallLog();
        using var _ = dir;
        var path = Path.Combine(dir.Path, "events.csv");
        var text = File.ReadAllBytes(path).ToList();
        int secondLineEnd = text.IndexOf((byte)'\n', text.IndexOf((byte)'\n') + 1);
        text.InsertRange(secondLineEnd, new byte[] { 0xC3, 0x28 });
        File.WriteAllBytes(path, [.. text]);
        var e = Assert.Throws<DataLoadException>(() => new SequenceBuilder(schema, dir.Path) { BadRows = new BadRows(skip: true) }.Build(Path.Combine(dir.Path, "out")));
        Assert.Contains("not valid UTF-8", e.Message);
        Assert.Equal(2, e.Line);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void ASourceDeclaredLatin1ReadsEveryByteAsItsCharacter()
    {
        var (dir, schema) = SequenceBuilderTests.SmallLog();
        using var _ = dir;
        var path = Path.Combine(dir.Path, "events.csv");
        // Item "A" of line 2 becomes "Aé" in ISO-8859-1 (0xE9): not UTF-8.
        var lines = File.ReadAllLines(path);
        var bytes = new List<byte>();
        for (int i = 0; i < lines.Length; i++)
        {
            var line = System.Text.Encoding.ASCII.GetBytes(lines[i]).ToList();
            if (i == 1) line.Insert(lines[i].IndexOf(",A,", StringComparison.Ordinal) + 2, 0xE9);
            bytes.AddRange(line);
            bytes.Add((byte)'\n');
        }
        File.WriteAllBytes(path, [.. bytes]);
        var utf8 = Assert.Throws<DataLoadException>(() => new SequenceBuilder(schema, dir.Path).Build(Path.Combine(dir.Path, "utf8")));
        Assert.Contains("latin1", utf8.Message);
        var latin1 = schema with { Sources = [schema.Sources[0] with { Encoding = "latin1" }, .. schema.Sources.Skip(1)] };
        new SequenceBuilder(latin1, dir.Path).Build(Path.Combine(dir.Path, "latin1"));
        using var data = PreparedDataset.Open(Path.Combine(dir.Path, "latin1"));
        Assert.NotNull(data.ItemId("Aé"));
        var wrong = schema with { Sources = [schema.Sources[0] with { Encoding = "cp1252" }, .. schema.Sources.Skip(1)] };
        Assert.Contains("encoding", Assert.Throws<SchemaException>(() => wrong.Validate("schema.json")).Message);
    }
}
