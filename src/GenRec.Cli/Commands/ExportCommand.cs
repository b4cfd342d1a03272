using System.CommandLine;
using GenRec.Model;
using GenRec.Model.Interop;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec export</c>: an HSTU checkpoint as safetensors under the official parameter names.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var ckpt = Options.Checkpoint();
        var format = new Option<string>("--format")
        {
            Description = "safetensors (the official HSTU's parameter names, with config.json beside it).",
            DefaultValueFactory = _ => "safetensors",
        };
        var output = new Option<string>("--out")
        {
            Description = "The folder to write model.safetensors and config.json into.",
            Required = true,
        };
        var json = Options.Json();
        var cmd = new Command("export",
            "Export an HSTU retrieval checkpoint for PyTorch and the official generative-recommenders code.")
        {
            ckpt, format, output, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            if (r.GetValue(format) != "safetensors")
                throw new ArgumentException($"--format {r.GetValue(format)}: expected safetensors.");
            var path = r.GetValue(ckpt)!;
            var (info, model) = Checkpoint.Load(path, TorchSharp.torch.CPU);
            using var _ = model;
            var folder = r.GetValue(output)!;
            OfficialHstu.Export(info, model, folder);
            var weights = Path.Combine(folder, OfficialHstu.WeightsFile);
            long bytes = new FileInfo(weights).Length;
            if (r.GetValue(json))
                Cli.PrintJson(new { weights, config = Path.Combine(folder, OfficialHstu.ConfigFile), bytes });
            else
                Console.WriteLine($"wrote {weights} ({bytes:N0} bytes) and {OfficialHstu.ConfigFile}: load them with "
                    + "safetensors.torch.load_file and HSTU.load_state_dict");
            return 0;
        }));
        return cmd;
    }
}
