// build*: health of every TCP listener — accept queue against its backlog limit, half-open
// (SYN_RECV) and accepted connections on its address and port, and the machine's listen
// overflow counters. Pure: a snapshot, counter rates and sysctls in, rows out.
//
// Sources and their limits:
//   - accept queue now: Recv-Q of the LISTEN line of /proc/net/tcp{,6} (sk_ack_backlog);
//   - backlog limit: not in /proc (tx_queue is 0 for LISTEN). Either given by the caller (from
//     `ss -ltnH` Send-Q, see src/proc/read-backlogs.ts) or estimated as net.core.somaxconn, an
//     upper bound (the kernel caps listen()'s argument with it);
//   - TcpExt.ListenOverflows / ListenDrops (/proc/net/netstat): per network namespace, not per
//     listener. They are attributed to listeners whose accept queue is non-empty at sample time.
//     The kernel counts an overflow when sk_ack_backlog > sk_max_ack_backlog, so a full queue
//     holds backlog + 1 connections and the fill ratio can exceed 1.

import { endpointKey, unmapIpv4 } from './address.js';
import type { CounterRates } from './rates.js';
import type { Snapshot, SocketOwner, SocketRecord } from './types.js';

/**
 * Values of /proc/sys/net/… that explain socket pile-ups (read by src/proc/read-sysctl.ts); null
 * when a file is missing or unreadable. Declared here so the model does not import the proc layer.
 */
export interface NetSysctls {
  /** net.ipv4.ip_local_port_range: ephemeral ports for connect() without bind(), inclusive. */
  readonly ephemeralPortRange: { readonly low: number; readonly high: number } | null;
  /** net.core.somaxconn: cap on every listen() backlog (connections). */
  readonly somaxconn: number | null;
  /** net.ipv4.tcp_fin_timeout: seconds an orphaned FIN_WAIT2 socket is kept. */
  readonly tcpFinTimeoutSec: number | null;
  /** net.ipv4.tcp_max_syn_backlog: cap on half-open (SYN_RECV) requests per listener. */
  readonly tcpMaxSynBacklog: number | null;
  /** net.ipv4.tcp_syncookies: 0 off, 1 when the SYN queue overflows (default), 2 always. */
  readonly tcpSyncookies: number | null;
  /** net.ipv4.tcp_tw_reuse: 0 off, 1 on, 2 loopback only (default since Linux 4.19). */
  readonly tcpTwReuse: number | null;
}

/** Sysctls when nothing could be read (or before the first reading): all unknown. */
export const UNKNOWN_SYSCTLS: NetSysctls = {
  ephemeralPortRange: null,
  somaxconn: null,
  tcpFinTimeoutSec: null,
  tcpMaxSynBacklog: null,
  tcpSyncookies: null,
  tcpTwReuse: null,
};

export type ListenerFlag = 'queue-filling' | 'queue-full' | 'dropping';

/** Where the backlog limit came from: ss (exact), somaxconn (upper bound) or nowhere. */
export type BacklogSource = 'ss' | 'somaxconn' | 'unknown';

export interface ListenerHealth {
  /** Socket key of the LISTEN socket. */
  readonly key: string;
  readonly protocol: 'tcp' | 'tcp6';
  readonly localAddress: string;
  readonly localPort: number;
  /** endpointKey(localAddress, localPort): "0.0.0.0:80", "[::]:80" — the key of the backlogs map. */
  readonly endpoint: string;
  readonly owner: SocketOwner | null;
  /** Completed connections waiting for accept() (LISTEN Recv-Q), connections. */
  readonly acceptQueue: number;
  /** Accept queue limit (connections), null when unknown. */
  readonly backlog: number | null;
  readonly backlogSource: BacklogSource;
  /** true when `backlog` is somaxconn, an upper bound of the real limit. */
  readonly backlogIsEstimate: boolean;
  /** Half-open connections (SYN_RECV, NEW_SYN_RECV) on this listener's address and port. */
  readonly synRecv: number;
  readonly established: number;
  readonly closeWait: number;
  /** acceptQueue / backlog (1 = full; up to (backlog + 1) / backlog), null when backlog unknown or 0. */
  readonly fillRatio: number | null;
  readonly flags: readonly ListenerFlag[];
  /** Machine-wide (per network namespace) TcpExt.ListenOverflows and ListenDrops, per second. */
  readonly overflowsPerSec: number;
  readonly dropsPerSec: number;
  /** Plain-language caveats: estimated limit, machine-wide attribution. */
  readonly notes: readonly string[];
}

export interface ListenerHealthThresholds {
  /** Fill ratio from which a queue is 'queue-filling'. */
  readonly fillingRatio: number;
  /** Fill ratio from which a queue is 'queue-full'. */
  readonly fullRatio: number;
}

export const DEFAULT_LISTENER_THRESHOLDS: ListenerHealthThresholds = { fillingRatio: 0.5, fullRatio: 1 };

const isWildcard = (address: string): boolean => address === '0.0.0.0' || address === '::' || address === '*';
const isIpv4 = (address: string): boolean => !address.includes(':');

/**
 * How well a listener's address explains a connection's local address: 3 same address, 2 a
 * wildcard of the same protocol, 1 a wildcard of the other protocol that can still accept it
 * ('::' takes IPv4 too unless IPV6_V6ONLY), 0 not at all.
 */
function matchScore(listener: ListenerEndpoint, conn: SocketRecord): number {
  const la = unmapIpv4(listener.localAddress);
  const ca = unmapIpv4(conn.localAddress);
  if (la === ca) return 3;
  if (!isWildcard(la)) return 0;
  if (la === '0.0.0.0' && !isIpv4(ca)) return 0;
  return listener.protocol === conn.protocol ? 2 : 1;
}

interface Counts {
  synRecv: number;
  established: number;
  closeWait: number;
}

const isTcp = (s: SocketRecord): s is SocketRecord & { protocol: 'tcp' | 'tcp6' } => s.protocol === 'tcp' || s.protocol === 'tcp6';

/** A listened endpoint: protocol + address + port, shared by SO_REUSEPORT siblings. */
interface ListenerEndpoint {
  /** "tcp 0.0.0.0:80" */
  readonly id: string;
  readonly protocol: string;
  readonly localAddress: string;
  /** LISTEN sockets on it. */
  sockets: number;
}

const endpointIdOf = (l: SocketRecord): string => `${l.protocol} ${endpointKey(l.localAddress, l.localPort)}`;

const connKind = (s: SocketRecord): keyof Counts | null =>
  s.state === 'SYN_RECV' || s.state === 'NEW_SYN_RECV'
    ? 'synRecv'
    : s.state === 'ESTABLISHED'
      ? 'established'
      : s.state === 'CLOSE_WAIT'
        ? 'closeWait'
        : null;

/**
 * Half-open, established and CLOSE_WAIT connections per TCP listener endpoint, one socket at a
 * time: listeners (LISTEN sockets) and connections are added and removed as they come and go.
 * A connection goes to the endpoint that accepted it (the best matchScore on its port; among
 * equals, the first endpoint id), decided by the endpoints present when it is added: when the set
 * of endpoints changes (addListener/removeListener return true) the connections must be counted
 * again (clearConnections, then addConnection for each).
 */
export class ListenerConnections {
  private readonly endpoints = new Map<string, ListenerEndpoint>();
  private readonly byPort = new Map<number, ListenerEndpoint[]>();
  private readonly counts = new Map<string, Counts>();

  /** A TCP LISTEN socket; true when its endpoint is new. Others are ignored. */
  addListener(l: SocketRecord): boolean {
    if (!isTcp(l) || l.state !== 'LISTEN') return false;
    const id = endpointIdOf(l);
    const e = this.endpoints.get(id);
    if (e !== undefined) {
      e.sockets++;
      return false;
    }
    const endpoint: ListenerEndpoint = { id, protocol: l.protocol, localAddress: l.localAddress, sockets: 1 };
    this.endpoints.set(id, endpoint);
    const list = this.byPort.get(l.localPort);
    if (list === undefined) this.byPort.set(l.localPort, [endpoint]);
    else list.push(endpoint);
    return true;
  }

  /** true when l was its endpoint's last LISTEN socket. */
  removeListener(l: SocketRecord): boolean {
    if (!isTcp(l) || l.state !== 'LISTEN') return false;
    const id = endpointIdOf(l);
    const e = this.endpoints.get(id);
    if (e === undefined) return false;
    if (--e.sockets > 0) return false;
    this.endpoints.delete(id);
    const list = (this.byPort.get(l.localPort) ?? []).filter((x) => x !== e);
    if (list.length === 0) this.byPort.delete(l.localPort);
    else this.byPort.set(l.localPort, list);
    this.counts.delete(id);
    return true;
  }

  /** One connection more (1) or less (-1) on the endpoint that accepted it, if any. */
  countConnection(s: SocketRecord, delta: 1 | -1): void {
    if (!isTcp(s) || s.state === 'LISTEN') return;
    const kind = connKind(s);
    if (kind === null) return;
    const listeners = this.byPort.get(s.localPort);
    if (listeners === undefined) return;
    let best: ListenerEndpoint | null = null;
    let bestScore = 0;
    for (const l of listeners) {
      const score = matchScore(l, s);
      if (score > bestScore || (score === bestScore && score > 0 && best !== null && l.id < best.id)) {
        best = l;
        bestScore = score;
      }
    }
    if (best === null) return;
    let c = this.counts.get(best.id);
    if (c === undefined) {
      c = { synRecv: 0, established: 0, closeWait: 0 };
      this.counts.set(best.id, c);
    }
    c[kind] += delta;
  }

  clearConnections(): void {
    this.counts.clear();
  }

  /** Forget the listeners too. */
  reset(): void {
    this.endpoints.clear();
    this.byPort.clear();
    this.counts.clear();
  }

  /** The connections of a LISTEN socket's endpoint. */
  countsOf(l: SocketRecord): Readonly<Counts> {
    return this.counts.get(endpointIdOf(l)) ?? NO_CONNECTIONS;
  }
}

const NO_CONNECTIONS: Readonly<Counts> = { synRecv: 0, established: 0, closeWait: 0 };

/** The listener's backlog: from the map (exact, or "*:port" for a wildcard), else somaxconn. */
function backlogOf(
  l: SocketRecord,
  backlogs: ReadonlyMap<string, number> | null,
  sysctls: NetSysctls,
): { backlog: number | null; source: BacklogSource } {
  if (backlogs !== null && backlogs.size > 0) {
    const exact =
      backlogs.get(endpointKey(l.localAddress, l.localPort)) ?? backlogs.get(endpointKey(unmapIpv4(l.localAddress), l.localPort));
    const any = isWildcard(l.localAddress) ? backlogs.get(endpointKey('*', l.localPort)) : undefined;
    const found = exact ?? any;
    if (found !== undefined) return { backlog: found, source: 'ss' };
  }
  return sysctls.somaxconn === null ? { backlog: null, source: 'unknown' } : { backlog: sysctls.somaxconn, source: 'somaxconn' };
}

/**
 * One row per TCP LISTEN socket (tcp and tcp6), sorted by fill ratio (fullest first), then
 * accept queue, then port. `backlogs` (endpointKey → limit) comes from readListenBacklogs;
 * without it the limit is somaxconn, an upper bound, and the row says so.
 */
export function buildListenerHealth(
  snapshot: Snapshot,
  rates: CounterRates,
  sysctls: NetSysctls,
  backlogs: ReadonlyMap<string, number> | null = null,
  thresholds: ListenerHealthThresholds = DEFAULT_LISTENER_THRESHOLDS,
): ListenerHealth[] {
  const connections = new ListenerConnections();
  const listeners: SocketRecord[] = [];
  for (const s of snapshot.sockets) {
    if (!isTcp(s) || s.state !== 'LISTEN') continue;
    listeners.push(s);
    connections.addListener(s);
  }
  if (listeners.length === 0) return [];
  for (const s of snapshot.sockets) connections.countConnection(s, 1);
  return buildListenerRows(listeners, connections, rates, sysctls, backlogs, thresholds);
}

/**
 * The rows of buildListenerHealth from the TCP LISTEN sockets and their endpoints' connections
 * (kept incrementally by the session store).
 */
export function buildListenerRows(
  listeners: Iterable<SocketRecord>,
  connections: ListenerConnections,
  rates: CounterRates,
  sysctls: NetSysctls,
  backlogs: ReadonlyMap<string, number> | null = null,
  thresholds: ListenerHealthThresholds = DEFAULT_LISTENER_THRESHOLDS,
): ListenerHealth[] {
  const overflowsPerSec = rates['TcpExt.ListenOverflows'] ?? 0;
  const dropsPerSec = rates['TcpExt.ListenDrops'] ?? 0;
  const overflowing = overflowsPerSec > 0 || dropsPerSec > 0;
  const rows: ListenerHealth[] = [];
  for (const l of listeners) {
    const { backlog, source } = backlogOf(l, backlogs, sysctls);
    const c = connections.countsOf(l);
    const fillRatio = backlog === null || backlog <= 0 ? null : l.recvQ / backlog;
    const suspect = overflowing && l.recvQ > 0;
    const flags: ListenerFlag[] = [];
    const full = (fillRatio !== null && fillRatio >= thresholds.fullRatio) || (suspect && source !== 'ss');
    if (full) flags.push('queue-full');
    else if (fillRatio !== null && fillRatio >= thresholds.fillingRatio) flags.push('queue-filling');
    if (suspect) flags.push('dropping');
    const notes: string[] = [];
    if (source === 'somaxconn') {
      notes.push(
        `backlog limit not known (not in /proc/net/tcp): net.core.somaxconn = ${backlog} is an upper bound, so the fill ratio is a lower bound`,
      );
    } else if (source === 'unknown') {
      notes.push('backlog limit not known (not in /proc/net/tcp, somaxconn unreadable)');
    }
    if (suspect) {
      notes.push(
        `TcpExt.ListenOverflows ${fmtRate(overflowsPerSec)}/s, ListenDrops ${fmtRate(dropsPerSec)}/s are machine-wide counters; attributed to every listener whose accept queue is non-empty`,
      );
    }
    rows.push({
      key: l.key,
      protocol: l.protocol as 'tcp' | 'tcp6',
      localAddress: l.localAddress,
      localPort: l.localPort,
      endpoint: endpointKey(l.localAddress, l.localPort),
      owner: l.owner,
      acceptQueue: l.recvQ,
      backlog,
      backlogSource: source,
      backlogIsEstimate: source !== 'ss',
      synRecv: c.synRecv,
      established: c.established,
      closeWait: c.closeWait,
      fillRatio,
      flags,
      overflowsPerSec,
      dropsPerSec,
      notes,
    });
  }
  return rows.sort(
    (a, b) =>
      (b.fillRatio ?? -1) - (a.fillRatio ?? -1) || b.acceptQueue - a.acceptQueue || a.localPort - b.localPort || a.key.localeCompare(b.key),
  );
}

/** Per port, for the by-port view: listeners' queues summed and their flags merged. */
export interface PortListenerSummary {
  readonly port: number;
  readonly acceptQueue: number;
  /** Sum of the listeners' limits, null when any is unknown. */
  readonly backlog: number | null;
  readonly backlogIsEstimate: boolean;
  readonly synRecv: number;
  readonly flags: readonly ListenerFlag[];
}

export function summarizeListenersByPort(rows: readonly ListenerHealth[]): Map<number, PortListenerSummary> {
  const out = new Map<number, PortListenerSummary>();
  const synSeen = new Set<string>();
  for (const r of rows) {
    const prev = out.get(r.localPort);
    // Endpoint counts are shared by SO_REUSEPORT siblings: count each endpoint once.
    const ep = `${r.protocol} ${r.endpoint}`;
    const syn = synSeen.has(ep) ? 0 : r.synRecv;
    synSeen.add(ep);
    const flags = new Set<ListenerFlag>([...(prev?.flags ?? []), ...r.flags]);
    if (flags.has('queue-full')) flags.delete('queue-filling');
    out.set(r.localPort, {
      port: r.localPort,
      acceptQueue: (prev?.acceptQueue ?? 0) + r.acceptQueue,
      backlog: prev === undefined ? r.backlog : prev.backlog === null || r.backlog === null ? null : prev.backlog + r.backlog,
      backlogIsEstimate: (prev?.backlogIsEstimate ?? false) || r.backlogIsEstimate,
      synRecv: (prev?.synRecv ?? 0) + syn,
      flags: (['queue-full', 'queue-filling', 'dropping'] as const).filter((f) => flags.has(f)),
    });
  }
  return out;
}

function fmtRate(perSec: number): string {
  return perSec >= 10 ? perSec.toFixed(0) : perSec.toFixed(1);
}
