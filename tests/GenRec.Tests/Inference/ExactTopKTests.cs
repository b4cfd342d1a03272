using GenRec.Inference;

namespace GenRec.Tests.Inference;

public class ExactTopKTests
{
    private readonly struct SkipOdd : IRowFilter
    {
        public bool Skip(int row) => row % 2 == 1;
    }

    [Fact]
    public void BestRowsFirstTiesToTheLowerRowFilteredRowsLeftOut()
    {
        // Rows · (1, 2): 1, 3, 3, -1, 5, 3, 0.
        float[] vectors = [1, 0, 1, 1, 3, 0, 1, -1, 1, 2, -1, 2, 0, 0];
        var rows = new int[4];
        var scores = new float[4];
        int n = ExactTopK.Search([1f, 2f], vectors, 2, rows, scores, new ExactTopK.KeepAll());
        Assert.Equal(4, n);
        Assert.Equal([4, 1, 2, 5], rows);
        Assert.Equal([5f, 3f, 3f, 3f], scores);
        n = ExactTopK.Search([1f, 2f], vectors, 2, rows, scores, new SkipOdd());
        Assert.Equal(4, n);
        Assert.Equal([4, 2, 0, 6], rows);
        Assert.Equal([5f, 3f, 1f, 0f], scores);
    }

    [Fact]
    public void FewerRowsThanSlotsFillOnlyWhatExists()
    {
        var rows = new int[5];
        var scores = new float[5];
        Assert.Equal(2, ExactTopK.Search([1f], [2f, -3f], 1, rows, scores, new ExactTopK.KeepAll()));
        Assert.Equal([0, 1], rows[..2]);
        Assert.Equal(1, ExactTopK.Search([1f], [2f, -3f], 1, rows, scores, new SkipOdd()));
        Assert.Throws<ArgumentException>(() => ExactTopK.Search([1f, 2f], [2f, -3f, 1f], 2, rows, scores, new ExactTopK.KeepAll()));
    }
}
