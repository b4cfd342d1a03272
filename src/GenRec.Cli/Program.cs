using System.CommandLine;
using GenRec.Cli;
using GenRec.Cli.Bench;
using GenRec.Cli.Commands;
using GenRec.Native;

// This process is GenRec's: tune its allocator (before libtorch loads), and make the native library loadable before
// the first TorchSharp call anywhere in the process.
TorchRuntime.TuneProcess();
TorchRuntime.EnsureLoadable();

// Named "genrec" however it is started (RootCommand would name it after the executable: "GenRec.Cli" under
// `dotnet GenRec.Cli.dll` and `./genrec`), with the options a RootCommand brings.
var root = new Command("genrec",
    "GenRec: generative recommenders with the HSTU encoder (Zhai et al., ICML 2024), in .NET.")
{
    new System.CommandLine.Help.HelpOption(),
    new VersionOption(),
    DemoCommand.Create(),
    PrepareCommand.Create(),
    GenerateLogCommand.Create(),
    GenerateRatingsCommand.Create(),
    BenchCommand.Create(),
    RankTrainCommand.Create(),
    RankCommand.Create(),
    ServeCommand.Create(),
    TrainCommand.Create(),
    EvalCommand.Create(),
    RecommendCommand.Create(),
    ImportCommand.Create(),
    DataCommand.Create(),
    ExportCommand.Create(),
    StreamEvalCommand.Create(),
};
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0) return Cli.ParseErrors(parsed);
return Cli.Run(() => parsed.Invoke());
