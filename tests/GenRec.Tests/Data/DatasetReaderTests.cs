using System.Text;
using GenRec.Data;

namespace GenRec.Tests.Data;

public class DatasetReaderTests
{
    [Fact]
    public void ReadsMovieLens1MWithLatin1TitlesInChronologicalOrder()
    {
        using var dir = new TempDir();
        dir.Write("ratings.dat", "1::20::5::300\n1::10::3::100\n2::10::4::50\n1::30::2::300\n1::40::4::200\n");
        dir.Write("movies.dat", "10::Amélie (2001)::Comedy\n20::Heat (1995)::Action\n", Encoding.Latin1);
        var d = DatasetReader.Read(dir.Path);
        Assert.Equal(2, d.Users.Count);
        var u1 = d.FindUser(1)!;
        Assert.Equal([10L, 40, 20, 30], u1.Items);          // by time; the tie at 300 keeps file order (20 before 30)
        Assert.Equal([100L, 200, 300, 300], u1.Timestamps);
        Assert.Equal([3f, 4, 5, 2], u1.Ratings);
        Assert.Equal("Amélie (2001)", d.Describe(10));
        Assert.Equal("item 40", d.Describe(40));
        Assert.Equal([10L, 20, 30, 40], d.Corpus);
        Assert.Equal(41, d.ItemTableSize);
    }

    [Fact]
    public void ReadsMovieLens100KAndTitles()
    {
        using var dir = new TempDir();
        dir.Write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250000\n");
        dir.Write("u.item", "242|Kolya (1996)|24-Jan-1997||http://x|0|0\n302|L.A. Confidential (1997)|01-Jan-1997||http://y|0|0\n", Encoding.Latin1);
        var d = DatasetReader.Read(dir.Path);
        Assert.Equal([302L, 242], d.FindUser(196)!.Items);
        Assert.Equal("Kolya (1996)", d.Describe(242));
    }

    [Fact]
    public void ReadsMovieLensCsvWithQuotedTitles()
    {
        using var dir = new TempDir();
        dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n");
        dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Animation\n3,\"Grumpier Old Men, The (1995)\",Comedy\n");
        var d = DatasetReader.Read(dir.Path);
        Assert.Equal([3L, 1], d.FindUser(1)!.Items);
        Assert.Equal("Grumpier Old Men, The (1995)", d.Describe(3));
        Assert.Equal(4.5f, d.FindUser(1)!.Ratings[0]);
    }

    [Fact]
    public void ReadsGenericCsvWithStringIdsKeepingThemAsTitles()
    {
        using var dir = new TempDir();
        var file = dir.Write("amazon.csv", "A2X,B00A,5.0,1360000000\nA2X,B00B,1.0,1350000000\nA3Y,B00A,4.0,1370000000\n");
        var d = DatasetReader.Read(file);
        Assert.Equal(2, d.Users.Count);
        Assert.Equal(2, d.Corpus.Length);
        var first = d.Users[0];
        Assert.Equal(["B00B", "B00A"], first.Items.Select(d.Describe));
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
    public void MovieLensCsvWithoutHeaderIsRejected()
    {
        using var dir = new TempDir();
        dir.Write("ratings.csv", "1,1,4.0,964982703\n");
        var e = Assert.Throws<DataLoadException>(() => DatasetReader.Read(dir.Path));
        Assert.Equal(1, e.Line);
        Assert.Contains("header", e.Message);
    }

    [Fact]
    public void UnterminatedQuoteIsReported()
    {
        using var dir = new TempDir();
        var file = dir.Write("r.csv", "1,\"abc,5,10\n");
        var e = Assert.Throws<DataLoadException>(() => DatasetReader.Read(file));
        Assert.Contains("unterminated", e.Message);
    }
}
