namespace LsmRaft.Simulation.Tests;

/// <summary>The checker on hand-written single- and multi-key histories. Times are logical; 0 is "absent".</summary>
public sealed class LinearizabilityCheckerTests
{
    [Fact]
    public void Sequential_history_that_follows_the_model_is_linearizable()
    {
        KvOp[] history =
        [
            KvOp.Read(1, 0, 1, 2, value: 0),
            KvOp.Put(2, 0, value: 10, 3, 4, existed: false),
            KvOp.Read(3, 0, 5, 6, value: 10),
            KvOp.Cas(4, 0, expected: 10, value: 11, 7, 8, succeeded: true),
            KvOp.Cas(5, 0, expected: 10, value: 12, 9, 10, succeeded: false),
            KvOp.Delete(6, 0, 11, 12, existed: true),
            KvOp.Read(7, 0, 13, 14, value: 0),
        ];

        LinearizabilityChecker.FindViolation(history).Should().BeNull();
    }

    [Fact]
    public void Stale_read_after_a_completed_write_is_not_linearizable()
    {
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Put(2, 0, value: 20, 3, 4, existed: true),
            KvOp.Read(3, 0, 5, 6, value: 10),
        ];

        LinearizabilityChecker.FindViolation(history).Should().NotBeNull();
    }

    [Fact]
    public void Concurrent_write_may_be_seen_or_not_by_an_overlapping_read()
    {
        KvOp[] sawOld =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Put(2, 0, value: 20, 3, 6, existed: true),
            KvOp.Read(3, 0, 4, 5, value: 10),
        ];
        KvOp[] sawNew =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Put(2, 0, value: 20, 3, 6, existed: true),
            KvOp.Read(3, 0, 4, 5, value: 20),
        ];

        LinearizabilityChecker.IsLinearizable(sawOld).Should().BeTrue();
        LinearizabilityChecker.IsLinearizable(sawNew).Should().BeTrue();
    }

    [Fact]
    public void Two_readers_may_not_see_a_write_in_opposite_orders()
    {
        // Reader A sees the new value and finishes; reader B starts later and sees the old one.
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Put(2, 0, value: 20, 3, 10, existed: true),
            KvOp.Read(3, 0, 4, 5, value: 20),
            KvOp.Read(4, 0, 6, 7, value: 10),
        ];

        LinearizabilityChecker.IsLinearizable(history).Should().BeFalse();
    }

    [Fact]
    public void Write_with_unknown_outcome_may_take_effect_late()
    {
        // The put timed out, yet a read long after its call observes it: it took effect after the timeout.
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, ret: null),
            KvOp.Read(2, 0, 2, 3, value: 0),
            KvOp.Read(3, 0, 4, 5, value: 10),
        ];

        LinearizabilityChecker.IsLinearizable(history).Should().BeTrue();
    }

    [Fact]
    public void Write_with_unknown_outcome_may_never_take_effect()
    {
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Put(2, 0, value: 20, 3, ret: null),
            KvOp.Read(3, 0, 4, 5, value: 10),
            KvOp.Read(4, 0, 6, 7, value: 10),
        ];

        LinearizabilityChecker.IsLinearizable(history).Should().BeTrue();
    }

    [Fact]
    public void Write_with_unknown_outcome_cannot_take_effect_before_it_was_called()
    {
        KvOp[] history =
        [
            KvOp.Read(1, 0, 1, 2, value: 10),
            KvOp.Put(2, 0, value: 10, 3, ret: null),
        ];

        LinearizabilityChecker.IsLinearizable(history).Should().BeFalse();
    }

    [Fact]
    public void Write_with_unknown_outcome_takes_effect_at_most_once()
    {
        // Once overwritten, the timed-out value cannot reappear.
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, ret: null),
            KvOp.Read(2, 0, 2, 3, value: 10),
            KvOp.Put(3, 0, value: 20, 4, 5, existed: true),
            KvOp.Read(4, 0, 6, 7, value: 10),
        ];

        LinearizabilityChecker.IsLinearizable(history).Should().BeFalse();
    }

    [Fact]
    public void Compare_and_set_with_unknown_outcome_may_succeed_or_fail()
    {
        KvOp[] succeeded =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Cas(2, 0, expected: 10, value: 11, 3, ret: null),
            KvOp.Read(3, 0, 4, 5, value: 11),
        ];
        KvOp[] failed =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Cas(2, 0, expected: 10, value: 11, 3, ret: null),
            KvOp.Read(3, 0, 4, 5, value: 10),
        ];

        LinearizabilityChecker.IsLinearizable(succeeded).Should().BeTrue();
        LinearizabilityChecker.IsLinearizable(failed).Should().BeTrue();
    }

    [Fact]
    public void Compare_and_set_that_reports_success_against_the_wrong_value_is_not_linearizable()
    {
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Put(2, 0, value: 20, 3, 4, existed: true),
            KvOp.Cas(3, 0, expected: 10, value: 11, 5, 6, succeeded: true),
        ];

        LinearizabilityChecker.IsLinearizable(history).Should().BeFalse();
    }

    [Fact]
    public void Delete_must_report_whether_the_key_existed()
    {
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Delete(2, 0, 3, 4, existed: false),
        ];

        LinearizabilityChecker.IsLinearizable(history).Should().BeFalse();
    }

    [Fact]
    public void Keys_are_checked_independently_and_the_bad_one_is_named()
    {
        KvOp[] history =
        [
            KvOp.Put(1, 0, value: 10, 1, 2),
            KvOp.Put(2, 1, value: 20, 3, 4),
            KvOp.Read(3, 0, 5, 6, value: 10),
            KvOp.Read(4, 1, 7, 8, value: 0),
        ];

        var violation = LinearizabilityChecker.FindViolation(history);

        violation.Should().NotBeNull();
        violation!.Value.Key.Should().Be(1);
    }

    [Fact]
    public void Many_concurrent_unknown_writes_are_checked_quickly()
    {
        // 12 timed-out puts all overlap: without memoization the search would try their orders exhaustively.
        var history = new List<KvOp>();
        for (var i = 0; i < 12; i++)
        {
            history.Add(KvOp.Put(i + 1, 0, value: 100 + i, i + 1, ret: null));
        }

        history.Add(KvOp.Read(100, 0, 50, 51, value: 105));
        history.Add(KvOp.Read(101, 0, 52, 53, value: 0));

        LinearizabilityChecker.IsLinearizable(history).Should().BeFalse();
    }
}
