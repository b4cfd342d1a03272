namespace GenRec.Data.Download;

/// <summary>
/// A dataset GenRec can fetch by name (<c>genrec data get</c>): where its publisher serves it and how to check the
/// bytes. <see cref="Sha256"/> is verified whenever it is known; the publisher's own <see cref="Md5"/> (GroupLens
/// publishes one beside each archive) is verified too, so that a dataset without a pinned SHA-256 is still checked
/// against its publisher, and its SHA-256 is recorded in the cache for every later use.
/// </summary>
public sealed record PublicDataset
{
    /// <summary>The name users type (<c>ml-1m</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The publisher's URL of the zip archive.</summary>
    public required Uri Url { get; init; }

    /// <summary>SHA-256 of the archive (lower-case hex), where pinned.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The publisher's MD5 of the archive (lower-case hex), where it publishes one.</summary>
    public string? Md5 { get; init; }

    /// <summary>What it holds, in a line.</summary>
    public required string Description { get; init; }

    /// <summary>The licence or terms, and what they ask of the user.</summary>
    public required string Terms { get; init; }
}
