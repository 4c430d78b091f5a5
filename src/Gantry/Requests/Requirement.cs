namespace Gantry.Requests;

/// <summary>What a requirement is checked against: host-wide versions and, when GPUs are selected, one GPU.</summary>
internal sealed record HostFacts(string? CudaVersion, string? DriverVersion);

/// <summary>One selected GPU's facts (a MIG device is checked with its parent's).</summary>
internal sealed record DeviceFacts(string? Arch, string? Brand);

/// <summary>A requirement expression that cannot be evaluated.</summary>
internal sealed class RequirementException(string message, string? detail = null) : Exception(message)
{
    /// <summary>Which part of the expression is wrong and why, beyond the original's message (which nvidia-container-cli keeps).</summary>
    public string? Detail { get; } = detail;

    /// <summary>The message with the detail: what the runtime shim says.</summary>
    public string Described => Detail is null ? Message : $"{Message} {Detail}";
}

// An NVIDIA_REQUIRE_* expression in libnvidia-container's grammar: terms separated by spaces are ORed, factors
// separated by commas are ANDed; a factor is <key><op><value> with keys cuda, driver, arch (versions) and brand.
// Missing facts satisfy a factor, as in the original (no device selected ⇒ arch and brand hold).
internal sealed class Requirement
{
    static readonly string[] Ops = ["=", "!=", "<", "<=", ">", ">="];
    readonly List<List<(string Key, string Op, string Value)>> _terms;

    public string Text { get; }

    Requirement(string text, List<List<(string, string, string)>> terms) { Text = text; _terms = terms; }

    public static Requirement Parse(string text)
    {
        var terms = new List<List<(string, string, string)>>();
        foreach (var term in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var factors = new List<(string, string, string)>();
            foreach (var factor in term.Split(',', StringSplitOptions.RemoveEmptyEntries)) factors.Add(ParseFactor(factor));
            if (factors.Count > 0) terms.Add(factors);
        }
        return new Requirement(text, terms);
    }

    static (string, string, string) ParseFactor(string factor)
    {
        var opStart = factor.IndexOfAny(['<', '>', '=', '!']);
        if (opStart <= 0) throw Invalid(factor, "expected KEY OP VALUE, e.g. cuda>=12.0");
        var opEnd = opStart;
        while (opEnd < factor.Length && factor[opEnd] is '<' or '>' or '=' or '!') opEnd++;
        var (key, op, value) = (factor[..opStart].ToLowerInvariant(), factor[opStart..opEnd], factor[opEnd..]);
        if (!Ops.Contains(op)) throw Invalid(factor, $"'{op}' is not an operator (use =, !=, <, <=, >, >=)");
        if (value.Length == 0) throw Invalid(factor, "no value after the operator");
        if (key is not ("cuda" or "driver" or "arch" or "brand")) throw Invalid(factor, $"'{key}' is not a key (use cuda, driver, arch or brand)");
        if (key == "brand" && op is not ("=" or "!=")) throw Invalid(factor, "brand takes only = or !=");
        if (key != "brand" && !IsVersion(value)) throw Invalid(factor, $"'{value}' is not a version (digits and dots, e.g. 12.4)");
        return (key, op, value);
    }

    /// <summary>True when some term has every factor satisfied (an empty expression holds).</summary>
    public bool IsSatisfied(HostFacts host, DeviceFacts? device) =>
        _terms.Count == 0 || _terms.Any(t => t.All(f => Holds(f, host, device)));

    /// <summary>The first space-separated token, which the original names in its failure message.</summary>
    public string FirstToken => Text.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } t ? t[0] : Text;

    static bool Holds((string Key, string Op, string Value) f, HostFacts host, DeviceFacts? device)
    {
        var actual = f.Key switch
        {
            "cuda" => host.CudaVersion,
            "driver" => host.DriverVersion,
            "arch" => device?.Arch,
            _ => device?.Brand,
        };
        if (actual is null) return true;
        if (f.Key == "brand")
            return string.Equals(actual, f.Value, StringComparison.OrdinalIgnoreCase) == (f.Op == "=");
        if (!IsVersion(actual)) return true; // a fact we cannot compare is treated as missing
        var c = CompareVersions(actual, f.Value);
        return f.Op switch
        {
            "=" => c == 0, "!=" => c != 0, "<" => c < 0, "<=" => c <= 0, ">" => c > 0, _ => c >= 0,
        };
    }

    static bool IsVersion(string s) => s.Length > 0 && s.All(ch => ch is '.' or (>= '0' and <= '9'));

    /// <summary>Component-wise numeric compare; a longer side counts as greater only if its rest is not all '.'/'0' (12 = 12.0).</summary>
    public static int CompareVersions(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            var x = Number(a, ref i);
            var y = Number(b, ref j);
            if (x != y) return x < y ? -1 : 1;
        }
        var rest = i < a.Length ? a[i..] : b[j..];
        if (rest.Trim('.', '0').Length == 0) return 0;
        return i < a.Length ? 1 : -1;
    }

    static ulong Number(string s, ref int pos)
    {
        ulong n = 0;
        while (pos < s.Length && s[pos] != '.') n = unchecked(n * 10 + (ulong)(s[pos++] - '0'));
        if (pos < s.Length) pos++; // the dot
        return n;
    }

    static RequirementException Invalid(string factor, string why) => new("requirement error: invalid expression", $"\"{factor}\": {why}");
}
