using GenRec.Data;
using GenRec.Data.Features;

namespace GenRec.Tests;

/// <summary>Generated ratings as a dataset, through the built-in ratings schema like every <c>--data</c>.</summary>
internal static class TestData
{
    public static PreparedDataset Synthetic(SyntheticOptions options) =>
        DataSource.FromRatings(SyntheticData.Generate(options));
}
