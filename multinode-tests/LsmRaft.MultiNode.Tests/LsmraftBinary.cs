namespace LsmRaft.MultiNode.Tests;

/// <summary>Where the tests find the <c>lsmraft</c> executable they run as processes.</summary>
internal static class LsmraftBinary
{
    /// <summary>The Host project's lsmraft.dll of the same configuration as this test assembly (built before it: a project reference).</summary>
    public static string Locate()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // .../bin/<Configuration>/net10.0/
        string dll = Path.Combine(RepositoryRoot(), "src", "LsmRaft.Host", "bin", configuration, "net10.0", "lsmraft.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"Build src/LsmRaft.Host ({configuration}) first: {dll} is missing.", dll);
        return dll;
    }

    /// <summary>The repository's root directory (where LsmRaft.sln is).</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LsmRaft.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find LsmRaft.sln above " + AppContext.BaseDirectory);
    }
}
