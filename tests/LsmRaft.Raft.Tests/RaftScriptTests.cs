using System.Runtime.CompilerServices;

namespace LsmRaft.Raft.Tests;

/// <summary>
/// Runs every <c>testdata/*.txt</c> script through <see cref="InteractionEnv"/> and compares the output.
/// Set <c>LSMRAFT_REWRITE=1</c> to rewrite the expected output in the source files instead.
/// </summary>
public sealed class RaftScriptTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestDataDirectory(), "*.txt").OrderBy(p => p, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_output_matches_expected(string script)
    {
        var path = Path.Combine(TestDataDirectory(), script);
        var file = ScriptFile.Parse(path);
        var env = new InteractionEnv();
        var rewrite = Environment.GetEnvironmentVariable("LSMRAFT_REWRITE") == "1";
        var actual = new Dictionary<ScriptFile.Directive, string>();
        foreach (var directive in file.Directives)
        {
            var output = env.Handle(directive.Command);
            if (rewrite)
            {
                actual[directive] = output;
                continue;
            }

            output.Should().Be(directive.Expected, $"{script}:{directive.Line} '{directive.Command}' should print the expected output (rerun with LSMRAFT_REWRITE=1 to accept changes)");
        }

        if (rewrite)
        {
            File.WriteAllText(path, file.Render(actual));
        }
    }

    private static string TestDataDirectory([CallerFilePath] string sourcePath = "") =>
        Path.Combine(Path.GetDirectoryName(sourcePath)!, "testdata");
}
