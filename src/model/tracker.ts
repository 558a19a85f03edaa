// The session's memory of sockets across snapshots (htop's mark-and-sweep table): first-seen
// time (age as observed), state changes with their times, new rows and tombstones of closed
// rows kept for a while. Pure: time comes from each snapshot's takenAtMs.

import type { Snapshot, SocketRecord, SocketState } from './types.js';

export interface StateChange {
  readonly atMs: number;
  readonly from: SocketState | null;
  readonly to: SocketState;
}

export interface QueueSample {
  readonly atMs: number;
  readonly recvQ: number;
  readonly sendQ: number;
}

export interface TrackInfo {
  readonly firstSeenMs: number;
  /** true when the socket was already there in the first snapshot (its real age is unknown). */
  readonly presentAtStart: boolean;
  readonly changes: readonly StateChange[];
  readonly peakRecvQ: number;
  readonly peakSendQ: number;
}

export interface Tombstone {
  readonly record: SocketRecord;
  readonly closedAtMs: number;
}

/** What one snapshot changed compared with the one before. */
export interface SnapshotDiff {
  readonly opened: readonly SocketRecord[];
  readonly closed: readonly SocketRecord[];
  /** Sockets whose state changed (matched by key, or by endpoints when the inode changed, e.g. → TIME_WAIT). */
  readonly changed: readonly { readonly before: SocketRecord; readonly after: SocketRecord }[];
  readonly intervalMs: number;
}

export interface TrackerOptions {
  /** How long closed sockets stay visible as tombstones. */
  readonly tombstoneMs: number;
  /** How long a new socket counts as new (highlighted). */
  readonly newMs: number;
  /** At most this many state changes kept per socket. */
  readonly maxChangesPerSocket: number;
  /** Queue samples kept for the watched socket. */
  readonly maxQueueSamples: number;
  /** At most this many tombstones (the newest): a mass close must not cost a full second table. */
  readonly maxTombstones: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  tombstoneMs: 5_000,
  newMs: 3_000,
  maxChangesPerSocket: 16,
  maxQueueSamples: 120,
  maxTombstones: 10_000,
};

interface MutableInfo {
  firstSeenMs: number;
  presentAtStart: boolean;
  changes: StateChange[];
  peakRecvQ: number;
  peakSendQ: number;
}

/** Protocol and endpoints without the inode: survives the inode change on the way to TIME_WAIT. */
export function flowKey(s: SocketRecord): string {
  return s.protocol === 'unix'
    ? s.key
    : `${s.protocol} ${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort}`;
}

/** Compare two snapshots by stable key. */
export function diffSnapshots(prev: Snapshot | null, next: Snapshot): SnapshotDiff {
  if (prev === null) return { opened: next.sockets, closed: [], changed: [], intervalMs: 0 };
  const before = new Map<string, SocketRecord>();
  for (const s of prev.sockets) before.set(s.key, s);
  const opened: SocketRecord[] = [];
  const changed: { before: SocketRecord; after: SocketRecord }[] = [];
  for (const s of next.sockets) {
    const old = before.get(s.key);
    if (old === undefined) opened.push(s);
    else {
      before.delete(s.key);
      if (old.state !== s.state) changed.push({ before: old, after: s });
    }
  }
  // Remaining entries closed; pair them with opened ones of the same flow (inode changed).
  let closed: SocketRecord[] = [...before.values()];
  if (closed.length > 0 && opened.length > 0) {
    const closedByFlow = new Map<string, SocketRecord>();
    for (const c of closed) if (c.protocol !== 'unix' && c.remotePort !== 0) closedByFlow.set(flowKey(c), c);
    const stillOpened: SocketRecord[] = [];
    for (const o of opened) {
      const c = o.remotePort === 0 ? undefined : closedByFlow.get(flowKey(o));
      if (c === undefined) stillOpened.push(o);
      else {
        closedByFlow.delete(flowKey(o));
        changed.push({ before: c, after: o });
      }
    }
    const matched = new Set(changed.map((c) => c.before));
    closed = closed.filter((c) => !matched.has(c));
    return { opened: stillOpened, closed, changed, intervalMs: next.takenAtMs - prev.takenAtMs };
  }
  return { opened, closed, changed, intervalMs: next.takenAtMs - prev.takenAtMs };
}

export class SocketTracker {
  private readonly info = new Map<string, MutableInfo>();
  private tombstones: Tombstone[] = [];
  private last: Snapshot | null = null;
  private watchedKey: string | null = null;
  private samples: QueueSample[] = [];
  readonly options: TrackerOptions;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { ...DEFAULT_TRACKER_OPTIONS, ...options };
  }

  /** Take in the next snapshot; returns what changed since the previous one. */
  ingest(snapshot: Snapshot): SnapshotDiff {
    const now = snapshot.takenAtMs;
    const first = this.last === null;
    const diff = diffSnapshots(this.last, snapshot);
    for (const s of diff.opened) {
      this.info.set(s.key, {
        firstSeenMs: now,
        presentAtStart: first,
        changes: first ? [] : [{ atMs: now, from: null, to: s.state }],
        peakRecvQ: s.recvQ,
        peakSendQ: s.sendQ,
      });
    }
    for (const { before, after } of diff.changed) {
      const old = this.info.get(before.key);
      const entry: MutableInfo = old ?? {
        firstSeenMs: now,
        presentAtStart: false,
        changes: [],
        peakRecvQ: 0,
        peakSendQ: 0,
      };
      if (before.key !== after.key) {
        this.info.delete(before.key);
        this.info.set(after.key, entry);
      }
      entry.changes.push({ atMs: now, from: before.state, to: after.state });
      if (entry.changes.length > this.options.maxChangesPerSocket) entry.changes.shift();
      if (before.key === this.watchedKey) this.watchedKey = after.key;
    }
    const closedNow: Tombstone[] = [];
    for (const s of diff.closed) {
      this.info.delete(s.key);
      closedNow.push({ record: s, closedAtMs: now });
    }
    // Newest first, as currentTombstones() promises.
    this.tombstones = [...closedNow, ...this.tombstones].filter((t) => now - t.closedAtMs < this.options.tombstoneMs);
    // Peaks are only worth tracking where queues are non-empty (cheap: most are 0).
    for (const s of snapshot.sockets) {
      if (s.recvQ === 0 && s.sendQ === 0) continue;
      const entry = this.info.get(s.key);
      if (entry === undefined) continue;
      if (s.recvQ > entry.peakRecvQ) entry.peakRecvQ = s.recvQ;
      if (s.sendQ > entry.peakSendQ) entry.peakSendQ = s.sendQ;
    }
    if (this.watchedKey !== null) {
      const w = snapshot.sockets.find((s) => s.key === this.watchedKey);
      if (w !== undefined) {
        this.samples.push({ atMs: now, recvQ: w.recvQ, sendQ: w.sendQ });
        if (this.samples.length > this.options.maxQueueSamples) this.samples.shift();
      }
    }
    this.last = snapshot;
    return diff;
  }

  infoOf(key: string): TrackInfo | null {
    return this.info.get(key) ?? null;
  }

  /** Observed age of a socket at `nowMs`, or null when it was not seen. */
  ageMs(key: string, nowMs: number): number | null {
    const i = this.info.get(key);
    return i === undefined ? null : nowMs - i.firstSeenMs;
  }

  isNew(key: string, nowMs: number): boolean {
    const i = this.info.get(key);
    return i !== undefined && !i.presentAtStart && nowMs - i.firstSeenMs < this.options.newMs;
  }

  /** Closed sockets still shown, newest first. */
  currentTombstones(): readonly Tombstone[] {
    return this.tombstones;
  }

  /** Follow one socket's queue sizes (for the details pane); null stops. */
  watch(key: string | null): void {
    if (key !== this.watchedKey) this.samples = [];
    this.watchedKey = key;
  }

  queueSamples(): readonly QueueSample[] {
    return this.samples;
  }

  /** Number of tracked objects, for soak tests (must stay flat). */
  size(): { sockets: number; tombstones: number; samples: number } {
    return { sockets: this.info.size, tombstones: this.tombstones.length, samples: this.samples.length };
  }
}
