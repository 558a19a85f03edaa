// collect*: read every /proc/net table once, join owners and user names, and hand back one
// immutable Snapshot. This is the only place that turns files into a snapshot; everything
// after it (tracker, aggregation, filters, views) is pure.

import { PROTOCOL_GROUP } from '../model/aggregate.js';
import { runInSlices } from '../model/slices.js';
import type {
  KernelCounters,
  OwnerScanStats,
  PartialRead,
  Protocol,
  ProtocolGroup,
  Snapshot,
  SocketEntry,
  SocketOwner,
  SocketRecord,
  SocketState,
  TcpState,
} from '../model/types.js';
import { describeReadError, readBytesIntoAsync, readBytesResultAsync, readTextResultAsync, type ProcFs } from './proc-fs.js';
import { InodeIndex, InodeSet } from './inode-index.js';
import {
  countTcpStatesFast,
  countTcpStatesInBytes,
  isPendingRecord,
  parseInetBytes,
  parseInetSteps,
  parseInetTable,
  type LineBounds,
  type PreviousParse,
} from './parse-inet.js';
import { parseUnixTable } from './parse-unix.js';
import { parseSnmpTable } from './parse-counters.js';
import type { OwnerScanner } from './read-owners.js';
import type { TableReader } from './table-reader.js';

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
   * false (collectSnapshot only): a snapshot printed once and never compared (`--once`): inet
   * records with an inode get key '' (see InetParseOptions.keys), and nothing is kept for a
   * next snapshot of the same ProcFs. Default true.
   */
  readonly keys?: boolean;
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
  /**
   * Optional: whether lookup(inode) would answer an owner equal to `owner` (pid, fd, uid, command,
   * command line) and sharedBy(inode) `sharedBy`, without building the owner object (a refresh
   * asks it for every record reused from the last snapshot).
   */
  holds?(inode: number, owner: SocketOwner | null, sharedBy: number): boolean;
}

/**
 * Socket inodes held by some file (0 = TIME_WAIT, orphans, request socks: nobody to find), of any
 * entries. A snapshot's own list is made while its tables are de-duplicated (TableMerger.inodes).
 */
export function wantedInodes(entries: readonly SocketEntry[]): InodeSet {
  return InodeSet.ofEntries(entries);
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
 * - per inet table, the records last parsed with their lines' lengths and fingerprints, so that
 *   the next parse returns the same record for a line whose bytes did not change (see
 *   parseInetBytes); only a cache: a record is reused when its line is the same (length and
 *   64-bit fingerprint) and its owner unchanged;
 * - per inet table, the buffer last read (its lines are not needed once parsed) and the bounds
 *   arrays before the last ones, free for the next refresh: one buffer per table, read into
 *   again, so a refresh allocates neither a buffer nor a string for a table (at 100k sockets the
 *   tables are ~16 MB; keeping the previous bytes to compare lines with cost as much again).
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
  /** A sliced parse is using inodeIndex across its pauses (collectSnapshotSlicedAsync). */
  indexHeld: boolean;
  readonly tables: Partial<Record<Protocol, PreviousParse<SocketRecord> & { readonly entries: SocketRecord[] }>>;
  readonly spare: Partial<Record<Protocol, { readonly bytes: Buffer | null; readonly bounds: LineBounds | undefined }>>;
}
const memories = new WeakMap<ProcFs, CollectMemory>();
/** inet entries are parsed in the record's shape and joined in place (no second object per socket). */
const PENDING = { pendingRecords: true } as const;

/** The ProcFs's memory (created on its first snapshot). */
function memoryOf(procFs: ProcFs): CollectMemory {
  let memory = memories.get(procFs);
  if (memory === undefined) {
    memory = newMemory();
    memories.set(procFs, memory);
  }
  return memory;
}

function newMemory(): CollectMemory {
  return { inodeIndex: new InodeIndex(0), indexHeld: false, tables: {}, spare: {} };
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
  /** The entries' non-zero inodes, in order (distinct: the de-duplication made them so): what the owner scan is asked for. */
  readonly inodes: InodeSet;
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
 * With a table reader, the inet tables are read in its thread instead (synchronous reads, no
 * pool round trip per page; the buffers move between the threads without a copy), while the
 * pool reads the rest; if the reader cannot be used, the pool reads everything.
 */
async function readTablesAsync(
  procFs: ProcFs,
  protocols: readonly Protocol[],
  memory: CollectMemory,
  reader: TableReader | null,
): Promise<TableRead[]> {
  if (reader !== null) {
    const inet = protocols.filter((p) => p !== 'unix');
    const spares = inet.map((p) => {
      const spare = memory.spare[p];
      delete memory.spare[p];
      return spare?.bytes ?? null;
    });
    const [inetReads, unixReads] = await Promise.all([
      reader.read(inet.map((p, i) => ({ relPath: `net/${p}`, into: spares[i] ?? null }))).then(
        (results) => results,
        () => null,
      ),
      readTablesAsync(
        procFs,
        protocols.filter((p) => p === 'unix'),
        memory,
        null,
      ),
    ]);
    if (inetReads !== null) {
      const byProtocol = new Map<Protocol, TableRead>(unixReads.map((r) => [r.protocol, r]));
      inet.forEach((protocol, i) => {
        const { bytes, length, error } = inetReads[i]!;
        byProtocol.set(protocol, { protocol, text: null, bytes, length, error });
      });
      return protocols.map((p) => byProtocol.get(p)!);
    }
    // The reader thread is gone: the pool reads the inet tables (into new buffers: the spares went to the thread).
    const rest = await readTablesAsync(procFs, inet, memory, null);
    const byProtocol = new Map<Protocol, TableRead>([...unixReads, ...rest].map((r) => [r.protocol, r]));
    return protocols.map((p) => byProtocol.get(p)!);
  }
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
 * Entries of every table in one list without duplicates: the kernel prints /proc/net/tcp a
 * read(2) at a time and resumes its walk of the socket hash at each read, so under churn a
 * socket can be listed twice (possibly in two states). The later line wins. Identity: the inode
 * (a socket inode is unique on the machine), or the key for inode 0 (TIME_WAIT, request socks,
 * orphans).
 */
class TableMerger {
  /** Presized to the rows to come (trimmed by result()): no copies of a growing 100k-row array. */
  readonly entries: (SocketEntry | SocketRecord)[];
  private count = 0;
  readonly files: Record<string, number> = {};
  readonly unreadable: Record<string, string> = {};
  /** The record arrays kept for the next snapshot (see ParsedTables.kept). */
  readonly kept: SocketRecord[][] = [];
  private readonly byKey = new Map<string, number>();
  private skippedLines = 0;
  private duplicates = 0;
  /** The non-zero inodes of entries[0, count), in order, in inodes[0, inodeCount): listed while de-duplicating. */
  private inodes: Float64Array;
  private inodeCount = 0;

  /** `byInode`: an empty index for the rows to come; `expected`: how many rows will be added (a hint). */
  constructor(
    private readonly byInode: InodeIndex,
    expected = 0,
  ) {
    this.entries = new Array<SocketEntry | SocketRecord>(expected);
    this.inodes = new Float64Array(Math.max(expected, 256));
  }

  /** A table that could not be read (null error: missing, e.g. IPv6 disabled). */
  addUnread(protocol: Protocol, error: string | null): void {
    if (error !== null && !isMissing(error)) this.unreadable[`net/${protocol}`] = describeReadError(error);
  }

  /** Sockets of one table (or of one part of it, in order). */
  add(protocol: Protocol, sockets: readonly (SocketEntry | SocketRecord)[], skipped: number): void {
    this.addRange(sockets, 0, sockets.length);
    this.addSkipped(protocol, skipped);
  }

  /**
   * sockets[from, to) of one table, in order (a table added in several ranges: then addSkipped
   * once). `inodes`: the sockets' inodes (an inet parse's LineBounds), read instead of visiting
   * every record (at 100k sockets they are scattered over the heap: a cache miss each).
   */
  addRange(sockets: readonly (SocketEntry | SocketRecord)[], from: number, to: number, inodes?: Float64Array): void {
    const { entries } = this;
    for (let i = from; i < to; i++) {
      const e = sockets[i]!;
      let earlier: number;
      const inode = inodes === undefined ? e.inode : inodes[i]!;
      if (inode !== 0) {
        earlier = this.byInode.getOrSet(inode, this.count);
        if (earlier < 0) {
          if (this.inodeCount === this.inodes.length) {
            const bigger = new Float64Array(this.inodes.length * 2);
            bigger.set(this.inodes);
            this.inodes = bigger;
          }
          this.inodes[this.inodeCount++] = inode;
        }
      } else {
        earlier = this.byKey.get(e.key) ?? -1;
        if (earlier < 0) this.byKey.set(e.key, this.count);
      }
      if (earlier >= 0) {
        entries[earlier] = e;
        this.duplicates++;
        continue;
      }
      entries[this.count++] = e;
    }
  }

  /** Lines of a table that did not parse. */
  addSkipped(protocol: Protocol, skipped: number): void {
    if (skipped > 0) {
      this.files[`net/${protocol}`] = (this.files[`net/${protocol}`] ?? 0) + skipped;
      this.skippedLines += skipped;
    }
  }

  result(): ParsedTables {
    this.entries.length = this.count;
    const { entries, files, unreadable, skippedLines, duplicates, kept } = this;
    const inodes = InodeSet.ofDistinct(this.inodes.subarray(0, this.inodeCount));
    return { entries, files, unreadable, skippedLines, duplicates, kept, inodes };
  }
}

/**
 * Parse every table, reusing the previous snapshot's records for unchanged lines, and drop
 * duplicates (TableMerger).
 *
 * Also updates the memory at once (in this synchronous step: nothing else compares against a
 * table's previous bytes or reads into its spare buffer meanwhile): what was parsed becomes the
 * previous table, the previous one's buffer and bounds the spare.
 */
function parseTables(reads: readonly TableRead[], memory: CollectMemory, keys = true): ParsedTables {
  const steps = parseTableSteps(reads, memory, memory.indexHeld ? new InodeIndex(0) : memory.inodeIndex, keys);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** Rows de-duplicated between two pauses of parseTableSteps. */
const MERGE_STEP_ROWS = 8_192;

/**
 * parseTables as steps, pausing every PARSE_STEP_LINES lines of an inet table (parseInetSteps).
 * `inodeIndex`: the index the parse and the de-duplication reset and use (the memory's, unless a
 * sliced parse holds it).
 */
function* parseTableSteps(
  reads: readonly TableRead[],
  memory: CollectMemory,
  inodeIndex: InodeIndex,
  keys = true,
): Generator<void, ParsedTables, void> {
  const parts: {
    readonly protocol: Protocol;
    readonly sockets: readonly (SocketEntry | SocketRecord)[];
    readonly skipped: number;
    readonly inodes?: Float64Array;
  }[] = [];
  const kept: SocketRecord[][] = [];
  let total = 0;
  for (const { protocol, text, bytes, length } of reads) {
    if (text !== null) {
      const parsed = parseUnixTable(text);
      parts.push({ protocol, sockets: parsed.sockets, skipped: parsed.skipped });
      total += parsed.sockets.length;
    } else if (bytes !== null && protocol !== 'unix') {
      const previous = memory.tables[protocol] ?? null;
      const spare = memory.spare[protocol];
      const parsed = yield* parseInetSteps(bytes, length, protocol, previous, {
        ...PENDING,
        scratch: spare?.bounds,
        inodeIndex,
        keys,
      });
      parts.push({ protocol, sockets: parsed.sockets, skipped: parsed.skipped, inodes: parsed.bounds.inodes });
      total += parsed.sockets.length;
      // Every entry is a record once assemble has joined it (pending records in place).
      const records = parsed.sockets as SocketRecord[];
      // A one-shot parse (no keys, no fingerprints) leaves nothing to compare the next one with.
      if (keys) remember(memory, protocol, bytes, parsed.bounds, records, previous);
      kept.push(records);
    } else delete memory.tables[protocol];
  }
  const merged = new TableMerger(inodeIndex.reset(total), total);
  merged.kept.push(...kept);
  let part = 0;
  for (const { protocol, text, bytes, error } of reads) {
    if (text === null && bytes === null) merged.addUnread(protocol, error);
    else {
      const p = parts[part++]!;
      // In ranges, with a pause between them (the de-duplication of 100k rows: a few ms).
      for (let from = 0; from < p.sockets.length; from += MERGE_STEP_ROWS) {
        if (from > 0) yield;
        merged.addRange(p.sockets, from, Math.min(p.sockets.length, from + MERGE_STEP_ROWS), p.inodes);
      }
      merged.addSkipped(p.protocol, p.skipped);
    }
  }
  return merged.result();
}

/**
 * A table's parse as the memory's previous table. Its bytes become the spare buffer (the next
 * parse compares fingerprints, not bytes), with the bounds arrays of the parse before.
 */
function remember(
  memory: CollectMemory,
  protocol: Protocol,
  bytes: Buffer,
  bounds: LineBounds,
  records: SocketRecord[],
  previous: PreviousParse<SocketRecord> | null,
): void {
  memory.tables[protocol] = { bounds, entries: records };
  const buffer = wholeBuffer(bytes);
  memory.spare[protocol] = {
    bytes: buffer !== null && worthKeeping(buffer, bytes.length) ? buffer : null,
    bounds: previous?.bounds !== bounds ? previous?.bounds : undefined,
  };
}

/**
 * The whole allocation behind a read's bytes (a read returns a view of the first `length` bytes;
 * the next read into it needs room for one byte more to see the end), or null for a small buffer,
 * which may be a slice of Node's shared pool (never reused: allocating one is cheap).
 */
function wholeBuffer(bytes: Buffer): Buffer | null {
  if (bytes.buffer.byteLength < 65_536) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.buffer.byteLength - bytes.byteOffset);
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
  // The merged entries' array becomes the snapshot's, each slot given its joined record in turn
  // (nothing reads the entries after the join): no second 100k-slot array a refresh.
  const sockets = entries as SocketRecord[];
  /** Reused entries whose owner changed: a new record in their place, in the kept tables too. */
  let rejoined: Map<SocketEntry, SocketRecord> | null = null;
  let reused = 0;
  const holds = owners?.holds;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const known = (e as Partial<SocketRecord>).owner;
    // A record reused from the last snapshot whose owner answer is the same: kept as is, without
    // building its owner (most records of a refresh: no allocation per socket).
    if (known !== undefined && !isPendingRecord(e)) {
      const kept = e as SocketRecord;
      if (
        owners === null || e.inode === 0
          ? known === null && kept.sharedBy === 0
          : holds !== undefined && holds.call(owners, e.inode, known, kept.sharedBy)
      ) {
        sockets[i] = kept;
        reused++;
        continue;
      }
    }
    const owner = owners === null || e.inode === 0 ? null : owners.lookup(e.inode);
    const sharedBy = owners === null || e.inode === 0 ? 0 : owners.sharedBy(e.inode);
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
  return snapshotOf(deps, takenAtMs, parsed, sockets, counters, ownerStats, cost, reused);
}

/** The snapshot of joined records: what the tables' parse reported, and what it cost. */
function snapshotOf(
  deps: Pick<CollectDeps, 'hostname'>,
  takenAtMs: number,
  parsed: Pick<ParsedTables, 'files' | 'unreadable' | 'skippedLines' | 'duplicates'>,
  sockets: SocketRecord[],
  counters: KernelCounters,
  ownerStats: OwnerScanStats,
  cost: Omit<Snapshot['cost'], 'rows'>,
  reusedRows: number,
): Snapshot {
  const unreadable = Object.keys(parsed.unreadable).length > 0 ? { unreadable: parsed.unreadable } : {};
  return {
    takenAtMs,
    host: deps.hostname(),
    sockets,
    counters,
    issues: { skippedLines: parsed.skippedLines, files: parsed.files, ...unreadable },
    owners: ownerStats,
    cost: { ...cost, rows: sockets.length, reusedRows, duplicateRows: parsed.duplicates },
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
  // Without keys, a memory of its own: no keyless record is ever reused by a later snapshot.
  const parsed = deps.keys === false ? parseTables(reads, newMemory(), false) : parseTables(reads, memoryOf(procFs));
  const t2 = monotonicMs();
  const owners = deps.owners === null ? null : deps.owners.scan(parsed.inodes);
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
  /**
   * Reads the inet tables in a thread of its own for a live screen's steady refreshes (a local
   * proc root only: it opens `${root}/net/…` itself); absent: libuv's pool reads them.
   */
  readonly tableReader?: TableReader | null;
}

/** When a collection started and what its reads took: the start of its cost (see joinOwners). */
interface CollectTiming {
  readonly takenAtMs: number;
  /** processCpuMs() at the start. */
  readonly cpu0: number;
  readonly readMs: number;
}

/**
 * A collection's reads, timed from its start: the tables asked for (into this ProcFs's kept
 * buffers) and the counters' files.
 */
async function readForCollect(deps: AsyncCollectDeps): Promise<{
  readonly timing: CollectTiming;
  readonly memory: ReturnType<typeof memoryOf>;
  readonly reads: Awaited<ReturnType<typeof readTablesAsync>>;
  readonly snmp: Awaited<ReturnType<ProcFs['readTextAsync']>>;
  readonly netstat: Awaited<ReturnType<ProcFs['readTextAsync']>>;
}> {
  const { procFs, monotonicMs } = deps;
  const takenAtMs = deps.now();
  const t0 = monotonicMs();
  const cpu0 = processCpuMs();
  const memory = memoryOf(procFs);
  const [reads, snmp, netstat] = await Promise.all([
    readTablesAsync(procFs, deps.protocols ?? NET_TABLES, memory, deps.tableReader ?? null),
    procFs.readTextAsync('net/snmp'),
    procFs.readTextAsync('net/netstat'),
  ]);
  return { timing: { takenAtMs, cpu0, readMs: monotonicMs() - t0 }, memory, reads, snmp, netstat };
}

/**
 * One snapshot without blocking the event loop on the expensive parts: the kernel's time to
 * produce the files runs in libuv's pool, owner mapping in a worker. Only parsing and the join
 * run on the calling thread.
 */
export async function collectSnapshotAsync(deps: AsyncCollectDeps): Promise<Snapshot> {
  const { monotonicMs } = deps;
  const { timing, memory, reads, snmp, netstat } = await readForCollect(deps);
  const t1 = monotonicMs();
  const parsed = parseTables(reads, memory);
  const counters = countersFrom(snmp, netstat);
  return joinOwners(deps, { ...timing, parseMs: monotonicMs() - t1 }, parsed, counters);
}

/** Time the live dashboard's refresh parses before it lets the event loop run (keys, frames), ms. */
const PARSE_SLICE_MS = 8;

/**
 * collectSnapshotAsync for a live screen: the same snapshot (the same records reused, the same
 * de-duplication and order), but the tables are parsed in slices of about PARSE_SLICE_MS with
 * the event loop let run between them, so that a key is answered while a large table (100k
 * sockets: ~50 ms quiet, seconds at 1M) is parsed. Small tables are parsed in one slice.
 */
export async function collectSnapshotSlicedAsync(deps: AsyncCollectDeps): Promise<Snapshot> {
  const { monotonicMs } = deps;
  const { timing, memory, reads, snmp, netstat } = await readForCollect(deps);
  // The memory's index is held for the whole parse: a parse that starts meanwhile (another
  // collection of the same ProcFs) builds its own instead of resetting this one under it.
  const held = !memory.indexHeld;
  const inodeIndex = held ? memory.inodeIndex : new InodeIndex(0);
  memory.indexHeld = true;
  let sliced: { readonly value: ParsedTables; readonly busyMs: number };
  try {
    sliced = await runInSlices(parseTableSteps(reads, memory, inodeIndex), {
      sliceMs: PARSE_SLICE_MS,
      clock: monotonicMs,
      pause: yieldToEventLoop,
    });
  } finally {
    if (held) memory.indexHeld = false;
  }
  const counters = countersFrom(snmp, netstat);
  return joinOwners(deps, { ...timing, parseMs: sliced.busyMs }, sliced.value, counters);
}

/** The rest of a collection once the tables are parsed: owners (when asked for), the join, the cost. */
async function joinOwners(
  deps: AsyncCollectDeps,
  timing: CollectTiming & { readonly parseMs: number },
  parsed: ParsedTables,
  counters: KernelCounters,
): Promise<Snapshot> {
  const t2 = deps.monotonicMs();
  const owners = deps.owners === null ? null : await deps.owners.scan(parsed.inodes);
  const cost = { readMs: timing.readMs, parseMs: timing.parseMs, ownersMs: deps.monotonicMs() - t2 };
  const snapshot = assemble(
    deps,
    timing.takenAtMs,
    parsed,
    counters,
    owners,
    cost,
    owners === null && deps.ownersPending === true ? PENDING_OWNERS : undefined,
  );
  return withCpu(snapshot, processCpuMs() - timing.cpu0);
}

// ---------------------------------------------------------------------------------------------
// A live screen's first refresh of large tables: counts and a first window of rows, then the rest.

/**
 * Table bytes (every table read) from which a live screen's first refresh hands over a partial
 * snapshot before parsing the tables whole: ~13,000 TCP lines, whose whole parse takes ~50 ms
 * when the machine is quiet. Below it nothing changes.
 */
export const PARTIAL_FIRST_SNAPSHOT_BYTES = 2_000_000;

/** Lines parsed for a partial snapshot's rows, over every large table (in proportion to its size). */
export const PARTIAL_FIRST_LINES = 2_048;

/** Tables other than TCP up to this size are parsed whole for a partial snapshot (exact counts, all their rows). */
const SMALL_TABLE_BYTES = 1_000_000;

/** Lines parsed between two yields to the event loop while the first refresh parses the rest (~1.2 MB of tcp). */
const PARSE_CHUNK_LINES = 8_192;

/** One table as read for the first refresh: its bytes (its text over --ssh), or why not (null error: missing). */
interface TableContent {
  readonly protocol: Protocol;
  readonly content: Buffer | string | null;
  readonly error: string | null;
}

function readTableContentsAsync(procFs: ProcFs, protocols: readonly Protocol[]): Promise<TableContent[]> {
  return Promise.all(
    protocols.map(async (protocol) => {
      const { content, error } = await readBytesResultAsync(procFs, `net/${protocol}`);
      return { protocol, content, error };
    }),
  );
}

const lengthOf = (content: Buffer | string): number => content.length;

/** Offset just after the `n`-th newline at or after `from` (the content's end when it has fewer). */
function afterLines(content: Buffer | string, from: number, n: number): number {
  let at = from;
  for (let i = 0; i < n; i++) {
    const eol = typeof content === 'string' ? content.indexOf('\n', at) : content.indexOf(10, at);
    if (eol < 0) return content.length;
    at = eol + 1;
  }
  return at;
}

/** Text of content[from, to) (a cut at line boundaries, so never inside a UTF-8 sequence). */
function textOf(content: Buffer | string, from: number, to: number): string {
  return typeof content === 'string' ? content.slice(from, to) : content.toString('utf8', from, to);
}

/** A part of one table parsed; bounds (inet tables read as bytes): each socket's line's length, fingerprint and inode. */
interface PartParse {
  readonly sockets: readonly (SocketEntry | SocketRecord)[];
  readonly skipped: number;
  readonly bounds: LineBounds | null;
}

/** Parse content[from, to) of one table: entries in the record's shape, not yet joined. */
function parsePart(protocol: Protocol, content: Buffer | string, from: number, to: number): PartParse {
  if (protocol !== 'unix' && typeof content !== 'string') {
    const parsed = parseInetBytes(content.subarray(from, to), to - from, protocol, null, PENDING);
    return { sockets: parsed.sockets, skipped: parsed.skipped, bounds: parsed.bounds };
  }
  const text = textOf(content, from, to);
  const parsed = protocol === 'unix' ? parseUnixTable(text) : parseInetTable(text, protocol, PENDING);
  return { sockets: parsed.sockets, skipped: parsed.skipped, bounds: null };
}

/** Where the parse of a large table stopped (the partial snapshot read its first lines). */
interface TableProgress {
  readonly table: TableContent & { readonly content: Buffer | string };
  /** Offset of the first line not parsed yet. */
  readonly parsedTo: number;
  readonly part: PartParse;
}

interface PartialParse {
  readonly parsed: ParsedTables;
  readonly partial: PartialRead;
  /** Per table read, in table order: what is parsed so far. */
  readonly progress: readonly TableProgress[];
}

/**
 * The partial snapshot's content: exact counts of every table (TCP states counted from the st
 * column of every line, the bytes not decoded: countTcpStatesInBytes; small tables parsed whole),
 * and the first lines of each large table, PARTIAL_FIRST_LINES in all, in proportion to size.
 */
function parsePartially(tables: readonly TableContent[]): PartialParse {
  const counts: Record<ProtocolGroup, Partial<Record<SocketState, number>>> = { tcp: {}, udp: {}, raw: {}, unix: {} };
  const pending = new Set<ProtocolGroup>();
  let largeBytes = 0;
  for (const t of tables) if (t.content !== null && isLarge(t.protocol, t.content)) largeBytes += lengthOf(t.content);
  const merged = new TableMerger(new InodeIndex(PARTIAL_FIRST_LINES));
  const progress: TableProgress[] = [];
  for (const table of tables) {
    const { protocol, content } = table;
    if (content === null) {
      merged.addUnread(protocol, table.error);
      continue;
    }
    const group = PROTOCOL_GROUP[protocol];
    const tcp = protocol === 'tcp' || protocol === 'tcp6';
    if (tcp) {
      const tally = typeof content === 'string' ? countTcpStatesFast(content) : countTcpStatesInBytes(content);
      for (const [state, n] of Object.entries(tally.counts) as [TcpState, number][])
        if (n > 0) counts.tcp[state] = (counts.tcp[state] ?? 0) + n;
    }
    // Large tables: the header and a share of the lines; small ones whole.
    const share = isLarge(protocol, content)
      ? Math.max(1, Math.round((PARTIAL_FIRST_LINES * lengthOf(content)) / Math.max(1, largeBytes)))
      : Infinity;
    const to = share === Infinity ? lengthOf(content) : afterLines(content, 0, share + 1);
    const part = parsePart(protocol, content, 0, to);
    merged.add(protocol, part.sockets, part.skipped);
    if (!tcp) {
      for (const e of part.sockets) counts[group][e.state] = (counts[group][e.state] ?? 0) + 1;
      if (to < lengthOf(content)) pending.add(group);
    }
    progress.push({ table: { ...table, content }, parsedTo: to, part });
  }
  const parsed = merged.result();
  let total = 0;
  for (const g of Object.values(counts)) for (const n of Object.values(g)) total += n ?? 0;
  return {
    parsed,
    progress,
    partial: { socketsRead: parsed.entries.length, socketsTotal: pending.size > 0 ? null : total, counts, pendingGroups: [...pending] },
  };
}

/** TCP tables are counted from their bytes whatever their size; the others are parsed whole up to SMALL_TABLE_BYTES. */
function isLarge(protocol: Protocol, content: Buffer | string): boolean {
  return protocol === 'tcp' || protocol === 'tcp6' || lengthOf(content) > SMALL_TABLE_BYTES;
}

/** Let the event loop run (keys, the frame's write): setImmediate, after what is already queued. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Parse the rest of every table after the partial snapshot, PARSE_CHUNK_LINES lines at a time
 * with the event loop let run between chunks. The entries parsed for the partial snapshot are
 * kept (joined already, so the full snapshot's join treats them as known records). An inet table
 * read as bytes is remembered for the next refresh as a whole parse would be (see CollectMemory).
 */
async function parseRest(
  partial: PartialParse,
  expectedLines: number,
  memory: CollectMemory,
  stopped: () => boolean,
): Promise<ParsedTables> {
  const merged = new TableMerger(new InodeIndex(expectedLines));
  for (const [protocol, error] of Object.entries(partial.parsed.unreadable)) merged.unreadable[protocol] = error;
  for (const { table, parsedTo, part: first } of partial.progress) {
    const { protocol, content } = table;
    const parts: PartParse[] = [first];
    merged.add(protocol, first.sockets, first.skipped);
    let from = parsedTo;
    while (from < content.length) {
      await yieldToEventLoop();
      if (stopped()) throw new Error('collection stopped');
      const to = afterLines(content, from, PARSE_CHUNK_LINES);
      const part = parsePart(protocol, content, from, to);
      merged.add(protocol, part.sockets, part.skipped);
      parts.push(part);
      from = to;
    }
    if (typeof content !== 'string' && parts.every((p) => p.bounds !== null)) {
      let count = 0;
      for (const p of parts) count += p.sockets.length;
      const bounds: LineBounds = {
        lengths: new Int32Array(count),
        inodes: new Float64Array(count),
        prints: new Int32Array(2 * count),
      };
      const records: SocketRecord[] = [];
      for (const p of parts) {
        bounds.lengths.set(p.bounds!.lengths.subarray(0, p.sockets.length), records.length);
        bounds.inodes.set(p.bounds!.inodes.subarray(0, p.sockets.length), records.length);
        bounds.prints.set(p.bounds!.prints.subarray(0, 2 * p.sockets.length), 2 * records.length);
        for (const e of p.sockets) records.push(e as SocketRecord);
      }
      remember(memory, protocol, content, bounds, records, null);
      merged.kept.push(records);
    }
  }
  return merged.result();
}

/** The partial snapshot: its entries joined without owners. */
function assemblePartial(
  deps: Pick<CollectDeps, 'hostname' | 'userName'>,
  takenAtMs: number,
  partial: PartialParse,
  counters: KernelCounters,
  ownerStats: OwnerScanStats,
  cost: Omit<Snapshot['cost'], 'rows'>,
): Snapshot {
  const { entries } = partial.parsed;
  const sockets: SocketRecord[] = new Array<SocketRecord>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (isPendingRecord(e)) {
      e.owner = null;
      e.sharedBy = 0;
      e.user = e.uid >= 0 ? deps.userName(e.uid) : '';
      sockets[i] = e;
    } else sockets[i] = toRecord(e, null, 0, deps.userName);
  }
  return { ...snapshotOf(deps, takenAtMs, partial.parsed, sockets, counters, ownerStats, cost, 0), partial: partial.partial };
}

/**
 * collectSnapshotAsync for a live screen's first refresh: when the tables read hold at least
 * PARTIAL_FIRST_SNAPSHOT_BYTES, `onPartial` is handed a partial snapshot first (exact counts, the
 * first lines of each large table: Snapshot.partial), the event loop runs (the frame is written,
 * keys answered), and the rest is parsed in chunks into the full snapshot of the same read, which
 * is what resolves. Smaller tables (or a ProcFs already read, whose records are reused): exactly
 * collectSnapshotAsync.
 */
export async function collectFirstSnapshotAsync(
  deps: AsyncCollectDeps,
  onPartial: (snapshot: Snapshot) => void,
  stopped: () => boolean = () => false,
): Promise<Snapshot> {
  const { procFs, monotonicMs } = deps;
  const takenAtMs = deps.now();
  const t0 = monotonicMs();
  const cpu0 = processCpuMs();
  const [tables, snmp, netstat] = await Promise.all([
    readTableContentsAsync(procFs, deps.protocols ?? NET_TABLES),
    procFs.readTextAsync('net/snmp'),
    procFs.readTextAsync('net/netstat'),
  ]);
  const t1 = monotonicMs();
  const counters = countersFrom(snmp, netstat);
  let bytes = 0;
  for (const t of tables) if (t.content !== null) bytes += lengthOf(t.content);
  const known = memories.has(procFs);
  const memory = memoryOf(procFs);
  if (bytes < PARTIAL_FIRST_SNAPSHOT_BYTES || known) {
    const reads = tables.map(({ protocol, content, error }): TableRead => {
      if (content === null) return { protocol, text: null, bytes: null, length: 0, error };
      if (protocol === 'unix') return { protocol, text: textOf(content, 0, content.length), bytes: null, length: 0, error: null };
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      return { protocol, text: null, bytes, length: bytes.length, error: null };
    });
    const parsed = parseTables(reads, memory);
    return joinOwners(deps, { takenAtMs, cpu0, readMs: t1 - t0, parseMs: monotonicMs() - t1 }, parsed, counters);
  }
  const partial = parsePartially(tables);
  const t2 = monotonicMs();
  const pendingOwners = deps.owners !== null || deps.ownersPending === true ? PENDING_OWNERS : NO_OWNERS;
  const preview = assemblePartial(deps, takenAtMs, partial, counters, pendingOwners, { readMs: t1 - t0, parseMs: t2 - t1, ownersMs: 0 });
  onPartial(withCpu(preview, processCpuMs() - cpu0));
  const t3 = monotonicMs();
  const parsed = await parseRest(partial, Math.ceil(bytes / 100), memory, stopped);
  const parseMs = t2 - t1 + (monotonicMs() - t3);
  return joinOwners(deps, { takenAtMs, cpu0, readMs: t1 - t0, parseMs }, parsed, counters);
}

/** Snapshots for a live screen whose first frame must not wait on the owner scan. */
export interface LiveCollector {
  /**
   * Start the owner source's first full scan (once); resolves when it is done and owners can be
   * joined without waiting on it (at once when there are no owners or the source has no prime).
   */
  prime(): Promise<void>;
  /**
   * One snapshot: with owners once the prime is done, before that without them (`owners.pending`).
   * The first call, given `onPartial`, may hand it a partial snapshot first (collectFirstSnapshotAsync).
   */
  collect(onPartial?: (snapshot: Snapshot) => void): Promise<Snapshot>;
  /** The screen is gone: a first refresh still parsing stops at its next chunk (its promise rejects). */
  stop(): void;
}

/**
 * The dashboard's collection: the owner worker's first full fd scan takes from tens of ms (1k
 * sockets) to seconds (100k, or a machine with many processes), reading the tables a few ms to a
 * few hundred. Until that scan is done, snapshots are taken without owners so the first frame
 * (rows, bars, counts) is drawn at once; the caller refreshes when prime() resolves. At 100k
 * sockets parsing alone takes ~0.5 s: the first refresh hands over counts and a first window of
 * rows before it (collectFirstSnapshotAsync).
 */
export function createLiveCollector(deps: AsyncCollectDeps): LiveCollector {
  const source = deps.owners;
  let ready = source?.prime === undefined;
  let primed: Promise<void> | null = null;
  let collected = false;
  let stopped = false;
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
    collect: (onPartial) => {
      void prime();
      const first = !collected;
      collected = true;
      const collectDeps = ready ? deps : withoutOwners;
      const snapshot =
        first && onPartial !== undefined
          ? collectFirstSnapshotAsync(collectDeps, onPartial, () => stopped)
          : collectSnapshotSlicedAsync(collectDeps);
      return snapshot.finally(firstTaken);
    },
    stop: () => {
      stopped = true;
    },
  };
}
