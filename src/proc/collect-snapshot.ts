// collect*: read every /proc/net table once, join owners and user names, and hand back one
// immutable Snapshot. This is the only place that turns files into a snapshot; everything
// after it (tracker, aggregation, filters, views) is pure.

import { PROTOCOL_GROUP } from '../model/aggregate.js';
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
import { describeReadError, readBytesResultAsync, readTextResultAsync, type ProcFs } from './proc-fs.js';
import { InodeIndex } from './inode-index.js';
import {
  countTcpStatesFast,
  countTcpStatesInBytes,
  isPendingRecord,
  parseInetTable,
  parseInetTableReusing,
  type ParsedTable,
  type PreviousTable,
} from './parse-inet.js';
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
 * Entries of every table in one list without duplicates: the kernel prints /proc/net/tcp a
 * read(2) at a time and resumes its walk of the socket hash at each read, so under churn a
 * socket can be listed twice (possibly in two states). The later line wins. Identity: the inode
 * (a socket inode is unique on the machine), or the key for inode 0 (TIME_WAIT, request socks,
 * orphans).
 */
class TableMerger {
  readonly entries: (SocketEntry | SocketRecord)[] = [];
  readonly lines: (string | null)[] = [];
  readonly files: Record<string, number> = {};
  readonly unreadable: Record<string, string> = {};
  private readonly byInode: InodeIndex;
  private readonly byKey = new Map<string, number>();
  private skippedLines = 0;
  private duplicates = 0;

  constructor(expectedLines: number) {
    this.byInode = new InodeIndex(expectedLines);
  }

  /** A table that could not be read (null error: missing, e.g. IPv6 disabled). */
  addUnread(protocol: Protocol, error: string | null): void {
    if (error !== null && !isMissing(error)) this.unreadable[`net/${protocol}`] = describeReadError(error);
  }

  /** Sockets of one table (or of one part of it, in order); `tableLines[i]`: sockets[i]'s line, or null. */
  add(protocol: Protocol, sockets: readonly (SocketEntry | SocketRecord)[], tableLines: readonly string[] | null, skipped: number): void {
    const { entries, lines } = this;
    for (let i = 0; i < sockets.length; i++) {
      const e = sockets[i]!;
      const line = tableLines === null ? null : tableLines[i]!;
      let earlier: number;
      if (e.inode !== 0) earlier = this.byInode.getOrSet(e.inode, entries.length);
      else {
        earlier = this.byKey.get(e.key) ?? -1;
        if (earlier < 0) this.byKey.set(e.key, entries.length);
      }
      if (earlier >= 0) {
        entries[earlier] = e;
        lines[earlier] = line;
        this.duplicates++;
        continue;
      }
      entries.push(e);
      lines.push(line);
    }
    if (skipped > 0) {
      this.files[`net/${protocol}`] = (this.files[`net/${protocol}`] ?? 0) + skipped;
      this.skippedLines += skipped;
    }
  }

  result(): ParsedTables {
    const { entries, lines, files, unreadable, skippedLines, duplicates } = this;
    return { entries, lines, files, unreadable, skippedLines, duplicates };
  }
}

/** Parse every table, reusing the previous snapshot's records for unchanged lines, and drop duplicates (TableMerger). */
function parseTables(texts: readonly TableText[], memory: TableMemory | null): ParsedTables {
  const merged = new TableMerger(estimatedLines(texts));
  for (const { protocol, text, error } of texts) {
    if (text === null) {
      merged.addUnread(protocol, error);
      continue;
    }
    if (protocol === 'unix') {
      const parsed = parseUnixTable(text);
      merged.add(protocol, parsed.sockets, null, parsed.skipped);
    } else if (memory === null) {
      const parsed = parseInetTable(text, protocol, PENDING);
      merged.add(protocol, parsed.sockets, null, parsed.skipped);
    } else {
      const parsed = parseInetTableReusing(text, protocol, memory[protocol] ?? EMPTY_MEMORY, PENDING);
      merged.add(protocol, parsed.sockets, parsed.lines, parsed.skipped);
    }
  }
  return merged.result();
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
  return joinOwners(deps, { takenAtMs, cpu0, readMs: t1 - t0, parseMs: monotonicMs() - t1 }, parsed, counters);
}

/** The rest of a collection once the tables are parsed: owners (when asked for), the join, the cost. */
async function joinOwners(
  deps: AsyncCollectDeps,
  timing: { readonly takenAtMs: number; readonly cpu0: number; readonly readMs: number; readonly parseMs: number },
  parsed: ParsedTables,
  counters: KernelCounters,
): Promise<Snapshot> {
  const t2 = deps.monotonicMs();
  const owners = deps.owners === null ? null : await deps.owners.scan(wantedInodes(parsed.entries));
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

/** Parse content[from, to) of one table: entries in the record's shape, not yet joined. */
function parsePart(protocol: Protocol, content: Buffer | string, from: number, to: number): ParsedTable {
  const text = textOf(content, from, to);
  return protocol === 'unix' ? parseUnixTable(text) : parseInetTable(text, protocol, PENDING);
}

/** Where the parse of a large table stopped (the partial snapshot read its first lines). */
interface TableProgress {
  readonly table: TableContent & { readonly content: Buffer | string };
  /** Offset of the first line not parsed yet. */
  readonly parsedTo: number;
  readonly sockets: readonly (SocketEntry | SocketRecord)[];
  readonly skipped: number;
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
  const merged = new TableMerger(PARTIAL_FIRST_LINES);
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
    merged.add(protocol, part.sockets, null, part.skipped);
    if (!tcp) {
      for (const e of part.sockets) counts[group][e.state] = (counts[group][e.state] ?? 0) + 1;
      if (to < lengthOf(content)) pending.add(group);
    }
    progress.push({ table: { ...table, content }, parsedTo: to, sockets: part.sockets, skipped: part.skipped });
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
 * kept (joined already, so the full snapshot's join treats them as known records).
 */
async function parseRest(partial: PartialParse, expectedLines: number, stopped: () => boolean): Promise<ParsedTables> {
  const merged = new TableMerger(expectedLines);
  for (const [protocol, error] of Object.entries(partial.parsed.unreadable)) merged.unreadable[protocol] = error;
  for (const { table, parsedTo, sockets, skipped } of partial.progress) {
    const { protocol, content } = table;
    merged.add(protocol, sockets, null, skipped);
    let from = parsedTo;
    while (from < content.length) {
      await yieldToEventLoop();
      if (stopped()) throw new Error('collection stopped');
      const to = afterLines(content, from, PARSE_CHUNK_LINES);
      const part = parsePart(protocol, content, from, to);
      merged.add(protocol, part.sockets, null, part.skipped);
      from = to;
    }
  }
  return merged.result();
}

/** The partial snapshot: its entries joined without owners (never remembered for reuse: see TableMemory). */
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
  const { parsed } = partial;
  const unreadable = Object.keys(parsed.unreadable).length > 0 ? { unreadable: parsed.unreadable } : {};
  return {
    takenAtMs,
    host: deps.hostname(),
    sockets,
    counters,
    issues: { skippedLines: parsed.skippedLines, files: parsed.files, ...unreadable },
    owners: ownerStats,
    cost: { ...cost, rows: entries.length, reusedRows: 0, duplicateRows: parsed.duplicates },
    partial: partial.partial,
  };
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
  const memory = memories.get(procFs) ?? null;
  if (bytes < PARTIAL_FIRST_SNAPSHOT_BYTES || memory !== null) {
    const texts = tables.map(({ protocol, content, error }) => ({
      protocol,
      text: content === null ? null : textOf(content, 0, content.length),
      error,
    }));
    const parsed = parseTables(texts, memory);
    return joinOwners(deps, { takenAtMs, cpu0, readMs: t1 - t0, parseMs: monotonicMs() - t1 }, parsed, counters);
  }
  const partial = parsePartially(tables);
  const t2 = monotonicMs();
  const pendingOwners = deps.owners !== null || deps.ownersPending === true ? PENDING_OWNERS : NO_OWNERS;
  const preview = assemblePartial(deps, takenAtMs, partial, counters, pendingOwners, { readMs: t1 - t0, parseMs: t2 - t1, ownersMs: 0 });
  onPartial(withCpu(preview, processCpuMs() - cpu0));
  const t3 = monotonicMs();
  const parsed = await parseRest(partial, Math.ceil(bytes / 100), stopped);
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
          : collectSnapshotAsync(collectDeps);
      return snapshot.finally(firstTaken);
    },
    stop: () => {
      stopped = true;
    },
  };
}
