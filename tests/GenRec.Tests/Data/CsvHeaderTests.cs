using GenRec.Data;

namespace GenRec.Tests.Data;

/// <summary>A ratings CSV with a header is read by the header's names, never by position.</summary>
public class CsvHeaderTests
{
    [Fact]
    public void ColumnsInAnotherOrderAreReadByName()
    {
        using var dir = new TempDir();
        var file = dir.Write("r.csv", "user,item,timestamp,rating\n1,10,100,5\n1,20,200,3\n2,10,150,4\n2,20,160,2\n");
        var log = DatasetReader.Read(file);
        var user = log.FindUser(1)!;
        Assert.Equal([10L, 20], user.Items);
        Assert.Equal([100L, 200], user.Timestamps);
        Assert.Equal([5f, 3f], user.Ratings);
    }

    [Fact]
    public void AHeaderThatNamesNoKnownLayoutIsRefused()
    {
        using var dir = new TempDir();
        var file = dir.Write("r.csv", "customer,sku,when,stars\n1,10,100,5\n");
        var e = Assert.Throws<DataLoadException>(() => DatasetReader.Read(file));
        Assert.Contains("r.csv:1", e.Message);
        Assert.Contains("names no user column", e.Message);
    }
}
