using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.Diagnostics;

internal enum CheckStatus { Ok, Warning, Problem }

/// <summary>
/// One check's verdict, one line: the check's name, ok / warning / problem, what was seen. A warning or problem also
/// has its cause (one sentence) and the exact command that fixes it; a <see cref="Repair"/> where `doctor --fix`
/// may apply that fix itself because it is safe (it only adds links, rewrites our own spec, or registers the runtime).
/// </summary>
internal sealed record Finding(string Check, CheckStatus Status, string Summary, string? Cause = null, string? Fix = null)
{
    public Repair? Repair { get; init; }

    public static Finding Ok(string check, string summary) => new(check, CheckStatus.Ok, summary);
    public static Finding Warning(string check, string summary, string cause, string fix) => new(check, CheckStatus.Warning, summary, cause, fix);
    public static Finding Problem(string check, string summary, string cause, string fix) => new(check, CheckStatus.Problem, summary, cause, fix);
}

/// <summary>A fix `doctor --fix` applies itself.</summary>
internal abstract record Repair;

/// <summary>Creates DIR/MAJOR:MINOR links to these nodes (what `nvidia-ctk system create-dev-char-symlinks` does).</summary>
internal sealed record LinkDevChar(string LinkDir, IReadOnlyList<CharDevice> Nodes) : Repair;

/// <summary>Writes a fresh spec for the driver under <paramref name="Roots"/> over <paramref name="File"/>.</summary>
internal sealed record RegenerateSpec(string File, string Kind, HostRoots Roots, string HookPath) : Repair;

/// <summary>Adds (or corrects) runtimes.NAME in daemon.json, as `nvidia-ctk runtime configure --runtime=docker` does.</summary>
internal sealed record RegisterRuntime(string DaemonJson, string RuntimeName, string RuntimePath) : Repair;
