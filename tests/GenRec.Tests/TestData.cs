using GenRec.Data;
using GenRec.Data.Features;

namespace GenRec.Tests;

/// <summary>Generated ratings as a dataset, through the built-in ratings schema like every <c>--data</c>.</summary>
internal static class TestData
{
    public static PreparedDataset Synthetic(SyntheticOptions options) =>
        DataSource.FromRatings(SyntheticData.Generate(options));

    /// <summary>Writes <paramref name="log"/> as a user,item,rating,timestamp CSV (what a user passes to
    /// <c>--data</c>); returns the path.</summary>
    public static string WriteRatingsCsv(RatingsLog log, string path)
    {
        File.WriteAllLines(path, log.Users.SelectMany(u => u.Items.Select((item, i) =>
            $"{u.UserId},{item},{u.Ratings[i]},{u.Timestamps[i]}")));
        return path;
    }
}
