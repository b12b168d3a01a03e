namespace LsmRaft.MultiNode.Tests;

/// <summary>Where the tests find the <c>lsmraft</c> executable they run as processes.</summary>
internal static class LsmraftBinary
{
    /// <summary>The Host project's lsmraft.dll of the same configuration as this test assembly (built before it: a project reference).</summary>
    public static string Locate()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = dir.Parent!.Name; // .../bin/<Configuration>/net10.0/
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LsmRaft.sln")))
            dir = dir.Parent;
        if (dir is null)
            throw new InvalidOperationException("Cannot find LsmRaft.sln above " + AppContext.BaseDirectory);
        string dll = Path.Combine(dir.FullName, "src", "LsmRaft.Host", "bin", configuration, "net10.0", "lsmraft.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"Build src/LsmRaft.Host ({configuration}) first: {dll} is missing.", dll);
        return dll;
    }
}
