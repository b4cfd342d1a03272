namespace GenRec.Data.Features;

/// <summary>A feature token kind: a contextual or auxiliary user feature with its own embedding table.</summary>
/// <param name="Name">The feature's name from the schema.</param>
/// <param name="Role">contextual or auxiliary.</param>
/// <param name="Size">Rows of its embedding table (vocabulary or hash buckets, + 1 for padding).</param>
/// <param name="Hashed">Whether values are hashed into buckets rather than kept in a vocabulary.</param>
public sealed record TokenKind(string Name, string Role, int Size, bool Hashed);
