using Tally.Events;
using Tally.Storage;

namespace Tally.Core.Tests.Simulation;

/// <summary>What the next append meets, armed by the workload before a step.</summary>
internal enum AppendFault
{
    None,

    /// <summary>The append fails before anything of it is durable: the caller gets an exception, the log is unchanged.</summary>
    Fail,

    /// <summary>The machine crashes during the append, before it is durable: the append is lost.</summary>
    CrashLost,

    /// <summary>
    /// Outside the <c>IEventLog</c> contract: the append throws, yet it is durable, and the machine goes on (an fsync that
    /// reports an error after the data reached the disk). Only armed when <c>TALLY_SIM_AMBIGUOUS=1</c> (docs/simulation.md).
    /// </summary>
    FailKept,

    /// <summary>The machine crashes after the append is durable but before it is acknowledged (the ack is lost).</summary>
    CrashKept,

    /// <summary>The machine crashes with part of the append written: a prefix of its events survives (a torn tail).</summary>
    CrashTorn,
}

/// <summary>
/// The simulated machine's disk: the durable events and snapshots, which survive a crash. An engine sees it through a
/// <see cref="SimulatedLog"/> and a <see cref="SimulatedSnapshotStore"/> mounted at the current epoch; a crash ends the
/// epoch, and everything the old mounts do afterwards (appends, snapshot saves) never reaches the disk.
/// </summary>
internal sealed class SimulatedDisk
{
    private readonly Lock _gate = new();
    private readonly List<PollEvent> _events = [];
    private readonly List<Snapshot> _snapshots = [];
    private AppendFault _armed;
    private int _tornKeep;
    private bool _failNextSave;

    public int Epoch { get; private set; }

    public int Appends { get; private set; }

    public int Crashes { get; private set; }

    /// <summary>The durable events, oldest first (position = index + 1).</summary>
    public IReadOnlyList<PollEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public int SnapshotCount
    {
        get
        {
            lock (_gate)
            {
                return _snapshots.Count;
            }
        }
    }

    /// <summary>The next append meets <paramref name="fault"/>; a torn one keeps <paramref name="tornKeep"/> events at most (fewer than it has).</summary>
    public void Arm(AppendFault fault, int tornKeep = 0)
    {
        lock (_gate)
        {
            _armed = fault;
            _tornKeep = tornKeep;
        }
    }

    /// <summary>Disarms a fault that no append met (the step made no events).</summary>
    public void Disarm() => Arm(AppendFault.None);

    public void FailNextSnapshotSave()
    {
        lock (_gate)
        {
            _failNextSave = true;
        }
    }

    /// <summary>A crash between appends: nothing is in flight, so the disk keeps everything; the current mounts die.</summary>
    public void Crash()
    {
        lock (_gate)
        {
            EndEpoch();
        }
    }

    /// <summary>After a crash: the newest snapshot is lost (its save had not reached the disk). True when there was one.</summary>
    public bool LoseNewestSnapshot()
    {
        lock (_gate)
        {
            if (_snapshots.Count == 0)
            {
                return false;
            }

            _snapshots.RemoveAt(_snapshots.Count - 1);
            return true;
        }
    }

    /// <summary>After a crash: one bit of the newest snapshot flips (a torn or rotten write). True when there was one.</summary>
    public bool CorruptNewestSnapshot(Random random)
    {
        lock (_gate)
        {
            if (_snapshots.Count == 0)
            {
                return false;
            }

            var data = (byte[])_snapshots[^1].Data.Clone();
            data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
            _snapshots[^1] = _snapshots[^1] with { Data = data };
            return true;
        }
    }

    public SimulatedLog MountLog() => new(this, Epoch);

    public SimulatedSnapshotStore MountSnapshots() => new(this, Epoch);

    internal long Committed(int epoch)
    {
        lock (_gate)
        {
            return _events.Count;
        }
    }

    internal long Append(int epoch, IReadOnlyList<PollEvent> events)
    {
        lock (_gate)
        {
            if (epoch != Epoch)
            {
                throw new IOException("The machine crashed (simulated): this append never reached the disk.");
            }

            Appends++;
            var first = _events.Count + 1;
            var fault = _armed;
            _armed = AppendFault.None;
            switch (fault)
            {
                case AppendFault.Fail:
                    throw new IOException("The append failed before it was durable (simulated).");
                case AppendFault.FailKept:
                    _events.AddRange(events);
                    throw new IOException("The append failed, but it is durable (simulated, outside the contract).");
                case AppendFault.CrashLost:
                    EndEpoch();
                    throw new IOException("The machine crashed during the append (simulated; the append is lost).");
                case AppendFault.CrashKept:
                    _events.AddRange(events);
                    EndEpoch();
                    throw new IOException("The machine crashed before the append was acknowledged (simulated; the append is durable).");
                case AppendFault.CrashTorn:
                    _events.AddRange(events.Take(Math.Min(_tornKeep, events.Count - 1)));
                    EndEpoch();
                    throw new IOException("The machine crashed in the middle of the append (simulated; a prefix is durable).");
                default:
                    _events.AddRange(events);
                    return first;
            }
        }
    }

    internal PollEvent? Read(int position)
    {
        lock (_gate)
        {
            return position < _events.Count ? _events[position] : null;
        }
    }

    internal void Save(int epoch, Snapshot snapshot)
    {
        lock (_gate)
        {
            if (epoch != Epoch)
            {
                return; // the machine is gone: this save never happened (the dead engine does not look)
            }

            if (_failNextSave)
            {
                _failNextSave = false;
                throw new IOException("The snapshot could not be saved (simulated).");
            }

            _snapshots.Add(snapshot);
            if (_snapshots.Count > 3)
            {
                _snapshots.RemoveAt(0); // keeps the newest three, as a store that prunes
            }
        }
    }

    internal Snapshot? LoadLatest()
    {
        lock (_gate)
        {
            return _snapshots.Count == 0 ? null : _snapshots[^1];
        }
    }

    private void EndEpoch()
    {
        Epoch++;
        Crashes++;
        _armed = AppendFault.None;
        _failNextSave = false;
    }
}
