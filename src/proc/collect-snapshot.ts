// collect*: read every /proc/net table once, join owners and user names, and hand back one
// immutable Snapshot. This is the only place that turns files into a snapshot; everything
// after it (tracker, aggregation, filters, views) is pure.

import type { KernelCounters, OwnerScanStats, Protocol, Snapshot, SocketEntry, SocketOwner, SocketRecord } from '../model/types.js';
import { describeReadError, readBytesIntoAsync, readTextResultAsync, type ProcFs } from './proc-fs.js';
import { InodeIndex } from './inode-index.js';
import { isPendingRecord, parseInetBytes, type LineBounds, type PreviousBytes } from './parse-inet.js';
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

/**
 * One table as read: its bytes (inet tables, bytes[0, length): parsed without decoding) or its
 * text (unix), or why it could not be read (both null and error null: missing, e.g. IPv6 disabled).
 */
interface TableRead {
  readonly protocol: Protocol;
  readonly text: string | null;
  readonly bytes: Buffer | null;
  readonly length: number;
  readonly error: string | null;
}

/**
 * What one snapshot leaves for the next, per ProcFs (one per proc root / namespace view), so every
 * caller that collects repeatedly (dashboard, serve, streams) reuses without a new parameter:
 * - per inet table, the bytes last read with each record's line in them, so that the next parse
 *   returns the same record for a line whose bytes did not change (see parseInetBytes); only a
 *   cache: a record is reused when its line is byte-for-byte the same and its owner unchanged;
 * - per inet table, the buffer and bounds arrays before those, free to read the next refresh
 *   into: two buffers per table, swapped, so a refresh allocates neither a buffer nor a string
 *   for a table (at 100k sockets the tables are ~15 MB).
 * Kept from the first snapshot on: what it costs a one-shot `--once` is the bounds arrays it
 * builds anyway (the buffers are read either way), and a dashboard's second refresh then reuses
 * the first one's records and their key strings instead of parsing every line again (the
 * tracker keeps the first records' keys: a re-parse would leave two copies of every key).
 */
interface CollectMemory {
  /**
   * Reset and reused each refresh, by each table's parse in turn (the previous table's inodes)
   * and then by the de-duplication: one 3 MB index at 100k sockets instead of new ones.
   */
  readonly inodeIndex: InodeIndex;
  readonly tables: Partial<Record<Protocol, PreviousBytes<SocketRecord> & { readonly entries: SocketRecord[] }>>;
  readonly spare: Partial<Record<Protocol, { readonly bytes: Buffer; readonly bounds: LineBounds }>>;
}
const memories = new WeakMap<ProcFs, CollectMemory>();
/** inet entries are parsed in the record's shape and joined in place (no second object per socket). */
const PENDING = { pendingRecords: true } as const;

/** The ProcFs's memory (created on its first snapshot). */
function memoryOf(procFs: ProcFs): CollectMemory {
  let memory = memories.get(procFs);
  if (memory === undefined) {
    memory = { inodeIndex: new InodeIndex(0), tables: {}, spare: {} };
    memories.set(procFs, memory);
  }
  return memory;
}

/** A buffer kept for the next read only while it is not much larger than the table (a table that shrank lets it go). */
function worthKeeping(bytes: Buffer, length: number): boolean {
  return bytes.length <= 4 * length + (1 << 20);
}

interface ParsedTables {
  /** Fresh entries, or records reused from the previous snapshot (they have `owner`). */
  readonly entries: (SocketEntry | SocketRecord)[];
  readonly files: Record<string, number>;
  readonly unreadable: Record<string, string>;
  readonly skippedLines: number;
  readonly duplicates: number;
  /** The record arrays kept for the next snapshot (assemble puts a re-joined record in its entry's place). */
  readonly kept: SocketRecord[][];
}

/** errno codes that mean "this table does not exist here", not worth a warning. */
function isMissing(error: string): boolean {
  return error === 'ENOENT' || error === 'ENOTDIR';
}

function readTablesSync(procFs: ProcFs, protocols: readonly Protocol[]): TableRead[] {
  return protocols.map((protocol) => {
    const path = `net/${protocol}`;
    if (protocol === 'unix' || procFs.readBytes === undefined) {
      const text = procFs.readText(path);
      const error = text === null ? (procFs.lastError() ?? 'EIO') : null;
      if (protocol === 'unix' || text === null) return { protocol, text, bytes: null, length: 0, error };
      const bytes = Buffer.from(text, 'utf8');
      return { protocol, text: null, bytes, length: bytes.length, error: null };
    }
    const bytes = procFs.readBytes(path);
    return { protocol, text: null, bytes, length: bytes?.length ?? 0, error: bytes === null ? (procFs.lastError() ?? 'EIO') : null };
  });
}

/**
 * Every table at once: each read(2) runs in libuv's pool, so tcp and tcp6 are produced in
 * parallel. An inet table is read into the buffer its last-but-one snapshot left (taken out of
 * the memory while the read runs, so that no other collection reads into it meanwhile).
 */
function readTablesAsync(procFs: ProcFs, protocols: readonly Protocol[], memory: CollectMemory): Promise<TableRead[]> {
  return Promise.all(
    protocols.map(async (protocol): Promise<TableRead> => {
      if (protocol === 'unix') {
        const { text, error } = await readTextResultAsync(procFs, `net/${protocol}`);
        return { protocol, text, bytes: null, length: 0, error };
      }
      const spare = memory.spare[protocol];
      delete memory.spare[protocol];
      const { bytes, length, error } = await readBytesIntoAsync(procFs, `net/${protocol}`, spare?.bytes ?? null);
      return { protocol, text: null, bytes, length, error };
    }),
  );
}

/**
 * Parse every table, reusing the previous snapshot's records for unchanged lines, and drop
 * duplicates: the kernel prints /proc/net/tcp a read(2) at a time and resumes its walk of the
 * socket hash at each read, so under churn a socket can be listed twice (possibly in two states).
 * The later line wins. Identity: the inode (a socket inode is unique on the machine), or the key
 * for inode 0 (TIME_WAIT, request socks, orphans).
 *
 * Also updates the memory at once (in this synchronous step: nothing else compares against a
 * table's previous bytes or reads into its spare buffer meanwhile): what was parsed becomes the
 * previous table, the previous one's buffer and bounds the spare.
 */
function parseTables(reads: readonly TableRead[], memory: CollectMemory): ParsedTables {
  const files: Record<string, number> = {};
  const unreadable: Record<string, string> = {};
  const kept: SocketRecord[][] = [];
  const tables: (readonly (SocketEntry | SocketRecord)[])[] = [];
  let skippedLines = 0;
  let total = 0;
  for (const { protocol, text, bytes, length, error } of reads) {
    let sockets: readonly (SocketEntry | SocketRecord)[];
    let skipped: number;
    if (text !== null) {
      const parsed = parseUnixTable(text);
      sockets = parsed.sockets;
      skipped = parsed.skipped;
    } else if (bytes !== null && protocol !== 'unix') {
      const previous = memory.tables[protocol] ?? null;
      const spare = memory.spare[protocol];
      const parsed = parseInetBytes(bytes, length, protocol, previous, {
        ...PENDING,
        scratch: spare?.bounds,
        inodeIndex: memory.inodeIndex,
      });
      sockets = parsed.sockets;
      skipped = parsed.skipped;
      // Every entry is a record once assemble has joined it (pending records in place).
      const records = parsed.sockets as SocketRecord[];
      memory.tables[protocol] = { bytes, bounds: parsed.bounds, entries: records };
      kept.push(records);
      if (previous !== null && previous.bytes !== bytes && worthKeeping(previous.bytes, length)) {
        memory.spare[protocol] = { bytes: previous.bytes, bounds: previous.bounds };
      }
    } else {
      if (error !== null && !isMissing(error)) unreadable[`net/${protocol}`] = describeReadError(error);
      delete memory.tables[protocol];
      continue;
    }
    tables.push(sockets);
    total += sockets.length;
    if (skipped > 0) {
      files[`net/${protocol}`] = skipped;
      skippedLines += skipped;
    }
  }
  const entries: (SocketEntry | SocketRecord)[] = [];
  const byInode = memory.inodeIndex.reset(total);
  const byKey = new Map<string, number>();
  let duplicates = 0;
  for (const sockets of tables) {
    for (let i = 0; i < sockets.length; i++) {
      const e = sockets[i]!;
      let earlier: number;
      if (e.inode !== 0) earlier = byInode.getOrSet(e.inode, entries.length);
      else {
        earlier = byKey.get(e.key) ?? -1;
        if (earlier < 0) byKey.set(e.key, entries.length);
      }
      if (earlier >= 0) {
        entries[earlier] = e;
        duplicates++;
        continue;
      }
      entries.push(e);
    }
  }
  return { entries, files, unreadable, skippedLines, duplicates, kept };
}

function sameOwner(a: SocketOwner | null, b: SocketOwner | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.pid === b.pid && a.fd === b.fd && a.uid === b.uid && a.command === b.command && a.commandLine === b.commandLine;
}

function assemble(
  deps: Pick<CollectDeps, 'hostname' | 'userName'>,
  takenAtMs: number,
  parsed: ParsedTables,
  counters: KernelCounters,
  owners: OwnerLookup | null,
  cost: Omit<Snapshot['cost'], 'rows'>,
  ownerStats: OwnerScanStats = owners?.stats ?? NO_OWNERS,
): Snapshot {
  const { entries } = parsed;
  const sockets: SocketRecord[] = new Array<SocketRecord>(entries.length);
  /** Reused entries whose owner changed: a new record in their place, in the kept tables too. */
  let rejoined: Map<SocketEntry, SocketRecord> | null = null;
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
    } else {
      record = toRecord(e, owner, sharedBy, deps.userName);
      (rejoined ??= new Map()).set(e, record);
    }
    sockets[i] = record;
  }
  if (rejoined !== null) {
    for (const records of parsed.kept) {
      for (let i = 0; i < records.length; i++) {
        const r = rejoined.get(records[i]!);
        if (r !== undefined) records[i] = r;
      }
    }
  }
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
  const reads = readTablesSync(procFs, deps.protocols ?? NET_TABLES);
  const counters = readKernelCounters(procFs);
  const t1 = monotonicMs();
  const parsed = parseTables(reads, memoryOf(procFs));
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
  const memory = memoryOf(procFs);
  const [reads, snmp, netstat] = await Promise.all([
    readTablesAsync(procFs, protocols, memory),
    procFs.readTextAsync('net/snmp'),
    procFs.readTextAsync('net/netstat'),
  ]);
  const t1 = monotonicMs();
  const parsed = parseTables(reads, memory);
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
