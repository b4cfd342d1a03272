namespace GenRec.Data;

/// <summary>Which held-out item evaluation targets.</summary>
public enum EvalSplit
{
    /// <summary>The last item (the paper's tables). Training sees everything before it.</summary>
    Test,

    /// <summary>The second-to-last item, for choosing epochs without looking at the test item. Training sees everything before it.</summary>
    Validation,
}
