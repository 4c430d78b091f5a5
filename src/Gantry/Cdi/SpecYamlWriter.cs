using System.Globalization;
using System.Text;
using Gantry.Edits;

namespace Gantry.Cdi;

// Writes a spec in the exact layout of the original (gopkg.in/yaml.v3, indent 4, "---" first).
// SharpYaml's source-generated serializer was tried first: it indents every nested block by a fixed 4 from
// its parent, while yaml.v3 puts mapping entries of a sequence item 2 past the dash and then rounds the next
// level up to a multiple of 4 ("- name:" at 4, "containerEdits:" at 6, "deviceNodes:" at 8). The model is
// small and closed, so this writer lays it out directly; reading still goes through SharpYaml.
internal sealed class SpecYamlWriter
{
    const int Step = 4;
    readonly StringBuilder _out = new();

    public static string Write(Spec spec)
    {
        var w = new SpecYamlWriter();
        w._out.Append("---\n");
        w.WriteSpec(spec);
        return w._out.ToString();
    }

    void WriteSpec(Spec spec)
    {
        Scalar(0, "cdiVersion", spec.CdiVersion);
        Scalar(0, "kind", spec.Kind);
        Annotations(0, spec.Annotations);
        Key(0, "devices");
        if (spec.Devices.Count == 0) _out.Append(" []\n");
        else
        {
            _out.Append('\n');
            var dash = Next(0);
            foreach (var d in spec.Devices)
            {
                var item = Dash(dash);
                Scalar(item, "name", d.Name);
                Annotations(item, d.Annotations);
                Key(item, "containerEdits");
                Edits(item, d.ContainerEdits);
            }
        }
        if (spec.ContainerEdits is { IsEmpty: false } common)
        {
            Key(0, "containerEdits");
            Edits(0, common);
        }
    }

    // Writes " {}" or a block mapping of the edits below a key written at column `keyCol`.
    void Edits(int keyCol, ContainerEdits? e)
    {
        if (e is null || e.IsEmpty) { _out.Append(" {}\n"); return; }
        _out.Append('\n');
        var col = Next(keyCol);
        StringList(col, "env", e.Env);
        if (e.DeviceNodes is { Count: > 0 } nodes)
        {
            var dash = Open(col, "deviceNodes");
            foreach (var n in nodes)
            {
                var c = Dash(dash);
                Scalar(c, "path", n.Path);
                if (!string.IsNullOrEmpty(n.HostPath)) Scalar(c, "hostPath", n.HostPath);
                if (!string.IsNullOrEmpty(n.Type)) Scalar(c, "type", n.Type);
                if (n.Major is long major and not 0) Number(c, "major", major);
                if (n.Minor is long minor and not 0) Number(c, "minor", minor);
                if (n.FileMode is uint mode) Number(c, "fileMode", mode);
                if (!string.IsNullOrEmpty(n.Permissions)) Scalar(c, "permissions", n.Permissions);
                if (n.Uid is uint uid) Number(c, "uid", uid);
                if (n.Gid is uint gid) Number(c, "gid", gid);
            }
        }
        if (e.Hooks is { Count: > 0 } hooks)
        {
            var dash = Open(col, "hooks");
            foreach (var h in hooks)
            {
                var c = Dash(dash);
                Scalar(c, "hookName", h.HookName);
                Scalar(c, "path", h.Path);
                StringList(c, "args", h.Args);
                StringList(c, "env", h.Env);
                if (h.Timeout is int t) Number(c, "timeout", t);
            }
        }
        if (e.Mounts is { Count: > 0 } mounts)
        {
            var dash = Open(col, "mounts");
            foreach (var m in mounts)
            {
                var c = Dash(dash);
                Scalar(c, "hostPath", m.HostPath);
                Scalar(c, "containerPath", m.ContainerPath);
                StringList(c, "options", m.Options);
                if (!string.IsNullOrEmpty(m.Type)) Scalar(c, "type", m.Type);
            }
        }
        if (e.AdditionalGids is { Count: > 0 } gids)
        {
            var dash = Open(col, "additionalGids");
            foreach (var g in gids) _out.Append(' ', dash).Append("- ").Append(g.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    void Annotations(int col, Dictionary<string, string>? annotations)
    {
        if (annotations is not { Count: > 0 }) return;
        Key(col, "annotations");
        _out.Append('\n');
        var inner = Next(col);
        var keys = annotations.Keys.ToList();
        keys.Sort(YamlKeyOrder.Compare);
        foreach (var k in keys)
            _out.Append(' ', inner).Append(YamlScalar.Format(k)).Append(": ").Append(YamlScalar.Format(annotations[k])).Append('\n');
    }

    void StringList(int col, string key, List<string>? items)
    {
        if (items is not { Count: > 0 }) return;
        var dash = Open(col, key);
        foreach (var s in items) _out.Append(' ', dash).Append("- ").Append(YamlScalar.Format(s)).Append('\n');
    }

    // "key:" then a block sequence whose dashes sit at the next indentation level; returns the dash column.
    int Open(int col, string key)
    {
        Key(col, key);
        _out.Append('\n');
        return Next(col);
    }

    // Starts a sequence item; the mapping inside it is written from the column after "- ".
    int Dash(int dashCol)
    {
        _out.Append(' ', dashCol).Append("- ");
        _pendingFirst = true;
        return dashCol + 2;
    }

    bool _pendingFirst;

    void Key(int col, string key)
    {
        if (_pendingFirst) _pendingFirst = false; // first key of a sequence item shares the dash's line
        else _out.Append(' ', col);
        _out.Append(key).Append(':');
    }

    void Scalar(int col, string key, string value)
    {
        Key(col, key);
        _out.Append(' ').Append(YamlScalar.Format(value)).Append('\n');
    }

    void Number(int col, string key, long value)
    {
        Key(col, key);
        _out.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    // yaml.v3 aligns every nested block to the next multiple of the indent step.
    static int Next(int col) => Step * ((col + Step) / Step);
}
