// Owner mapping off the main thread. The worker keeps its own incremental OwnerScanner across
// refreshes; each refresh sends the wanted socket inodes (a Float64Array, transferred) and gets
// back packed (inode, pid, fd, sharedBy) rows plus a small table of the processes involved, so
// the main thread never walks /proc/<pid>/fd and the reply costs little to receive.

import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { OwnerScanStats, SocketOwner } from '../model/types.js';
import type { AsyncOwnerSource, OwnerLookup } from './collect-snapshot.js';
import type { OwnerScanner } from './read-owners.js';
import { InodeIndex, inodeArrayOf } from './inode-index.js';

/** Message to the worker. */
export interface OwnerScanRequest {
  readonly id: number;
  readonly inodes: Float64Array;
  /** Warm the cache with a full scan (no answer needed): overlaps reading /proc/net. */
  readonly prime?: boolean;
  /**
   * With prime: answer with every socket inode's holder (the whole table), and from then on
   * record what changes, for a later `changes` scan.
   */
  readonly table?: boolean;
  /**
   * A scan for `inodes` answered only with the inodes whose answer may differ from the table
   * of the last `table` prime (rows with pid 0: no holder now). See overlayOwnerChanges.
   */
  readonly changes?: boolean;
  /**
   * A live screen's scan for `inodes`: the first one is answered with the whole table (every
   * socket inode's holder, `table` in the reply), every later one with the rows that changed
   * since the last reply, wanted or not (pid 0: no holder now). The sender keeps the table
   * (OwnerTable) and applies each reply in order.
   */
  readonly delta?: boolean;
}

/** Message from the worker. */
export interface OwnerScanReply {
  readonly id: number;
  /** Rows of 4: inode, pid, fd, sharedBy. */
  readonly rows: Float64Array;
  readonly processes: readonly (readonly [number, OwnerProcess])[];
  readonly stats: OwnerScanStats;
  /** A `delta` request's reply holds the whole table (true) or the changes since the last reply. */
  readonly table?: boolean;
}

export const OWNER_WORKER_MARK = 'sockscope-owner-worker';

/** Run one scan and pack the answer (used by the worker, and directly in tests). */
export function packOwnerScan(scanner: OwnerScanner, request: OwnerScanRequest): OwnerScanReply {
  // The scanner keeps the wanted inodes between scans and diffs the new list against them: no
  // Set of every inode per refresh (the request's array is kept until the next scan).
  const result = scanner.scan(request.prime === true ? null : request.inodes);
  // No SocketOwner object per inode: rows written straight into the transferred array.
  let packed;
  let table: boolean | undefined;
  if (request.prime === true && request.table === true) {
    packed = result.packAllOwners();
    scanner.trackChanges();
  } else if (request.delta === true) {
    // A steady refresh at 100k changes a few hundred rows: packing, sending and indexing all
    // 100k every refresh cost ~40 ms here and ~15 ms on the main thread.
    table = !scanner.tracking;
    if (table) {
      // In the tables' order: the live screen's join then finds each next row beside the last.
      packed = result.packAllOwners(request.inodes);
      scanner.trackChanges();
    } else packed = scanner.packChanges();
  } else if (request.prime !== true && request.changes === true) packed = result.packChangedOwners();
  else packed = result.packOwners(request.inodes);
  return { id: request.id, rows: packed.rows, processes: packed.processes, stats: result.stats, ...(table === undefined ? {} : { table }) };
}

/**
 * A live screen's owner table on its side of the owner worker: every socket inode's holder,
 * brought up to date by each `delta` reply in the order they come (see OwnerScanRequest.delta).
 * Rows of 4 (inode, pid, fd, sharedBy) found through an InodeIndex; a row whose socket lost its
 * holder keeps pid 0 until the table is compacted, once such rows are a quarter of those stored
 * (or before the rows grow). Under churn every closed socket leaves such a row: compacted only
 * at half, the rows and their index had grown to 4x the live ones (~25 MB at 100k sockets).
 */
export class OwnerTable {
  /** The rows, their index and the processes they name: what a lookup reads (OwnerTableLookup). */
  private readonly t: OwnerRows = { rows: new Float64Array(0), used: 0, index: new InodeIndex(0), procs: new Map(), applied: 0 };
  private dead = 0;
  /** Slots of `index` (a lower bound): it is rebuilt before holding more than half as many rows. */
  private indexCapacity = 1024;

  /** Apply one reply: the whole table (`reply.table`) or its changes. */
  apply(reply: OwnerScanReply): void {
    this.t.applied += 1;
    if (reply.table === true) {
      this.t.procs.clear();
      this.t.rows = reply.rows.slice();
      this.t.used = reply.rows.length;
      this.dead = 0;
      this.reindex();
    } else {
      const { rows } = reply;
      for (let i = 0; i + 3 < rows.length; i += 4) {
        const inode = rows[i]!;
        if (inode === 0) continue;
        const at = this.t.index.get(inode);
        const pid = rows[i + 1]!;
        if (at >= 0) {
          if (this.t.rows[at + 1] === 0 && pid !== 0) this.dead -= 1;
          else if (this.t.rows[at + 1] !== 0 && pid === 0) this.dead += 1;
          this.t.rows.set(rows.subarray(i, i + 4), at);
        } else if (pid !== 0) this.append(rows.subarray(i, i + 4));
      }
      if (this.dead > 1024 && this.dead * 4 > this.t.used / 4) this.compact();
    }
    for (const [pid, info] of reply.processes) this.t.procs.set(pid, info);
  }

  /** Lookups over the table as it is now (answers change when a later reply is applied). */
  lookupWith(stats: OwnerScanStats): OwnerLookup {
    return new OwnerTableLookup(this.t, stats);
  }

  /** Rows held (live, not counting those that lost their holder). */
  get size(): number {
    return this.t.used / 4 - this.dead;
  }

  /** Rows stored (with those that lost their holder) and room for rows: what the table holds in memory. */
  get footprint(): { readonly stored: number; readonly capacity: number; readonly indexSlots: number } {
    return { stored: this.t.used / 4, capacity: this.t.rows.length / 4, indexSlots: this.t.index.slots };
  }

  private append(row: Float64Array): void {
    // Full: the rows of lost holders go first when they are an eighth of the table; else it grows by half.
    if (this.t.used + 4 > this.t.rows.length && this.dead * 8 > this.t.used / 4) this.compact();
    if (this.t.used + 4 > this.t.rows.length) {
      const grown = new Float64Array(Math.max(4096, 4 * Math.ceil((this.t.rows.length / 4) * 1.5)));
      grown.set(this.t.rows.subarray(0, this.t.used));
      this.t.rows = grown;
    }
    this.t.rows.set(row, this.t.used);
    this.t.index.getOrSet(row[0]!, this.t.used);
    this.t.used += 4;
    // The index is sized for the rows it was built with: rebuild it before it fills up.
    if (this.t.used / 4 > this.indexCapacity / 2) this.reindex();
  }

  /** Drop the rows without a holder, and the processes no row names. */
  private compact(): void {
    const rows = this.t.rows;
    let n = 0;
    const pids = new Set<number>();
    for (let i = 0; i + 3 < this.t.used; i += 4) {
      if (rows[i + 1] === 0) continue;
      if (n !== i) rows.copyWithin(n, i, i + 4);
      pids.add((rows[n + 1] as number) | 0);
      n += 4;
    }
    this.t.used = n;
    this.dead = 0;
    for (const pid of [...this.t.procs.keys()]) if (!pids.has(pid)) this.t.procs.delete(pid);
    this.reindex();
  }

  private reindex(): void {
    const count = this.t.used / 4;
    this.t.index = new InodeIndex(count * 2); // >= 4 slots a row: rebuilt when half full
    this.indexCapacity = Math.max(1024, count * 4);
    for (let i = 0; i + 3 < this.t.used; i += 4) this.t.index.getOrSet(this.t.rows[i]!, i);
  }
}

interface OwnerProcess {
  readonly command: string;
  readonly commandLine: string;
  readonly uid: number;
}

/** An OwnerTable's state, shared with its lookups. */
interface OwnerRows {
  rows: Float64Array;
  used: number;
  index: InodeIndex;
  readonly procs: Map<number, OwnerProcess>;
  /** Replies applied so far: a lookup's cached process is read again after one. */
  applied: number;
}

/**
 * Lookups over an OwnerTable as it is now. A class, not closures made by every lookupWith: V8
 * keeps a function's optimised code for its next closure only while one holding it is alive, so
 * closures made anew each refresh were compiled again after most garbage collections (`holds`
 * and `rowOf` 8 times each in 35 s of the live dashboard at 100k sockets).
 */
class OwnerTableLookup implements OwnerLookup {
  // The row found last: a join asks lookup(inode) then sharedBy(inode) of one socket, and asks
  // for the sockets in about the order of the table's rows (the whole table came in the tables'
  // order), so the row after it is tried before the index (a hash probe into 100k rows is a
  // cache miss: ~40 ms a refresh at 100k). Checked against the rows: a reply applied in between
  // may have moved them.
  private lastRow = -1;
  private lastPid = -1;
  private lastProc: OwnerProcess | undefined = undefined;
  private procsSeen = -1;

  constructor(
    private readonly t: OwnerRows,
    readonly stats: OwnerScanStats,
  ) {}

  /** The process `pid` (the last one asked for is remembered until a reply is applied). */
  get(pid: number): OwnerProcess | undefined {
    if (pid !== this.lastPid || this.procsSeen !== this.t.applied) {
      this.lastPid = pid;
      this.lastProc = this.t.procs.get(pid);
      this.procsSeen = this.t.applied;
    }
    return this.lastProc;
  }

  lookup(inode: number): SocketOwner | null {
    const i = this.rowOf(inode);
    if (i < 0) return null;
    const rows = this.t.rows;
    // Small integers (`| 0`): see unpackOwnerScan.
    const pid = (rows[i + 1] as number) | 0;
    const p = this.get(pid)!;
    return { pid, command: p.command, commandLine: p.commandLine, uid: p.uid, fd: (rows[i + 2] as number) | 0 };
  }

  sharedBy(inode: number): number {
    const i = this.rowOf(inode);
    return i < 0 ? 0 : (this.t.rows[i + 3] as number) | 0;
  }

  // The refresh join's check of a reused record, without building its owner (OwnerLookup.holds).
  holds(inode: number, owner: SocketOwner | null, sharedBy: number): boolean {
    const i = this.rowOf(inode);
    if (i < 0) return owner === null && sharedBy === 0;
    return owner !== null && sameRow(this.t.rows, i, this, owner, sharedBy);
  }

  private rowOf(inode: number): number {
    if (inode === 0) return -1;
    const { rows, used, index } = this.t;
    let at = this.lastRow;
    if (at < 0 || rows[at] !== inode) {
      const next = at + 4;
      at = at >= 0 && next < used && rows[next] === inode ? next : index.get(inode);
      if (at < 0) return -1;
      this.lastRow = at;
    }
    return this.get((rows[at + 1] as number) | 0) === undefined ? -1 : at;
  }
}

/**
 * Turn a packed reply back into lookups. Owners of one process share their strings; the rows are
 * found through an InodeIndex (typed arrays, no Map of 100k entries) and an owner object is made
 * when asked for, so the reply costs one object per socket that is looked up.
 */
export function unpackOwnerScan(reply: OwnerScanReply): OwnerLookup {
  const procs = new Map(reply.processes);
  const { rows } = reply;
  const byInode = new InodeIndex(rows.length / 4);
  for (let i = 0; i + 3 < rows.length; i += 4) {
    const inode = rows[i] as number;
    if (inode !== 0 && procs.has((rows[i + 1] as number) | 0)) byInode.getOrSet(inode, i);
  }
  // pid, fd and sharedBy as small integers (`| 0`: pid < 2^22, fd and sharedBy < 2^31). A value
  // read from a Float64Array is a double to V8: stored as is into a record whose field holds
  // small integers, it changes that field to a double in every record of the same shape — one
  // shared socket made V8 migrate all 100k records of a snapshot (~0.25–0.8 s).
  // A join asks lookup(inode) then sharedBy(inode): the row found first is kept for the second.
  // The rows come in the order of the inodes asked for, which is the order a join walks the
  // snapshot in: the row after the last one found is tried before the index (sequential reads
  // instead of a random probe per socket).
  let lastInode = 0;
  let lastRow = -1;
  let nextRow = 0;
  const rowOf = (inode: number): number => {
    if (inode !== lastInode) {
      lastInode = inode;
      if (inode === 0) lastRow = -1;
      else if (nextRow + 3 < rows.length && rows[nextRow] === inode && procs.has((rows[nextRow + 1] as number) | 0)) lastRow = nextRow;
      else lastRow = byInode.get(inode);
      if (lastRow >= 0) nextRow = lastRow + 4;
    }
    return lastRow;
  };
  return {
    stats: reply.stats,
    lookup(inode) {
      const i = rowOf(inode);
      if (i < 0) return null;
      const pid = (rows[i + 1] as number) | 0;
      const p = procs.get(pid)!;
      return { pid, command: p.command, commandLine: p.commandLine, uid: p.uid, fd: (rows[i + 2] as number) | 0 };
    },
    sharedBy(inode) {
      const i = rowOf(inode);
      return i < 0 ? 0 : (rows[i + 3] as number) | 0;
    },
    holds(inode, owner, sharedBy) {
      const i = rowOf(inode);
      if (i < 0) return owner === null && sharedBy === 0;
      return owner !== null && sameRow(rows, i, procs, owner, sharedBy);
    },
  };
}

/** Whether packed row `i` (inode, pid, fd, sharedBy) answers `owner` and `sharedBy` (see OwnerLookup.holds). */
function sameRow(
  rows: Float64Array,
  i: number,
  procs: { get(pid: number): OwnerProcess | undefined },
  owner: SocketOwner,
  sharedBy: number,
): boolean {
  const pid = (rows[i + 1] as number) | 0;
  if (owner.pid !== pid || owner.fd !== ((rows[i + 2] as number) | 0) || sharedBy !== ((rows[i + 3] as number) | 0)) return false;
  const p = procs.get(pid);
  return p !== undefined && p.uid === owner.uid && p.command === owner.command && p.commandLine === owner.commandLine;
}

/**
 * A `changes` reply (see OwnerScanRequest) over the table it updates: its rows answer for their
 * inodes (pid 0: none), `base` for every other inode; the stats are the changes scan's.
 */
export function overlayOwnerChanges(base: OwnerLookup, changes: OwnerScanReply): OwnerLookup {
  const { rows } = changes;
  // Nothing changed (the common case of a quiet host): the table as it is.
  if (rows.length === 0)
    return {
      stats: changes.stats,
      lookup: (inode) => base.lookup(inode),
      sharedBy: (inode) => base.sharedBy(inode),
      holds: (inode, owner, sharedBy) => base.holds?.(inode, owner, sharedBy) ?? false,
    };
  const procs = new Map(changes.processes);
  const byInode = new InodeIndex(rows.length / 4);
  for (let i = 0; i + 3 < rows.length; i += 4) if (rows[i] !== 0) byInode.getOrSet(rows[i] as number, i);
  return {
    stats: changes.stats,
    lookup(inode) {
      const i = inode === 0 ? -1 : byInode.get(inode);
      if (i < 0) return base.lookup(inode);
      const pid = (rows[i + 1] as number) | 0;
      const p = procs.get(pid);
      if (p === undefined) return null;
      return { pid, command: p.command, commandLine: p.commandLine, uid: p.uid, fd: (rows[i + 2] as number) | 0 };
    },
    sharedBy(inode) {
      const i = inode === 0 ? -1 : byInode.get(inode);
      if (i < 0) return base.sharedBy(inode);
      return procs.has((rows[i + 1] as number) | 0) ? (rows[i + 3] as number) | 0 : 0;
    },
    holds(inode, owner, sharedBy) {
      const i = inode === 0 ? -1 : byInode.get(inode);
      if (i >= 0) {
        if (!procs.has((rows[i + 1] as number) | 0)) return owner === null && sharedBy === 0;
        return owner !== null && sameRow(rows, i, procs, owner, sharedBy);
      }
      // false only costs the caller a lookup.
      return base.holds?.(inode, owner, sharedBy) ?? false;
    },
  };
}

/**
 * `--once`'s way to the owners: the whole table from a first full scan started at once (it runs
 * while the tables are read and parsed), then a scan for the snapshot's inodes that answers only
 * what changed since (a few rows instead of every socket's), laid over the table with
 * overlayOwnerChanges.
 */
export interface OwnerTableSource {
  /** A full scan; resolves with every socket inode's holder as found (never rejects). */
  primeTable(): Promise<OwnerLookup>;
  /** A scan for `inodes` (socket inodes, none 0) after primeTable: the changes since the table (never rejects). */
  scanChanges(inodes: Float64Array): Promise<OwnerScanReply>;
}

/** The scanner in this thread, behind the async interface (fallback, tests). */
export function createInlineOwnerSource(scanner: OwnerScanner): AsyncOwnerSource & OwnerTableSource {
  let nextId = 1;
  return {
    scan: (wanted) => Promise.resolve(scanner.scan(wanted)),
    // The first full scan runs in this thread: after the first snapshot, so its frame is drawn first.
    prime: () =>
      new Promise<void>((resolve) => {
        scanner.scan(null);
        resolve();
      }),
    primeAfterFirstSnapshot: true,
    primeTable: () =>
      new Promise((resolve) => {
        resolve(unpackOwnerScan(packOwnerScan(scanner, { id: nextId++, inodes: new Float64Array(0), prime: true, table: true })));
      }),
    scanChanges: (inodes) =>
      new Promise((resolve) => {
        resolve(packOwnerScan(scanner, { id: nextId++, inodes, changes: true }));
      }),
    close: () => Promise.resolve(),
  };
}

/**
 * Single-file bundle (bin/build-bundle.mjs): there is no owner-worker.js beside the bundle, so its
 * entry starts the worker on the bundle file itself and sets that path here. The tsc build never
 * sets it and uses the compiled owner-worker.js next to this module.
 */
let workerPathOverride: string | null = null;

/** Used only by the single-file bundle's entry (see above). @public */
export function setOwnerWorkerPath(path: string | null): void {
  workerPathOverride = path;
}

/** Path of the compiled worker next to this module, or null when running from sources. */
export function ownerWorkerPath(): string | null {
  if (workerPathOverride !== null) return workerPathOverride;
  const url = new URL('./owner-worker.js', import.meta.url);
  return fs.existsSync(url) ? url.pathname : null;
}

/**
 * A worker thread that owns an OwnerScanner over `procRoot`. Falls back to `fallback` (the
 * same scanner in this thread) when the worker cannot start or dies.
 */
export function createWorkerOwnerSource(procRoot: string, fallback: () => OwnerScanner): AsyncOwnerSource & OwnerTableSource {
  const path = ownerWorkerPath();
  if (path === null) return createInlineOwnerSource(fallback());
  // The thread starts on the first prime or scan: a new isolate costs ~60 ms of CPU, which the
  // dashboard's first frame should not share a 2-core machine with (primeAfterFirstSnapshot).
  let worker: Worker | null = null;
  let started = false;
  let inlineScanner: OwnerScanner | null = null;
  let inline: (AsyncOwnerSource & OwnerTableSource) | null = null;
  let nextId = 1;
  /** Requests sent and not answered: what they asked (their inodes are sent away: a copy is kept). */
  const pending = new Map<number, { readonly resolve: (reply: OwnerScanReply) => void; readonly request: OwnerScanRequest }>();
  /** The live screen's owner table, brought up to date by every `delta` reply as it arrives. */
  const table = new OwnerTable();
  const settle = (
    p: { readonly resolve: (reply: OwnerScanReply) => void; readonly request: OwnerScanRequest },
    reply: OwnerScanReply,
  ): void => {
    if (p.request.delta === true) table.apply(reply);
    p.resolve(reply);
  };
  const fail = (): void => {
    // The worker died: finish what is pending in this thread, and keep going there.
    worker = null;
    inlineScanner ??= fallback();
    inline ??= createInlineOwnerSource(inlineScanner);
    for (const [id, p] of pending) {
      pending.delete(id);
      // A fresh scanner answers a delta request with its whole table: the table starts again.
      settle(p, packOwnerScan(inlineScanner, p.request));
    }
  };
  const start = (): void => {
    if (started) return;
    started = true;
    let w: Worker;
    try {
      w = new Worker(path, { workerData: { mark: OWNER_WORKER_MARK, procRoot } });
    } catch {
      fail(); // scans go inline from here
      return;
    }
    w.unref();
    w.on('message', (reply: OwnerScanReply) => {
      const p = pending.get(reply.id);
      if (p === undefined) return;
      pending.delete(reply.id);
      settle(p, reply);
    });
    w.on('error', fail);
    w.on('exit', () => {
      if (worker !== null) fail();
    });
    worker = w;
  };
  /** Send one request; null when the worker is gone (then the caller goes inline). */
  const request = (
    inodes: Float64Array,
    flags: Pick<OwnerScanRequest, 'prime' | 'table' | 'changes' | 'delta'>,
  ): Promise<OwnerScanReply> | null => {
    start();
    if (worker === null) return null;
    const id = nextId++;
    const sent = { id, inodes, ...flags } satisfies OwnerScanRequest;
    return new Promise((resolve) => {
      pending.set(id, { resolve, request: { ...sent, inodes: inodes.slice() } });
      worker?.postMessage(sent, [inodes.buffer as ArrayBuffer]);
    });
  };
  const inlineSource = (): AsyncOwnerSource & OwnerTableSource => {
    inlineScanner ??= fallback();
    return (inline ??= createInlineOwnerSource(inlineScanner));
  };
  return {
    primeAfterFirstSnapshot: true,
    prime() {
      // The reply carries no rows: it only says the full scan is done. A worker that dies first
      // hands the prime to fail() like any pending scan (done inline), so it still resolves.
      const sent = request(new Float64Array(0), { prime: true });
      return sent === null ? Promise.resolve() : sent.then(() => undefined);
    },
    scan(wanted) {
      // Only what changed comes back; the answer is the table kept here (valid until the next scan).
      const sent = request(inodeArrayOf(wanted), { delta: true });
      return sent === null ? inlineSource().scan(wanted) : sent.then((reply) => table.lookupWith(reply.stats));
    },
    primeTable() {
      const sent = request(new Float64Array(0), { prime: true, table: true });
      return sent === null ? inlineSource().primeTable() : sent.then(unpackOwnerScan);
    },
    scanChanges(inodes) {
      return request(inodes, { changes: true }) ?? inlineSource().scanChanges(inodes);
    },
    async close() {
      const w = worker;
      worker = null;
      if (w !== null) await w.terminate();
    },
  };
}
