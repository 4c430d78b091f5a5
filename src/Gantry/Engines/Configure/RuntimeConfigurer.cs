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
        var changes = Plan(o, top, sourceText ?? top, log);
        return o.Undo ? RestoreUntouched(o, top, changes) : changes;
    }

    /// <summary>The changes for a top-level file whose text is <paramref name="top"/> (null: no file).</summary>
    static List<FileChange> Plan(ConfigureOptions o, string? top, string? sourceText, Log log)
    {
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
            if (!OtherDropIns(o.DropInPath))
                ContainerdConfig.EditImports(topEditor, false, version, glob, undo: true, keepVersion: File.Exists(EngineFile.BackupOf(o.ConfigPath)));
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

    /// <summary>
    /// Unconfigure is the exact inverse of configure on a file nobody touched since: when the backup configure kept,
    /// configured again (with or without --set-as-default and CDI), gives the file's present bytes, the backup's bytes
    /// come back and the backup goes. Otherwise (the file was edited since) the undo is the key-by-key one.
    /// </summary>
    static List<FileChange> RestoreUntouched(ConfigureOptions o, string? top, List<FileChange> changes)
    {
        var backupPath = EngineFile.BackupOf(o.ConfigPath);
        if (top is null || !File.Exists(backupPath)) return changes;
        string original;
        try { original = File.ReadAllText(backupPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return changes; }
        foreach (var (setAsDefault, cdi) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            List<FileChange> redo;
            try { redo = Plan(o with { Undo = false, SetAsDefault = setAsDefault, EnableCdi = cdi }, original, original, Log.Silent); }
            catch (GantryException) { return changes; }
            if (redo.FirstOrDefault(c => c.Path == o.ConfigPath) is not { } configured || configured.Text != top) continue;
            var restored = changes.Where(c => c.Path != o.ConfigPath).ToList();
            restored.Add(new FileChange(o.ConfigPath, original, Backup: false) { RestoresBackup = true });
            return restored;
        }
        return changes;
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
