using GenRec.Data;
using GenRec.Tests.Training;

namespace GenRec.Tests.Data;

public class CandidateFileTests
{
    [Fact]
    public void ReadsItemKeysInOrderSkippingBlankLinesAndComments()
    {
        using var dir = new TempDir();
        using var data = RankingTrainerTests.TasteLog(dir);
        var file = dir.Write("c.txt", "# my candidates\n7\n\n  12  # a comment\n3\n");
        var ids = CandidateFile.Read(file, data);
        Assert.Equal(["7", "12", "3"], ids.Select(data.ItemKey));
    }

    [Fact]
    public void UnknownItemsNameTheFileAndLine()
    {
        using var dir = new TempDir();
        using var data = RankingTrainerTests.TasteLog(dir);
        var file = dir.Write("c.txt", "7\nnot-an-item\n");
        var e = Assert.Throws<DataLoadException>(() => CandidateFile.Read(file, data));
        Assert.Equal(2, e.Line);
        Assert.Contains("c.txt:2", e.Message);
        Assert.Contains("not-an-item", e.Message);
        Assert.Throws<DataLoadException>(() => CandidateFile.Read(dir.Write("empty.txt", "# nothing\n\n"), data));
        Assert.Throws<FileNotFoundException>(() => CandidateFile.Read(Path.Combine(dir.Path, "missing.txt"), data));
    }
}
