using System.Text;

namespace LsmRaft.Raft.Tests;

/// <summary>
/// A data-driven test file: directives (one command line, a <c>----</c> line, the expected output, a blank line),
/// with comments (<c>#</c>) and blank lines between them. Expected output never contains blank lines.
/// </summary>
internal sealed class ScriptFile
{
    private readonly List<object> parts = [];

    private ScriptFile()
    {
    }

    public IEnumerable<Directive> Directives => parts.OfType<Directive>();

    public static ScriptFile Parse(string path)
    {
        var file = new ScriptFile();
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                file.parts.Add(line);
                continue;
            }

            var lineNumber = i + 1;
            if (i + 1 >= lines.Length || lines[i + 1] != "----")
            {
                throw new FormatException($"{path}:{lineNumber}: directive '{line}' must be followed by a '----' line.");
            }

            i += 2;
            var expected = new List<string>();
            while (i < lines.Length && lines[i].Trim().Length != 0)
            {
                expected.Add(lines[i]);
                i++;
            }

            file.parts.Add(new Directive(line, lineNumber, string.Join("\n", expected)));

            // The blank line that ends the directive (if any) is kept as a separator part.
            if (i < lines.Length)
            {
                file.parts.Add(lines[i]);
            }
        }

        return file;
    }

    /// <summary>The file text with each directive's expected output replaced by <paramref name="actual"/>.</summary>
    public string Render(IReadOnlyDictionary<Directive, string> actual)
    {
        var sb = new StringBuilder();
        foreach (var part in parts)
        {
            if (part is Directive d)
            {
                sb.Append(d.Command).Append('\n').Append("----\n");
                var output = actual.TryGetValue(d, out var a) ? a : d.Expected;
                if (output.Length > 0)
                {
                    sb.Append(output).Append('\n');
                }
            }
            else
            {
                sb.Append((string)part).Append('\n');
            }
        }

        return sb.ToString();
    }

    internal sealed record Directive(string Command, int Line, string Expected);
}
