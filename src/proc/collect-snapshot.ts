// collect*: read every /proc/net table once, join owners and user names, and hand back one
// immutable Snapshot. This is the only place that turns files into a snapshot; everything
// after it (tracker, aggregation, filters, views) is pure.

import type {
  KernelCounters,
  OwnerScanStats,
  Protocol,
  Snapshot,
  SocketEntry,
  SocketOwner,
  SocketRecord,
} from '../model/types.js';
import type { ProcFs } from './proc-fs.js';
import { parseInetTable } from './parse-inet.js';
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

/** Read /proc/net/snmp and /proc/net/netstat into one flat counter map ("Tcp.ActiveOpens"). */
export function readKernelCounters(procFs: ProcFs): KernelCounters {
  return countersFrom(procFs.readText('net/snmp'), procFs.readText('net/netstat'));
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

interface ParsedTables {
  readonly entries: SocketEntry[];
  readonly files: Record<string, number>;
  readonly skippedLines: number;
}

function parseTables(texts: readonly (readonly [Protocol, string | null])[]): ParsedTables {
  const entries: SocketEntry[] = [];
  const files: Record<string, number> = {};
  let skippedLines = 0;
  for (const [protocol, text] of texts) {
    if (text === null) continue; // missing table: IPv6 disabled, no raw sockets support
    const parsed = protocol === 'unix' ? parseUnixTable(text) : parseInetTable(text, protocol);
    for (const s of parsed.sockets) entries.push(s);
    if (parsed.skipped > 0) {
      files[`net/${protocol}`] = parsed.skipped;
      skippedLines += parsed.skipped;
    }
  }
  return { entries, files, skippedLines };
}

function assemble(
  deps: Pick<CollectDeps, 'hostname' | 'userName'>,
  takenAtMs: number,
  parsed: ParsedTables,
  counters: KernelCounters,
  owners: OwnerLookup | null,
  cost: Omit<Snapshot['cost'], 'rows'>,
): Snapshot {
  const { entries } = parsed;
  const sockets =
    owners === null
      ? entries.map((e) => toRecord(e, null, 0, deps.userName))
      : entries.map((e) =>
          e.inode === 0 ? toRecord(e, null, 0, deps.userName) : toRecord(e, owners.lookup(e.inode), owners.sharedBy(e.inode), deps.userName),
        );
  return {
    takenAtMs,
    host: deps.hostname(),
    sockets,
    counters,
    issues: { skippedLines: parsed.skippedLines, files: parsed.files },
    owners: owners?.stats ?? NO_OWNERS,
    cost: { ...cost, rows: entries.length },
  };
}

/** One snapshot, synchronously (for --once and tests). */
export function collectSnapshot(deps: CollectDeps): Snapshot {
  const { procFs, monotonicMs } = deps;
  const takenAtMs = deps.now();
  const t0 = monotonicMs();
  const texts = (deps.protocols ?? NET_TABLES).map((p) => [p, procFs.readText(`net/${p}`)] as const);
  const counters = readKernelCounters(procFs);
  const t1 = monotonicMs();
  const parsed = parseTables(texts);
  const t2 = monotonicMs();
  const owners = deps.owners === null ? null : deps.owners.scan(wantedInodes(parsed.entries));
  const t3 = monotonicMs();
  return assemble(deps, takenAtMs, parsed, counters, owners, { readMs: t1 - t0, parseMs: t2 - t1, ownersMs: t3 - t2 });
}

/** Owner mapping that may run elsewhere (a worker thread), answering asynchronously. */
export interface AsyncOwnerSource {
  scan(wanted: ReadonlySet<number>): Promise<OwnerLookup>;
  /** Optional: start a full scan now, so that it runs while the tables are read and parsed. */
  prime?(): void;
  close(): Promise<void>;
}

export interface AsyncCollectDeps extends Omit<CollectDeps, 'owners'> {
  readonly owners: AsyncOwnerSource | null;
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
  const protocols = deps.protocols ?? NET_TABLES;
  const texts = await Promise.all(protocols.map(async (p) => [p, await procFs.readTextAsync(`net/${p}`)] as const));
  const [snmp, netstat] = await Promise.all([procFs.readTextAsync('net/snmp'), procFs.readTextAsync('net/netstat')]);
  const t1 = monotonicMs();
  const parsed = parseTables(texts);
  const counters = countersFrom(snmp, netstat);
  const t2 = monotonicMs();
  const owners = deps.owners === null ? null : await deps.owners.scan(wantedInodes(parsed.entries));
  const t3 = monotonicMs();
  return assemble(deps, takenAtMs, parsed, counters, owners, { readMs: t1 - t0, parseMs: t2 - t1, ownersMs: t3 - t2 });
}
