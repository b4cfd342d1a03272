using System.Globalization;

namespace GenRec.Model;

/// <summary>
/// A folder of published models, shared by the trainer that writes it (<c>genrec train … --publish DIR</c>) and the
/// service that watches it (<c>genrec serve --watch DIR</c>): <c>model-WATERMARK.ckpt</c>, each written whole under a
/// temporary name and renamed, so a watcher never sees half a model; names sort by the watermark.
/// </summary>
public static class PublishFolder
{
    /// <summary>The file of the model trained up to event <paramref name="watermark"/>.</summary>
    public static string PathOf(string directory, long watermark) =>
        Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"model-{watermark:D15}.ckpt"));

    /// <summary>The published models, oldest first (temporary files left out).</summary>
    public static IReadOnlyList<string> Models(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetFiles(directory, "model-*.ckpt").Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>The newest published model, or null when there is none.</summary>
    public static string? Newest(string directory) => Models(directory).LastOrDefault();
}
