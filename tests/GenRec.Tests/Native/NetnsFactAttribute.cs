namespace GenRec.Tests.Native;

/// <summary>
/// A test that needs two network namespaces (root, the ip tool and mpirun): skipped where the sandbox does not
/// permit them, which it says.
/// </summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (new MpiFactAttribute().Skip is { } noMpi) { Skip = noMpi; return; }
        if (Environment.UserName != "root" || !File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip"))
        {
            Skip = "network namespaces need root and the ip tool (iproute2).";
            return;
        }
        // Probe: the sandbox may forbid creating namespaces even to root (a probe left by a killed run goes first).
        System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", ["netns", "del",
            "genrec-probe"])
        { RedirectStandardError = true })!.WaitForExit();
        var probe = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip",
            ["netns", "add", "genrec-probe"])
        { RedirectStandardError = true })!;
        probe.WaitForExit();
        if (probe.ExitCode != 0)
        {
            Skip = "this sandbox does not permit network namespaces: " + probe.StandardError.ReadToEnd().Trim();
            return;
        }
        System.Diagnostics.Process.Start("ip", ["netns", "del", "genrec-probe"])!.WaitForExit();
    }
}
