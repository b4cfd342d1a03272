namespace GenRec.Serving.Stores;

/// <summary>The history store cannot be reached right now; requests that need it are answered 503 and may be retried.</summary>
public sealed class StoreUnavailableException : Exception
{
    /// <summary>Creates the exception naming the store and the cause.</summary>
    public StoreUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
