namespace GenRec.Data.Download;

/// <summary>The datasets <c>genrec data get</c> knows by name (docs/datasets.md lists their terms).</summary>
public static class PublicDatasets
{
    private const string GroupLensTerms = "GroupLens research licence: research use; no redistribution without "
        + "permission; cite F. Maxwell Harper and Joseph A. Konstan, The MovieLens Datasets: History and Context, "
        + "ACM TiiS 5(4), 2015; commercial use needs GroupLens's permission.";

    /// <summary>Every known dataset.</summary>
    public static IReadOnlyList<PublicDataset> All { get; } =
    [
        new()
        {
            Name = "ml-1m",
            Url = new Uri("https://files.grouplens.org/datasets/movielens/ml-1m.zip"),
            Sha256 = "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
            Md5 = "c4d9eecfca2ab87c1945afe126590906",
            Description = "MovieLens 1M: 1,000,209 ratings of 3,706 movies by 6,040 users (the paper's ML-1M)",
            Terms = GroupLensTerms,
        },
        new()
        {
            Name = "ml-100k",
            Url = new Uri("https://files.grouplens.org/datasets/movielens/ml-100k.zip"),
            Md5 = "0e33842e24a9c977be4e0107933c0723",
            Description = "MovieLens 100K: 100,000 ratings of 1,682 movies by 943 users",
            Terms = GroupLensTerms,
        },
        new()
        {
            Name = "ml-20m",
            Url = new Uri("https://files.grouplens.org/datasets/movielens/ml-20m.zip"),
            Md5 = "cd245b17a1ae2cc31bb14903e1204af3",
            Description = "MovieLens 20M: 20,000,263 ratings of 27,278 movies by 138,493 users (the paper's ML-20M)",
            Terms = GroupLensTerms,
        },
    ];

    /// <summary>The dataset called <paramref name="name"/>; an unknown name is refused with the known ones.</summary>
    public static PublicDataset Find(string name)
    {
        var hit = All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
        if (hit is not null) return hit;
        var close = All.Select(d => d.Name).FirstOrDefault(n => n.Contains(name, StringComparison.OrdinalIgnoreCase)
            || name.Contains(n, StringComparison.OrdinalIgnoreCase));
        throw new ArgumentException($"no dataset called '{name}'; known: {string.Join(", ", All.Select(d => d.Name))}"
            + (close is null ? "." : $" (did you mean {close}?)."));
    }
}
