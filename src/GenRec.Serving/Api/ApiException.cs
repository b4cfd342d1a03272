namespace GenRec.Serving.Api;

/// <summary>A request the service refuses: answered with <see cref="Status"/> and the message, never a 500.</summary>
public sealed class ApiException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status (4xx).</summary>
    public int Status { get; } = status;
}
