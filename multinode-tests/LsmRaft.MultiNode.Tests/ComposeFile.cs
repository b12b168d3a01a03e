using YamlDotNet.RepresentationModel;

namespace LsmRaft.MultiNode.Tests;

/// <summary>One service of a compose file: its name, environment (in file order) and published ports.</summary>
internal sealed record ComposeService(string Name, IReadOnlyList<KeyValuePair<string, string>> Environment, IReadOnlyList<string> Ports)
{
    public string Env(string name) => Environment.Single(e => e.Key == name).Value;
}

/// <summary>Reads the services of a docker compose file (environment as a list of <c>K=V</c> or as a mapping; ports).</summary>
internal static class ComposeFile
{
    public static IReadOnlyList<ComposeService> ReadServices(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
            yaml.Load(reader);
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var services = (YamlMappingNode)root.Children[new YamlScalarNode("services")];
        var result = new List<ComposeService>();
        foreach (var (name, node) in services.Children)
        {
            var service = (YamlMappingNode)node;
            var environment = new List<KeyValuePair<string, string>>();
            if (service.Children.TryGetValue(new YamlScalarNode("environment"), out var env))
            {
                switch (env)
                {
                    case YamlSequenceNode list:
                        foreach (var item in list.Children.Cast<YamlScalarNode>().Select(s => s.Value!))
                        {
                            int equals = item.IndexOf('=');
                            environment.Add(equals < 0 ? new(item, "") : new(item[..equals], item[(equals + 1)..]));
                        }
                        break;
                    case YamlMappingNode map:
                        foreach (var (key, value) in map.Children)
                            environment.Add(new(((YamlScalarNode)key).Value!, ((YamlScalarNode)value).Value ?? ""));
                        break;
                }
            }
            var ports = service.Children.TryGetValue(new YamlScalarNode("ports"), out var p)
                ? ((YamlSequenceNode)p).Children.Cast<YamlScalarNode>().Select(s => s.Value!).ToList()
                : [];
            result.Add(new ComposeService(((YamlScalarNode)name).Value!, environment, ports));
        }
        return result;
    }
}
