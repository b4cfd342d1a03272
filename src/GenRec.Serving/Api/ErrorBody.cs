namespace GenRec.Serving.Api;

/// <summary>The body of every refused request.</summary>
/// <param name="Error">What was wrong, naming the field or the limit.</param>
public sealed record ErrorBody(string Error);
