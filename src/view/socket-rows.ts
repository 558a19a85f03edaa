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
  /**
   * Sorts the whole order in steps when only its first rows were selected (a new filter or sort):
   * run between keys after such a frame, so the next key that reads past them does not sort in
   * one block. Nothing when sorted.
   */
  sortSteps(): Generator<void, void>;
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
  /** Live records that pass the filter and the tombstones that do, in the order shown. */
  private sortedEntries: readonly Entry[] | null;
  /** The tombstones' entries in sortedEntries (the next list keeps those still listed). */
  private listedClosed: ReadonlySet<ClosedEntry> | null;
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
    /** Sorted already: the entries in order and the tombstones' among them; or live records and tombstones unsorted. */
    order: { readonly entries: readonly Entry[]; readonly closed: ReadonlySet<ClosedEntry> } | Unsorted,
  ) {
    if ('cmp' in order) {
      this.unsorted = order;
      this.sortedEntries = null;
      this.listedClosed = null;
      this.length = order.live.length + order.closed.length;
      this.closedRows = order.closed.length;
    } else {
      this.unsorted = null;
      this.sortedEntries = order.entries;
      this.listedClosed = order.closed;
      this.length = order.entries.length;
      this.closedRows = order.closed.size;
    }
  }

  /** Sorts what was left unsorted (the first read past the first rows), in one step. */
  private sortAll(): void {
    const u = this.unsorted;
    if (u === null) return;
    const live = u.live.sort(u.cmp);
    const closed = u.closed.sort(u.cmp);
    this.sorted(mergeSorted<Entry>(live, closed, u.cmp), new Set(closed));
  }

  /**
   * Sorts what was left unsorted in steps (runs of 1,024 sorted, then merged pairwise), pausing
   * every few thousand entries: the next snapshot's list sorts a new filter's or sort's order
   * this way, between keys. The same order as sortAll (a total order has one sorted form).
   */
  *sortAllSteps(): Generator<void, void> {
    if (this.unsorted === null) return;
    // One sort however many callers step it (the sort after a new sort's first frame, then the
    // next snapshot's list built on this one): each resumes the same steps.
    this.sorting ??= this.sortUnsortedSteps();
    yield* this.sorting;
  }

  private sorting: Generator<void, void> | null = null;

  private *sortUnsortedSteps(): Generator<void, void> {
    const u = this.unsorted;
    if (u === null) return;
    const live = yield* sortSteps(u.live, u.cmp);
    const closed = yield* sortSteps(u.closed, u.cmp);
    const entries = yield* mergeSortedSteps<Entry>(live, closed, u.cmp);
    // Read meanwhile (sortAll), or already sorted: the same order either way.
    if (this.unsorted !== u) return;
    this.sorted(entries, new Set(closed));
  }

  private sorted(entries: readonly Entry[], closed: ReadonlySet<ClosedEntry>): void {
    this.sortedEntries = entries;
    this.listedClosed = closed;
    this.unsorted = null;
    this.firstRows = null;
  }

  /** The tombstones' entries listed, sorted or not. */
  get closed(): ReadonlySet<ClosedEntry> {
    if (this.listedClosed === null) this.sortAll();
    return this.listedClosed as ReadonlySet<ClosedEntry>;
  }

  /** Live records that pass the filter, in no particular order (with the tombstones once sorted: skip ClosedEntry). */
  get entriesInAnyOrder(): readonly Entry[] {
    return this.unsorted?.live ?? (this.sortedEntries as readonly Entry[]);
  }

  /** Live records and tombstones, in the order shown. */
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
      const entries = this.order.entriesInAnyOrder;
      this.anyRateMemo = rates !== undefined && rates.size > 0 && entries.some((e) => !(e instanceof ClosedEntry) && rates.has(e.key));
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

  sortSteps(): Generator<void, void> {
    return this.order.sortAllSteps();
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
function* mergeSortedSteps<T extends Entry>(
  into: readonly T[],
  add: readonly T[],
  cmp: (a: Entry, b: Entry) => number,
): Generator<void, T[]> {
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
  // Merging k arrivals costs a sort of k and a search each, plus one pass; a full sort costs
  // N log N comparisons: merging wins until about half the records changed (a churning host
  // replaces 10-15% of them a refresh: every TIME_WAIT timer moves).
  if (prev === null || turnover.removed.length + turnover.added.length > input.sockets.length) {
    // With nothing to build on (the first snapshot, a new filter or sort, more turnover than a
    // merge pays for), the whole order is sorted only when read past its first rows: the first
    // frame selects the rows it shows, and the next snapshot's list (or a key press) sorts the
    // rest, after the frame is written.
    let live: SocketRecord[];
    if (filter === null) live = [...input.sockets];
    else {
      live = [];
      for (let i = 0; i < input.sockets.length; i++) {
        const s = input.sockets[i] as SocketRecord;
        if (filter(s)) live.push(s);
        if (i % STEP_ENTRIES === STEP_ENTRIES - 1) yield;
      }
    }
    const closed: ClosedEntry[] = [];
    for (const t of tombstones ?? []) if (filter === null || filter(tombstoneForFilter(t.record))) closed.push(closedEntryOf(t));
    return new SortedSocketRows(input, new SocketOrder(input.sockets, tombstones, params, { live, closed, cmp }));
  }
  // The tracker says which record objects left and arrived since the last list's snapshot: the
  // others keep their order, so only the arrivals are filtered, sorted and merged in. A changed
  // line of the same socket that sorts exactly where the old one did (a timer moved) takes its
  // place without a comparison against the others. Tombstones likewise: last list's entries
  // still listed keep their place (they passed the same filter), those closed since are merged in.
  yield* prev.sortAllSteps();
  const inPlace = new Map<SocketRecord, SocketRecord>();
  const added: Entry[] = [];
  const { removed: gone, added: arrived, replacements } = turnover;
  for (let i = 0; i < arrived.length; i++) {
    const s = arrived[i] as SocketRecord;
    if (i % 1024 === 1023) yield;
    if (filter !== null && !filter(s)) continue;
    const old = i < replacements ? (gone[i] as SocketRecord) : undefined;
    if (old !== undefined && cmp(old, s) === 0 && (filter === null || filter(old))) inPlace.set(old, s);
    else added.push(s);
  }
  const removed = new Set<Entry>();
  for (let i = 0; i < gone.length; i++) {
    removed.add(gone[i] as SocketRecord);
    if (i % STEP_ENTRIES === STEP_ENTRIES - 1) yield;
  }
  const listedBefore = prev.closed;
  const listed = new Set<ClosedEntry>();
  if (tombstones !== null) {
    for (let i = 0; i < tombstones.length; i++) {
      const t = tombstones[i] as Tombstone;
      const e = closedEntryOf(t);
      if (listedBefore.has(e)) listed.add(e);
      else if (filter === null || filter(tombstoneForFilter(t.record))) {
        listed.add(e);
        added.push(e);
      }
      if (i % 1024 === 1023) yield;
    }
  }
  // Last list's entries that stay: not removed, or replaced in place; tombstones still listed.
  const before = prev.entries;
  for (const e of listedBefore) if (!listed.has(e)) removed.add(e);
  const entries = yield* carryAndMergeSteps(before, removed, inPlace, yield* sortSteps(added, cmp), cmp);
  return new SortedSocketRows(input, new SocketOrder(input.sockets, tombstones, params, { entries, closed: listed }));
}

/**
 * One pass over the last order `before`: its entries copied except those in `removed` (or their
 * replacement in `inPlace`, which sorts where they did), with `add` (sorted) merged in. Each added
 * entry's place is found by galloping from the last one's (probes 1, 2, 4, … ahead, then a
 * binary search), comparing only with entries that stay: arrivals spread over the order cost a
 * few comparisons each rather than log2(100k) = 17. Pauses every STEP_ENTRIES entries written.
 */
function* carryAndMergeSteps(
  before: readonly Entry[],
  removed: ReadonlySet<Entry>,
  inPlace: ReadonlyMap<SocketRecord, SocketRecord>,
  add: readonly Entry[],
  cmp: (a: Entry, b: Entry) => number,
): Generator<void, Entry[]> {
  const n = before.length;
  // Nothing changed under this filter (a static host): the same order, no copy.
  if (removed.size === 0 && add.length === 0) return before as Entry[];
  // 0: stays, 1: removed, 2: replaced in place. A removed record is never compared: its order
  // may have changed (the age sort reads the tracker, which forgot it).
  const fate = new Uint8Array(n);
  for (let i = 0; i < (removed.size === 0 ? 0 : n); i++) {
    const e = before[i] as Entry;
    if (removed.has(e)) fate[i] = e instanceof ClosedEntry || !inPlace.has(e) ? 1 : 2;
    if (i % STEP_ENTRIES === STEP_ENTRIES - 1) yield;
  }
  const at = (i: number): Entry => {
    const e = before[i] as Entry;
    return fate[i] === 2 ? (inPlace.get(e as SocketRecord) as Entry) : e;
  };
  /** The first index from i on whose entry stays (or is replaced), else `end`. */
  const staying = (i: number, end: number): number => {
    while (i < end && fate[i] === 1) i++;
    return i;
  };
  const out: Entry[] = [];
  let from = 0;
  let nextPause = STEP_ENTRIES;
  const copyTo = (end: number): void => {
    for (; from < end; from++) if (fate[from] !== 1) out.push(at(from));
  };
  for (const x of add) {
    // The first position p from `from` with every staying entry of [from, p) <= x and every one
    // of [p, n) > x; invariant: [from, lo) <= x, [hi, n) > x.
    let lo = from;
    let hi = n;
    let probe = from;
    let step = 1;
    for (;;) {
      const j = staying(probe, n);
      if (j >= n) break;
      if (cmp(at(j), x) > 0) {
        hi = j;
        break;
      }
      lo = j + 1;
      probe = j + 1 + step;
      step *= 2;
      if (probe >= n) break;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const j = staying(mid, hi);
      if (j >= hi) hi = mid;
      else if (cmp(at(j), x) <= 0) lo = j + 1;
      else hi = mid;
    }
    copyTo(lo);
    out.push(x);
    if (out.length >= nextPause) {
      nextPause = out.length + STEP_ENTRIES;
      yield;
    }
  }
  while (from < n) {
    copyTo(Math.min(n, from + STEP_ENTRIES));
    if (from < n) yield;
  }
  return out;
}

/** Every row of the socket table, sorted (buildSocketRowList, all rows built). */
export function buildSocketRows(input: SocketRowsInput): SocketRow[] {
  const list = buildSocketRowList(input);
  const rows: SocketRow[] = [];
  for (let i = 0; i < list.length; i++) rows.push(list.at(i) as SocketRow);
  return rows;
}
