using LsmRaft.Storage;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// How a failed replica actor (or its storage) is restarted: after an exponential backoff from
/// <see cref="MinBackoff"/> to <see cref="MaxBackoff"/>; more than <see cref="MaxRestarts"/> failures within
/// <see cref="Window"/> stop it for good, and so does at once a failure that <see cref="IsPermanent"/> says no
/// restart can fix. Independent of the actor runtime, which maps it onto its own supervision.
/// </summary>
internal sealed record RestartPolicy
{
    public static readonly RestartPolicy Default = new();

    public int MaxRestarts { get; init; } = 10;

    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether restarting cannot help: the engine refuses its options, or a file is corrupt. Both fail the same way
    /// on every attempt, so the replica stops at once and reports the cause instead of looping.
    /// </summary>
    public static bool IsPermanent(Exception failure) => failure is InvalidOptionException or CorruptionException or InvalidDataException;
}
