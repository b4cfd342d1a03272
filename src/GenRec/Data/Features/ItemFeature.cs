namespace GenRec.Data.Features;

/// <summary>An item side feature, summed into the item embedding.</summary>
/// <param name="Name">The feature's name from the schema.</param>
/// <param name="Size">Rows of its embedding table (+ 1 for padding).</param>
/// <param name="Width">The most values one item has (multi-valued features such as genres); shorter lists are padded with 0.</param>
public sealed record ItemFeature(string Name, int Size, int Width);
