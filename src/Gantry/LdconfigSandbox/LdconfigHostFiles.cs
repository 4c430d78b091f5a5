using Gantry.Common;
using Gantry.Host;

namespace Gantry.LdconfigSandbox;

/// <summary>
/// The host ldconfig and gantry-sandbox-exec as detached bind mounts (open_tree clones), taken while their paths
/// name the host's files, so that LdconfigJail attaches exactly these files whatever mount namespace it is built
/// in: configure takes them on its main thread, before its apply thread joins the container's namespace, where the
/// host paths may name nothing, or the image's files once the runtime has pivoted. A plain bind could not do that:
/// its source must be in the caller's mount namespace.
/// </summary>
internal sealed class LdconfigHostFiles : IDisposable
{
    LdconfigHostFiles(OwnedFd ldconfig, string ldconfigPath, OwnedFd helper)
    {
        Ldconfig = ldconfig;
        LdconfigPath = ldconfigPath;
        Helper = helper;
    }

    /// <summary>A detached mount of the host ldconfig; attached once, into the jail.</summary>
    public OwnedFd Ldconfig { get; }
    /// <summary>The host path it was taken from: argv[0] and messages only, never opened again.</summary>
    public string LdconfigPath { get; }
    /// <summary>A detached mount of gantry-sandbox-exec.</summary>
    public OwnedFd Helper { get; }

    /// <summary>
    /// Clones both by their host paths; each must be a static ELF (checked through the open file, the one cloned).
    /// Null, with the reason, where this kernel (or a seccomp profile) cannot clone mounts: the caller uses the
    /// re-executed child instead. Other failures throw.
    /// </summary>
    public static LdconfigHostFiles? TryOpen(ISyscalls sys, string ldconfigPath, string helperPath, out string? whyNot)
    {
        var ldconfig = Clone(sys, ldconfigPath, out whyNot);
        if (ldconfig is null) return null;
        try
        {
            var helper = Clone(sys, helperPath, out whyNot);
            if (helper is not null) return new LdconfigHostFiles(ldconfig, ldconfigPath, helper);
        }
        catch
        {
            ldconfig.Dispose();
            throw;
        }
        ldconfig.Dispose();
        return null;
    }

    static OwnedFd? Clone(ISyscalls sys, string path, out string? whyNot)
    {
        using var file = new OwnedFd(sys, SyscallResult.Check(sys.OpenAt(At.FdCwd, path, O.Path), "open", path));
        if (!LdconfigBinary.IsStaticElf(file.ProcPath, out var why))
            throw new GantryException($"refusing to run {path} inside the container: {why}; only a statically linked host program is safe to run against an untrusted root");
        var r = sys.CloneMount(file.Value);
        whyNot = r < 0 ? $"open_tree {path}: {Errno.Describe(-r)}" : null;
        return r < 0 ? null : new OwnedFd(sys, r);
    }

    public void Dispose()
    {
        Helper.Dispose();
        Ldconfig.Dispose();
    }
}
