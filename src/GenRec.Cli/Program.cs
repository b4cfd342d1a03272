using System.CommandLine;
using GenRec.Cli;
using GenRec.Cli.Commands;
using GenRec.Native;

// The native library must be made loadable before the first TorchSharp call anywhere in the process.
TorchRuntime.EnsureLoadable();

var root = new RootCommand("GenRec: generative recommenders with the HSTU encoder (Zhai et al., ICML 2024), in .NET.")
{
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
};
return Cli.Run(() => root.Parse(args).Invoke());
