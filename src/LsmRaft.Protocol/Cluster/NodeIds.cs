using System.Globalization;
using System.Text;
using LsmRaft.Shared;

namespace LsmRaft.Protocol.Cluster;

/// <summary>
/// How a node's id is written by operators (<c>PEER_ID</c>, the ids in <c>PEERS</c>, CLI <c>--node</c>/<c>--to</c>)
/// and the 64-bit number Raft and the shard map use. Two forms, which can never denote the same number:
/// <list type="bullet">
/// <item>an integer 1 .. <see cref="MaxNumericId"/> (2^52 - 1) is its own id;</item>
/// <item>a name (the origin's <c>n1</c>, <c>node-a</c>: a letter, then up to 62 of <c>A-Z a-z 0-9 . _ -</c>) has the id
/// 2^52 + (XXH64(UTF-8 name, <see cref="NameSeed"/>) mod 2^52), in [2^52, 2^53).</item>
/// </list>
/// The id of a name depends on the name alone — not on the order of <c>PEERS</c>, not on anything stored — so every
/// node, every restart and the CLI compute the same id without asking anyone. Ids stay below 2^53, so they are exact
/// in JSON numbers read as doubles (browsers). Two names of one cluster whose ids collide (odds about n²/2^53) are
/// refused by the configuration, naming both.
/// </summary>
public static class NodeIds
{
    /// <summary>The first id of a named node; integer ids stay below it.</summary>
    public const ulong NameIdBase = 1UL << 52;

    /// <summary>The largest integer id an operator may give.</summary>
    public const ulong MaxNumericId = NameIdBase - 1;

    /// <summary>The XXH64 seed of node names ("nodename" in ASCII), distinct from the key hash's seed. Frozen: changing it renames every node.</summary>
    public const ulong NameSeed = 0x6E6F64656E616D65UL;

    /// <summary>Longest node name, in characters.</summary>
    public const int MaxNameLength = 63;

    /// <summary>What an id may look like, quoted by errors and docs.</summary>
    public const string Accepted = "an integer from 1 to 4503599627370495, or a name (a letter, then up to 62 of A-Z a-z 0-9 . _ -), e.g. n1";

    /// <summary>The id of <paramref name="name"/>; the name must be valid (<see cref="IsValidName"/>).</summary>
    public static ulong FromName(string name)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"'{name}' is not a node name: expected {Accepted}.", nameof(name));
        return NameIdBase | (XxHash64.Hash(Encoding.UTF8.GetBytes(name), NameSeed) & (NameIdBase - 1));
    }

    /// <summary>Whether <paramref name="id"/> is in the range of named nodes' ids.</summary>
    public static bool IsNameId(ulong id) => id >= NameIdBase && id < NameIdBase << 1;

    /// <summary>A letter, then up to 62 of <c>A-Z a-z 0-9 . _ -</c> (so a name never reads as a number).</summary>
    public static bool IsValidName(string text)
    {
        if (text.Length is 0 or > MaxNameLength || !char.IsAsciiLetter(text[0]))
            return false;
        foreach (char c in text)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
                return false;
        return true;
    }

    /// <summary>
    /// Parses an id as an operator writes it: an integer 1 .. <see cref="MaxNumericId"/>, or a name. False for anything
    /// else, including integers of 2^52 and above (reserved for names, so a number can never pose as a name's id).
    /// </summary>
    public static bool TryParse(string text, out ulong id)
    {
        id = 0;
        if (text.Length > 0 && char.IsAsciiDigit(text[0]))
            return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id is >= 1 and <= MaxNumericId;
        if (!IsValidName(text))
            return false;
        id = FromName(text);
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, throwing a <see cref="FormatException"/> that names <paramref name="what"/> and the accepted forms.</summary>
    public static ulong Parse(string text, string what = "node id") =>
        TryParse(text, out ulong id) ? id : throw new FormatException($"{what} '{text}' is invalid: expected {Accepted}.");
}
