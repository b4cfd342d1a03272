using ScottPlot;

namespace GenRec.Training;

/// <summary>Draws a run's loss and HR@10 / NDCG@10 per epoch to a PNG (written to a temporary file, then renamed).</summary>
public static class TrainingCurves
{
    /// <summary>Renders <paramref name="epochs"/> to <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyList<EpochResult> epochs, string title)
    {
        if (epochs.Count == 0) return;
        var plot = Build(epochs, title);
        var tmp = path + ".tmp.png";
        plot.SavePng(tmp, 900, 520);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>
    /// The figure: epochs on whole-number ticks, the legend below the axes (inside them it covered the last points).
    /// </summary>
    internal static Plot Build(IReadOnlyList<EpochResult> epochs, string title)
    {
        var plot = new Plot();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("training loss");
        var x = epochs.Select(e => (double)e.Epoch).ToArray();
        var loss = plot.Add.Scatter(x, epochs.Select(e => e.TrainLoss).ToArray());
        loss.LegendText = "loss";
        var evaluated = epochs.Where(e => e.Metrics is not null).ToList();
        if (evaluated.Count > 0)
        {
            var ex = evaluated.Select(e => (double)e.Epoch).ToArray();
            var hr = plot.Add.Scatter(ex, evaluated.Select(e => e.Metrics!.Hr10).ToArray());
            hr.LegendText = "HR@10";
            hr.Axes.YAxis = plot.Axes.Right;
            var ndcg = plot.Add.Scatter(ex, evaluated.Select(e => e.Metrics!.Ndcg10).ToArray());
            ndcg.LegendText = "NDCG@10";
            ndcg.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "HR@10 / NDCG@10";
        }
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }
}
