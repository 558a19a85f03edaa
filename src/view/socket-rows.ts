// Rows of the socket table: the filtered snapshot plus tombstones, sorted. Computed once per
// snapshot/filter/sort change (not per key press), then windowed by the table view.

import type { CompiledFilter } from '../filter/index.js';
import type { RecordTurnover, SocketTracker, Tombstone } from '../model/tracker.js';
import type { ConnRate } from '../model/conn-rates.js';
import type { UnixPeer } from '../model/unix-peers.js';
import type { SocketRecord, SocketState } from '../model/types.js';
import { runSteps, sortSteps } from '../model/sort-steps.js';
import { KEY_INVALID, KEY_UNKNOWN, KEY_WRITTEN, SortKeyTables, sortKeyWriter, type SortKeyWriter } from './socket-sort-keys.js';
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
  return selectFirstIndices(all.length, k, (i, j) => cmp(all[i] as Entry, all[j] as Entry)).map((i) => all[i] as Entry);
}

/** selectFirst over items 0..n-1 compared by index: the indices of the first `k`, in order. */
function selectFirstIndices(n: number, k: number, cmp: (i: number, j: number) => number): number[] {
  const top: number[] = [];
  for (let x = 0; x < n; x++) {
    if (top.length === k && cmp(x, top[k - 1] as number) >= 0) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(top[mid] as number, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, x);
    if (top.length > k) top.pop();
  }
  return top;
}

/**
 * Entries with their numeric sort keys (socket-sort-keys.ts): `keys[i * width, (i + 1) * width)`
 * is entry i's row; `keys` may be longer than the entries need.
 */
interface KeyedRows {
  readonly entries: Entry[];
  readonly keys: Float64Array;
}

/** How an order's keys were made: an order built on it makes its new rows' keys with the same tables. */
interface Keying {
  readonly writer: SortKeyWriter;
  /** The tables' epoch the keys were made in (rows of two epochs do not compare). */
  readonly epoch: number;
}

/** What a list sorts when it is first read beyond its first rows: the filtered records and tombstones. */
type Unsorted =
  | {
      /** Sorted by the comparator (rows whose keys could not be made). */
      readonly keying: null;
      readonly live: SocketRecord[];
      readonly closed: ClosedEntry[];
      readonly cmp: (a: Entry, b: Entry) => number;
    }
  | {
      /** Sorted by numeric keys: live records, then tombstones (`closed`), in `rows`. */
      readonly keying: Keying;
      readonly rows: KeyedRows;
      readonly closed: ClosedEntry[];
    };

/** A sorted order as handed over: entries, the tombstones' among them, and their keys when made. */
interface Sorted {
  readonly entries: readonly Entry[];
  readonly closed: ReadonlySet<ClosedEntry>;
  readonly keyed: { readonly keys: Float64Array; readonly keying: Keying } | null;
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
  /** Numeric keys of sortedEntries (row i at i * width), when made: the next order carries them. */
  private sortedKeys: { readonly keys: Float64Array; readonly keying: Keying } | null = null;
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
    /** Sorted already; or live records and tombstones unsorted. */
    order: Sorted | Unsorted,
  ) {
    if ('entries' in order) {
      this.unsorted = null;
      this.sortedEntries = order.entries;
      this.listedClosed = order.closed;
      this.sortedKeys = order.keyed;
      this.length = order.entries.length;
      this.closedRows = order.closed.size;
    } else {
      this.unsorted = order;
      this.sortedEntries = null;
      this.listedClosed = null;
      this.length = order.keying === null ? order.live.length + order.closed.length : order.rows.entries.length;
      this.closedRows = order.closed.length;
    }
  }

  /** Sorts what was left unsorted (the first read past the first rows), in one step. */
  private sortAll(): void {
    if (this.unsorted === null) return;
    runSteps(this.sortAllSteps());
  }

  /**
   * Sorts what was left unsorted in steps (runs sorted, then merged pairwise), pausing every few
   * thousand entries: the next snapshot's list sorts a new filter's or sort's order this way,
   * between keys. The same order as sortAll (a total order has one sorted form).
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
    if (u.keying !== null) {
      const rows = yield* sortKeyedSteps(u.rows, u.keying.writer.width);
      if (this.unsorted !== u) return;
      this.sorted({ entries: rows.entries, closed: new Set(u.closed), keyed: { keys: rows.keys, keying: u.keying } });
      return;
    }
    const live = yield* sortSteps(u.live, u.cmp);
    const closed = yield* sortSteps(u.closed, u.cmp);
    const entries = yield* mergeSortedSteps<Entry>(live, closed, u.cmp);
    // Read meanwhile (sortAll), or already sorted: the same order either way.
    if (this.unsorted !== u) return;
    this.sorted({ entries, closed: new Set(closed), keyed: null });
  }

  private sorted(order: Sorted): void {
    this.sortedEntries = order.entries;
    this.listedClosed = order.closed;
    this.sortedKeys = order.keyed;
    this.unsorted = null;
    this.firstRows = null;
  }

  /** The tombstones' entries listed, sorted or not. */
  get closed(): ReadonlySet<ClosedEntry> {
    if (this.listedClosed === null) this.sortAll();
    return this.listedClosed as ReadonlySet<ClosedEntry>;
  }

  /** Live records that pass the filter, in no particular order (with the tombstones: skip ClosedEntry). */
  get entriesInAnyOrder(): readonly Entry[] {
    const u = this.unsorted;
    if (u === null) return this.sortedEntries as readonly Entry[];
    return u.keying === null ? u.live : u.rows.entries;
  }

  /** Live records and tombstones, in the order shown. */
  get entries(): readonly Entry[] {
    this.sortAll();
    return this.sortedEntries as readonly Entry[];
  }

  /** The sorted entries' numeric keys, when made (sorts them first). */
  get keyed(): { readonly keys: Float64Array; readonly keying: Keying } | null {
    this.sortAll();
    return this.sortedKeys;
  }

  /** Entry `index` of the order: from the first rows selected while the rest is unsorted. */
  entryAt(index: number): Entry | undefined {
    const u = this.unsorted;
    if (u !== null && index >= 0 && index < FIRST_ROWS_SELECTED) {
      if (this.firstRows === null) {
        if (u.keying !== null) this.firstRows = selectFirstKeyed(u.rows, u.keying.writer.width, FIRST_ROWS_SELECTED);
        else {
          const all: Entry[] = u.closed.length === 0 ? u.live : [...u.live, ...u.closed];
          this.firstRows = selectFirst(all, FIRST_ROWS_SELECTED, u.cmp);
        }
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
  const build = { input, tombstones, params, cmp, turnover };
  // Merging k arrivals costs a sort of k and a pass; a full sort costs N log N comparisons:
  // merging wins until about half the records changed (a churning host replaces 10-15% of them a
  // refresh: every TIME_WAIT timer moves).
  if (prev !== null && turnover.removed.length + turnover.added.length <= input.sockets.length) {
    // The tracker says which record objects left and arrived since the last list's snapshot: the
    // others keep their order (and their keys), so only the arrivals are filtered, keyed, sorted
    // and merged in.
    yield* prev.sortAllSteps();
    const keyed = prev.keyed;
    if (keyed !== null && keyed.keying.writer.tables === currentTables() && keyed.keying.epoch === keyed.keying.writer.tables.epoch) {
      const order = yield* carryKeyedOrderSteps(build, prev, keyed);
      if (order instanceof SocketOrder) return new SortedSocketRows(input, order);
      // Ranks handed out changed (a new address regrouped others): keyed again from scratch.
      if (order === 'epoch') return new SortedSocketRows(input, yield* unsortedOrderSteps(build));
    }
    return new SortedSocketRows(input, yield* carryComparedOrderSteps(build, prev));
  }
  // With nothing to build on (the first snapshot, a new filter or sort, more turnover than a
  // merge pays for), the whole order is sorted only when read past its first rows: the first
  // frame selects the rows it shows, and the next snapshot's list (or a key press) sorts the
  // rest, after the frame is written.
  return new SortedSocketRows(input, yield* unsortedOrderSteps(build));
}

/** What every way of building an order reads. */
interface OrderBuild {
  readonly input: SocketRowsInput;
  readonly tombstones: readonly Tombstone[] | null;
  readonly params: readonly unknown[];
  /** The total order (the keys' order too, when they are made). */
  readonly cmp: (a: Entry, b: Entry) => number;
  readonly turnover: RecordTurnover;
}

/**
 * The ranks every order's keys are made with, whatever its filter or sort (the strings are the
 * same: ranking 60k distinct addresses again for each new sort cost more than the sort); fresh
 * ones once closed sockets' strings have doubled them.
 */
let sharedTables: SortKeyTables | null = null;
function currentTables(): SortKeyTables {
  if (sharedTables === null || sharedTables.worthRebuilding()) sharedTables = new SortKeyTables();
  return sharedTables;
}

function writerFor(input: SocketRowsInput, tables: SortKeyTables): SortKeyWriter {
  const ctx = { tracker: input.tracker, backlogs: input.backlogs, rates: input.rates };
  return sortKeyWriter(input.sort.key, input.sort.descending, ctx, tables, STATE_SORT_RANK, PROTO_RANK);
}

/** The filtered records and tombstones, unsorted, with their keys when every row has them. */
function* unsortedOrderSteps(build: OrderBuild): Generator<void, SocketOrder> {
  const { input, tombstones } = build;
  const filter = input.filter;
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
  const writer = writerFor(input, currentTables());
  const entries: Entry[] = closed.length === 0 ? live : [...live, ...closed];
  const keys = new Float64Array(entries.length * writer.width);
  if (yield* writeKeysSteps(writer, entries, keys)) {
    const keying = { writer, epoch: writer.tables.epoch };
    return new SocketOrder(input.sockets, tombstones, build.params, { keying, rows: { entries, keys }, closed });
  }
  return new SocketOrder(input.sockets, tombstones, build.params, { keying: null, live, closed, cmp: build.cmp });
}

/**
 * Writes the keys of `entries` (entry i at row i), ranking the strings new to the tables once,
 * after a first pass (every row is written again if ranks handed out changed). False when a row
 * cannot be keyed.
 */
function* writeKeysSteps(writer: SortKeyWriter, entries: readonly Entry[], keys: Float64Array): Generator<void, boolean> {
  const tables = writer.tables;
  // Another list may rank new strings between two steps: rows of two epochs do not compare, so
  // all are written again when the epoch moved (a few times at most, then the comparator sorts).
  for (let attempt = 0; attempt < 3; attempt++) {
    const epoch = tables.epoch;
    const pending: number[] = [];
    for (let from = 0; from < entries.length; from += KEYED_STEP) {
      if (!writeKeyRange(writer, entries, keys, from, Math.min(entries.length, from + KEYED_STEP), pending)) return false;
      if (from + KEYED_STEP < entries.length) yield;
    }
    if (pending.length > 0) tables.commit();
    if (tables.epoch !== epoch) continue;
    for (const i of pending) {
      const e = entries[i] as Entry;
      const w = e instanceof ClosedEntry ? writer.write(e.record, true, keys, i) : writer.write(e, false, keys, i);
      if (w !== KEY_WRITTEN) return false;
    }
    return true;
  }
  return false;
}

/** Keys of entries [from, to) written (a plain loop, optimised apart from the steps); rows whose strings are not ranked yet go to `pending`. */
function writeKeyRange(
  writer: SortKeyWriter,
  entries: readonly Entry[],
  keys: Float64Array,
  from: number,
  to: number,
  pending: number[],
): boolean {
  for (let i = from; i < to; i++) {
    const e = entries[i] as Entry;
    const w = e instanceof ClosedEntry ? writer.write(e.record, true, keys, i) : writer.write(e, false, keys, i);
    if (w === KEY_INVALID) return false;
    if (w === KEY_UNKNOWN) pending.push(i);
  }
  return true;
}

/**
 * The last order with the arrivals merged in, by their keys: records that stayed keep their
 * place and their keys; a changed line of the same socket that sorts where the old one did (a
 * timer moved) takes its place; the others and the tombstones closed since are keyed, sorted and
 * merged in. The entries that leave are keyed and sorted too, so one pass over the last order
 * finds them by comparing numbers, without touching the records that stay (at 100k, looking each
 * one up in a set cost more than everything else: a cache miss per record). 'invalid' when an
 * arrival cannot be keyed, 'epoch' when ranks given before changed (the rows carried no longer
 * compare with new ones).
 */
function* carryKeyedOrderSteps(
  build: OrderBuild,
  prev: SocketOrder,
  keyed: { readonly keys: Float64Array; readonly keying: Keying },
): Generator<void, SocketOrder | 'invalid' | 'epoch'> {
  const { input, tombstones, turnover } = build;
  const filter = input.filter;
  const writer = keyed.keying.writer;
  const width = writer.width;
  const { removed: gone, added: arrived, replacements } = turnover;
  // Ages come from the tracker, which forgot the closed records: their keys cannot be made again.
  const findByKeys = input.sort.key !== 'age';
  // Arrivals under the filter; `oldAt[i]`: where in `leaving` the record candidates[i] replaces is, when it may stay in place.
  const candidates: Entry[] = [];
  const oldAt: number[] = [];
  // Entries of the last order that leave it: the records gone that passed the filter, the tombstones no longer listed.
  const leaving: Entry[] = [];
  const counted = new Uint8Array(gone.length);
  for (let i = 0; i < arrived.length; i++) {
    const s = arrived[i] as SocketRecord;
    if (i % 1024 === 1023) yield;
    if (filter !== null && !filter(s)) continue;
    const old = i < replacements ? (gone[i] as SocketRecord) : undefined;
    candidates.push(s);
    if (old !== undefined && old.key === s.key && (filter === null || filter(old))) {
      oldAt.push(leaving.length);
      leaving.push(old);
      counted[i] = 1;
    } else oldAt.push(-1);
  }
  for (let i = 0; i < gone.length; i++) {
    const g = gone[i] as SocketRecord;
    if (counted[i] === 0 && (!findByKeys || filter === null || filter(g))) leaving.push(g);
    if (i % STEP_ENTRIES === STEP_ENTRIES - 1) yield;
  }
  const listedBefore = prev.closed;
  const listed = yield* listTombstonesSteps(tombstones, listedBefore, filter, (e) => {
    candidates.push(e);
    oldAt.push(-1);
  });
  for (const e of listedBefore) if (!listed.has(e)) leaving.push(e);
  const keys = new Float64Array(candidates.length * width);
  if (!(yield* writeKeysSteps(writer, candidates, keys))) return 'invalid';
  // A replaced record's row: its own sort columns, the key columns of its replacement (the same
  // key); the other leaving entries are keyed in full.
  const leavingKeys = new Float64Array(findByKeys ? leaving.length * width : 0);
  const pairs = counted.reduce((n, c) => n + c, 0);
  let leavingKeyed = findByKeys;
  if (findByKeys) {
    const others = leaving.slice(pairs);
    const othersKeys = leavingKeys.subarray(pairs * width);
    leavingKeyed = yield* writeKeysSteps(writer, others, othersKeys);
  }
  if (writer.tables.epoch !== keyed.keying.epoch) return 'epoch';
  // In place: the same key, the same sort columns (so the same row of keys). The old records'
  // columns must be ranks of the same epoch as the rest: after each pause it is checked again.
  const inPlace = new Map<SocketRecord, SocketRecord>();
  const oldRow = new Float64Array(width);
  const own = writer.sortColumns;
  const addedEntries: Entry[] = [];
  const addedKeys = new Float64Array(candidates.length * width);
  for (let i = 0; i < candidates.length; i++) {
    if (i % 2048 === 2047) {
      yield;
      if (writer.tables.epoch !== keyed.keying.epoch) return 'epoch';
    }
    const e = candidates[i] as Entry;
    const at = oldAt[i] as number;
    if (at >= 0) {
      const old = leaving[at] as SocketRecord;
      let same = writer.writeSortColumns(old, false, oldRow, 0) === KEY_WRITTEN;
      if (!same) leavingKeyed = false;
      for (let c = 0; same && c < own; c++) if (oldRow[c] !== keys[i * width + c]) same = false;
      if (findByKeys) {
        for (let c = 0; c < own; c++) leavingKeys[at * width + c] = oldRow[c] as number;
        for (let c = own; c < width; c++) leavingKeys[at * width + c] = keys[i * width + c] as number;
      }
      if (same) {
        inPlace.set(old, e as SocketRecord);
        continue;
      }
    }
    copyRow(keys, i, addedKeys, addedEntries.length, width);
    addedEntries.push(e);
  }
  const added = yield* sortKeyedSteps({ entries: addedEntries, keys: addedKeys }, width);
  const before = { entries: prev.entries as Entry[], keys: keyed.keys };
  let rows: KeyedRows | null = null;
  if (leavingKeyed)
    rows = yield* carryKeyedSteps(
      before,
      yield* sortKeyedSteps({ entries: leaving, keys: leavingKeys }, width),
      null,
      inPlace,
      added,
      width,
    );
  // Not found where its keys say (the same key twice in one table): looked up one by one instead.
  rows ??= yield* carryKeyedSteps(before, null, new Set(leaving), inPlace, added, width);
  if (rows === null) throw new Error('socket order: an entry that leaves was not found');
  return new SocketOrder(input.sockets, tombstones, build.params, {
    entries: rows.entries,
    closed: listed,
    keyed: { keys: rows.keys, keying: keyed.keying },
  });
}

/**
 * The closed entries listed now: those listed before stay, a new one is listed when it passes the
 * filter and handed to `onNew` (an arrival of the order). Pauses every 1,024 tombstones.
 */
function* listTombstonesSteps(
  tombstones: readonly Tombstone[] | null,
  listedBefore: ReadonlySet<ClosedEntry>,
  filter: CompiledFilter | null,
  onNew: (e: ClosedEntry) => void,
): Generator<void, Set<ClosedEntry>> {
  const listed = new Set<ClosedEntry>();
  if (tombstones === null) return listed;
  for (let i = 0; i < tombstones.length; i++) {
    const t = tombstones[i] as Tombstone;
    const e = closedEntryOf(t);
    if (listedBefore.has(e)) listed.add(e);
    else if (filter === null || filter(tombstoneForFilter(t.record))) {
      listed.add(e);
      onNew(e);
    }
    if (i % 1024 === 1023) yield;
  }
  return listed;
}

/**
 * The last order with the arrivals merged in by the comparator (rows without keys): as
 * carryKeyedOrderSteps, comparing records field by field.
 */
function* carryComparedOrderSteps(build: OrderBuild, prev: SocketOrder): Generator<void, SocketOrder> {
  const { input, tombstones, cmp, turnover } = build;
  const filter = input.filter;
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
  const listed = yield* listTombstonesSteps(tombstones, listedBefore, filter, (e) => added.push(e));
  // Last list's entries that stay: not removed, or replaced in place; tombstones still listed.
  const before = prev.entries;
  for (const e of listedBefore) if (!listed.has(e)) removed.add(e);
  const entries = yield* carryAndMergeSteps(before, removed, inPlace, yield* sortSteps(added, cmp), cmp);
  return new SocketOrder(input.sockets, tombstones, build.params, { entries, closed: listed, keyed: null });
}

/** Entries handled between two pauses of the keyed passes (keys written, rows merged or copied): ~1-2 ms at 100k. */
const KEYED_STEP = 4096;

/** Row i of `a` (entry `x`) against row j of `b` (entry `y`): the numbers, then the key text when they are all equal. */
function compareRows(a: Float64Array, i: number, x: Entry, b: Float64Array, j: number, y: Entry, width: number): number {
  let p = i * width;
  let q = j * width;
  for (const end = p + width; p < end; p++, q++) {
    const u = a[p] as number;
    const v = b[q] as number;
    if (u !== v) return u < v ? -1 : 1;
  }
  return x.key < y.key ? -1 : x.key > y.key ? 1 : 0;
}

/** Copies row `from` of `src` to row `to` of `dst`. */
function copyRow(src: Float64Array, from: number, dst: Float64Array, to: number, width: number): void {
  const p = from * width;
  const q = to * width;
  for (let c = 0; c < width; c++) dst[q + c] = src[p + c] as number;
}

/** Keyed rows sorted, in steps: runs of 16 row numbers sorted, merged pairwise, then the rows gathered in order. */
function* sortKeyedSteps(rows: KeyedRows, width: number): Generator<void, KeyedRows> {
  const { entries } = rows;
  const n = entries.length;
  if (n <= 1) return rows;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Runs of 16 by insertion, then merged pairwise: every comparison in plain loops that inline it
  // (a comparator handed to a sort builtin is called, not inlined, ~3x slower here).
  const RUN = 16;
  for (let lo = 0; lo < n; lo += KEYED_STEP) {
    insertionSortRuns(rows, width, order, lo, Math.min(n, lo + KEYED_STEP), RUN);
    if (lo + KEYED_STEP < n) yield;
  }
  let other = new Uint32Array(n);
  let nextPause = KEYED_STEP;
  let done = 0;
  for (let size = RUN; size < n; size *= 2) {
    for (let lo = 0; lo < n; lo += 2 * size) {
      const mid = Math.min(n, lo + size);
      const hi = Math.min(n, lo + 2 * size);
      // A merge of long runs (the last ones span every row) is itself cut into steps.
      const at = { i: lo, j: mid, w: lo };
      while (at.w < hi) {
        const from = at.w;
        mergeRowRuns(rows, width, order, other, at, mid, hi, Math.min(hi, from + (nextPause - done)));
        done += at.w - from;
        if (done >= nextPause) {
          nextPause = done + KEYED_STEP;
          yield;
        }
      }
    }
    const t = order;
    order = other;
    other = t;
  }
  // Presized (written by index): grown by push, a 100k-entry array is copied ~20 times.
  const sorted: Entry[] = new Array<Entry>(n);
  const sortedKeys = new Float64Array(n * width);
  for (let from = 0; from < n; from += KEYED_STEP) {
    gatherRows(rows, width, order, from, Math.min(n, from + KEYED_STEP), sorted, sortedKeys);
    if (from + KEYED_STEP < n) yield;
  }
  return { entries: sorted, keys: sortedKeys };
}

/** order[from, to) sorted in runs of `run` rows (insertion sort). */
function insertionSortRuns(rows: KeyedRows, width: number, order: Uint32Array, from: number, to: number, run: number): void {
  const { entries, keys } = rows;
  for (let lo = from; lo < to; lo += run) {
    const hi = Math.min(to, lo + run);
    for (let k = lo + 1; k < hi; k++) {
      const x = order[k] as number;
      let p = k;
      while (p > lo) {
        const y = order[p - 1] as number;
        if (compareRows(keys, y, entries[y] as Entry, keys, x, entries[x] as Entry, width) <= 0) break;
        order[p] = y;
        p--;
      }
      order[p] = x;
    }
  }
}

/**
 * Row numbers order[at.i, mid) and order[at.j, hi) (each sorted) merged into other from at.w on,
 * until other[limit - 1] is written; `at` is left where the merge goes on.
 */
function mergeRowRuns(
  rows: KeyedRows,
  width: number,
  order: Uint32Array,
  other: Uint32Array,
  at: { i: number; j: number; w: number },
  mid: number,
  hi: number,
  limit: number,
): void {
  const { entries, keys } = rows;
  let { i, j, w } = at;
  while (w < limit && i < mid && j < hi) {
    const a = order[i] as number;
    const b = order[j] as number;
    if (compareRows(keys, b, entries[b] as Entry, keys, a, entries[a] as Entry, width) < 0) {
      other[w++] = b;
      j++;
    } else {
      other[w++] = a;
      i++;
    }
  }
  while (w < limit && i < mid) other[w++] = order[i++] as number;
  while (w < limit && j < hi) other[w++] = order[j++] as number;
  at.i = i;
  at.j = j;
  at.w = w;
}

/** Entries and rows order[from, to) written at [from, to) of `sorted` and rows [from, to) of `sortedKeys`. */
function gatherRows(
  rows: KeyedRows,
  width: number,
  order: Uint32Array,
  from: number,
  to: number,
  sorted: Entry[],
  sortedKeys: Float64Array,
): void {
  for (let k = from; k < to; k++) {
    const i = order[k] as number;
    sorted[k] = rows.entries[i] as Entry;
    copyRow(rows.keys, i, sortedKeys, k, width);
  }
}

/** The first `k` entries of keyed rows in their order, sorted (as selectFirst, by row numbers). */
function selectFirstKeyed(rows: KeyedRows, width: number, k: number): Entry[] {
  const { entries, keys } = rows;
  const cmp = (i: number, j: number): number => compareRows(keys, i, entries[i] as Entry, keys, j, entries[j] as Entry, width);
  return selectFirstIndices(entries.length, k, cmp).map((i) => entries[i] as Entry);
}

/**
 * One pass over the last order `before` and its keys: its entries and rows copied except those in
 * `removed` (or their replacement in `inPlace`, which sorts where they did, on the same row), with
 * `add` (sorted) merged in: one comparison of numbers per entry while arrivals remain. Pauses
 * every KEYED_STEP entries written.
 */
function* carryKeyedSteps(
  before: KeyedRows,
  leaving: KeyedRows | null,
  removed: ReadonlySet<Entry> | null,
  inPlace: ReadonlyMap<SocketRecord, SocketRecord>,
  add: KeyedRows,
  width: number,
): Generator<void, KeyedRows | null> {
  // Nothing changed under this filter (a static host): the same order, no copy.
  if ((leaving?.entries.length ?? removed?.size ?? 0) === 0 && add.entries.length === 0) return before;
  const pass = new KeyedCarry(before, leaving, removed, inPlace, add, width);
  for (;;) {
    const r = pass.run(KEYED_STEP);
    if (r === CARRY_DONE) return { entries: pass.result(), keys: pass.keys };
    if (r === CARRY_MISSING) return null;
    yield;
  }
}

const CARRY_MORE = 0;
const CARRY_DONE = 1;
/** An entry that leaves was not where its keys put it. */
const CARRY_MISSING = 2;

/** carryKeyedSteps' pass, run a number of entries at a time (plain loops: optimised apart from the steps). */
class KeyedCarry {
  /**
   * Presized to every entry before and added, written by index (`written` of them) and trimmed
   * once done: grown by push, a 100k-entry array is copied ~20 times (~2 MB of garbage a refresh).
   */
  private readonly entries: Entry[];
  private written = 0;
  readonly keys: Float64Array;
  private i = 0;
  private j = 0;
  /** Next entry of `leaving` to meet. */
  private r = 0;

  constructor(
    private readonly before: KeyedRows,
    /** Entries that leave, sorted, with their keys: met in the same pass (or else `removed`). */
    private readonly leaving: KeyedRows | null,
    private readonly removed: ReadonlySet<Entry> | null,
    private readonly inPlace: ReadonlyMap<SocketRecord, SocketRecord>,
    private readonly add: KeyedRows,
    private readonly width: number,
  ) {
    this.entries = new Array<Entry>(before.entries.length + add.entries.length);
    this.keys = new Float64Array((before.entries.length + add.entries.length) * width);
  }

  /** The entries written, once run() returned CARRY_DONE. */
  result(): Entry[] {
    this.entries.length = this.written;
    return this.entries;
  }

  /** Copies up to `count` more of the last order's entries (and arrivals before them). */
  run(count: number): number {
    const { before, removed, inPlace, add, width, entries, keys } = this;
    let w = this.written;
    const from = before.entries;
    const fromKeys = before.keys;
    const adding = add.entries;
    const addKeys = add.keys;
    const leaving = this.leaving?.entries ?? [];
    const leavingKeys = this.leaving?.keys ?? fromKeys;
    const n = from.length;
    const m = adding.length;
    const out = leaving.length;
    const end = Math.min(n, this.i + count);
    let i = this.i;
    let j = this.j;
    let r = this.r;
    for (; i < end; i++) {
      let e = from[i] as Entry;
      let leaves = false;
      if (r < out) {
        const c = compareRows(leavingKeys, r, leaving[r] as Entry, fromKeys, i, e, width);
        if (c < 0) return CARRY_MISSING;
        // Equal keys, another entry (the same key twice in one table): e stays; if the one that
        // leaves is never met, the pass ends missing it.
        if (c === 0 && leaving[r] === e) {
          leaves = true;
          r++;
        }
      } else if (removed !== null && removed.has(e)) leaves = true;
      if (leaves) {
        const by = e instanceof ClosedEntry ? undefined : inPlace.get(e);
        if (by === undefined) continue;
        e = by;
      }
      while (j < m && compareRows(addKeys, j, adding[j] as Entry, fromKeys, i, e, width) < 0) {
        copyRow(addKeys, j, keys, w, width);
        entries[w++] = adding[j++] as Entry;
      }
      copyRow(fromKeys, i, keys, w, width);
      entries[w++] = e;
    }
    this.i = i;
    this.r = r;
    this.written = w;
    if (i < n) {
      this.j = j;
      return CARRY_MORE;
    }
    if (r < out) return CARRY_MISSING;
    for (; j < m; j++) {
      copyRow(addKeys, j, keys, w, width);
      entries[w++] = adding[j] as Entry;
    }
    this.j = j;
    this.written = w;
    return CARRY_DONE;
  }
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

/**
 * The keys of every row (filtered records and tombstones) sorted by the comparator alone, field
 * by field: the order the numeric keys must give (a reference for tests).
 */
export function sortedRowKeysByComparator(input: SocketRowsInput): string[] {
  const cmp = totalOrder(input);
  const entries: Entry[] = input.filter === null ? [...input.sockets] : input.sockets.filter(input.filter);
  if (input.tombstones)
    for (const t of input.tracker.currentTombstones())
      if (input.filter === null || input.filter(tombstoneForFilter(t.record))) entries.push(closedEntryOf(t));
  return entries.sort(cmp).map(keyOfEntry);
}

/** Every row of the socket table, sorted (buildSocketRowList, all rows built). */
export function buildSocketRows(input: SocketRowsInput): SocketRow[] {
  const list = buildSocketRowList(input);
  const rows: SocketRow[] = [];
  for (let i = 0; i < list.length; i++) rows.push(list.at(i) as SocketRow);
  return rows;
}
