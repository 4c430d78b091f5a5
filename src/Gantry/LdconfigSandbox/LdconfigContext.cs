using Gantry.Common;
using Gantry.Host;

namespace Gantry.LdconfigSandbox;

/// <summary>
/// What an ldconfig runner needs from its caller: the log, the OS seam, the executable to re-execute for the child
/// verb, and whether ldconfig's output must be kept off this process's stdio (the shim's stdio is the container's).
/// </summary>
internal sealed record LdconfigContext(Log Log, ISyscalls Sys, string SelfExe, bool KeepChildOutput = false);
