using System.Text;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage.Tests.Versions;

public sealed class VersionEditTests
{
    private const string ManifestName = "db/MANIFEST-000002";

    private static byte[] Key(string userKey, ulong sequence, EntryKind kind = EntryKind.Value) =>
        InternalKey.Make(Encoding.UTF8.GetBytes(userKey), sequence, kind);

    internal static VersionEdit FullEdit()
    {
        var edit = new VersionEdit
        {
            Comparator = VersionEdit.BytewiseComparatorName,
            LogNumber = 7,
            NextFileNumber = 12,
            LastSequence = 123_456_789,
            AppliedIndex = 42,
        };
        edit.CompactPointers.Add((1, Key("m", 50)));
        edit.CompactPointers.Add((3, Key("zz", 1, EntryKind.Deletion)));
        edit.DeletedFiles.Add((0, 4));
        edit.DeletedFiles.Add((2, 9));
        edit.NewFiles.Add((0, new FileMetadata(10, 4096, Key("a", 100), Key("k", 90), 80, 100)));
        edit.NewFiles.Add((6, new FileMetadata(11, long.MaxValue, Key("", 0), Key("\u00ff\u00ff", InternalKey.MaxSequence), 0, InternalKey.MaxSequence)));
        return edit;
    }

    internal static void AssertSame(VersionEdit actual, VersionEdit expected)
    {
        actual.Comparator.Should().Be(expected.Comparator);
        actual.LogNumber.Should().Be(expected.LogNumber);
        actual.NextFileNumber.Should().Be(expected.NextFileNumber);
        actual.LastSequence.Should().Be(expected.LastSequence);
        actual.AppliedIndex.Should().Be(expected.AppliedIndex);
        actual.CompactPointers.Should().BeEquivalentTo(expected.CompactPointers, o => o.WithStrictOrdering());
        actual.DeletedFiles.Should().Equal(expected.DeletedFiles);
        actual.NewFiles.Should().HaveCount(expected.NewFiles.Count);
        for (int i = 0; i < expected.NewFiles.Count; i++)
        {
            actual.NewFiles[i].Level.Should().Be(expected.NewFiles[i].Level);
            actual.NewFiles[i].File.Should().BeEquivalentTo(expected.NewFiles[i].File, o => o.ComparingRecordsByMembers());
        }
    }

    private static VersionEdit RoundTrip(VersionEdit edit) => VersionEdit.Decode(edit.Encode(), ManifestName);

    [Fact]
    public void Empty_edit_round_trips_as_a_single_end_tag()
    {
        var edit = new VersionEdit();
        edit.Encode().Should().Equal([0]);
        AssertSame(RoundTrip(edit), edit);
    }

    [Fact]
    public void Edit_with_every_field_round_trips()
    {
        var edit = FullEdit();
        AssertSame(RoundTrip(edit), edit);
    }

    public static TheoryData<string> SingleFields => new()
    {
        "comparator", "log", "next", "sequence", "applied", "pointer", "deleted", "new",
    };

    [Theory]
    [MemberData(nameof(SingleFields))]
    public void Each_field_round_trips_on_its_own_and_leaves_the_others_unset(string field)
    {
        var edit = new VersionEdit();
        switch (field)
        {
            case "comparator": edit.Comparator = "lsmraft.bytewise"; break;
            case "log": edit.LogNumber = ulong.MaxValue; break;
            case "next": edit.NextFileNumber = 0; break;
            case "sequence": edit.LastSequence = InternalKey.MaxSequence; break;
            case "applied": edit.AppliedIndex = long.MaxValue; break;
            case "pointer": edit.CompactPointers.Add((VersionEdit.MaxLevels - 1, Key("p", 3))); break;
            case "deleted": edit.DeletedFiles.Add((5, ulong.MaxValue)); break;
            case "new": edit.NewFiles.Add((2, new FileMetadata(1, 0, Key("a", 1), Key("a", 1), 1, 1))); break;
        }
        AssertSame(RoundTrip(edit), edit);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(long.MaxValue)]
    public void Applied_index_round_trips_including_none(long index)
    {
        var edit = new VersionEdit { AppliedIndex = index };
        RoundTrip(edit).AppliedIndex.Should().Be(index);
    }

    [Fact]
    public void Every_strict_prefix_of_an_encoding_is_corruption_naming_the_file()
    {
        var encoded = FullEdit().Encode();
        for (int length = 0; length < encoded.Length; length++)
        {
            var act = () => VersionEdit.Decode(encoded.AsSpan(0, length), ManifestName);
            act.Should().Throw<CorruptionException>($"a prefix of {length} of {encoded.Length} bytes is not a whole edit")
                .Which.File.Should().Be(ManifestName);
        }
    }

    [Fact]
    public void Unknown_tag_is_corruption_naming_the_file_and_tag()
    {
        var act = () => VersionEdit.Decode([99, 1, 0], ManifestName);
        var error = act.Should().Throw<CorruptionException>().Which;
        error.File.Should().Be(ManifestName);
        error.Message.Should().Contain("unknown version edit tag 99");
    }

    [Fact]
    public void Bytes_after_the_end_tag_are_corruption()
    {
        var act = () => VersionEdit.Decode([0, 0], ManifestName);
        act.Should().Throw<CorruptionException>();
    }

    [Fact]
    public void Repeated_single_valued_field_is_corruption()
    {
        var act = () => VersionEdit.Decode([(byte)VersionEdit.Tag.LogNumber, 1, (byte)VersionEdit.Tag.LogNumber, 2, 0], ManifestName);
        act.Should().Throw<CorruptionException>().WithMessage("*log number appears twice*");
    }

    [Fact]
    public void Level_outside_the_level_range_is_corruption()
    {
        var act = () => VersionEdit.Decode([(byte)VersionEdit.Tag.DeletedFile, VersionEdit.MaxLevels, 1, 0], ManifestName);
        act.Should().Throw<CorruptionException>().WithMessage("*level*");
    }

    [Fact]
    public void Key_shorter_than_an_internal_key_trailer_is_corruption()
    {
        var act = () => VersionEdit.Decode([(byte)VersionEdit.Tag.CompactPointer, 1, 3, 1, 2, 3, 0], ManifestName);
        act.Should().Throw<CorruptionException>().WithMessage("*trailer*");
    }

    [Fact]
    public void Length_prefix_past_the_end_of_the_record_is_corruption()
    {
        var act = () => VersionEdit.Decode([(byte)VersionEdit.Tag.Comparator, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x61, 0], ManifestName);
        act.Should().Throw<CorruptionException>();
    }

    [Fact]
    public void Over_long_varint_is_corruption()
    {
        var act = () => VersionEdit.Decode([(byte)VersionEdit.Tag.LogNumber, .. Enumerable.Repeat((byte)0xFF, 11), 0], ManifestName);
        act.Should().Throw<CorruptionException>();
    }

    [Fact]
    public void Applied_index_beyond_the_long_range_is_corruption()
    {
        // Stored plus one: 2^63 + 1 would decode to 2^63, which no long holds.
        var act = () => VersionEdit.Decode([(byte)VersionEdit.Tag.AppliedIndex, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0], ManifestName);
        act.Should().Throw<CorruptionException>().WithMessage("*applied index*");
    }

    [Fact]
    public void Invalid_utf8_comparator_name_is_corruption()
    {
        var act = () => VersionEdit.Decode([(byte)VersionEdit.Tag.Comparator, 2, 0xC3, 0x28, 0], ManifestName);
        act.Should().Throw<CorruptionException>().WithMessage("*UTF-8*");
    }

    [Fact]
    public void Random_damage_to_an_encoding_never_escapes_as_anything_but_corruption()
    {
        var encoded = FullEdit().Encode();
        const int Seed = 20240601;
        var random = new Random(Seed);
        for (int trial = 0; trial < 5000; trial++)
        {
            var damaged = encoded.ToArray();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
                damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            try
            {
                VersionEdit.Decode(damaged, ManifestName);
            }
            catch (CorruptionException)
            {
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"seed {Seed}, trial {trial}: Decode threw {e.GetType().Name}: {e.Message}");
            }
        }
    }

    [Fact]
    public void Random_bytes_never_escape_as_anything_but_corruption()
    {
        const int Seed = 77;
        var random = new Random(Seed);
        for (int trial = 0; trial < 5000; trial++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            for (int i = 0; i < bytes.Length; i++)
                bytes[i] = (byte)(bytes[i] % 12); // mostly valid tags and small lengths, to get deep into the decoder
            try
            {
                VersionEdit.Decode(bytes, ManifestName);
            }
            catch (CorruptionException)
            {
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"seed {Seed}, trial {trial}: Decode threw {e.GetType().Name}: {e.Message}");
            }
        }
    }

    [Fact]
    public void Encode_rejects_values_the_format_cannot_hold()
    {
        var badLevel = new VersionEdit();
        badLevel.DeletedFiles.Add((-1, 1));
        var shortKey = new VersionEdit();
        shortKey.CompactPointers.Add((0, new byte[3]));
        var badIndex = new VersionEdit { AppliedIndex = -2 };
        var negativeSize = new VersionEdit();
        negativeSize.NewFiles.Add((0, new FileMetadata(1, -5, Key("a", 1), Key("b", 1), 1, 1)));

        foreach (var edit in new[] { badLevel, shortKey, badIndex, negativeSize })
        {
            var act = () => edit.Encode();
            act.Should().Throw<ArgumentException>();
        }
    }
}
