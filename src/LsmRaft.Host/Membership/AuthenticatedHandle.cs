using Akka.Event;
using Akka.Remote.Transport;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Membership;

/// <summary>
/// One connection of <see cref="AuthenticatedTransport"/>: runs <see cref="AkkaHandshake"/> on the driver's handle, then
/// passes payloads both ways untouched. Payloads that arrive after the handshake but before Akka registered its reader
/// are kept, in order, and handed over when it does.
/// </summary>
internal sealed class AuthenticatedHandle : AbstractTransportAdapterHandle, IHandleEventListener
{
    private enum State
    {
        AwaitHello,
        AwaitChallenge,
        AwaitDiallerProof,
        AwaitListenerProof,
        Open,
        Closed,
    }

    private readonly AuthenticatedTransport _transport;
    private readonly bool _dialler;
    private readonly Action<AuthenticatedHandle> _authenticated;
    private readonly Action<Exception> _failed;
    private readonly object _gate = new();
    private readonly Queue<IHandleEvent> _pending = new();
    private State _state;
    private byte[] _ownNonce = [];
    private byte[] _peerNonce = [];
    private IHandleEventListener? _reader;
    private Timer? _deadline;

    public AuthenticatedHandle(AuthenticatedTransport transport, AssociationHandle wrapped, bool dialler, Action<AuthenticatedHandle> authenticated, Action<Exception> failed)
        : base(wrapped, AuthenticatedTransport.Scheme)
    {
        _transport = transport;
        _dialler = dialler;
        _authenticated = authenticated;
        _failed = failed;
        _state = dialler ? State.AwaitChallenge : State.AwaitHello;
    }

    private string Remote => OriginalRemoteAddress.ToString();

    public void Start()
    {
        _deadline = new Timer(_ => Fail($"no handshake within {AuthenticatedTransport.HandshakeTimeout.TotalSeconds:0} s", refused: false), null,
            AuthenticatedTransport.HandshakeTimeout, Timeout.InfiniteTimeSpan);
        // Akka registers its reader once it has the handle (after the handshake); until then payloads queue here.
        ReadHandlerSource.Task.ContinueWith(reader => OnReader(reader.Result), TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion);
        WrappedHandle.ReadHandlerSource.TrySetResult(this);
        if (_dialler)
        {
            lock (_gate)
            {
                _ownNonce = PeerAuthentication.CreateNonce();
                Send(AkkaHandshake.Frame(AkkaHandshake.Kind.Hello, _ownNonce));
            }
        }
    }

    /// <summary>Events from the driver: handshake frames first, then everything goes to Akka's reader.</summary>
    public void Notify(IHandleEvent ev)
    {
        Action? after = null;
        lock (_gate)
        {
            switch (_state)
            {
                case State.Open:
                    if (_reader is { } reader)
                        reader.Notify(ev);
                    else
                        _pending.Enqueue(ev);
                    return;
                case State.Closed:
                    return;
            }
            if (ev is not InboundPayload payload)
            {
                after = () => Fail("the connection closed during the handshake (a node with another cluster secret or GROUP_ID refuses it)", refused: _dialler);
            }
            else
            {
                after = Step(payload);
            }
        }
        after?.Invoke();
    }

    /// <summary>One handshake step under the lock; returns what to do after releasing it (completion or failure callbacks).</summary>
    private Action? Step(InboundPayload payload)
    {
        switch (_state)
        {
            case State.AwaitHello when AkkaHandshake.Read(payload.Payload, AkkaHandshake.Kind.Hello) is { } nonce:
                _peerNonce = nonce;
                _ownNonce = PeerAuthentication.CreateNonce();
                _state = State.AwaitDiallerProof;
                return Send(AkkaHandshake.Frame(AkkaHandshake.Kind.Challenge, _ownNonce));
            case State.AwaitChallenge when AkkaHandshake.Read(payload.Payload, AkkaHandshake.Kind.Challenge) is { } nonce:
                _state = State.AwaitListenerProof;
                return Send(AkkaHandshake.Proof(_transport.DiallerKey, nonce));
            case State.AwaitDiallerProof:
                if (!AkkaHandshake.Verify(_transport.DiallerKey, _ownNonce, AkkaHandshake.Read(payload.Payload, AkkaHandshake.Kind.Proof)))
                    return () => Fail("it does not prove the cluster secret (or, without one, the GROUP_ID) of this cluster", refused: true);
                // Open before the last frame leaves: the dialler's next payloads may follow it at once.
                _state = State.Open;
                return Send(AkkaHandshake.Proof(_transport.ListenerKey, _peerNonce)) ?? (Action)Opened;
            case State.AwaitListenerProof:
                if (!AkkaHandshake.Verify(_transport.ListenerKey, _ownNonce, AkkaHandshake.Read(payload.Payload, AkkaHandshake.Kind.Proof)))
                    return () => Fail("it does not prove the cluster secret (or, without one, the GROUP_ID) of this cluster", refused: true);
                _state = State.Open;
                return Opened;
            default:
                return () => Fail("it does not speak LsmRaft's authenticated Akka.Remote handshake", refused: true);
        }
    }

    private void Opened()
    {
        _deadline?.Dispose();
        _authenticated(this);
    }

    /// <summary>Writes a handshake frame; a failure to do so to run after the lock, or null.</summary>
    private Action? Send(Google.Protobuf.ByteString frame) =>
        WrappedHandle.Write(frame) ? null : () => Fail("the handshake frame could not be written", refused: false);

    private void OnReader(IHandleEventListener reader)
    {
        lock (_gate)
        {
            while (_pending.TryDequeue(out var ev))
                reader.Notify(ev);
            _reader = reader;
        }
    }

    private void Fail(string reason, bool refused)
    {
        lock (_gate)
        {
            if (_state is State.Open or State.Closed)
                return;
            _state = State.Closed;
        }
        _deadline?.Dispose();
        if (refused)
            _transport.Refused(Remote, inbound: !_dialler, reason);
        else
            _transport.Log.Debug("Akka.Remote connection {0} {1} closed before it was authenticated: {2}", _dialler ? "to" : "from", Remote, reason);
#pragma warning disable CS0618 // the driver's handle has only the obsolete overload without a reason
        WrappedHandle.Disassociate();
#pragma warning restore CS0618
        _failed(new InvalidAssociationException($"Akka.Remote connection {(_dialler ? "to" : "from")} {Remote} refused: {reason}"));
    }

    public override bool Write(Google.Protobuf.ByteString payload) => WrappedHandle.Write(payload);

    [Obsolete("Use the method that states reasons to make sure disassociation reasons are logged.")]
    public override void Disassociate()
    {
        lock (_gate)
            _state = State.Closed;
        _deadline?.Dispose();
        WrappedHandle.Disassociate();
    }
}
