using GenRec.Training;

namespace GenRec.Tests.Training;

/// <summary>
/// Example-seeded negatives (training.exampleSeeded) are uniform draws from the corpus, independent between
/// positions: the same (seed, epoch, example, position) always gives the same draws, and neighbouring positions do not
/// share theirs.
/// </summary>
public class ExampleNegativesTests
{
    [Fact]
    public void NeighbouringPositionsDrawIndependentNegatives()
    {
        var corpus = Enumerable.Range(1, 1_000_000).Select(i => (long)i).ToArray();
        var places = Enumerable.Range(0, 200).Select(p => (7L, p)).ToList();
        var drawn = ExampleNegatives.Sample(corpus, places, 128, 42, 3);
        // 25,600 uniform draws from a million items: about 25,300 distinct; shared draws would give a few hundred.
        int distinct = drawn.Distinct().Count();
        Assert.True(distinct > 0.97 * drawn.Length, $"{distinct} distinct of {drawn.Length} draws");
        Assert.Equal(drawn, ExampleNegatives.Sample(corpus, places, 128, 42, 3));
        Assert.NotEqual(drawn, ExampleNegatives.Sample(corpus, places, 128, 42, 4));
    }
}
