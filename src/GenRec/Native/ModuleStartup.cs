using System.Runtime.CompilerServices;

namespace GenRec.Native;

internal static class ModuleStartup
{
    // A module initializer in a library is normally discouraged (CA2255), but here it is the point:
    // any GenRec code may be the first to touch TorchSharp, and the native library must be made
    // loadable before that happens, without every caller having to remember.
#pragma warning disable CA2255
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.EnsureLoadable();
#pragma warning restore CA2255
}
