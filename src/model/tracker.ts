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

/** Record objects that left and arrived between two snapshots (SocketTracker#lastTurnover). */
export interface RecordTurnover {
  readonly from: Snapshot | null;
  readonly to: Snapshot | null;
  readonly removed: readonly SocketRecord[];
  readonly added: readonly SocketRecord[];
  /**
   * The first `replacements` records of `added` replace, one for one, the first ones of `removed`:
   * the same socket (same key) whose line changed.
   */
  readonly replacements: number;
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

/**
 * The changes of every socket present at start until its first change: one shared empty array
 * instead of one per socket (100k empty arrays are ~3 MB of heap). Never pushed to: recordChange
 * replaces it.
 */
const NO_CHANGES: StateChange[] = [];
Object.freeze(NO_CHANGES);

interface MutableInfo {
  firstSeenMs: number;
  presentAtStart: boolean;
  changes: StateChange[];
  peakRecvQ: number;
  peakSendQ: number;
  /** The socket as last seen (for state changes and tombstones). */
  record: SocketRecord;
  /** Mark of the last snapshot that contained it (mark-and-sweep). */
  seen: number;
}

/** Protocol and endpoints without the inode: survives the inode change on the way to TIME_WAIT. */
export function flowKey(s: SocketRecord): string {
  return s.protocol === 'unix' ? s.key : `${s.protocol} ${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort}`;
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

/** How far ahead (records) diffRecordObjects looks for the other list's next record. */
const RESYNC_WINDOW = 16;
/** Misses in a row after which diffRecordObjects stops walking and compares the rest as sets. */
const MAX_MISSES_IN_A_ROW = 256;

/**
 * The record objects of `next` that are not in `prev` (arrived) and those of `prev` not in `next`
 * (left), by identity. Both lists come in the kernel's table order, in which a line keeps its
 * place: a walk in step costs one comparison per unchanged record; a record inserted, removed
 * or replaced in place is resynchronised within a few records; long runs of misses fall back to
 * a set of the rest. Exact whatever the order (an object found in both lists is in neither).
 */
export function diffRecordObjects(
  prev: readonly SocketRecord[],
  next: readonly SocketRecord[],
): { arrived: SocketRecord[]; left: SocketRecord[] } {
  const steps = diffRecordObjectsSteps(prev, next, Infinity);
  let step = steps.next();
  while (step.done !== true) step = steps.next();
  return step.value;
}

/** diffRecordObjects as a generator that yields every `sliceRecords` records of `next`. */
function* diffRecordObjectsSteps(
  prev: readonly SocketRecord[],
  next: readonly SocketRecord[],
  sliceRecords: number,
): Generator<void, { arrived: SocketRecord[]; left: SocketRecord[] }> {
  const arrived: SocketRecord[] = [];
  const left: SocketRecord[] = [];
  const n = prev.length;
  const m = next.length;
  let i = 0;
  let j = 0;
  let misses = 0;
  let sliceEnd = sliceRecords;
  while (i < m) {
    if (i >= sliceEnd) {
      sliceEnd = i + sliceRecords;
      yield;
    }
    const s = next[i] as SocketRecord;
    if (j < n && prev[j] === s) {
      i++;
      j++;
      misses = 0;
      continue;
    }
    // prev[j .. k-1] removed?
    let k = j + 1;
    const kEnd = Math.min(n, j + 1 + RESYNC_WINDOW);
    while (k < kEnd && prev[k] !== s) k++;
    if (k < kEnd) {
      while (j < k) left.push(prev[j++] as SocketRecord);
      j++;
      i++;
      misses = 0;
      continue;
    }
    // next[i .. l-1] inserted?
    const p = j < n ? prev[j] : undefined;
    let l = i + 1;
    const lEnd = p === undefined ? l : Math.min(m, i + 1 + RESYNC_WINDOW);
    while (l < lEnd && next[l] !== p) l++;
    if (l < lEnd) {
      while (i < l) arrived.push(next[i++] as SocketRecord);
      i++;
      j++;
      misses = 0;
      continue;
    }
    // Replaced in place (or out of step).
    arrived.push(s);
    i++;
    if (p !== undefined) {
      left.push(p);
      j++;
    }
    if (++misses > MAX_MISSES_IN_A_ROW) break;
  }
  while (i < m) arrived.push(next[i++] as SocketRecord);
  while (j < n) left.push(prev[j++] as SocketRecord);
  if (arrived.length === 0 || left.length === 0) return { arrived, left };
  // Objects in both lists moved rather than changed.
  const smaller = new Set<SocketRecord>(arrived.length < left.length ? arrived : left);
  const larger = arrived.length < left.length ? left : arrived;
  const moved = new Set<SocketRecord>();
  for (const r of larger) if (smaller.has(r)) moved.add(r);
  if (moved.size === 0) return { arrived, left };
  return { arrived: arrived.filter((r) => !moved.has(r)), left: left.filter((r) => !moved.has(r)) };
}

/**
 * What SocketTracker#planIngest found: the record objects that left and arrived since the
 * tracker's last snapshot (also the turnover that applyIngest will report).
 */
export interface IngestPlan {
  readonly from: Snapshot | null;
  readonly snapshot: Snapshot;
  readonly arrived: readonly SocketRecord[];
  readonly left: readonly SocketRecord[];
  /** The tracker that made the plan. */
  readonly tracker: SocketTracker;
}

interface PlanInternals extends IngestPlan {
  readonly arrivedEntries: readonly (MutableInfo | undefined)[];
  readonly leftEntries: readonly (MutableInfo | undefined)[];
}

export class SocketTracker {
  private readonly info = new Map<string, MutableInfo>();
  /**
   * The same entries by socket inode (0 excluded): every refresh looks up each socket, and a
   * number key is several times cheaper than hashing the freshly parsed key string.
   */
  private readonly byInode = new Map<number, MutableInfo>();
  private tombstones: Tombstone[] = [];
  private last: Snapshot | null = null;
  private turnover: RecordTurnover = { from: null, to: null, removed: [], added: [], replacements: 0 };
  private watchedKey: string | null = null;
  private mark = 0;
  /** An applyIngestSteps is under way (between its first and last step). */
  private applying = false;
  private samples: QueueSample[] = [];
  readonly options: TrackerOptions;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { ...DEFAULT_TRACKER_OPTIONS, ...options };
  }

  /**
   * Take in the next snapshot; returns what changed since the previous one. Same result as
   * diffSnapshots(previous, snapshot), at the cost of what changed: the collector hands over the
   * same record object for a line that did not change, so the two snapshots are first compared by
   * identity, in order (diffRecordObjects), and only the records that left or arrived are looked
   * up in the session's map.
   */
  ingest(snapshot: Snapshot): SnapshotDiff {
    const steps = this.planIngest(snapshot);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    return this.applyIngest(step.value);
  }

  /**
   * The part of ingest that only reads: which record objects left and arrived, and the session's
   * entry of each. A generator that yields every `sliceRecords` lookups, so a caller can let the
   * event loop run between slices (the tracker is unchanged until applyIngest, so a frame drawn
   * meanwhile sees the last complete state). Valid until the tracker next changes.
   */
  *planIngest(snapshot: Snapshot, sliceRecords = 8192): Generator<void, IngestPlan> {
    const from = this.last;
    const { arrived, left } = yield* diffRecordObjectsSteps(from?.sockets ?? [], snapshot.sockets, sliceRecords * 4);
    yield;
    const arrivedEntries: (MutableInfo | undefined)[] = new Array<MutableInfo | undefined>(arrived.length);
    for (let i = 0; i < arrived.length; i++) {
      arrivedEntries[i] = this.lookup(arrived[i] as SocketRecord);
      if (i % sliceRecords === sliceRecords - 1) yield;
    }
    const leftEntries: (MutableInfo | undefined)[] = new Array<MutableInfo | undefined>(left.length);
    for (let i = 0; i < left.length; i++) {
      leftEntries[i] = this.lookup(left[i] as SocketRecord);
      if (i % sliceRecords === sliceRecords - 1) yield;
    }
    const plan: PlanInternals = { tracker: this, from, snapshot, arrived, left, arrivedEntries, leftEntries };
    return plan;
  }

  /** The plan was made from this tracker's latest state (applyIngest accepts it). */
  isCurrent(plan: IngestPlan): boolean {
    return plan.tracker === this && plan.from === this.last;
  }

  /** The rest of ingest: the session's maps brought to the plan's snapshot (planIngest must be this tracker's latest). */
  applyIngest(plan: IngestPlan): SnapshotDiff {
    const steps = this.applyIngestSteps(plan, Infinity);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    return step.value;
  }

  /**
   * applyIngest as a generator that yields every `sliceRecords` records updated or added (the
   * first snapshot of 100k sockets adds 100k entries: hundreds of ms in one block otherwise).
   * While it is paused, a frame of the last snapshot still reads that snapshot's entries: entries
   * are updated or added in the steps (a record's entry then points at its newer line), those of
   * sockets that went away are forgotten, and the tombstones and the last snapshot replaced, in
   * the last step. Run it to its end before the tracker is used for another ingest.
   */
  *applyIngestSteps(plan: IngestPlan, sliceRecords = 4096): Generator<void, SnapshotDiff> {
    if (plan.tracker !== this || plan.from !== this.last) throw new Error('tracker plan is stale');
    if (this.applying) throw new Error('tracker is applying another plan');
    this.applying = true;
    try {
      return yield* this.applySteps(plan as PlanInternals, sliceRecords);
    } finally {
      this.applying = false;
    }
  }

  private *applySteps(plan: PlanInternals, sliceRecords: number): Generator<void, SnapshotDiff> {
    const { snapshot, arrived, left, arrivedEntries, leftEntries } = plan;
    const now = snapshot.takenAtMs;
    const first = this.last === null;
    const mark = ++this.mark;
    const opened: SocketRecord[] = [];
    const changed: { before: SocketRecord; after: SocketRecord }[] = [];
    // Record objects replaced by a new one for the same socket (its line changed).
    const replaced: SocketRecord[] = [];
    const replacing: SocketRecord[] = [];
    for (let i = 0; i < arrived.length; i++) {
      if (i % sliceRecords === sliceRecords - 1) yield;
      const s = arrived[i] as SocketRecord;
      const entry = arrivedEntries[i];
      if (entry === undefined) {
        opened.push(s);
        continue;
      }
      entry.seen = mark;
      if (entry.record === s) continue;
      replaced.push(entry.record);
      replacing.push(s);
      if (entry.record.state !== s.state) {
        changed.push({ before: entry.record, after: s });
        this.recordChange(entry, now, entry.record.state, s.state);
      }
      entry.record = s;
      if (s.recvQ > entry.peakRecvQ) entry.peakRecvQ = s.recvQ;
      if (s.sendQ > entry.peakSendQ) entry.peakSendQ = s.sendQ;
    }
    // Entries whose record left and was not replaced are gone, unless an opened socket continues
    // the same flow under a new key (the inode goes to 0 on the way to TIME_WAIT).
    const gone: MutableInfo[] = [];
    for (let i = 0; i < left.length; i++) {
      const entry = leftEntries[i];
      if (entry !== undefined && entry.seen !== mark && entry.record === left[i]) gone.push(entry);
    }
    const byFlow = new Map<string, MutableInfo>();
    if (gone.length > 0 && opened.length > 0) {
      for (const g of gone) if (g.record.protocol !== 'unix' && g.record.remotePort !== 0) byFlow.set(flowKey(g.record), g);
    }
    const reallyOpened: SocketRecord[] = [];
    // Entries that continue under a new key, and their new records (pairs): moved in the last
    // step, so that until then the last snapshot's record still finds its entry.
    const continued: (MutableInfo | SocketRecord)[] = [];
    for (let i = 0; i < opened.length; i++) {
      if (i % sliceRecords === sliceRecords - 1) yield;
      const s = opened[i] as SocketRecord;
      const fk = byFlow.size > 0 && s.remotePort !== 0 ? flowKey(s) : null;
      const g = fk === null ? undefined : byFlow.get(fk);
      if (g !== undefined && fk !== null) {
        byFlow.delete(fk);
        g.seen = mark;
        continued.push(g, s);
        continue;
      }
      reallyOpened.push(s);
      this.remember(s, {
        firstSeenMs: now,
        presentAtStart: first,
        changes: first ? NO_CHANGES : [{ atMs: now, from: null, to: s.state }],
        peakRecvQ: s.recvQ,
        peakSendQ: s.sendQ,
        record: s,
        seen: mark,
      });
    }
    for (let i = 0; i < continued.length; i += 2) {
      const g = continued[i] as MutableInfo;
      const s = continued[i + 1] as SocketRecord;
      this.forget(g.record);
      changed.push({ before: g.record, after: s });
      this.recordChange(g, now, g.record.state, s.state);
      replaced.push(g.record);
      if (g.record.key === this.watchedKey) this.watchedKey = s.key;
      g.record = s;
      this.remember(s, g);
    }
    const closed: SocketRecord[] = [];
    const closedNow: Tombstone[] = [];
    for (const g of gone) {
      if (g.seen === mark) continue; // continued under a new key
      this.forget(g.record);
      closed.push(g.record);
      closedNow.push({ record: g.record, closedAtMs: now });
    }
    // Newest first, as currentTombstones() promises; bounded so a mass close stays cheap.
    if (closedNow.length > 0 || this.tombstones.length > 0)
      this.tombstones = [...closedNow, ...this.tombstones]
        .filter((t) => now - t.closedAtMs < this.options.tombstoneMs)
        .slice(0, this.options.maxTombstones);
    if (this.watchedKey !== null) {
      // Entries of sockets not in this snapshot were forgotten above.
      const w = this.info.get(this.watchedKey)?.record;
      if (w !== undefined) {
        this.samples.push({ atMs: now, recvQ: w.recvQ, sendQ: w.sendQ });
        if (this.samples.length > this.options.maxQueueSamples) this.samples.shift();
      }
    }
    const intervalMs = this.last === null ? 0 : now - this.last.takenAtMs;
    const replacements = replacing.length;
    for (const r of closed) replaced.push(r);
    for (const r of opened) replacing.push(r);
    this.turnover = { from: this.last, to: snapshot, removed: replaced, added: replacing, replacements };
    this.last = snapshot;
    return first
      ? { opened: snapshot.sockets, closed: [], changed: [], intervalMs: 0 }
      : { opened: reallyOpened, closed, changed, intervalMs };
  }

  /**
   * Which record objects the last ingest took out and put in: every record of `to` that is not
   * in `from` (opened, or the same socket's line changed) is in `added`, every record of `from`
   * not in `to` in `removed`; all others are the same objects. Lets a sorted view of `from` be
   * carried over to `to` by touching only these.
   */
  lastTurnover(): RecordTurnover {
    return this.turnover;
  }

  /** The entry of a socket: by inode when it has one (the key must still agree), else by key. */
  private lookup(s: SocketRecord): MutableInfo | undefined {
    if (s.inode === 0) return this.info.get(s.key);
    const e = this.byInode.get(s.inode);
    return e !== undefined && e.record.key === s.key ? e : undefined;
  }

  private remember(s: SocketRecord, entry: MutableInfo): void {
    this.info.set(s.key, entry);
    if (s.inode !== 0) this.byInode.set(s.inode, entry);
  }

  /** Drops the entry whose record is `s` (not another entry that took its key or inode since). */
  private forget(s: SocketRecord): void {
    if (this.info.get(s.key)?.record === s) this.info.delete(s.key);
    if (s.inode !== 0 && this.byInode.get(s.inode)?.record === s) this.byInode.delete(s.inode);
  }

  /** Hot path for building rows from a snapshot's records (no copy). */
  firstSeenOf(s: SocketRecord): { readonly firstSeenMs: number; readonly presentAtStart: boolean } | undefined {
    return this.lookup(s);
  }

  private recordChange(entry: MutableInfo, atMs: number, from: SocketState, to: SocketState): void {
    const change = { atMs, from, to };
    if (entry.changes === NO_CHANGES) {
      entry.changes = [change];
      return;
    }
    entry.changes.push(change);
    if (entry.changes.length > this.options.maxChangesPerSocket) entry.changes.shift();
  }

  infoOf(key: string): TrackInfo | null {
    const i = this.info.get(key);
    if (i === undefined) return null;
    return {
      firstSeenMs: i.firstSeenMs,
      presentAtStart: i.presentAtStart,
      changes: i.changes,
      peakRecvQ: i.peakRecvQ,
      peakSendQ: i.peakSendQ,
    };
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
