namespace GenRec.Serving.Stores;

/// <summary>
/// The history store cannot serve right now (unreachable, hung, loading its data, locked, failing); requests that
/// need it are answered 503 with <c>Retry-After</c> and may be retried.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    /// <summary>Creates the exception naming the store and the cause.</summary>
    public StoreUnavailableException(string message, Exception? inner = null, TimeSpan? retryAfter = null)
        : base(message, inner)
    {
        RetryAfter = retryAfter ?? TimeSpan.FromSeconds(1);
    }

    /// <summary>When a retry has a fair chance (the <c>Retry-After</c> header, whole seconds rounded up).</summary>
    public TimeSpan RetryAfter { get; }
}
