namespace GenRec.Data.Features;

/// <summary>
/// What the model must know of a prepared feature space to embed its tokens: the feature token kinds, the action
/// vocabulary and the item side features. Stored in the prepared folder's manifest and in every checkpoint.
/// </summary>
public sealed record FeatureSpace
{
    /// <summary>Feature token kinds; kind k (k ≥ 1) is <c>TokenKinds[k − 1]</c>. Kind 0 is the item.</summary>
    public List<TokenKind> TokenKinds { get; init; } = [];

    /// <summary>Action values (joined with "/" when there are several action columns); action id a is <c>Actions[a − 1]</c>.</summary>
    public List<string> Actions { get; init; } = [];

    /// <summary>Item side features.</summary>
    public List<ItemFeature> ItemFeatures { get; init; } = [];

    /// <summary>The space with the parts an ablation turns off removed (the tokens themselves are filtered by the split).</summary>
    public FeatureSpace Select(FeatureOptions options) => new()
    {
        TokenKinds = TokenKinds,
        Actions = options.Actions ? Actions : [],
        ItemFeatures = options.ItemFeatures ? ItemFeatures : [],
    };

    /// <summary>Whether anything beyond item ids is used.</summary>
    public bool IsEmpty => TokenKinds.Count == 0 && Actions.Count == 0 && ItemFeatures.Count == 0;
}
