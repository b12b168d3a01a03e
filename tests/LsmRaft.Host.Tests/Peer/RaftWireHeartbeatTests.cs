using LsmRaft.Raft;
using LsmRaft.Host.Peer;

namespace LsmRaft.Host.Tests.Peer;

/// <summary>Which Raft messages travel as coalesced heartbeats, and that expanding them gives back the same message.</summary>
public sealed class RaftWireHeartbeatTests
{
    [Fact]
    public void A_context_less_heartbeat_and_its_response_round_trip_through_the_compact_form()
    {
        var heartbeat = new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 7, Commit = 42, Index = 9001, Quiesce = true };
        var response = new Message { Type = MessageType.HeartbeatResp, From = 2, To = 1, Term = 7, Index = 9001 };

        RaftWire.IsCoalescable(heartbeat).Should().BeTrue();
        RaftWire.IsCoalescable(response).Should().BeTrue();
        RaftWire.FromHeartbeat(RaftWire.ToHeartbeat(12, heartbeat), response: false).Should().Be((12UL, heartbeat));
        RaftWire.FromHeartbeat(RaftWire.ToHeartbeat(12, response), response: true).Should().Be((12UL, response));
    }

    [Fact]
    public void Read_index_heartbeats_refusals_and_other_messages_keep_the_full_form()
    {
        RaftWire.IsCoalescable(new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 7, Context = [1, 2] }).Should().BeFalse();
        RaftWire.IsCoalescable(new Message { Type = MessageType.HeartbeatResp, From = 2, To = 1, Term = 7, Context = [1, 2] }).Should().BeFalse();
        RaftWire.IsCoalescable(new Message { Type = MessageType.HeartbeatResp, From = 2, To = 1, Term = 7, Reject = true }).Should().BeFalse();
        RaftWire.IsCoalescable(new Message { Type = MessageType.App, From = 1, To = 2, Term = 7 }).Should().BeFalse();
        RaftWire.IsCoalescable(new Message { Type = MessageType.AppResp, From = 2, To = 1, Term = 7 }).Should().BeFalse();
    }

    [Fact]
    public void The_full_form_carries_the_quiesce_flag()
    {
        var heartbeat = new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 7, Commit = 42, Index = 5, Quiesce = true, Context = [9] };

        var (group, back) = RaftWire.FromWire(RaftWire.ToWire(3, heartbeat));

        group.Should().Be(3);
        back.Quiesce.Should().BeTrue();
        back.Context.Should().Equal(9);
    }
}
