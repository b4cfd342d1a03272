using GenRec.Evaluation;
using GenRec.Training;

namespace GenRec.Tests.Training;

/// <summary>curves.png: epochs on whole-number ticks, the legend off the data (it covered the last points).</summary>
public class TrainingCurvesTests
{
    [Fact]
    public void EpochTicksAreWholeNumbersAndTheLegendSitsBelowTheAxes()
    {
        var epochs = Enumerable.Range(1, 3).Select(e => new EpochResult
        {
            Epoch = e,
            TrainLoss = 5.0 / e,
            Metrics = new RetrievalMetrics { Users = 10, Hr10 = 0.1 * e, Ndcg10 = 0.05 * e },
        }).ToList();
        var plot = TrainingCurves.Build(epochs, "t");
        _ = plot.GetImage(900, 520);
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Position).ToList();
        Assert.NotEmpty(ticks);
        Assert.All(ticks, t => Assert.Equal(Math.Round(t), t, 9));
        Assert.False(plot.Legend.IsVisible);
        Assert.Contains(plot.Axes.GetPanels(), p => p is ScottPlot.Panels.LegendPanel);
    }
}
