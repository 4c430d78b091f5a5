using Gantry.Host;

namespace Gantry.Tests.Support;

/// <summary>
/// A system user made for one test class, with 65536 subordinate uids and gids of its own (what Docker's
/// --userns-remap and rootless engines map a container's ids to); userdel removes it, its group and its /etc/subuid
/// and /etc/subgid lines on Dispose.
/// </summary>
internal sealed class SubordinateUser : IDisposable
{
    public string Name { get; }
    /// <summary>The first subordinate uid (and gid): the host id of the container's root.</summary>
    public uint First { get; }
    public bool Made { get; }
    static int s_made;

    public SubordinateUser(string prefix)
    {
        var pid = Environment.ProcessId;
        Name = $"{prefix}{pid % 100000}";
        // A range of its own below SUB_UID_MAX, far above what useradd hands out by default (from 100000 upwards),
        // and apart from the other test users of this process.
        var n = (uint)Interlocked.Increment(ref s_made) % 4;
        First = 400_000_000u + ((uint)(pid % 600) * 4 + n) * 65536u;
        var r = ProcessRunner.Run("sh", ["-c", $"useradd -r -M -s /usr/sbin/nologin '{Name}' && " +
            $"usermod --add-subuids {First}-{First + 65535} --add-subgids {First}-{First + 65535} '{Name}'"]);
        Assert.True(r.ExitCode == 0, $"cannot make the test user {Name}: {r.Combined}");
        Made = true;
    }

    public void Dispose()
    {
        if (Made) ProcessRunner.Run("userdel", [Name]);
    }
}
