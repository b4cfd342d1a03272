using System.Text;
using GenRec.Data;

namespace GenRec.Tests.Data;

public class DatasetReaderTests
{
    [Fact]
    public void ReadsMovieLens1MWithLatin1TitlesInChronologicalOrder()
    {
        using var dir = new TempDir();
        dir.Write("ratings.dat", "1::20::5::300\n1::10::3::100\n2::10::4::50\n1::30::2::300\n1::40::4::200\n2::20::3::60\n");
        dir.Write("movies.dat", "10::Amélie (2001)::Comedy\n20::Heat (1995)::Action\n", Encoding.Latin1);
        var d = DatasetReader.Read(dir.Path);
        Assert.Equal(2, d.Users.Count);
        var u1 = d.FindUser(1)!;
        Assert.Equal([10L, 40, 20, 30], u1.Items);          // by time; the tie at 300 keeps file order (20 before 30)
        Assert.Equal([100L, 200, 300, 300], u1.Timestamps);
        Assert.Equal([3f, 4, 5, 2], u1.Ratings);
        Assert.Equal("Amélie (2001)", d.ItemTitles[10]);
        Assert.False(d.ItemTitles.ContainsKey(40));
        Assert.Equal([10L, 20, 30, 40], d.Corpus);
    }

    [Fact]
    public void ReadsMovieLens100KAndTitles()
    {
        using var dir = new TempDir();
        dir.Write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250000\n186\t242\t4\t891717743\n");
        dir.Write("u.item", "242|Kolya (1996)|24-Jan-1997||http://x|0|0\n302|L.A. Confidential (1997)|01-Jan-1997||http://y|0|0\n", Encoding.Latin1);
        var d = DatasetReader.Read(dir.Path);
        Assert.Equal([302L, 242], d.FindUser(196)!.Items);
        Assert.Equal("Kolya (1996)", d.ItemTitles[242]);
    }

    [Fact]
    public void ReadsMovieLensCsvWithQuotedTitles()
    {
        using var dir = new TempDir();
        dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n");
        dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Animation\n3,\"Grumpier Old Men, The (1995)\",Comedy\n");
        var d = DatasetReader.Read(dir.Path);
        Assert.Equal([3L, 1], d.FindUser(1)!.Items);
        Assert.Equal("Grumpier Old Men, The (1995)", d.ItemTitles[3]);
        Assert.Equal(4.5f, d.FindUser(1)!.Ratings[0]);
    }

    [Fact]
    public void ReadsGenericCsvWithStringIdsKeepingThemAsKeys()
    {
        using var dir = new TempDir();
        var file = dir.Write("amazon.csv", "A2X,B00A,5.0,1360000000\nA2X,B00B,1.0,1350000000\nA3Y,B00A,4.0,1370000000\nA3Y,B00B,2.0,1370000001\n");
        var d = DatasetReader.Read(file);
        Assert.Equal(2, d.Users.Count);
        Assert.Equal(2, d.Corpus.Length);
        var first = d.Users[0];
        Assert.Equal(["B00B", "B00A"], first.Items.Select(d.ItemKey));
    }

    [Fact]
    public void GenericCsvHeaderIsDetected()
    {
        using var dir = new TempDir();
        var file = dir.Write("r.csv", "user,item,rating,timestamp\n7,3,5,10\n7,4,5,11\n");
        var d = DatasetReader.Read(file);
        Assert.Equal([3L, 4], d.FindUser(7)!.Items);
    }

    [Theory]
    [InlineData("1::10::5::100\n1::x::3::200\n", 2, "field 2 (MovieID) is 'x'; expected an integer")]
    [InlineData("1::10::5::100\n1::11::3\n", 2, "found 3 field(s); expected 4")]
    [InlineData("1::10::five::100\n", 1, "field 3 (Rating) is 'five'; expected a number")]
    [InlineData("1::0::5::100\n", 1, "expected a positive id")]
    public void MalformedLinesNameFileLineAndExpectation(string content, int line, string message)
    {
        using var dir = new TempDir();
        var path = dir.Write("ratings.dat", content);
        var e = Assert.Throws<DataLoadException>(() => DatasetReader.Read(dir.Path));
        Assert.Equal(path, e.File);
        Assert.Equal(line, e.Line);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"{path}:{line}:", e.Message);
    }

    [Fact]
    public void EmptyAndMissingFilesGiveClearMessages()
    {
        using var dir = new TempDir();
        dir.Write("ratings.dat", "\n\n");
        var empty = Assert.Throws<DataLoadException>(() => DatasetReader.Read(dir.Path));
        Assert.Contains("is empty", empty.Message);

        var missing = Assert.Throws<DataLoadException>(() => DatasetReader.Read(Path.Combine(dir.Path, "nope")));
        Assert.Contains("no such file or folder", missing.Message);

        using var other = new TempDir();
        other.Write("readme.txt", "hello");
        var none = Assert.Throws<DataLoadException>(() => DatasetReader.Read(other.Path));
        Assert.Contains("ratings.dat", none.Message);
    }

    [Fact]
    public void RatingsCsvWithoutTheMovieLensHeaderIsTheGenericLayout()
    {
        // The demo's --out folder: ratings.csv with a user,item,rating,timestamp header (or none).
        using var dir = new TempDir();
        dir.Write("ratings.csv", "user,item,rating,timestamp\n1,1,4.0,964982703\n1,2,3.0,964982704\n");
        Assert.Equal([1L, 2], DatasetReader.Read(dir.Path).FindUser(1)!.Items);
        dir.Write("ratings.csv", "1,1,4.0,964982703\n1,2,3.0,964982704\n");
        Assert.Equal(Path.GetFileName(dir.Path), DatasetReader.Read(dir.Path).Name);
    }

    [Fact]
    public void UnterminatedQuoteIsReported()
    {
        using var dir = new TempDir();
        var file = dir.Write("r.csv", "1,\"abc,5,10\n");
        var e = Assert.Throws<DataLoadException>(() => DatasetReader.Read(file));
        Assert.Contains("unterminated", e.Message);
    }

    // Each bad-row category: by default the read stops at it naming file, line and reason; with skipping, the row
    // (or the user) is dropped, counted under its reason, and the rest is read.
    [Theory]
    [InlineData("1,10,5,100\n1,11,4,200\n1,10,5,100\n2,10,3,50\n2,12,3,60\n", 3, "duplicate event", "duplicates line 1")]
    [InlineData("1,10,5,100\n1,11,4,200\n2,10,3,50\n2,12,3,60\n3,10,1,10\n", 5, "user with one event", "user 3 has only this event")]
    [InlineData("1,10,5,100\n1,11,4,200\n2,999999999999,3,50\n2,10,3,60\n2,12,3,61\n", 3, "id beyond the embedding table", "is above 100,000,000")]
    [InlineData("1,10,5,100\n1,11,4,200\n2,10,3,-5\n2,12,3,60\n2,13,3,61\n", 3, "negative timestamp", "is negative")]
    [InlineData("1,10,5,100\n1,11,4,200\n2,10,3\n2,12,3,60\n2,13,3,61\n", 3, "malformed row", "found 3 field(s)")]
    [InlineData("1,10,5,100\n1,11,4,200\n2,10,good,50\n2,12,3,60\n2,13,3,61\n", 3, "malformed row", "expected a number")]
    public void BadRowsFailWithFileAndLineOrAreSkippedAndCounted(string content, int line, string reason, string message)
    {
        using var dir = new TempDir();
        var file = dir.Write("log.csv", content);
        var e = Assert.Throws<DataLoadException>(() => DatasetReader.Read(file));
        Assert.Equal(line, e.Line);
        Assert.Contains(message, e.Message);
        Assert.StartsWith(file, e.Message);
        var bad = new BadRows(skip: true);
        var d = DatasetReader.Read(file, bad);
        Assert.Equal(1, bad.Count);
        Assert.Equal(reason, Assert.Single(bad.ByReason).Key);
        Assert.Equal(content.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1, d.NumEvents);
    }

    [Fact]
    public void InvalidUtf8IsABadRowWithItsLineNumber()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "log.csv");
        File.WriteAllBytes(file, [.. "1,10,5,100\n1,11,4,200\n"u8, .. "2,10,3,"u8, 0xC3, 0x28, .. "\n2,12,3,60\n2,13,3,61\n"u8]);
        var e = Assert.Throws<DataLoadException>(() => DatasetReader.Read(file));
        Assert.Equal(3, e.Line);
        Assert.Contains("not valid UTF-8", e.Message);
        var bad = new BadRows(skip: true);
        Assert.Equal(4, DatasetReader.Read(file, bad).NumEvents);
        Assert.Equal("invalid UTF-8", Assert.Single(bad.ByReason).Key);
    }

    [Fact]
    public void OutOfOrderRowsAreSortedNotDropped()
    {
        using var dir = new TempDir();
        var file = dir.Write("log.csv", "1,10,5,300\n1,11,4,100\n1,12,4,200\n");
        var d = DatasetReader.Read(file);
        Assert.Equal([11L, 12, 10], d.FindUser(1)!.Items);
    }

    [Fact]
    public void EmptyFilesAreRefused()
    {
        using var dir = new TempDir();
        var file = dir.Write("log.csv", "\n\n");
        Assert.Contains("is empty", Assert.Throws<DataLoadException>(() => DatasetReader.Read(file, new BadRows(skip: true))).Message);
    }
}
