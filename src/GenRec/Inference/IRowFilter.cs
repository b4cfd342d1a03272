namespace GenRec.Inference;

/// <summary>Which rows <see cref="ExactTopK"/> must leave out (for example the items already in a history). A struct implementation keeps the search free of allocations and calls.</summary>
public interface IRowFilter
{
    /// <summary>True to leave row <paramref name="row"/> out of the result.</summary>
    bool Skip(int row);
}
