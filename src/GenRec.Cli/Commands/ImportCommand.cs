using System.CommandLine;
using GenRec.Model.Interop;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec import official</c>: an official HSTU model as a GenRec checkpoint.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path")
        {
            Description = "A folder with config.json and model.pt (torch.save of the state_dict) or "
                + "model.safetensors, or one of those files.",
        };
        var output = new Option<string>("--out") { Description = "The checkpoint to write.", Required = true };
        var data = Options.Data(required: false);
        data.Description = "The dataset to use the model with: the item table is laid out in its ids "
            + "(default: the official ids, row r = item r).";
        var json = Options.Json();
        var official = new Command("official",
            "Import a model trained by the official generative-recommenders code (research/ HSTU) as a checkpoint.")
        {
            path, output, data, json,
        };
        official.SetAction(r => Cli.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var dataPath = r.GetValue(data);
            using var dataset = dataPath is null ? null : Cli.LoadData(dataPath, asJson);
            var (info, model) = OfficialHstu.Import(r.GetValue(path)!, dataset);
            using var _ = model;
            var outPath = r.GetValue(output)!;
            info.Save(outPath, model);
            var m = info.Config.Model;
            int items = info.ItemKeys!.Count;
            if (asJson)
            {
                Cli.PrintJson(new
                {
                    checkpoint = outPath,
                    items,
                    layers = m.NumLayers,
                    dim = m.EmbeddingDim,
                    heads = m.NumHeads,
                    maxLength = m.MaxLength,
                    itemIds = dataset?.Name ?? "official",
                });
            }
            else
            {
                Console.WriteLine($"wrote {outPath}: HSTU, {m.NumLayers} layers, {m.NumHeads} head(s), "
                    + $"D = {m.EmbeddingDim}, N = {m.PaddedLength}, {items:N0} items "
                    + (dataset is null ? "(official ids; pass --data to pair it with a dataset)"
                        : $"(ids of {dataset.Name})"));
            }
            return 0;
        }));
        return new Command("import", "Import a model from another implementation.") { official };
    }
}
