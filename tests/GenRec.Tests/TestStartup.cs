using System.Runtime.CompilerServices;
using GenRec.Native;

namespace GenRec.Tests;

internal static class TestStartup
{
    // Tests may call TorchSharp before any GenRec type is touched: the test host tunes its allocator as the CLI does
    // and makes the native library loadable first.
    [ModuleInitializer]
    internal static void Initialize()
    {
        TorchRuntime.TuneProcess();
        TorchRuntime.EnsureLoadable();
    }
}
