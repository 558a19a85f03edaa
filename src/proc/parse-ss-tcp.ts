// parse*: the text of `ss -tinH` (iproute2), every connection with its tcp_info counters.
// ss prints one line per socket ("ESTAB 0 0 127.0.0.1:5432 127.0.0.1:41000", optionally after a
// Netid column and followed by `users:(...)` etc.) and then an indented line of tcp_info fields
// ("bbr wscale:7,7 rto:204 rtt:0.03/0.015 … bytes_sent:100000 bytes_acked:100001 …").
// ss leaves out counters that are zero (bytes_acked, bytes_received, retrans), so a missing
// counter reads as 0. Addresses come as "1.2.3.4:80", "[::1]:443", "[::ffff:1.2.3.4]:80",
// "[fe80::1]%eth0:22" (scope after the bracket) and "*" for a wildcard.

import type { TcpConnInfo } from '../model/conn-rates.js';

/** One TCP socket as `ss -tin` reports it. */
export type SsTcpInfo = TcpConnInfo;

export interface SsTcpTable {
  readonly connections: SsTcpInfo[];
  /** Socket lines that did not parse (unknown shape, bad address or port). */
  readonly skipped: number;
}

/** ss's TCP state names (sstate_name in ss.c). */
const SS_STATES = new Set([
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'TIME-WAIT',
  'UNCONN',
  'CLOSE-WAIT',
  'LAST-ACK',
  'LISTEN',
  'CLOSING',
  'NEW-SYN-RECV',
  'BOUND-INACTIVE',
]);
const NETIDS = new Set(['tcp', 'mptcp', 'tcp6']);

/**
 * Split "ADDR:PORT" as ss prints it. Returns null when the port is not 0-65535 or "*". Brackets
 * and an interface scope ("%eth0") are dropped; "*" as an address becomes "0.0.0.0".
 */
export function parseSsEndpoint(text: string): { address: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const portText = text.slice(colon + 1);
  let port: number;
  if (portText === '*') port = 0;
  else {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port > 65535) return null;
  }
  let host = text.slice(0, colon);
  const percent = host.indexOf('%');
  if (percent >= 0) host = host.slice(0, percent);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return null;
    host = host.slice(1, -1);
  }
  if (host === '*') host = '0.0.0.0';
  if (host === '' || !/^[0-9a-fA-F:.]+$/.test(host)) return null;
  return { address: host.toLowerCase(), port };
}

/** "A/B" → [A, B]; null when not two non-negative numbers. */
function pair(text: string | undefined): [number, number] | null {
  if (text === undefined) return null;
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const a = Number(text.slice(0, slash));
  const b = Number(text.slice(slash + 1));
  return Number.isFinite(a) && Number.isFinite(b) && a >= 0 && b >= 0 ? [a, b] : null;
}

function bitsPerSec(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)([kKMGT]?)bps$/.exec(text);
  if (m === null) return null;
  const scale = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'k' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * scale;
}

interface SocketLine {
  readonly state: string;
  readonly local: { address: string; port: number };
  readonly remote: { address: string; port: number };
}

/** "[Netid] [State] Recv-Q Send-Q Local Peer [more]" → the parts we need; null if malformed. */
function parseSocketLine(line: string): SocketLine | null {
  const tokens = line.trim().split(/\s+/);
  let i = 0;
  if (NETIDS.has(tokens[i] ?? '')) i++;
  let state = '';
  if (SS_STATES.has(tokens[i] ?? '')) state = tokens[i++]!;
  // Recv-Q and Send-Q
  if (!/^\d+$/.test(tokens[i] ?? '') || !/^\d+$/.test(tokens[i + 1] ?? '')) return null;
  i += 2;
  const local = parseSsEndpoint(tokens[i] ?? '');
  const remote = parseSsEndpoint(tokens[i + 1] ?? '');
  if (local === null || remote === null) return null;
  return { state, local, remote };
}

/**
 * The text after " key" + sep up to the next blank, or undefined. The key must follow a blank
 * (or start the line): " rtt:" is not "rcv_rtt:" nor bbr's ",mrtt:", " retrans:" not
 * "bytes_retrans:". indexOf per wanted key is ~10x cheaper than splitting the ~40 fields ss prints.
 */
function field(line: string, key: string, sep: ':' | ' '): string | undefined {
  const needle = key + sep;
  let at = line.indexOf(needle);
  while (at > 0) {
    const before = line.charCodeAt(at - 1);
    if (before === 32 || before === 9) break;
    at = line.indexOf(needle, at + 1);
  }
  if (at < 0) return undefined;
  const start = at + needle.length;
  let end = start;
  const len = line.length;
  while (end < len) {
    const c = line.charCodeAt(end);
    if (c === 32 || c === 9 || c === 13) break;
    end++;
  }
  return line.slice(start, end);
}

function count(line: string, key: string): number {
  const v = field(line, key, ':');
  if (v === undefined) return 0; // ss leaves out counters that are zero
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

function optional(line: string, key: string): number | null {
  const v = field(line, key, ':');
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function toInfo(s: SocketLine, infoLine: string): SsTcpInfo {
  const rtt = pair(field(infoLine, 'rtt', ':'));
  const retrans = pair(field(infoLine, 'retrans', ':'));
  return {
    state: s.state,
    localAddress: s.local.address,
    localPort: s.local.port,
    remoteAddress: s.remote.address,
    remotePort: s.remote.port,
    bytesSent: count(infoLine, 'bytes_sent'),
    bytesAcked: count(infoLine, 'bytes_acked'),
    bytesReceived: count(infoLine, 'bytes_received'),
    bytesRetrans: count(infoLine, 'bytes_retrans'),
    retransCurrent: retrans?.[0] ?? 0,
    retransTotal: retrans?.[1] ?? 0,
    rttMs: rtt?.[0] ?? null,
    rttVarMs: rtt?.[1] ?? null,
    minRttMs: optional(infoLine, 'minrtt'),
    deliveryRateBitsPerSec: bitsPerSec(field(infoLine, 'delivery_rate', ' ')),
    cwnd: optional(infoLine, 'cwnd'),
  };
}

/**
 * Parse the whole output of `ss -tinH` (or -tin: a "State Recv-Q …" header line is skipped).
 * A socket line without a following indented line (TIME-WAIT has an empty one) gets zero
 * counters and null RTT. A trailing socket line cut short by an output cap parses as far as it
 * goes; a cut info line only loses the fields after the cut.
 */
export function parseSsTcpTable(text: string): SsTcpTable {
  const connections: SsTcpInfo[] = [];
  let skipped = 0;
  let pending: SocketLine | null = null;
  let start = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    const line = text.slice(start, end);
    start = end + 1;
    const first = line.charCodeAt(0);
    if (first === 9 || first === 32) {
      // Indented: the tcp_info line of the socket line above.
      if (pending !== null) {
        connections.push(toInfo(pending, line));
        pending = null;
      }
      continue;
    }
    if (pending !== null) connections.push(toInfo(pending, ''));
    pending = null;
    if (line.trim() === '' || /^(Netid|State|Recv-Q)\s/.test(line)) continue;
    const parsed = parseSocketLine(line);
    if (parsed === null) skipped++;
    else pending = parsed;
  }
  if (pending !== null) connections.push(toInfo(pending, ''));
  return { connections, skipped };
}
