using System.Runtime.CompilerServices;
using GenRec.Native;

namespace GenRec.Tests;

internal static class TestStartup
{
    // Tests may call TorchSharp before any GenRec type is touched; make the native library loadable first.
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.EnsureLoadable();
}
