using Gantry.Common;
using Gantry.Config;
using Tomlyn.Model;

namespace Gantry.Engines.Configure;

// Plans the file changes for `runtime configure` / `unconfigure` without touching the disk, so dry-run, tests and
// the real run share one path. `sourceText` is the engine's current config as the user chose to read it
// (the file, or `containerd config dump` / `crio status config`).
internal static class RuntimeConfigurer
{
    public static List<FileChange> Plan(ConfigureOptions o, string? sourceText, Log log)
    {
        var top = EngineFile.Read(o.ConfigPath);
        sourceText ??= top;
        return o.Engine switch
        {
            EngineKind.Docker => [new FileChange(o.ConfigPath, DockerConfig.Edit(top, o.ConfigPath, o))],
            EngineKind.Containerd => Containerd(o, top, sourceText, log),
            _ => Crio(o, top, sourceText),
        };
    }

    static List<FileChange> Containerd(ConfigureOptions o, string? top, string? sourceText, Log log)
    {
        var sourceEmpty = string.IsNullOrWhiteSpace(sourceText);
        var source = sourceEmpty ? new TomlTable() : TomlText.ParseModel(sourceText!, o.ConfigPath);
        var version = ContainerdConfig.Version(source, sourceEmpty, o.ConfigPath);
        var topEditor = TomlEditor.Parse(top ?? "", o.ConfigPath);
        if (o.DropInPath.Length == 0 || version == 1)
        {
            if (version == 1 && o.DropInPath.Length > 0)
                log.Info($"{o.ConfigPath} is a version 1 config, which cannot import drop-ins: editing it in place");
            ContainerdConfig.Edit(topEditor, source, version, o, log, writeVersion: string.IsNullOrWhiteSpace(top));
            return [Result(o.ConfigPath, topEditor)];
        }
        var glob = Path.Combine(Path.GetDirectoryName(o.DropInPath) ?? "/", "*.toml");
        FileChange dropIn;
        if (o.Undo)
        {
            dropIn = new FileChange(o.DropInPath, null, Backup: false);
            // Undo an in-place configure too, and keep the import while other drop-ins still rely on it.
            ContainerdConfig.Edit(topEditor, source, version, o, log, writeVersion: false);
            if (!OtherDropIns(o.DropInPath)) ContainerdConfig.EditImports(topEditor, false, version, glob, undo: true);
        }
        else
        {
            var tree = new TomlTable();
            var cri = ContainerdConfig.CriPlugin(version);
            if (ToolkitConfigFile.TryGet(source, ["plugins", cri], out var plugin) && plugin is TomlTable p)
                tree["plugins"] = new TomlTable { [cri] = TomlModelTarget.Clone(p) };
            ContainerdConfig.Edit(new TomlModelTarget(tree), source, version, o, log);
            dropIn = new FileChange(o.DropInPath, GoTomlWriter.Write(tree), Backup: false);
            ContainerdConfig.EditImports(topEditor, string.IsNullOrWhiteSpace(top), version, glob, undo: false);
        }
        return [dropIn, Result(o.ConfigPath, topEditor)];
    }

    static List<FileChange> Crio(ConfigureOptions o, string? top, string? sourceText)
    {
        var source = string.IsNullOrWhiteSpace(sourceText) ? new TomlTable() : TomlText.ParseModel(sourceText!, o.ConfigPath);
        if (o.DropInPath.Length == 0)
        {
            var editor = TomlEditor.Parse(top ?? "", o.ConfigPath);
            CrioConfig.Edit(editor, source, o);
            return [Result(o.ConfigPath, editor)];
        }
        if (o.Undo) return [new FileChange(o.DropInPath, null, Backup: false)];
        var tree = new TomlTable();
        CrioConfig.Edit(new TomlModelTarget(tree), source, o);
        return [new FileChange(o.DropInPath, GoTomlWriter.Write(tree), Backup: false)];
    }

    static FileChange Result(string path, TomlEditor editor)
    {
        var text = editor.CheckedText();
        return new FileChange(path, string.IsNullOrWhiteSpace(text) ? null : text);
    }

    static bool OtherDropIns(string dropIn)
    {
        var dir = Path.GetDirectoryName(dropIn);
        return dir is not null && Directory.Exists(dir) &&
               Directory.EnumerateFiles(dir, "*.toml").Any(f => Path.GetFullPath(f) != Path.GetFullPath(dropIn));
    }
}
