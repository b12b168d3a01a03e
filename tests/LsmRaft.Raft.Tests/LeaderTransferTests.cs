using LsmRaft.Raft;
using static LsmRaft.Raft.Tests.RaftTestKit;

namespace LsmRaft.Raft.Tests;

/// <summary>Leadership transfer (thesis §3.10).</summary>
public sealed class LeaderTransferTests
{
    [Fact]
    public void Transferee_that_is_up_to_date_takes_over_at_once_via_timeout_now()
    {
        var env = ClusterWithLeader(3, "checkquorum=true prevote=true");
        env.Handle("transfer-leadership from=1 to=3");
        env.Handle("stabilize");
        env.Nodes[3].Raft.Role.Should().Be(RaftRole.Leader);
        env.Nodes[1].Raft.Lead.Should().Be(3);
    }

    [Fact]
    public void Leader_refuses_proposals_during_a_transfer_and_accepts_them_after_it_aborts()
    {
        var env = ClusterWithLeader(3);
        env.Handle("isolate 2");
        env.Nodes[1].Raft.TransferLeader(2).IsOk.Should().BeTrue();
        env.Nodes[1].Raft.Propose([1]).Code.Should().Be(RaftResultCode.LeaderTransferInProgress);
        env.Handle("tick-election 1");
        env.Nodes[1].Raft.Status().LeadTransferee.Should().Be(0, "the transfer is aborted after an election timeout");
        env.Nodes[1].Raft.Propose([1]).IsOk.Should().BeTrue();
    }

    [Fact]
    public void Transfer_to_a_learner_or_unknown_node_is_refused()
    {
        var env = new InteractionEnv();
        env.Handle("add-nodes 3 voters=(1,2) learners=(3)");
        env.Handle("campaign 1");
        env.Handle("stabilize");
        env.Nodes[1].Raft.TransferLeader(3).Code.Should().Be(RaftResultCode.InvalidTransferee);
        env.Nodes[1].Raft.TransferLeader(7).Code.Should().Be(RaftResultCode.InvalidTransferee);
    }
}
