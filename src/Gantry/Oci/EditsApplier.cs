using System.Text.Json;
using System.Text.Json.Nodes;
using Gantry.Edits;
using Gantry.Host;

namespace Gantry.Oci;

// Applies CDI container edits to an OCI spec the way CDI runtimes do: env replaces same-named entries; device
// nodes get their missing type/major/minor from the host, replace a node at the same path and get a cgroup
// allow rule; mounts replace the same destination and the whole list is re-sorted by depth; hooks are added
// under their lifecycle name; additional GIDs are added once.
internal sealed class EditsApplier(IRuntimeSyscalls os)
{
    static readonly string[] HookNames = ["prestart", "poststart", "poststop", "createRuntime", "createContainer", "startContainer"];

    public void Apply(OciSpec spec, ContainerEdits edits)
    {
        if (edits.Env is { Count: > 0 }) ApplyEnv(spec, edits.Env);
        foreach (var d in edits.DeviceNodes ?? []) ApplyDevice(spec, d);
        if (edits.Mounts is { Count: > 0 })
        {
            var mounts = spec.Array(spec.Root, "mounts");
            foreach (var m in edits.Mounts)
            {
                RemoveWhere(mounts, n => OciSpec.Str((JsonObject)n, "destination") == m.ContainerPath);
                mounts.Add((JsonNode)new OciMount(m.ContainerPath, m.Type, m.HostPath, m.Options).ToNode());
            }
            SortByDepth(mounts);
        }
        foreach (var h in edits.Hooks ?? [])
        {
            if (!HookNames.Contains(h.HookName)) continue; // the CDI validator rejects these before they get here
            var list = spec.Array(spec.Object("hooks"), h.HookName);
            list.Add((JsonNode)new OciHook(h.Path, h.Args, h.Env, h.Timeout).ToNode());
        }
        foreach (var gid in edits.AdditionalGids ?? [])
        {
            if (gid == 0) continue;
            var gids = spec.Array(spec.Object("process", "user"), "additionalGids");
            if (!gids.Any(n => n?.GetValueKind() == JsonValueKind.Number && n.GetValue<long>() == gid)) gids.Add((JsonNode)JsonValue.Create(gid));
        }
    }

    static void ApplyEnv(OciSpec spec, IEnumerable<string> env)
    {
        var list = spec.Array(spec.Object("process"), "env");
        foreach (var e in env)
        {
            var key = e.Split('=', 2)[0];
            var i = IndexOf(list, n => n!.GetValue<string>().Split('=', 2)[0] == key);
            if (i >= 0) list[i] = JsonValue.Create(e);
            else list.Add((JsonNode)JsonValue.Create(e));
        }
    }

    void ApplyDevice(OciSpec spec, DeviceNode d)
    {
        var (type, major, minor) = (d.Type ?? "", d.Major ?? 0, d.Minor ?? 0);
        if (type == "" || (major == 0 && type != "p"))
        {
            var host = string.IsNullOrEmpty(d.HostPath) ? d.Path : d.HostPath;
            var r = os.StatDevice(host, out var dev);
            if (r < 0)
                throw new OciSpecException($"cannot add device node {d.Path}: {host} is {(r == -19 ? "not a device node" : new SyscallException("stat", host, -r).Message)}");
            (type, major, minor) = (dev.Type, dev.Major, dev.Minor);
        }
        var user = (spec.Root["process"] as JsonObject)?["user"] as JsonObject;
        var (uid, gid) = (d.Uid, d.Gid);
        if (uid is null && user is not null && OciSpec.Num(user, "uid") is > 0 and var u) uid = (uint)u;
        if (gid is null && user is not null && OciSpec.Num(user, "gid") is > 0 and var g) gid = (uint)g;

        var devices = spec.Array(spec.Object("linux"), "devices");
        RemoveWhere(devices, n => OciSpec.Str((JsonObject)n, "path") == d.Path);
        devices.Add((JsonNode)new OciDevice(d.Path, type, major, minor, d.FileMode, uid, gid).ToNode());
        if (type is "b" or "c")
        {
            var rules = spec.Array(spec.Object("linux", "resources"), "devices");
            var access = string.IsNullOrEmpty(d.Permissions) ? "rwm" : d.Permissions;
            rules.Add((JsonNode)new OciDeviceRule(true, type, major, minor, access).ToNode());
        }
    }

    // Stable: mounts of the same depth keep the engine's order.
    static void SortByDepth(JsonArray mounts)
    {
        var sorted = mounts.Select(n => n!).OrderBy(n => Depth(OciSpec.Str((JsonObject)n, "destination") ?? "")).ToList();
        mounts.Clear();
        foreach (var n in sorted) mounts.Add(n);
    }

    static int Depth(string destination)
    {
        var clean = "/" + string.Join('/', destination.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));
        return destination.StartsWith('/') ? clean.Count(c => c == '/') : clean.Count(c => c == '/') - 1;
    }

    static int IndexOf(JsonArray a, Func<JsonNode?, bool> match)
    {
        for (var i = 0; i < a.Count; i++) if (match(a[i])) return i;
        return -1;
    }

    static void RemoveWhere(JsonArray a, Func<JsonNode, bool> match)
    {
        for (var i = a.Count - 1; i >= 0; i--) if (a[i] is { } n && match(n)) a.RemoveAt(i);
    }
}
