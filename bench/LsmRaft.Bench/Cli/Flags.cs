using System.Globalization;

namespace LsmRaft.Bench.Cli;

/// <summary>
/// Flags in db_bench's (gflags') style: <c>--name=value</c> or <c>-name=value</c>; a bare
/// <c>--name</c> sets a boolean. Typed getters consume flags; <see cref="RejectUnknown"/> then names
/// any flag nobody asked for, so a typo never silently falls back to a default.
/// </summary>
internal sealed class Flags
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);

    public Flags(IEnumerable<string> args)
    {
        foreach (var arg in args)
        {
            string body = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..]
                : arg.StartsWith('-') ? arg[1..]
                : throw new FlagException(arg, "not a flag; write flags as --name=value");
            int eq = body.IndexOf('=');
            string name = eq < 0 ? body : body[..eq];
            if (name.Length == 0)
                throw new FlagException(arg, "empty flag name");
            _values[name] = eq < 0 ? null : body[(eq + 1)..];
        }
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string GetString(string name, string defaultValue)
    {
        if (!TryTake(name, out var raw))
            return defaultValue;
        if (string.IsNullOrEmpty(raw))
            throw new FlagException(name, "needs a value (--" + name + "=...)");
        return raw;
    }

    public long GetInt64(string name, long defaultValue, long min, long max)
    {
        if (!TryTake(name, out var raw))
            return defaultValue;
        if (!long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new FlagException(name, $"'{raw}' is not an integer");
        if (value < min || value > max)
            throw new FlagException(name, $"{value} is out of range; must be between {min} and {max}");
        return value;
    }

    public int GetInt32(string name, int defaultValue, int min, int max) => (int)GetInt64(name, defaultValue, min, max);

    public double? GetDouble(string name, double minExclusive, double maxInclusive)
    {
        if (!TryTake(name, out var raw))
            return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            throw new FlagException(name, $"'{raw}' is not a number");
        if (value <= minExclusive || value > maxInclusive)
            throw new FlagException(name, $"{raw} is out of range; must be greater than {minExclusive} and at most {maxInclusive}");
        return value;
    }

    public bool GetBool(string name, bool defaultValue)
    {
        if (!TryTake(name, out var raw))
            return defaultValue;
        return raw switch
        {
            null or "1" or "true" => true,
            "0" or "false" => false,
            _ => throw new FlagException(name, $"'{raw}' is not a boolean; use 0, 1, false or true"),
        };
    }

    /// <summary>Throws for the first flag no getter consumed.</summary>
    public void RejectUnknown(string command)
    {
        foreach (var name in _values.Keys)
        {
            if (!_consumed.Contains(name))
                throw new FlagException(name, $"unknown flag for '{command}'; run with --help to list the flags");
        }
    }

    private bool TryTake(string name, out string? raw)
    {
        _consumed.Add(name);
        return _values.TryGetValue(name, out raw);
    }
}
