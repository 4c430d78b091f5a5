using Gantry.Common;
using Gantry.Host;

namespace Gantry.LdconfigSandbox;

/// <summary>
/// What an ldconfig runner needs from its caller: the log, the OS seam, the executable to re-execute for the child
/// verb, and whether ldconfig's output must be kept off this process's stdio (the shim's stdio is the container's).
/// </summary>
internal sealed record LdconfigContext(Log Log, ISyscalls Sys, string SelfExe, bool KeepChildOutput = false)
{
    /// <summary>The host uid and gid ldconfig runs as (a user-namespaced container's root, so that the cache it
    /// writes is the container's); null: root with only CAP_DAC_OVERRIDE, as before. The thread runner only.</summary>
    public (uint Uid, uint Gid)? RunAs { get; init; }
}
