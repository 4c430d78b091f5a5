using Gantry.Common;
using Gantry.Config;
using Gantry.Requests;
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
            EngineKind.Docker => Docker(o, top),
            EngineKind.Containerd => Containerd(o, top, sourceText, log),
            _ => Crio(o, top, sourceText),
        };
    }

    static List<FileChange> Docker(ConfigureOptions o, string? top)
    {
        var daemon = new FileChange(o.ConfigPath, DockerConfig.Edit(top, o.ConfigPath, o));
        if (o.SwarmKind is null || o.ToolkitConfigPath is null) return [daemon];
        return [daemon, SwarmResourceSetting(o)];
    }

    /// <summary>
    /// config.toml's swarm-resource: DOCKER_RESOURCE_&lt;kind&gt; on configure; on undo the key goes when it is still
    /// that value. Any other kind that daemon.json advertises GPUs as (after the edit) is a mismatch: Swarm would
    /// hand tasks ids in a variable the runtime does not read.
    /// </summary>
    static FileChange SwarmResourceSetting(ConfigureOptions o)
    {
        var path = o.ToolkitConfigPath!;
        var variable = SwarmResource.Variable(o.SwarmKind!);
        var text = EngineFile.Read(path);
        var editor = TomlEditor.Parse(text ?? "", path);
        if (o.Undo)
        {
            // Configure may have replaced a commented example: the backup it kept comes back when configuring it
            // again gives the present bytes.
            if (text is not null && RestorableBackup(path, variable, text) is { } original)
                return new FileChange(path, original, Backup: false) { RestoresBackup = true };
            if (editor.Get("swarm-resource") is string current && current == variable) editor.Remove("swarm-resource");
        }
        else editor.Set(["swarm-resource"], variable);
        var result = editor.CheckedText();
        return new FileChange(path, text is null && string.IsNullOrWhiteSpace(result) ? null : result);
    }

    static string? RestorableBackup(string path, string variable, string present)
    {
        var backup = EngineFile.BackupOf(path);
        if (!File.Exists(backup)) return null;
        try
        {
            var original = File.ReadAllText(backup);
            var redo = TomlEditor.Parse(original, backup);
            redo.Set(["swarm-resource"], variable);
            return redo.CheckedText() == present ? original : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or GantryException) { return null; }
    }

    /// <summary>
    /// The GPU kinds daemon.json advertises that config.toml's swarm-resource does not list (both as they would be
    /// after <paramref name="changes"/>): each is a kind whose tasks the runtime would refuse.
    /// </summary>
    public static IReadOnlyList<string> SwarmMismatches(ConfigureOptions o, IReadOnlyList<FileChange> changes)
    {
        if (o.Engine != EngineKind.Docker) return [];
        string? After(string path) => changes.FirstOrDefault(c => c.Path == path) is { } c ? c.Text : EngineFile.Read(path);
        var kinds = DockerConfig.GpuResourceKinds(After(o.ConfigPath), o.ConfigPath);
        if (kinds.Count == 0) return [];
        var configPath = o.ToolkitConfigPath ?? ToolkitConfigFile.DefaultPath();
        var toml = After(configPath);
        var config = toml is null ? new ToolkitConfig() : ToolkitConfigFile.Parse(toml, configPath);
        var listed = config.SwarmResourceVariables;
        return kinds.Where(k => !listed.Contains(SwarmResource.Variable(k), StringComparer.Ordinal)).ToList();
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
