using System.CommandLine;
using System.Text.Json;
using System.Text.Unicode;
using LsmRaft.Client;
using LsmRaft.Client.Wire;

namespace LsmRaft.Host.Cli;

/// <summary>
/// <c>lsmraft kv get|put|del|scan</c>. Keys and values on the command line are UTF-8 text, or base64url with
/// <c>--encoding base64url</c>; values print as text when they are valid UTF-8, else as base64url.
/// </summary>
internal static class KvCommands
{
    public static Command Create(CliContext context)
    {
        var shared = new ClientCommandOptions();
        var kv = new Command("kv", "Read and write keys.");
        shared.AddTo(kv);
        var encoding = new Option<string>("--encoding")
        {
            Description = "How keys and values are given on the command line",
            DefaultValueFactory = _ => WireNames.Utf8,
            Recursive = true,
        };
        encoding.AcceptOnlyFromAmong(WireNames.Utf8, WireNames.Base64Url);
        kv.Options.Add(encoding);

        kv.Subcommands.Add(Get(context, shared, encoding));
        kv.Subcommands.Add(Put(context, shared, encoding));
        kv.Subcommands.Add(Delete(context, shared, encoding));
        kv.Subcommands.Add(Scan(context, shared, encoding));
        return kv;
    }

    private static Option<string> ConsistencyOption()
    {
        var option = new Option<string>("--consistency")
        {
            Description = "Read consistency",
            DefaultValueFactory = _ => "linearizable",
        };
        option.AcceptOnlyFromAmong("linearizable", "lease", "stale");
        return option;
    }

    private static Command Get(CliContext context, ClientCommandOptions shared, Option<string> encoding)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var consistency = ConsistencyOption();
        var json = new Option<bool>("--json") { Description = "Print key, value, encoding and version as JSON" };
        var command = new Command("get", "Print a key's value (exit 1 when it does not exist).") { key, consistency, json };
        ClientCommandOptions.SetAction(command, context, async (parseResult, cancellationToken) =>
        {
            string enc = parseResult.GetValue(encoding)!;
            var keyBytes = Decode(parseResult.GetValue(key)!, enc, "key");
            using var client = shared.CreateClient(parseResult, context);
            var entry = await client.GetAsync(keyBytes, ParseConsistency(parseResult.GetValue(consistency)!), cancellationToken);
            if (entry is null)
            {
                await context.Error.WriteLineAsync($"lsmraft: key '{parseResult.GetValue(key)}' does not exist.");
                return ExitCodes.NotFound;
            }
            await context.Out.WriteLineAsync(parseResult.GetValue(json) ? ToJson(entry) : Printable(entry.Value));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Put(CliContext context, ClientCommandOptions shared, Option<string> encoding)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var value = new Argument<string>("value") { Description = "The value" };
        var ifVersion = new Option<ulong?>("--if-version") { Description = "Write only if the key's version is this (0 = only if absent)" };
        var command = new Command("put", "Write a key and print its new version.") { key, value, ifVersion };
        ClientCommandOptions.SetAction(command, context, async (parseResult, cancellationToken) =>
        {
            string enc = parseResult.GetValue(encoding)!;
            var keyBytes = Decode(parseResult.GetValue(key)!, enc, "key");
            var valueBytes = Decode(parseResult.GetValue(value)!, enc, "value");
            using var client = shared.CreateClient(parseResult, context);
            ulong version = parseResult.GetValue(ifVersion) is { } expected
                ? await client.CompareAndSetAsync(keyBytes, expected, valueBytes, cancellationToken)
                : await client.PutAsync(keyBytes, valueBytes, cancellationToken);
            await context.Out.WriteLineAsync($"version {version}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Delete(CliContext context, ClientCommandOptions shared, Option<string> encoding)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var ifVersion = new Option<ulong?>("--if-version") { Description = "Delete only if the key's version is this" };
        var command = new Command("del", "Delete a key (exit 1 when it does not exist).") { key, ifVersion };
        ClientCommandOptions.SetAction(command, context, async (parseResult, cancellationToken) =>
        {
            var keyBytes = Decode(parseResult.GetValue(key)!, parseResult.GetValue(encoding)!, "key");
            using var client = shared.CreateClient(parseResult, context);
            if (parseResult.GetValue(ifVersion) is { } expected)
            {
                await client.CompareAndSetAsync(keyBytes, expected, null, cancellationToken);
            }
            else if (!await client.DeleteAsync(keyBytes, cancellationToken))
            {
                await context.Error.WriteLineAsync($"lsmraft: key '{parseResult.GetValue(key)}' does not exist.");
                return ExitCodes.NotFound;
            }
            await context.Out.WriteLineAsync("deleted");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Scan(CliContext context, ClientCommandOptions shared, Option<string> encoding)
    {
        var start = new Option<string?>("--start") { Description = "First key (inclusive)" };
        var end = new Option<string?>("--end") { Description = "Key to stop before (exclusive)" };
        var prefix = new Option<string?>("--prefix") { Description = "Only keys beginning with this" };
        var limit = new Option<int>("--limit") { Description = "Most keys to print", DefaultValueFactory = _ => 100 };
        var consistency = ConsistencyOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per key" };
        var command = new Command("scan", "Print keys and values in key order, one per line (key<TAB>value).") { start, end, prefix, limit, consistency, json };
        ClientCommandOptions.SetAction(command, context, async (parseResult, cancellationToken) =>
        {
            string enc = parseResult.GetValue(encoding)!;
            int max = parseResult.GetValue(limit);
            if (max < 1)
                throw new CliUsageException($"--limit is {max}: expected a positive integer.");
            var options = new ScanOptions
            {
                Start = parseResult.GetValue(start) is { } s ? Decode(s, enc, "--start") : null,
                End = parseResult.GetValue(end) is { } e ? Decode(e, enc, "--end") : null,
                Prefix = parseResult.GetValue(prefix) is { } p ? Decode(p, enc, "--prefix") : null,
                Limit = max,
                Consistency = ParseConsistency(parseResult.GetValue(consistency)!),
            };
            bool asJson = parseResult.GetValue(json);
            using var client = shared.CreateClient(parseResult, context);
            await foreach (var entry in client.ScanAsync(options, cancellationToken))
                await context.Out.WriteLineAsync(asJson ? ToJson(entry) : $"{Printable(entry.Key)}\t{Printable(entry.Value)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static byte[] Decode(string text, string encoding, string what)
    {
        if (text.Length == 0)
            throw new CliUsageException($"The {what} is empty.");
        try
        {
            return WireEncoding.Decode(text, encoding);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"The {what} is malformed: {e.Message}");
        }
    }

    private static Consistency ParseConsistency(string text) => text switch
    {
        "lease" => Consistency.Lease,
        "stale" => Consistency.Stale,
        _ => Consistency.Linearizable,
    };

    private static string Printable(byte[] bytes) =>
        WireEncoding.Encode(bytes, Utf8.IsValid(bytes) ? WireNames.Utf8 : WireNames.Base64Url);

    private static string ToJson(KvValue entry)
    {
        string encoding = WireEncoding.Choose(entry.Key, entry.Value);
        var item = new KvItem(WireEncoding.Encode(entry.Key, encoding), WireEncoding.Encode(entry.Value, encoding), encoding, entry.Version);
        return JsonSerializer.Serialize(item, WireJson.Lenient);
    }
}
