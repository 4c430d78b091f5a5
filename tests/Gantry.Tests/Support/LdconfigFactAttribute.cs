namespace Gantry.Tests.Support;

/// <summary>
/// A fact that runs the host's real glibc ldconfig. It is skipped, with the reason, where there is none,
/// and, when RequiresRoot is set (ldconfig -r chroots), where the tests do not run as root.
/// </summary>
public sealed class LdconfigFactAttribute : FactAttribute
{
    bool requiresRoot;

    public LdconfigFactAttribute()
    {
        if (Ldconfig.Path is null)
            Skip = "needs glibc ldconfig (/usr/sbin/ldconfig or /sbin/ldconfig)";
    }

    public bool RequiresRoot
    {
        get => requiresRoot;
        set
        {
            requiresRoot = value;
            if (value && Skip is null && !Environment.IsPrivilegedProcess)
                Skip = "needs root: ldconfig -r chroots into the test tree";
        }
    }
}
