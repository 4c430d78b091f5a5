namespace Gantry.Host.Cgroups;

/// <summary>Checks and spells device rules the way the kernel reads them.</summary>
internal static class DeviceRules
{
    // The widest numbers the kernel stores (12-bit major, 20-bit minor fit well inside); larger ones are typos.
    const uint MaxNumber = int.MaxValue;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first rule the kernel would not take.</summary>
    public static void Validate(IReadOnlyList<DeviceRule> rules)
    {
        foreach (var rule in rules)
        {
            if (rule.Type is not ('c' or 'b')) throw new ArgumentException($"device rule type '{rule.Type}' is not 'c' or 'b'");
            if ((rule.Major != DeviceRule.Any && rule.Major > MaxNumber) || (rule.Minor != DeviceRule.Any && rule.Minor > MaxNumber))
                throw new ArgumentException($"device rule {V1Text(rule)} has a number out of range");
            if (rule.Access is null || rule.Access.Length is 0 or > 3 || rule.Access.Any(a => a is not ('r' or 'w' or 'm'))
                || rule.Access.Distinct().Count() != rule.Access.Length)
                throw new ArgumentException($"device rule access '{rule.Access}' is not made of the letters r, w, m");
        }
    }

    /// <summary>"c 195:1 rw", "c 195:* rwm": the devices.allow syntax.</summary>
    public static string V1Text(DeviceRule rule) => $"{rule.Type} {Number(rule.Major)}:{Number(rule.Minor)} {rule.Access}";

    static string Number(uint n) => n == DeviceRule.Any ? "*" : n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
