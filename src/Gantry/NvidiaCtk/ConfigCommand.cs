using Gantry.Common;
using Gantry.Config;
using Gantry.Host;

namespace Gantry.NvidiaCtk;

// nvidia-ctk config [default]: show, edit (--set) or create config.toml.
internal static class ConfigCommand
{
    internal static FlagSet Flags() => new FlagSet()
        .String("config-file", "the config file to read (and with --in-place, to write)", ToolkitConfigFile.DefaultPath(), ["config", "c"])
        .List("set", "set a config value: key[=value]; repeatable", splitComma: false)
        .String("set-list-separator", "separator for list values given to --set", ":")
        .Bool("in-place", "write the result back to --config-file", ["i"])
        .String("output", "write the result to this file instead of STDOUT", null, ["o"])
        .Bool("help", "show help", ["h"]);

    internal static FlagSet DefaultFlags() => new FlagSet().String("output", "write the default config to this file instead of STDOUT", null, ["o"]).Bool("help", "show help", ["h"]);

    public static int Run(string[] args, Log log, TextWriter stdout, ConfigHostFacts? host = null)
    {
        host ??= ConfigHostFacts.Detect();
        if (args.Length > 0 && args[0] is "default" or "create-default" or "generate-default")
            return Default(args[1..], stdout, host);
        var flags = Flags();
        flags.Parse(args);
        if (flags.GetBool("help")) { stdout.Write("nvidia-ctk config [default] [options]\n\n" + flags.Usage()); return 0; }
        if (flags.Positionals.Count > 0) throw new UsageException($"unknown config command '{flags.Positionals[0]}'");

        var path = flags.GetOr("config-file", ToolkitConfigFile.DefaultPath());
        var output = flags.Get("output");
        if (flags.GetBool("in-place"))
        {
            if (!string.IsNullOrEmpty(output)) throw new UsageException("--in-place and --output cannot be used together");
            output = path;
        }
        var sep = flags.GetOr("set-list-separator", ":");
        var sets = flags.GetList("set").Select(s => ConfigSetter.ParseSet(s, sep)).ToList();
        var text = ConfigSetter.Apply(ReadIfExists(path), path, sets, host);
        Emit(text, output, stdout);
        if (!string.IsNullOrEmpty(output)) log.Debug($"wrote {output}");
        return 0;
    }

    static int Default(string[] args, TextWriter stdout, ConfigHostFacts host)
    {
        var flags = DefaultFlags();
        flags.Parse(args);
        if (flags.GetBool("help")) { stdout.Write("nvidia-ctk config default [--output FILE]\n\n" + flags.Usage()); return 0; }
        Emit(ConfigDefaults.DefaultText(host), flags.Get("output"), stdout);
        return 0;
    }

    static string? ReadIfExists(string path)
    {
        if (Directory.Exists(path)) throw new GantryException($"config file {path} is a directory; name the config.toml file itself with --config-file (-c)");
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new GantryException($"cannot read config file {path}: {e.Message}", e); }
    }

    static void Emit(string text, string? output, TextWriter stdout)
    {
        if (string.IsNullOrEmpty(output)) { stdout.Write(text); return; }
        if (File.Exists(output) && File.ReadAllText(output) == text) return;   // unchanged: leave the file (and its mtime) alone
        try { AtomicFile.WriteText(output, text); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new GantryException($"cannot write {output}: {WriteFailure.Cause(output, e)}", e); }
    }
}
