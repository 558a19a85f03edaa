// Rows of the socket table: the filtered snapshot plus tombstones, sorted. Computed once per
// snapshot/filter/sort change (not per key press), then windowed by the table view.

import type { CompiledFilter } from '../filter/index.js';
import type { SocketTracker, Tombstone } from '../model/tracker.js';
import type { ConnRate } from '../model/conn-rates.js';
import type { UnixPeer } from '../model/unix-peers.js';
import type { SocketRecord, SocketState } from '../model/types.js';
import type { SocketSortKey } from './ui-state.js';

export interface SocketRow {
  readonly key: string;
  readonly record: SocketRecord;
  /** Closed since the last snapshots: shown dimmed for a few seconds (as htop does). */
  readonly closedAtMs: number | null;
  /** Observed age at the snapshot time, ms; null when unknown. */
  readonly ageMs: number | null;
  readonly isNew: boolean;
  /** Observed from the first snapshot: the real age is at least ageMs. */
  readonly ageAtLeast: boolean;
  /**
   * LISTEN only: the accept queue's limit (the listen() backlog, from ss), which ss shows as
   * Send-Q; null when unknown or not a listener.
   */
  readonly backlog: number | null;
  /** Rates from ss (tcp_info deltas), null when this socket has none. */
  readonly rate?: ConnRate | null;
  /** UNIX sockets: the other end (from ss), when known. */
  readonly peer?: UnixPeer | null;
}

/** Send-Q as ss shows it: a listener's backlog, else the bytes not yet acknowledged. */
export function shownSendQ(row: SocketRow): number {
  return row.backlog ?? row.record.sendQ;
}

/**
 * A closed socket as filters see it: its last state is history, so it never matches a state
 * filter (the state counts and `ss -tan state …` do not count it either), but it still matches
 * by port, address or process.
 */
export function tombstoneForFilter(record: SocketRecord): SocketRecord {
  return { ...record, state: 'CLOSE' };
}

/** Order in which states sort (and list in charts): problems near the top. */
export const STATE_SORT_RANK: Readonly<Record<SocketState, number>> = {
  LISTEN: 0,
  LISTENING: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  NEW_SYN_RECV: 2,
  ESTABLISHED: 3,
  CONNECTED: 3,
  CONNECTING: 3,
  CLOSE_WAIT: 4,
  FIN_WAIT1: 5,
  FIN_WAIT2: 6,
  CLOSING: 7,
  LAST_ACK: 8,
  TIME_WAIT: 9,
  DISCONNECTING: 9,
  CLOSE: 10,
  UNCONN: 11,
  UNCONNECTED: 11,
};

const PROTO_RANK: Readonly<Record<SocketRecord['protocol'], number>> = {
  tcp: 0,
  tcp6: 1,
  udp: 2,
  udp6: 3,
  raw: 4,
  raw6: 5,
  unix: 6,
};

function compareAddress(aAddr: string, aPort: number, bAddr: string, bPort: number): number {
  return aAddr < bAddr ? -1 : aAddr > bAddr ? 1 : aPort - bPort;
}

/**
 * One entry of the sorted order: a live record as it is (no wrapper: 100k of them are kept from
 * one snapshot to the next), or a closed socket's tombstone.
 */
class ClosedEntry {
  readonly key: string;
  constructor(
    readonly record: SocketRecord,
    readonly closedAtMs: number,
  ) {
    this.key = `${record.key} †${closedAtMs}`;
  }
}
type Entry = SocketRecord | ClosedEntry;

/**
 * One entry per tombstone for as long as it is listed: the tracker keeps the same Tombstone
 * objects from one snapshot to the next, so the next list finds last list's entries by identity
 * and sorts only the sockets closed since (up to 10,000 tombstones at 100k sockets).
 */
const closedEntries = new WeakMap<Tombstone, ClosedEntry>();
function closedEntryOf(t: Tombstone): ClosedEntry {
  let e = closedEntries.get(t);
  if (e === undefined) {
    e = new ClosedEntry(t.record, t.closedAtMs);
    closedEntries.set(t, e);
  }
  return e;
}
const recordOf = (e: Entry): SocketRecord => (e instanceof ClosedEntry ? e.record : e);

/** What a comparison reads besides the record: backlogs, rates and first-seen times (ages). */
interface SortContext {
  readonly tracker: SocketTracker;
  readonly backlogs: ReadonlyMap<string, number> | undefined;
  readonly rates: ReadonlyMap<string, ConnRate> | undefined;
}

/**
 * Comparators over entries. Each reads only the record, its first-seen time, backlog and rate,
 * none of which changes while the same record object stays in the snapshots: so the order of
 * kept records never changes from one snapshot to the next (ages all grow by the same amount).
 */
function comparator(key: SocketSortKey, ctx: SortContext): (a: Entry, b: Entry) => number {
  const local = (a: SocketRecord, b: SocketRecord): number =>
    compareAddress(a.localAddress, a.localPort, b.localAddress, b.localPort) || (a.path ?? '').localeCompare(b.path ?? '');
  const peer = (a: SocketRecord, b: SocketRecord): number => compareAddress(a.remoteAddress, a.remotePort, b.remoteAddress, b.remotePort);
  const backlog = (e: Entry): number | null =>
    e instanceof ClosedEntry || e.state !== 'LISTEN' ? null : (ctx.backlogs?.get(e.key) ?? null);
  const sendQ = (e: Entry): number => backlog(e) ?? recordOf(e).sendQ;
  const rate = (e: Entry): ConnRate | undefined => (e instanceof ClosedEntry ? undefined : ctx.rates?.get(e.key));
  // Age ascending = first seen descending; unknown (tombstones, untracked) sorts below every age.
  const ageRank = (e: Entry): number => {
    if (e instanceof ClosedEntry) return -Infinity;
    const info = ctx.tracker.firstSeenOf(e);
    return info === undefined ? -Infinity : -info.firstSeenMs;
  };
  const r = recordOf;
  switch (key) {
    case 'proto':
      return (a, b) => PROTO_RANK[r(a).protocol] - PROTO_RANK[r(b).protocol] || local(r(a), r(b));
    case 'state':
      return (a, b) => {
        const x = r(a);
        const y = r(b);
        return (
          STATE_SORT_RANK[x.state] - STATE_SORT_RANK[y.state] ||
          PROTO_RANK[x.protocol] - PROTO_RANK[y.protocol] ||
          x.localPort - y.localPort ||
          peer(x, y)
        );
      };
    case 'local':
      return (a, b) => local(r(a), r(b)) || peer(r(a), r(b));
    case 'peer':
      return (a, b) => peer(r(a), r(b)) || local(r(a), r(b));
    case 'recvq':
      return (a, b) => r(a).recvQ - r(b).recvQ || r(a).sendQ - r(b).sendQ;
    case 'sendq':
      return (a, b) => sendQ(a) - sendQ(b) || r(a).recvQ - r(b).recvQ;
    case 'process':
      return (a, b) =>
        (r(a).owner?.command ?? '\uffff').localeCompare(r(b).owner?.command ?? '\uffff') || (r(a).owner?.pid ?? 0) - (r(b).owner?.pid ?? 0);
    case 'user':
      return (a, b) => r(a).user.localeCompare(r(b).user);
    case 'age':
      return (a, b) => {
        const x = ageRank(a);
        const y = ageRank(b);
        return x === y ? 0 : x < y ? -1 : 1;
      };
    case 'out':
      return (a, b) => (rate(a)?.sendBytesPerSec ?? -1) - (rate(b)?.sendBytesPerSec ?? -1);
    case 'in':
      return (a, b) => (rate(a)?.recvBytesPerSec ?? -1) - (rate(b)?.recvBytesPerSec ?? -1);
    case 'rtt':
      return (a, b) => (rate(a)?.rttMs ?? -1) - (rate(b)?.rttMs ?? -1);
  }
}

export interface SocketRowsInput {
  readonly sockets: readonly SocketRecord[];
  readonly takenAtMs: number;
  readonly tracker: SocketTracker;
  readonly filter: CompiledFilter | null;
  readonly sort: { readonly key: SocketSortKey; readonly descending: boolean };
  /** Include tombstones of closed sockets (not when paused on an older copy). */
  readonly tombstones: boolean;
  /** Backlog limits of LISTEN sockets by socket key (only exact ones, from ss). */
  readonly backlogs?: ReadonlyMap<string, number>;
  /** Per-connection rates by socket key (from ss), when read. */
  readonly rates?: ReadonlyMap<string, ConnRate>;
  /** UNIX peers by inode (from ss), when read. */
  readonly unixPeers?: ReadonlyMap<number, UnixPeer>;
}

/**
 * The sorted rows of one snapshot under one filter and sort. Rows are built only where read (the
 * table's window, the details socket): at 100k sockets a frame reads ~40 of them.
 */
export interface SocketRowList {
  readonly length: number;
  /** Row `index` in the sorted order, built now; undefined out of range. */
  at(index: number): SocketRow | undefined;
  keyAt(index: number): string | undefined;
  /** Position of the row with this key, or -1. */
  indexOfKey(key: string): number;
  /** Every row's key, in order (for movement actions). */
  keys(): string[];
  /** Rows of closed sockets (tombstones) in the list. */
  readonly closedRows: number;
  /** Some row has a rate from ss (the rate columns are shown). */
  readonly anyRate: boolean;
}

const keyOfEntry = (e: Entry): string => e.key;

/**
 * Rows a list with no order yet answers by selecting the first ones (the top of the order): a
 * first frame shows ~40 rows of a table, so it need not sort all of them. 128 covers a tall
 * terminal; a row further down sorts everything.
 */
const FIRST_ROWS_SELECTED = 128;

/**
 * The first `k` entries of `all` in the order of `cmp` (a total order), sorted: one pass that
 * compares most entries once, against the last one kept (about N + k·log k·ln(N/k) comparisons
 * against N·log N for a full sort: ~2.5k against ~10k at 1k).
 */
function selectFirst(all: readonly Entry[], k: number, cmp: (a: Entry, b: Entry) => number): Entry[] {
  const top: Entry[] = [];
  for (const x of all) {
    if (top.length === k && cmp(x, top[k - 1] as Entry) >= 0) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(top[mid] as Entry, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, x);
    if (top.length > k) top.pop();
  }
  return top;
}

/** What a list sorts when it is first read beyond its first rows: the filtered records and tombstones. */
interface Unsorted {
  readonly live: SocketRecord[];
  readonly closed: ClosedEntry[];
  readonly cmp: (a: Entry, b: Entry) => number;
}

/**
 * The order of one snapshot's rows under one filter and sort (and tombstones): what the table's
 * window, the selection and the movement keys read. Kept apart from the rows' other inputs (rates,
 * UNIX peers, backlogs), which change between snapshots without moving a row unless the table is
 * sorted by them: new rates reuse the order as it is.
 */
class SocketOrder {
  readonly length: number;
  readonly closedRows: number;
  private sortedLive: readonly SocketRecord[] | null;
  private sortedClosed: readonly ClosedEntry[] | null;
  private sortedEntries: readonly Entry[] | null;
  /** The first rows of the order, selected without sorting the rest (until `unsorted` is sorted). */
  private firstRows: readonly Entry[] | null = null;
  private unsorted: Unsorted | null;

  constructor(
    /** The snapshot's records the order was made from. */
    readonly sockets: readonly SocketRecord[],
    /** The tombstones listed (the tracker's array), or null when none are. */
    readonly tombstones: readonly unknown[] | null,
    /** What the order depends on besides the snapshot: built on only when every one is the same. */
    readonly params: readonly unknown[],
    /** Sorted already: live records that pass the filter, the tombstones that do, and both merged; or the same unsorted. */
    order: { readonly live: readonly SocketRecord[]; readonly closed: readonly ClosedEntry[]; readonly entries: readonly Entry[] } | Unsorted,
  ) {
    if ('cmp' in order) {
      this.unsorted = order;
      this.sortedLive = null;
      this.sortedClosed = null;
      this.sortedEntries = null;
      this.length = order.live.length + order.closed.length;
      this.closedRows = order.closed.length;
    } else {
      this.unsorted = null;
      this.sortedLive = order.live;
      this.sortedClosed = order.closed;
      this.sortedEntries = order.entries;
      this.length = order.entries.length;
      this.closedRows = order.entries.length - order.live.length;
    }
  }

  /** Sorts what was left unsorted (the first read past the first rows), in one step. */
  private sortAll(): void {
    const u = this.unsorted;
    if (u === null) return;
    const live = u.live.sort(u.cmp);
    const closed = u.closed.sort(u.cmp);
    this.sorted(live, closed, mergeSorted<Entry>(live, closed, u.cmp));
  }

  /**
   * Sorts what was left unsorted in steps (runs of 1,024 sorted, then merged pairwise), pausing
   * every few thousand entries: the next snapshot's list sorts a new filter's or sort's order
   * this way, between keys. The same order as sortAll (a total order has one sorted form).
   */
  *sortAllSteps(): Generator<void, void> {
    const u = this.unsorted;
    if (u === null) return;
    const live = yield* sortSteps(u.live, u.cmp);
    const closed = yield* sortSteps(u.closed, u.cmp);
    const entries = yield* mergeSortedSteps<Entry>(live, closed, u.cmp);
    // Read meanwhile (sortAll), or already sorted: the same order either way.
    if (this.unsorted !== u) return;
    this.sorted(live, closed, entries);
  }

  private sorted(live: readonly SocketRecord[], closed: readonly ClosedEntry[], entries: readonly Entry[]): void {
    this.sortedLive = live;
    this.sortedClosed = closed;
    this.sortedEntries = entries;
    this.unsorted = null;
    this.firstRows = null;
  }

  /** Live records that pass the filter, sorted. */
  get live(): readonly SocketRecord[] {
    this.sortAll();
    return this.sortedLive as readonly SocketRecord[];
  }

  /** Tombstones that pass the filter, sorted. */
  get closed(): readonly ClosedEntry[] {
    this.sortAll();
    return this.sortedClosed as readonly ClosedEntry[];
  }

  /** Live records that pass the filter, in no particular order (sorted when they are). */
  get liveInAnyOrder(): readonly SocketRecord[] {
    return this.unsorted?.live ?? (this.sortedLive as readonly SocketRecord[]);
  }

  /** live and the tombstones merged, in the order shown. */
  get entries(): readonly Entry[] {
    this.sortAll();
    return this.sortedEntries as readonly Entry[];
  }

  /** Entry `index` of the order: from the first rows selected while the rest is unsorted. */
  entryAt(index: number): Entry | undefined {
    const u = this.unsorted;
    if (u !== null && index >= 0 && index < FIRST_ROWS_SELECTED) {
      if (this.firstRows === null) {
        const all: Entry[] = u.closed.length === 0 ? u.live : [...u.live, ...u.closed];
        this.firstRows = selectFirst(all, FIRST_ROWS_SELECTED, u.cmp);
      }
      return this.firstRows[index];
    }
    return this.entries[index];
  }
}

class SortedSocketRows implements SocketRowList {
  private anyRateMemo: boolean | null = null;

  constructor(
    private readonly input: SocketRowsInput,
    readonly order: SocketOrder,
  ) {}

  get length(): number {
    return this.order.length;
  }

  get closedRows(): number {
    return this.order.closedRows;
  }

  get anyRate(): boolean {
    const rates = this.input.rates;
    // Order does not matter here: the unsorted records when not sorted yet.
    if (this.anyRateMemo === null) {
      const live = this.order.liveInAnyOrder;
      this.anyRateMemo = rates !== undefined && rates.size > 0 && live.some((s) => rates.has(s.key));
    }
    return this.anyRateMemo;
  }

  at(index: number): SocketRow | undefined {
    const e = this.order.entryAt(index);
    if (e === undefined) return undefined;
    const input = this.input;
    if (e instanceof ClosedEntry)
      return { key: e.key, record: e.record, closedAtMs: e.closedAtMs, ageMs: null, isNew: false, ageAtLeast: false, backlog: null };
    const info = input.tracker.firstSeenOf(e);
    const ageMs = info === undefined ? null : input.takenAtMs - info.firstSeenMs;
    return {
      key: e.key,
      record: e,
      closedAtMs: null,
      ageMs,
      isNew: info !== undefined && !info.presentAtStart && ageMs !== null && ageMs < input.tracker.options.newMs,
      ageAtLeast: info?.presentAtStart ?? false,
      backlog: e.state === 'LISTEN' ? (input.backlogs?.get(e.key) ?? null) : null,
      ...(input.rates === undefined ? {} : { rate: input.rates.get(e.key) ?? null }),
      ...(input.unixPeers === undefined || e.protocol !== 'unix' ? {} : { peer: input.unixPeers.get(e.inode) ?? null }),
    };
  }

  keyAt(index: number): string | undefined {
    return this.order.entryAt(index)?.key;
  }

  indexOfKey(key: string): number {
    const entries = this.order.entries;
    for (let i = 0; i < entries.length; i++) if ((entries[i] as Entry).key === key) return i;
    return -1;
  }

  keys(): string[] {
    return this.order.entries.map(keyOfEntry);
  }
}

/** Sorted order with the final tie-break on the row key, so every order is total. */
function totalOrder(input: SocketRowsInput): (a: Entry, b: Entry) => number {
  const cmp = comparator(input.sort.key, { tracker: input.tracker, backlogs: input.backlogs, rates: input.rates });
  const sign = input.sort.descending ? -1 : 1;
  return (a, b) => sign * cmp(a, b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Entries handled between two pauses of the steps below (merge, sort, carry): ~1-3 ms at 100k. */
const STEP_ENTRIES = 2048;

/** Runs steps to the end at once. */
function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * Merge `add` (sorted) into `into` (sorted), then one pass. Each added entry's place is found by
 * galloping from the last one's (probes 1, 2, 4, … ahead, then a binary search): arrivals spread
 * over the order cost a few comparisons each rather than log2(100k) = 17. Pauses every
 * STEP_ENTRIES entries copied.
 */
function* mergeSortedSteps<T extends Entry>(into: readonly T[], add: readonly T[], cmp: (a: Entry, b: Entry) => number): Generator<void, T[]> {
  if (add.length === 0) return into as T[];
  if (into.length === 0) return add as T[];
  // Filled by push: `new Array(n)` of more than ~100k entries is a dictionary (slow) in V8.
  const out: T[] = [];
  const n = into.length;
  let from = 0;
  let nextPause = STEP_ENTRIES;
  for (const x of add) {
    // first position in `into` (from `from`) whose entry sorts after x: into[lo - 1] <= x < into[hi]
    let lo = from;
    let hi = from;
    let step = 1;
    while (hi < n && cmp(into[hi] as T, x) <= 0) {
      lo = hi + 1;
      hi = from + step;
      step *= 2;
    }
    if (hi > n) hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(into[mid] as T, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    while (from < lo) out.push(into[from++] as T);
    out.push(x);
    if (out.length >= nextPause) {
      nextPause = out.length + STEP_ENTRIES;
      yield;
    }
  }
  while (from < n) {
    const end = Math.min(n, from + STEP_ENTRIES);
    while (from < end) out.push(into[from++] as T);
    if (from < n) yield;
  }
  return out;
}

function mergeSorted<T extends Entry>(into: readonly T[], add: readonly T[], cmp: (a: Entry, b: Entry) => number): T[] {
  return runSteps(mergeSortedSteps(into, add, cmp));
}

/** `all` sorted by `cmp` (in place for the runs), in steps: runs of 1,024 sorted, then merged pairwise. */
function* sortSteps<T extends Entry>(all: T[], cmp: (a: Entry, b: Entry) => number): Generator<void, T[]> {
  const RUN = 1024;
  if (all.length <= RUN) return all.sort(cmp);
  let runs: T[][] = [];
  for (let i = 0; i < all.length; i += RUN) {
    runs.push(all.slice(i, i + RUN).sort(cmp));
    if (runs.length % 2 === 0) yield;
  }
  while (runs.length > 1) {
    const next: T[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const a = runs[i] as T[];
      const b = runs[i + 1];
      next.push(b === undefined ? a : yield* mergeRunsSteps(a, b, cmp));
    }
    runs = next;
  }
  return runs[0] as T[];
}

/** Two sorted runs merged (stable: a's entries first among equals, which a total order never has), pausing every STEP_ENTRIES. */
function* mergeRunsSteps<T>(a: readonly T[], b: readonly T[], cmp: (x: T, y: T) => number): Generator<void, T[]> {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  let nextPause = STEP_ENTRIES;
  while (i < a.length && j < b.length) {
    out.push(cmp(b[j] as T, a[i] as T) < 0 ? (b[j++] as T) : (a[i++] as T));
    if (out.length >= nextPause) {
      nextPause = out.length + STEP_ENTRIES;
      yield;
    }
  }
  while (i < a.length) out.push(a[i++] as T);
  while (j < b.length) out.push(b[j++] as T);
  return out;
}

/**
 * The socket table's rows for this snapshot. With `previous` (the list of the last snapshot, any
 * filter or sort) only what changed is sorted: records the collector kept from the last
 * snapshot (the same objects: their lines did not change) keep their relative order, so they are
 * carried over in order and the new or changed ones (a few percent at 100k) are sorted and
 * merged in. Same rows, same order as sorting everything (test/socket-rows.test.ts).
 */
export function buildSocketRowList(input: SocketRowsInput, previous: SocketRowList | null = null, filterText = ''): SocketRowList {
  return runSteps(buildSocketRowListSteps(input, previous, filterText));
}

/**
 * buildSocketRowList in steps of a few thousand entries (pausing at each `yield`), for a caller
 * that lets keys in between (the dashboard, after a snapshot's ingest): the same list. A list
 * left unsorted by `previous` (a new filter or sort whose first rows were selected) is sorted in
 * steps here too.
 */
export function* buildSocketRowListSteps(
  input: SocketRowsInput,
  previous: SocketRowList | null = null,
  filterText = '',
): Generator<void, SocketRowList> {
  const { filter } = input;
  // Backlogs and rates change the order only when it sorts by them (they are re-read every few seconds).
  const key = input.sort.key;
  const params = [
    filterText,
    key,
    input.sort.descending,
    input.tracker,
    key === 'sendq' ? input.backlogs : null,
    key === 'out' || key === 'in' || key === 'rtt' ? input.rates : null,
  ];
  const tombstones = input.tombstones ? input.tracker.currentTombstones() : null;
  const last =
    previous instanceof SortedSocketRows &&
    previous.order.params.length === params.length &&
    previous.order.params.every((v, i) => v === params[i])
      ? previous.order
      : null;
  // The same snapshot and tombstones (new rates, peers or backlogs arrived): the same order.
  if (last !== null && last.sockets === input.sockets && last.tombstones === tombstones) return new SortedSocketRows(input, last);
  const cmp = totalOrder(input);
  const turnover = input.tracker.lastTurnover();
  const prev =
    last !== null && turnover.from !== null && turnover.from.sockets === last.sockets && turnover.to?.sockets === input.sockets
      ? last
      : null;
  let live: SocketRecord[];
  let merged = false;
  // Merging k arrivals costs a sort of k and a binary search each, plus one pass; a full sort costs
  // N log N comparisons: merging wins until about half the records changed (a churning host
  // replaces 10-15% of them a refresh: every TIME_WAIT timer moves).
  if (prev !== null && turnover.removed.length + turnover.added.length <= input.sockets.length) {
    // The tracker says which record objects left and arrived since the last list's snapshot:
    // the others keep their order, so only the arrivals are filtered, sorted and merged in.
    // A changed line of the same socket that sorts exactly where the old one did (a timer moved)
    // takes its place without a comparison against the others; the rest are merged in.
    yield* prev.sortAllSteps();
    const inPlace = new Map<SocketRecord, SocketRecord>();
    const added: SocketRecord[] = [];
    const { removed: gone, added: arrived, replacements } = turnover;
    for (let i = 0; i < arrived.length; i++) {
      const s = arrived[i] as SocketRecord;
      if (i % 1024 === 1023) yield;
      if (filter !== null && !filter(s)) continue;
      const old = i < replacements ? (gone[i] as SocketRecord) : undefined;
      if (old !== undefined && cmp(old, s) === 0 && (filter === null || filter(old))) inPlace.set(old, s);
      else added.push(s);
    }
    const removed = new Set<SocketRecord>();
    for (let i = 0; i < gone.length; i++) {
      removed.add(gone[i] as SocketRecord);
      if (i % STEP_ENTRIES === STEP_ENTRIES - 1) yield;
    }
    let kept: readonly SocketRecord[] = prev.live;
    if (removed.size > 0) {
      const carried: SocketRecord[] = [];
      let i = 0;
      for (const s of prev.live) {
        if (++i % STEP_ENTRIES === 0) yield;
        if (!removed.has(s)) carried.push(s);
        else {
          const replacement = inPlace.get(s);
          if (replacement !== undefined) carried.push(replacement);
        }
      }
      kept = carried;
    }
    const sortedAdded = yield* sortSteps(added, cmp);
    live = yield* mergeSortedSteps(kept, sortedAdded, cmp);
    merged = true;
  } else if (filter === null) live = [...input.sockets];
  else {
    live = [];
    for (let i = 0; i < input.sockets.length; i++) {
      const s = input.sockets[i] as SocketRecord;
      if (filter(s)) live.push(s);
      if (i % STEP_ENTRIES === STEP_ENTRIES - 1) yield;
    }
  }
  // Tombstones: last list's entries that are still listed keep their order (and passed the same
  // filter); those closed since are filtered, sorted and merged in.
  const lastClosed = merged && prev !== null ? prev.closed : null;
  const listedBefore = lastClosed === null ? null : new Set<ClosedEntry>();
  if (listedBefore !== null && lastClosed !== null) {
    for (let i = 0; i < lastClosed.length; i++) {
      listedBefore.add(lastClosed[i] as ClosedEntry);
      if (i % STEP_ENTRIES === STEP_ENTRIES - 1) yield;
    }
  }
  const closed: ClosedEntry[] = [];
  const closedSince: ClosedEntry[] = [];
  const listedNow = new Set<ClosedEntry>();
  if (tombstones !== null) {
    for (let i = 0; i < tombstones.length; i++) {
      const t = tombstones[i] as Tombstone;
      const e = closedEntryOf(t);
      if (listedBefore?.has(e) === true) listedNow.add(e);
      else if (filter === null || filter(tombstoneForFilter(t.record))) (listedBefore === null ? closed : closedSince).push(e);
      if (i % 1024 === 1023) yield;
    }
  }
  // With nothing merged (the first snapshot, a new filter or sort, more turnover than a merge
  // pays for), the whole order is sorted only when read past its first rows: the first frame
  // selects the rows it shows, and the next snapshot's list (or a key press) sorts the rest,
  // after the frame is written.
  if (lastClosed === null) return new SortedSocketRows(input, new SocketOrder(input.sockets, tombstones, params, { live, closed, cmp }));
  for (const e of lastClosed) if (listedNow.has(e)) closed.push(e);
  const closedSorted = yield* mergeSortedSteps(closed, yield* sortSteps(closedSince, cmp), cmp);
  const entries = yield* mergeSortedSteps<Entry>(live, closedSorted, cmp);
  return new SortedSocketRows(input, new SocketOrder(input.sockets, tombstones, params, { live, closed: closedSorted, entries }));
}

/** Every row of the socket table, sorted (buildSocketRowList, all rows built). */
export function buildSocketRows(input: SocketRowsInput): SocketRow[] {
  const list = buildSocketRowList(input);
  const rows: SocketRow[] = [];
  for (let i = 0; i < list.length; i++) rows.push(list.at(i) as SocketRow);
  return rows;
}
