namespace GenRec.Training;

/// <summary>The result of <see cref="StreamingEvaluation.Run"/>.</summary>
public sealed record StreamingReport
{
    /// <summary>The dataset's name.</summary>
    public required string Dataset { get; init; }

    /// <summary>The experiment config's name.</summary>
    public required string Config { get; init; }

    /// <summary>Where the initial span ends and the first period starts.</summary>
    public DateTimeOffset InitialEnd { get; init; }

    /// <summary>Each period's length in seconds.</summary>
    public long PeriodSeconds { get; init; }

    /// <summary>What training the initial model cost.</summary>
    public required Cost InitialCost { get; init; }

    /// <summary>The periods, in time order.</summary>
    public required IReadOnlyList<StreamingPeriod> Periods { get; init; }
}
