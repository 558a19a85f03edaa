// Per-connection throughput and latency from tcp_info counters read at two instants (bottom's
// and nethogs' approach without packet capture: the kernel already counts bytes per socket).
// Pure: the counters come from `ss -tinH` (src/proc/read-ss-info.ts); this module joins them to
// a snapshot's sockets by tuple, turns counter deltas into rates, and sums rates per process,
// per listening port, per peer and for the host.

import { ListeningEndpoints, PROTOCOL_GROUP } from './aggregate.js';
import type { SocketRecord } from './types.js';

/** One TCP socket as `ss -tin` reports it. Counters are bytes / segments since the socket opened. */
export interface TcpConnInfo {
  /** ss's state name: ESTAB, SYN-SENT, FIN-WAIT-1, CLOSE-WAIT, … ("" when ss printed no state column). */
  readonly state: string;
  /** Without brackets or %scope: "127.0.0.1", "::1", "::ffff:127.0.0.1". */
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** tcpi_bytes_sent: bytes handed to the network, retransmits included (kernel ≥ 4.19). */
  readonly bytesSent: number;
  /** tcpi_bytes_acked: bytes the peer acknowledged (+1 for the SYN once established). */
  readonly bytesAcked: number;
  /** tcpi_bytes_received: payload bytes received in order. */
  readonly bytesReceived: number;
  /** tcpi_bytes_retrans: bytes retransmitted. */
  readonly bytesRetrans: number;
  /** retrans:CUR/TOTAL — segments now in retransmission / retransmitted over the socket's life. */
  readonly retransCurrent: number;
  readonly retransTotal: number;
  /** rtt:AVG/VAR, milliseconds (tcpi_rtt and tcpi_rttvar, printed in ms by ss). */
  readonly rttMs: number | null;
  readonly rttVarMs: number | null;
  readonly minRttMs: number | null;
  /** delivery_rate, bits per second (ss -n prints plain bps). */
  readonly deliveryRateBitsPerSec: number | null;
  readonly cwnd: number | null;
}

/**
 * One text per address, whatever its spelling: IPv4 as is; IPv6 with all eight groups written
 * out in lowercase hex (so "::1" from /proc and "0:0::1" from elsewhere agree); v4-mapped IPv6
 * keeps its "::ffff:a.b.c.d" tail expanded the same way. Unparseable text is returned lowercased.
 */
export function canonicalAddress(address: string): string {
  if (!address.includes(':')) return address;
  let text = address.toLowerCase();
  const groups: string[] = [];
  // An IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups.
  const dot = text.lastIndexOf(':');
  const tail = text.slice(dot + 1);
  if (tail.includes('.')) {
    const b = tail.split('.').map(Number);
    if (b.length !== 4 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return text;
    text = `${text.slice(0, dot + 1)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return text;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return text;
  groups.push(...head);
  for (let i = 0; i < (halves.length === 2 ? missing : 0); i++) groups.push('0');
  groups.push(...rest);
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return text;
  return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

/** Join key for one connection: canonical addresses and ports, "L LPORT R RPORT". */
export function tcpTupleKey(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): string {
  return `${canonicalAddress(localAddress)} ${localPort} ${canonicalAddress(remoteAddress)} ${remotePort}`;
}

/** Same address, whatever the spelling: equal text first (the usual case), canonical form else. */
function sameAddress(a: string, b: string): boolean {
  return a === b || (a.includes(':') && b.includes(':') && canonicalAddress(a) === canonicalAddress(b));
}

/**
 * Join tcp_info by tuple: socket key → its counters. Only connected sockets are joined (not
 * LISTEN, not TIME_WAIT: ss's default state set has neither, and they carry no traffic). When
 * two connections share a tuple (two namespaces' views merged) neither is joined.
 * Buckets are keyed by the two ports as one number (string keys for 100k tuples cost ~10x more
 * in hashing); addresses are compared within a bucket.
 */
export function joinTcpInfo(sockets: readonly SocketRecord[], infos: readonly TcpConnInfo[]): Map<string, TcpConnInfo> {
  const byPorts = new Map<number, TcpConnInfo | TcpConnInfo[]>();
  for (const i of infos) {
    const k = i.localPort * 65536 + i.remotePort;
    const had = byPorts.get(k);
    if (had === undefined) byPorts.set(k, i);
    else if (Array.isArray(had)) had.push(i);
    else byPorts.set(k, [had, i]);
  }
  const joined = new Map<string, TcpConnInfo>();
  if (byPorts.size === 0) return joined;
  for (const s of sockets) {
    if (s.state === 'LISTEN' || s.state === 'TIME_WAIT' || s.remotePort === 0 || PROTOCOL_GROUP[s.protocol] !== 'tcp') continue;
    const bucket = byPorts.get(s.localPort * 65536 + s.remotePort);
    if (bucket === undefined) continue;
    if (!Array.isArray(bucket)) {
      if (sameAddress(s.localAddress, bucket.localAddress) && sameAddress(s.remoteAddress, bucket.remoteAddress)) joined.set(s.key, bucket);
      continue;
    }
    let found: TcpConnInfo | null = null;
    let ambiguous = false;
    for (const i of bucket) {
      if (!sameAddress(s.localAddress, i.localAddress) || !sameAddress(s.remoteAddress, i.remoteAddress)) continue;
      if (found !== null) ambiguous = true;
      found = i;
    }
    if (found !== null && !ambiguous) joined.set(s.key, found);
  }
  return joined;
}

/** What is kept of one connection between two reads. */
interface Counters {
  readonly bytesAcked: number;
  readonly bytesReceived: number;
  readonly retransTotal: number;
}

/** Rates of one connection. null rates: seen for the first time, or its counters went back. */
export interface ConnRate {
  /** bytes_acked delta / seconds: what the peer confirmed receiving from us. */
  readonly sendBytesPerSec: number | null;
  /** bytes_received delta / seconds. */
  readonly recvBytesPerSec: number | null;
  /** Retransmitted segments (retrans total) delta / seconds. */
  readonly retransPerSec: number | null;
  readonly rttMs: number | null;
  readonly rttVarMs: number | null;
  readonly bytesAcked: number;
  readonly bytesReceived: number;
  readonly retransTotal: number;
}

/** The previous read, kept to compute the next deltas. */
export interface ConnRatesState {
  /** When the counters were read, ms since epoch. */
  readonly takenAtMs: number;
  readonly counters: ReadonlyMap<string, Counters>;
}

export interface ConnRates {
  readonly state: ConnRatesState;
  /** Socket key → rates. */
  readonly rates: ReadonlyMap<string, ConnRate>;
  /** When the counters behind these rates were read (the header compares it with takenAtMs). */
  readonly asOfMs: number;
  /** Seconds between the two reads the rates come from; null on the first read. */
  readonly intervalSec: number | null;
}

/**
 * Rates from the counters now (`joined`: socket key → tcp_info, read at takenAtMs) and the
 * previous read. A key seen for the first time, a counter that went backwards (tuple reused by a
 * new connection) or a non-positive interval give null rates. Keys no longer present are dropped.
 */
export function computeConnRates(prev: ConnRatesState | null, joined: ReadonlyMap<string, TcpConnInfo>, takenAtMs: number): ConnRates {
  const elapsedMs = prev === null ? 0 : takenAtMs - prev.takenAtMs;
  const seconds = elapsedMs > 0 ? elapsedMs / 1000 : null;
  // One map and one object per connection: a connection's rate carries the counters the next
  // read compares with (a second map of counter objects was kept between reads: 85k at 100k).
  const rates = new Map<string, ConnRate>();
  for (const [key, info] of joined) {
    const before = seconds === null ? undefined : prev?.counters.get(key);
    const usable =
      seconds !== null &&
      before !== undefined &&
      info.bytesAcked >= before.bytesAcked &&
      info.bytesReceived >= before.bytesReceived &&
      info.retransTotal >= before.retransTotal;
    rates.set(key, {
      sendBytesPerSec: usable ? (info.bytesAcked - before.bytesAcked) / seconds : null,
      recvBytesPerSec: usable ? (info.bytesReceived - before.bytesReceived) / seconds : null,
      retransPerSec: usable ? (info.retransTotal - before.retransTotal) / seconds : null,
      rttMs: info.rttMs,
      rttVarMs: info.rttVarMs,
      bytesAcked: info.bytesAcked,
      bytesReceived: info.bytesReceived,
      retransTotal: info.retransTotal,
    });
  }
  return { state: { takenAtMs, counters: rates }, rates, asOfMs: takenAtMs, intervalSec: seconds };
}

/** Rates summed over a group of connections. */
export interface RateGroup {
  /** "8080" (port), "10.0.0.7" (peer), "1234" (pid), "-" (unknown owner). */
  readonly key: string;
  readonly label: string;
  /** Connections in the group that have tcp_info. */
  readonly connections: number;
  /** Of those, how many have a rate (seen at two reads). */
  readonly withRate: number;
  readonly sendBytesPerSec: number;
  readonly recvBytesPerSec: number;
  readonly retransPerSec: number;
  /** Median and largest smoothed RTT over the group's connections, ms; null when none has one. */
  readonly rttMedianMs: number | null;
  readonly rttWorstMs: number | null;
  readonly pid: number | null;
  readonly process: string | null;
}

interface MutableRateGroup {
  key: string;
  label: string;
  connections: number;
  withRate: number;
  sendBytesPerSec: number;
  recvBytesPerSec: number;
  retransPerSec: number;
  rtts: number[];
  pid: number | null;
  process: string | null;
}

function addTo(groups: Map<string, MutableRateGroup>, key: string, label: string, r: ConnRate): MutableRateGroup {
  let g = groups.get(key);
  if (g === undefined) {
    g = {
      key,
      label,
      connections: 0,
      withRate: 0,
      sendBytesPerSec: 0,
      recvBytesPerSec: 0,
      retransPerSec: 0,
      rtts: [],
      pid: null,
      process: null,
    };
    groups.set(key, g);
  }
  g.connections++;
  if (r.sendBytesPerSec !== null) {
    g.withRate++;
    g.sendBytesPerSec += r.sendBytesPerSec;
    g.recvBytesPerSec += r.recvBytesPerSec ?? 0;
    g.retransPerSec += r.retransPerSec ?? 0;
  }
  if (r.rttMs !== null) g.rtts.push(r.rttMs);
  return g;
}

/** Median of a list (mean of the two middle values for an even count); null when empty. */
export function medianOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function finish(groups: Map<string, MutableRateGroup>): RateGroup[] {
  const rows: RateGroup[] = [];
  for (const g of groups.values()) {
    rows.push({
      key: g.key,
      label: g.label,
      connections: g.connections,
      withRate: g.withRate,
      sendBytesPerSec: g.sendBytesPerSec,
      recvBytesPerSec: g.recvBytesPerSec,
      retransPerSec: g.retransPerSec,
      rttMedianMs: medianOf(g.rtts),
      rttWorstMs: g.rtts.length === 0 ? null : Math.max(...g.rtts),
      pid: g.pid,
      process: g.process,
    });
  }
  // Busiest first (in + out), then by key for a stable order.
  return rows.sort((a, b) => b.sendBytesPerSec + b.recvBytesPerSec - (a.sendBytesPerSec + a.recvBytesPerSec) || a.key.localeCompare(b.key));
}

/** Rates per owning process; connections without a known owner in one "-" row. */
export function sumRatesByProcess(sockets: readonly SocketRecord[], rates: ReadonlyMap<string, ConnRate>): RateGroup[] {
  const groups = new Map<string, MutableRateGroup>();
  for (const s of sockets) {
    const r = rates.get(s.key);
    if (r === undefined) continue;
    const g = addTo(groups, s.owner === null ? '-' : String(s.owner.pid), s.owner === null ? '(unknown owner)' : s.owner.command, r);
    if (s.owner !== null) {
      g.pid = s.owner.pid;
      g.process = s.owner.command;
    }
  }
  return finish(groups);
}

/**
 * Rates per service port: connections on an address and port a TCP listener here listens on
 * (the inbound side, as countByLocalPort groups them). Outbound connections are left out, so the
 * rows stay a short list of services. `listening`: where the host listens, when `sockets` is a
 * filtered part of a snapshot.
 */
export function sumRatesByLocalPort(
  sockets: readonly SocketRecord[],
  rates: ReadonlyMap<string, ConnRate>,
  listening: ListeningEndpoints = new ListeningEndpoints(sockets),
): RateGroup[] {
  const listeners = new Map<number, SocketRecord>();
  for (const s of sockets)
    if (s.state === 'LISTEN' && PROTOCOL_GROUP[s.protocol] === 'tcp' && !listeners.has(s.localPort)) listeners.set(s.localPort, s);
  const groups = new Map<string, MutableRateGroup>();
  for (const s of sockets) {
    const r = rates.get(s.key);
    if (r === undefined || PROTOCOL_GROUP[s.protocol] !== 'tcp' || !listening.covers(s)) continue;
    const g = addTo(groups, String(s.localPort), String(s.localPort), r);
    const listener = listeners.get(s.localPort);
    if (listener !== undefined && listener.owner !== null) {
      g.pid = listener.owner.pid;
      g.process = listener.owner.command;
    }
  }
  return finish(groups);
}

/**
 * Rates per remote port of client-side connections ("to:5432"), as countByRemotePort groups
 * them: connections whose local address and port nobody listens on here (`listening`).
 */
export function sumRatesByRemotePort(
  sockets: readonly SocketRecord[],
  rates: ReadonlyMap<string, ConnRate>,
  listening: ListeningEndpoints,
): RateGroup[] {
  const groups = new Map<string, MutableRateGroup>();
  for (const s of sockets) {
    const r = rates.get(s.key);
    if (r === undefined || s.remotePort === 0 || listening.covers(s)) continue;
    addTo(groups, `to:${s.remotePort}`, `→:${s.remotePort}`, r);
  }
  return finish(groups);
}

/** Rates per remote host, with the RTT median and worst over its connections. */
export function sumRatesByPeer(sockets: readonly SocketRecord[], rates: ReadonlyMap<string, ConnRate>): RateGroup[] {
  const groups = new Map<string, MutableRateGroup>();
  for (const s of sockets) {
    const r = rates.get(s.key);
    if (r === undefined) continue;
    addTo(groups, s.remoteAddress, s.remoteAddress, r);
  }
  return finish(groups);
}

export interface RateTotals {
  readonly connections: number;
  readonly withRate: number;
  readonly sendBytesPerSec: number;
  readonly recvBytesPerSec: number;
  readonly retransPerSec: number;
}

/** The host total over every connection with tcp_info (or only those of `keys` when given). */
export function totalRates(rates: ReadonlyMap<string, ConnRate>, keys?: Iterable<string>): RateTotals {
  let connections = 0;
  let withRate = 0;
  let send = 0;
  let recv = 0;
  let retrans = 0;
  const add = (r: ConnRate | undefined): void => {
    if (r === undefined) return;
    connections++;
    if (r.sendBytesPerSec === null) return;
    withRate++;
    send += r.sendBytesPerSec;
    recv += r.recvBytesPerSec ?? 0;
    retrans += r.retransPerSec ?? 0;
  };
  if (keys === undefined) for (const r of rates.values()) add(r);
  else for (const k of keys) add(rates.get(k));
  return { connections, withRate, sendBytesPerSec: send, recvBytesPerSec: recv, retransPerSec: retrans };
}

/**
 * When to run the next `ss -tinH`: every refresh while it is cheap, else spaced so that it
 * takes at most `budgetFraction` of one core (`lastCpuMs`: the last read's CPU, ss's and ours;
 * a read of 1.2 s of CPU with a 0.1 budget runs every 12 s). Monotonic milliseconds in and out.
 */
export function nextTcpInfoReadAtMs(lastStartMs: number, lastCpuMs: number, intervalMs: number, budgetFraction: number): number {
  const fraction = budgetFraction > 0 ? budgetFraction : 1;
  return lastStartMs + Math.max(intervalMs, lastCpuMs / fraction);
}

/** How old the rates are compared with the snapshot shown, ms; 0 when they are from this refresh or later. */
export function ratesAgeMs(rates: Pick<ConnRates, 'asOfMs'> | null, snapshotTakenAtMs: number): number | null {
  if (rates === null) return null;
  return Math.max(0, snapshotTakenAtMs - rates.asOfMs);
}

/**
 * Ports to restrict `ss` to when a filter shows few connections: the local and remote ports of
 * the shown TCP sockets, or null (read everything) when there are more than `maxPorts`.
 */
export function portsOfShownConnections(shown: readonly SocketRecord[], maxPorts = 32): number[] | null {
  const ports = new Set<number>();
  for (const s of shown) {
    if (PROTOCOL_GROUP[s.protocol] !== 'tcp' || s.state === 'LISTEN' || s.remotePort === 0) continue;
    ports.add(s.localPort);
    if (ports.size > maxPorts) return null;
  }
  return [...ports].sort((a, b) => a - b);
}
