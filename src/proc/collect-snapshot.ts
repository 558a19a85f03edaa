// collect*: read every /proc/net table once, join owners and user names, and hand back one
// immutable Snapshot. This is the only place that turns files into a snapshot; everything
// after it (tracker, aggregation, filters, views) is pure.

import type { KernelCounters, OwnerScanStats, Protocol, Snapshot, SocketEntry, SocketOwner, SocketRecord } from '../model/types.js';
import { describeReadError, readTextResultAsync, type ProcFs } from './proc-fs.js';
import { InodeIndex } from './inode-index.js';
import { isPendingRecord, parseInetTable, parseInetTableReusing, type PreviousTable } from './parse-inet.js';
import { parseUnixTable } from './parse-unix.js';
import { parseSnmpTable } from './parse-counters.js';
import type { OwnerScanner } from './read-owners.js';

/** The /proc/net tables, in the order they are read. Missing ones (IPv6 disabled) are skipped. */
export const NET_TABLES: readonly Protocol[] = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix'];

export interface CollectDeps {
  readonly procFs: ProcFs;
  /** null when owners are not wanted (--no-processes). */
  readonly owners: OwnerScanner | null;
  readonly userName: (uid: number) => string;
  readonly hostname: () => string;
  /** Wall clock, ms since epoch (takenAtMs). */
  readonly now: () => number;
  /** Monotonic clock for cost measurements, ms. */
  readonly monotonicMs: () => number;
  /** Which tables to read; default NET_TABLES. */
  readonly protocols?: readonly Protocol[];
  /**
   * The caller will collect again (the dashboard's collect worker): keep the lines for reuse from
   * the first snapshot on, instead of from the second (see TableMemory).
   */
  readonly repeating?: boolean;
}

const NO_OWNERS: OwnerScanStats = {
  enabled: false,
  unreadableProcesses: 0,
  scannedProcesses: 0,
  linksRead: 0,
  durationMs: 0,
};

/** Owners wanted, not known yet (see LiveCollector). */
const PENDING_OWNERS: OwnerScanStats = { ...NO_OWNERS, pending: true };

/** Read /proc/net/snmp and /proc/net/netstat into one flat counter map ("Tcp.ActiveOpens"). */
export function readKernelCounters(procFs: ProcFs): KernelCounters {
  return countersFrom(procFs.readText('net/snmp'), procFs.readText('net/netstat'));
}

/** The same with async reads (over --ssh). */
export async function readKernelCountersAsync(procFs: ProcFs): Promise<KernelCounters> {
  const [snmp, netstat] = await Promise.all([procFs.readTextAsync('net/snmp'), procFs.readTextAsync('net/netstat')]);
  return countersFrom(snmp, netstat);
}

function countersFrom(snmp: string | null, netstat: string | null): KernelCounters {
  return {
    ...(snmp === null ? {} : parseSnmpTable(snmp)),
    ...(netstat === null ? {} : parseSnmpTable(netstat)),
  };
}

/** Join an entry with its owner. Fields are listed, not spread: ~4x cheaper at 100k sockets. */
function toRecord(e: SocketEntry, owner: SocketOwner | null, sharedBy: number, userName: (uid: number) => string): SocketRecord {
  // UNIX sockets carry no uid in /proc/net/unix (-1): use the owning process's uid when known.
  const uid = e.uid >= 0 ? e.uid : (owner?.uid ?? -1);
  return {
    key: e.key,
    protocol: e.protocol,
    state: e.state,
    localAddress: e.localAddress,
    localPort: e.localPort,
    remoteAddress: e.remoteAddress,
    remotePort: e.remotePort,
    recvQ: e.recvQ,
    sendQ: e.sendQ,
    timer: e.timer,
    timerMs: e.timerMs,
    retransmits: e.retransmits,
    uid,
    inode: e.inode,
    rtoMs: e.rtoMs,
    atoMs: e.atoMs,
    cwnd: e.cwnd,
    ssthresh: e.ssthresh,
    drops: e.drops,
    path: e.path,
    unixType: e.unixType,
    owner,
    sharedBy,
    user: uid >= 0 ? userName(uid) : '',
  };
}

/** What an owner scan answers, whether it ran here or in the owner worker. */
export interface OwnerLookup {
  readonly stats: OwnerScanStats;
  lookup(inode: number): SocketOwner | null;
  sharedBy(inode: number): number;
}

/** Socket inodes held by some file (0 = TIME_WAIT, orphans, request socks: nobody to find). */
export function wantedInodes(entries: readonly SocketEntry[]): Set<number> {
  const wanted = new Set<number>();
  for (const e of entries) if (e.inode !== 0) wanted.add(e.inode);
  return wanted;
}

/** One table's text, or why it could not be read (null error and text: missing, e.g. IPv6 disabled). */
interface TableText {
  readonly protocol: Protocol;
  readonly text: string | null;
  readonly error: string | null;
}

/**
 * Records of the previous snapshot per inet table with their lines' text after "sl:" (see
 * parseInetTableReusing). Kept per ProcFs (one per proc root / namespace view), so every caller
 * that collects repeatedly (dashboard, serve, streams) reuses without a new parameter. Only a
 * cache: a record is reused when its line is byte-for-byte the same and its owner unchanged.
 * The first snapshot of a ProcFs keeps nothing (it only marks the ProcFs as seen): a one-shot
 * `--once` then pays neither the line keys nor the table text they would keep alive.
 */
interface TableMemoryBuilder {
  readonly lines: string[];
  readonly entries: SocketRecord[];
}
type TableMemory = Partial<Record<Protocol, PreviousTable<SocketRecord>>>;
const memories = new WeakMap<ProcFs, TableMemory>();
const EMPTY_MEMORY: PreviousTable<SocketRecord> = { lines: [], entries: [] };
/** inet entries are parsed in the record's shape and joined in place (no second object per socket). */
const PENDING = { pendingRecords: true } as const;

/** Rough number of lines in a table text (tcp lines are 150 characters), to size the index. */
function estimatedLines(texts: readonly TableText[]): number {
  let chars = 0;
  for (const t of texts) if (t.text !== null) chars += t.text.length;
  return Math.ceil(chars / 100);
}

interface ParsedTables {
  /** Fresh entries, or records reused from the previous snapshot (they have `owner`). */
  readonly entries: (SocketEntry | SocketRecord)[];
  /** Per entry: its line after "sl:" (inet tables), or null (unix). */
  readonly lines: (string | null)[];
  readonly files: Record<string, number>;
  readonly unreadable: Record<string, string>;
  readonly skippedLines: number;
  readonly duplicates: number;
}

/** errno codes that mean "this table does not exist here", not worth a warning. */
function isMissing(error: string): boolean {
  return error === 'ENOENT' || error === 'ENOTDIR';
}

function readTablesSync(procFs: ProcFs, protocols: readonly Protocol[]): TableText[] {
  return protocols.map((protocol) => {
    const text = procFs.readText(`net/${protocol}`);
    return { protocol, text, error: text === null ? (procFs.lastError() ?? 'EIO') : null };
  });
}

/** Every table at once: each read(2) runs in libuv's pool, so tcp and tcp6 are produced in parallel. */
function readTablesAsync(procFs: ProcFs, protocols: readonly Protocol[]): Promise<TableText[]> {
  return Promise.all(
    protocols.map(async (protocol) => {
      const { text, error } = await readTextResultAsync(procFs, `net/${protocol}`);
      return { protocol, text, error };
    }),
  );
}

/**
 * Parse every table, reusing the previous snapshot's records for unchanged lines, and drop
 * duplicates: the kernel prints /proc/net/tcp a read(2) at a time and resumes its walk of the
 * socket hash at each read, so under churn a socket can be listed twice (possibly in two states).
 * The later line wins. Identity: the inode (a socket inode is unique on the machine), or the key
 * for inode 0 (TIME_WAIT, request socks, orphans).
 */
function parseTables(texts: readonly TableText[], memory: TableMemory | null): ParsedTables {
  const entries: (SocketEntry | SocketRecord)[] = [];
  const lines: (string | null)[] = [];
  const files: Record<string, number> = {};
  const unreadable: Record<string, string> = {};
  const byInode = new InodeIndex(estimatedLines(texts));
  const byKey = new Map<string, number>();
  let skippedLines = 0;
  let duplicates = 0;
  for (const { protocol, text, error } of texts) {
    if (text === null) {
      if (error !== null && !isMissing(error)) unreadable[`net/${protocol}`] = describeReadError(error);
      continue;
    }
    let sockets: readonly (SocketEntry | SocketRecord)[];
    let tableLines: readonly string[] | null = null;
    let skipped: number;
    if (protocol === 'unix') {
      const parsed = parseUnixTable(text);
      sockets = parsed.sockets;
      skipped = parsed.skipped;
    } else if (memory === null) {
      const parsed = parseInetTable(text, protocol, PENDING);
      sockets = parsed.sockets;
      skipped = parsed.skipped;
    } else {
      const parsed = parseInetTableReusing(text, protocol, memory[protocol] ?? EMPTY_MEMORY, PENDING);
      sockets = parsed.sockets;
      tableLines = parsed.lines;
      skipped = parsed.skipped;
    }
    for (let i = 0; i < sockets.length; i++) {
      const e = sockets[i]!;
      const line = tableLines === null ? null : tableLines[i]!;
      let earlier: number;
      if (e.inode !== 0) earlier = byInode.getOrSet(e.inode, entries.length);
      else {
        earlier = byKey.get(e.key) ?? -1;
        if (earlier < 0) byKey.set(e.key, entries.length);
      }
      if (earlier >= 0) {
        entries[earlier] = e;
        lines[earlier] = line;
        duplicates++;
        continue;
      }
      entries.push(e);
      lines.push(line);
    }
    if (skipped > 0) {
      files[`net/${protocol}`] = skipped;
      skippedLines += skipped;
    }
  }
  return { entries, lines, files, unreadable, skippedLines, duplicates };
}

function sameOwner(a: SocketOwner | null, b: SocketOwner | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.pid === b.pid && a.fd === b.fd && a.uid === b.uid && a.command === b.command && a.commandLine === b.commandLine;
}

function assemble(
  deps: Pick<CollectDeps, 'hostname' | 'userName' | 'procFs' | 'repeating'>,
  takenAtMs: number,
  parsed: ParsedTables,
  counters: KernelCounters,
  owners: OwnerLookup | null,
  cost: Omit<Snapshot['cost'], 'rows'>,
  ownerStats: OwnerScanStats = owners?.stats ?? NO_OWNERS,
): Snapshot {
  const { entries, lines } = parsed;
  const sockets: SocketRecord[] = new Array<SocketRecord>(entries.length);
  const memory: Partial<Record<Protocol, TableMemoryBuilder>> = {};
  const remember = deps.repeating === true || memories.has(deps.procFs); // see TableMemory: not on the first snapshot
  let reused = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const owner = owners === null || e.inode === 0 ? null : owners.lookup(e.inode);
    const sharedBy = owners === null || e.inode === 0 ? 0 : owners.sharedBy(e.inode);
    const known = (e as Partial<SocketRecord>).owner;
    let record: SocketRecord;
    if (isPendingRecord(e)) {
      // Parsed this time and not published yet: join in place (same result as toRecord).
      if (e.uid < 0 && owner !== null) e.uid = owner.uid;
      e.owner = owner;
      e.sharedBy = sharedBy;
      e.user = e.uid >= 0 ? deps.userName(e.uid) : '';
      record = e;
    } else if (known !== undefined && sameOwner(known, owner) && (e as SocketRecord).sharedBy === sharedBy) {
      record = e as SocketRecord;
      reused++;
    } else record = toRecord(e, owner, sharedBy, deps.userName);
    sockets[i] = record;
    const line = lines[i] ?? null;
    if (line !== null && remember) {
      const table = (memory[record.protocol] ??= { lines: [], entries: [] });
      table.lines.push(line);
      table.entries.push(record);
    }
  }
  memories.set(deps.procFs, memory);
  const unreadable = Object.keys(parsed.unreadable).length > 0 ? { unreadable: parsed.unreadable } : {};
  return {
    takenAtMs,
    host: deps.hostname(),
    sockets,
    counters,
    issues: { skippedLines: parsed.skippedLines, files: parsed.files, ...unreadable },
    owners: ownerStats,
    cost: { ...cost, rows: entries.length, reusedRows: reused, duplicateRows: parsed.duplicates },
  };
}

/** CPU time of the whole process (all threads), ms. */
function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function withCpu(snapshot: Snapshot, cpuMs: number): Snapshot {
  (snapshot.cost as { cpuMs?: number }).cpuMs = cpuMs;
  return snapshot;
}

/** One snapshot, synchronously (for --once and tests). */
export function collectSnapshot(deps: CollectDeps): Snapshot {
  const { procFs, monotonicMs } = deps;
  const takenAtMs = deps.now();
  const t0 = monotonicMs();
  const cpu0 = processCpuMs();
  const texts = readTablesSync(procFs, deps.protocols ?? NET_TABLES);
  const counters = readKernelCounters(procFs);
  const t1 = monotonicMs();
  const parsed = parseTables(texts, memories.get(procFs) ?? null);
  const t2 = monotonicMs();
  const owners = deps.owners === null ? null : deps.owners.scan(wantedInodes(parsed.entries));
  const t3 = monotonicMs();
  const snapshot = assemble(deps, takenAtMs, parsed, counters, owners, { readMs: t1 - t0, parseMs: t2 - t1, ownersMs: t3 - t2 });
  return withCpu(snapshot, processCpuMs() - cpu0);
}

/** Owner mapping that may run elsewhere (a worker thread), answering asynchronously. */
export interface AsyncOwnerSource {
  scan(wanted: ReadonlySet<number>): Promise<OwnerLookup>;
  /**
   * Optional: start a full scan now, so that it runs while the tables are read and parsed.
   * Resolves (never rejects) when it is done: a scan asked after that finds a warm cache.
   */
  prime?(): Promise<void>;
  /**
   * The prime competes with the table reads (an inline scan on the main thread, a listing over
   * the same ssh session): a live collector starts it only once its first snapshot is taken.
   */
  readonly primeAfterFirstSnapshot?: boolean;
  close(): Promise<void>;
}

export interface AsyncCollectDeps extends Omit<CollectDeps, 'owners'> {
  readonly owners: AsyncOwnerSource | null;
  /**
   * Owners are wanted but not asked for (`owners` is then null): the snapshot's owner stats say
   * `pending` (the header's "owners: scanning…").
   */
  readonly ownersPending?: boolean;
}

/**
 * One snapshot without blocking the event loop on the expensive parts: the kernel's time to
 * produce the files runs in libuv's pool, owner mapping in a worker. Only parsing and the join
 * run on the calling thread.
 */
export async function collectSnapshotAsync(deps: AsyncCollectDeps): Promise<Snapshot> {
  const { procFs, monotonicMs } = deps;
  const takenAtMs = deps.now();
  const t0 = monotonicMs();
  const cpu0 = processCpuMs();
  const protocols = deps.protocols ?? NET_TABLES;
  const [texts, snmp, netstat] = await Promise.all([
    readTablesAsync(procFs, protocols),
    procFs.readTextAsync('net/snmp'),
    procFs.readTextAsync('net/netstat'),
  ]);
  const t1 = monotonicMs();
  const parsed = parseTables(texts, memories.get(procFs) ?? null);
  const counters = countersFrom(snmp, netstat);
  const t2 = monotonicMs();
  const owners = deps.owners === null ? null : await deps.owners.scan(wantedInodes(parsed.entries));
  const t3 = monotonicMs();
  const cost = { readMs: t1 - t0, parseMs: t2 - t1, ownersMs: t3 - t2 };
  const snapshot = assemble(
    deps,
    takenAtMs,
    parsed,
    counters,
    owners,
    cost,
    owners === null && deps.ownersPending === true ? PENDING_OWNERS : undefined,
  );
  return withCpu(snapshot, processCpuMs() - cpu0);
}

/** Snapshots for a live screen whose first frame must not wait on the owner scan. */
export interface LiveCollector {
  /**
   * Start the owner source's first full scan (once); resolves when it is done and owners can be
   * joined without waiting on it (at once when there are no owners or the source has no prime).
   */
  prime(): Promise<void>;
  /** One snapshot: with owners once the prime is done, before that without them (`owners.pending`). */
  collect(): Promise<Snapshot>;
}

/**
 * The dashboard's collection: the owner worker's first full fd scan takes from tens of ms (1k
 * sockets) to seconds (100k, or a machine with many processes), reading the tables a few ms to a
 * few hundred. Until that scan is done, snapshots are taken without owners so the first frame
 * (rows, bars, counts) is drawn at once; the caller refreshes when prime() resolves.
 */
export function createLiveCollector(deps: AsyncCollectDeps): LiveCollector {
  const source = deps.owners;
  let ready = source?.prime === undefined;
  let primed: Promise<void> | null = null;
  const withoutOwners: AsyncCollectDeps = { ...deps, owners: null, ownersPending: true };
  // Sources whose prime would hold back the first snapshot (primeAfterFirstSnapshot) start it on
  // a timer after that snapshot is handed over, so the frame drawn from it is written first.
  let firstTaken = (): void => undefined;
  const firstSnapshot = new Promise<void>((resolve) => {
    firstTaken = resolve;
  });
  const primeSource = async (): Promise<void> => {
    if (source?.primeAfterFirstSnapshot === true) {
      await firstSnapshot;
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    await source?.prime?.();
  };
  const markReady = (): void => {
    ready = true;
  };
  const prime = (): Promise<void> => (primed ??= primeSource().then(markReady, markReady));
  return {
    prime,
    collect: () => {
      void prime();
      return collectSnapshotAsync(ready ? deps : withoutOwners).finally(firstTaken);
    },
  };
}
