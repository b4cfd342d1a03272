namespace GenRec.Serving.Api;

/// <summary>The body of every refused or failed request.</summary>
/// <param name="Error">What was wrong, naming the field or the limit.</param>
public sealed record ErrorBody(string Error)
{
    /// <summary>The request's id, also in the <c>X-Request-Id</c> header and, for a 500, in the service log.</summary>
    public string? RequestId { get; init; }
}
