using Gantry.Common;

namespace Gantry.Hooks;

// `chain HOOK ARGS... --then HOOK ARGS...`: several hooks in one process, in order, stopping at the first
// failure. Each hook is a process start for the engine (runc runs createContainer hooks one by one), and the
// runtime shim merges its consecutive hooks into one chain (Runtime/HookMerger). Every hook gets the same
// container state: stdin is read once and replayed to each, and the root it names is resolved once.
internal static class ChainHook
{
    public const string VerbName = "chain";
    public const string Separator = "--then";

    /// <summary>Splits "a x y --then b z" into [a x y], [b z]; empty parts are dropped.</summary>
    public static List<List<string>> Split(IReadOnlyList<string> args)
    {
        var parts = new List<List<string>> { new() };
        foreach (var a in args)
        {
            if (a == Separator) parts.Add(new());
            else parts[^1].Add(a);
        }
        return parts.Where(p => p.Count > 0).ToList();
    }

    /// <summary>The arguments of a chain of hooks (each a name and its arguments); null when one of them holds the separator.</summary>
    public static List<string>? Join(IEnumerable<IReadOnlyList<string>> hooks)
    {
        var args = new List<string>();
        foreach (var h in hooks)
        {
            if (h.Count == 0 || h.Contains(Separator)) return null;
            if (args.Count > 0) args.Add(Separator);
            args.AddRange(h);
        }
        return args;
    }

    public static int Run(string programName, IReadOnlyList<string> args, HookContext context)
    {
        byte[]? state = null;
        var replay = context with
        {
            Stdin = () =>
            {
                if (state is null) { using var s = context.Stdin(); using var m = new MemoryStream(); s.CopyTo(m); state = m.ToArray(); }
                return new MemoryStream(state, writable: false);
            },
            ResolvedRoots = [],
        };
        foreach (var part in Split(args))
        {
            if (part[0] == VerbName) throw new UsageException("a chain cannot contain another chain");
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var r = CdiHookCommand.RunOne(programName, part[0], part.Skip(1).ToList(), replay);
            context.Log.Debug($"{part[0]} took {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
            if (r != 0) return r;
        }
        return 0;
    }
}
