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

/** Blank bytes between tokens: space, tab, CR and any other control byte (ss prints none inside a token). */
function isBlank(c: number): boolean {
  return c <= 32;
}

/** Header lines of `ss -tin` (without -H). */
const HEADER = /^(Netid|State|Recv-Q)\s/;

/** The wanted tcp_info keys as bytes (`key:value` tokens; delivery_rate is `delivery_rate VALUE`). */
const KEY = {
  rtt: Buffer.from('rtt'),
  cwnd: Buffer.from('cwnd'),
  minrtt: Buffer.from('minrtt'),
  retrans: Buffer.from('retrans'),
  bytesSent: Buffer.from('bytes_sent'),
  bytesAcked: Buffer.from('bytes_acked'),
  bytesRetrans: Buffer.from('bytes_retrans'),
  bytesReceived: Buffer.from('bytes_received'),
  deliveryRate: Buffer.from('delivery_rate'),
} as const;

/** ss's state names as bytes, for a comparison without decoding the token. */
const STATE_BYTES: readonly (readonly [Buffer, string])[] = [...SS_STATES].map((name) => [Buffer.from(name), name] as const);
const NETID_BYTES: readonly Buffer[] = [...NETIDS].map((name) => Buffer.from(name));

function sameBytes(buf: Buffer, from: number, to: number, key: Buffer): boolean {
  if (to - from !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[from + i] !== key[i]) return false;
  return true;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Number(text of buf[from, to)) as JavaScript reads it, without decoding: digits with at most one
 * '.', up to 15 digits, as one exact integer divided by a power of ten (the same double Number
 * gives: one correctly rounded division). Anything else (empty, signs, exponents, longer) goes
 * through Number itself. Non-negative finite results only; else NaN.
 */
function numberAt(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let digits = 0;
  let point = -1;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits++;
    } else if (c === 46 && point < 0) point = i;
    else return slowNumber(buf, from, to);
  }
  if (digits === 0 || digits > 15 || point === to - 1 || point === from) return slowNumber(buf, from, to);
  return point < 0 ? n : n / POW10[to - 1 - point]!;
}

function slowNumber(buf: Buffer, from: number, to: number): number {
  const n = Number(buf.toString('latin1', from, to));
  return Number.isFinite(n) && n >= 0 ? n : Number.NaN;
}

/** ss counters: a missing or malformed one reads as 0 (ss leaves out counters that are zero). */
const countOf = (v: number): number => (Number.isNaN(v) ? 0 : v);

/** "A/B" at buf[from, to) → [A, B]; null when not two non-negative numbers. */
function pairAt(buf: Buffer, from: number, to: number): [number, number] | null {
  const slash = buf.indexOf(47, from);
  if (slash < 0 || slash >= to) return null;
  const a = slowOrFast(buf, from, slash);
  const b = slowOrFast(buf, slash + 1, to);
  return Number.isNaN(a) || Number.isNaN(b) ? null : [a, b];
}

/** numberAt, where an empty text is 0 (as Number('') is). */
function slowOrFast(buf: Buffer, from: number, to: number): number {
  return from === to ? 0 : numberAt(buf, from, to);
}

const BPS_SCALE: Readonly<Record<string, number>> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

function bitsPerSecAt(buf: Buffer, from: number, to: number): number | null {
  const m = /^(\d+(?:\.\d+)?)([kKMGT]?)bps$/.exec(buf.toString('latin1', from, to));
  if (m === null) return null;
  return Number(m[1]) * BPS_SCALE[m[2]!]!;
}

/** The tcp_info fields of one indented line, each from its first `key:` token. */
interface InfoFields {
  bytesSent: number;
  bytesAcked: number;
  bytesReceived: number;
  bytesRetrans: number;
  retrans: [number, number] | null;
  rtt: [number, number] | null;
  minRttMs: number | null;
  deliveryRateBitsPerSec: number | null;
  cwnd: number | null;
}

/** Field set bits: a key's first token wins. */
const F_SENT = 1;
const F_ACKED = 2;
const F_RECEIVED = 4;
const F_RETRANS_BYTES = 8;
const F_RETRANS = 16;
const F_RTT = 32;
const F_MINRTT = 64;
const F_RATE = 128;
const F_CWND = 256;

function readInfo(buf: Buffer, from: number, to: number): InfoFields {
  const f: InfoFields = {
    bytesSent: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    bytesRetrans: 0,
    retrans: null,
    rtt: null,
    minRttMs: null,
    deliveryRateBitsPerSec: null,
    cwnd: null,
  };
  let seen = 0;
  let i = from;
  // ss pads the line to its widest one (~100 blanks at 100k connections): skip them at once.
  while (to > from && buf[to - 1]! <= 32) to--;
  while (i < to) {
    let c = buf[i]!;
    while (c <= 32 && ++i < to) c = buf[i]!;
    if (i >= to) break;
    const start = i;
    let colon = -1;
    while (c > 32) {
      if (c === 58 && colon < 0) colon = i;
      if (++i >= to) break;
      c = buf[i]!;
    }
    const end = i;
    if (colon < 0) {
      // `delivery_rate VALUE`: the value is the next token.
      if ((seen & F_RATE) === 0 && end < to && buf[end] === 32 && sameBytes(buf, start, end, KEY.deliveryRate)) {
        seen |= F_RATE;
        let w = end + 1;
        while (w < to && !isBlank(buf[w]!)) w++;
        f.deliveryRateBitsPerSec = bitsPerSecAt(buf, end + 1, w);
      }
      continue;
    }
    const v = colon + 1;
    switch (colon - start) {
      case 3:
        if ((seen & F_RTT) === 0 && sameBytes(buf, start, colon, KEY.rtt)) {
          seen |= F_RTT;
          f.rtt = pairAt(buf, v, end);
        }
        break;
      case 4:
        if ((seen & F_CWND) === 0 && sameBytes(buf, start, colon, KEY.cwnd)) {
          seen |= F_CWND;
          const n = slowOrFast(buf, v, end);
          f.cwnd = Number.isNaN(n) ? null : n;
        }
        break;
      case 6:
        if ((seen & F_MINRTT) === 0 && sameBytes(buf, start, colon, KEY.minrtt)) {
          seen |= F_MINRTT;
          const n = slowOrFast(buf, v, end);
          f.minRttMs = Number.isNaN(n) ? null : n;
        }
        break;
      case 7:
        if ((seen & F_RETRANS) === 0 && sameBytes(buf, start, colon, KEY.retrans)) {
          seen |= F_RETRANS;
          f.retrans = pairAt(buf, v, end);
        }
        break;
      case 10:
        if ((seen & F_SENT) === 0 && sameBytes(buf, start, colon, KEY.bytesSent)) {
          seen |= F_SENT;
          f.bytesSent = countOf(slowOrFast(buf, v, end));
        }
        break;
      case 11:
        if ((seen & F_ACKED) === 0 && sameBytes(buf, start, colon, KEY.bytesAcked)) {
          seen |= F_ACKED;
          f.bytesAcked = countOf(slowOrFast(buf, v, end));
        }
        break;
      case 13:
        if ((seen & F_RETRANS_BYTES) === 0 && sameBytes(buf, start, colon, KEY.bytesRetrans)) {
          seen |= F_RETRANS_BYTES;
          f.bytesRetrans = countOf(slowOrFast(buf, v, end));
        }
        break;
      case 14:
        if ((seen & F_RECEIVED) === 0 && sameBytes(buf, start, colon, KEY.bytesReceived)) {
          seen |= F_RECEIVED;
          f.bytesReceived = countOf(slowOrFast(buf, v, end));
        }
        break;
      default:
        break;
    }
  }
  return f;
}

const NO_INFO: InfoFields = readInfo(Buffer.alloc(0), 0, 0);

interface SocketLine {
  readonly state: string;
  readonly local: { address: string; port: number };
  readonly remote: { address: string; port: number };
}

/**
 * One endpoint token buf[from, to) as parseSsEndpoint reads it. A plain IPv4 "a.b.c.d:port" (the
 * usual case) is read from the bytes, its address text shared through `addresses` (one string
 * per address, not one per connection); anything else is decoded and given to parseSsEndpoint.
 */
function endpointAt(buf: Buffer, from: number, to: number, addresses: Map<number, string>): { address: string; port: number } | null {
  // Octets as (value * 4 + digits) in base 4000: distinct for distinct texts of four groups.
  let key = 0;
  let group = 0;
  let digits = 0;
  let groups = 0;
  let i = from;
  for (; i < to; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      if (++digits > 3) break;
      group = group * 10 + (c - 48);
    } else if ((c === 46 || c === 58) && digits > 0) {
      key = key * 4000 + group * 4 + digits;
      groups++;
      group = 0;
      digits = 0;
      if (c === 58) break;
    } else break;
  }
  if (i < to && buf[i] === 58 && groups === 4) {
    let port = 0;
    let portDigits = 0;
    let j = i + 1;
    for (; j < to; j++) {
      const c = buf[j]!;
      if (c < 48 || c > 57 || ++portDigits > 5) break;
      port = port * 10 + (c - 48);
    }
    if (j === to && portDigits > 0 && port <= 65535) {
      let address = addresses.get(key);
      if (address === undefined) {
        address = buf.toString('latin1', from, i);
        addresses.set(key, address);
      }
      return { address, port };
    }
  }
  return parseSsEndpoint(buf.toString('latin1', from, to));
}

/** Token bounds of a socket line, [start, end) pairs, at most 8 tokens. */
const tokenStarts = new Int32Array(8);
const tokenEnds = new Int32Array(8);

/** "[Netid] [State] Recv-Q Send-Q Local Peer [more]" → the parts we need; null if malformed. */
function parseSocketLine(buf: Buffer, from: number, to: number, addresses: Map<number, string>): SocketLine | null {
  let n = 0;
  let i = from;
  while (i < to && n < 8) {
    while (i < to && isBlank(buf[i]!)) i++;
    if (i >= to) break;
    tokenStarts[n] = i;
    while (i < to && !isBlank(buf[i]!)) i++;
    tokenEnds[n++] = i;
  }
  let t = 0;
  if (t < n && NETID_BYTES.some((b) => sameBytes(buf, tokenStarts[0]!, tokenEnds[0]!, b))) t++;
  let state = '';
  if (t < n) {
    for (const [b, name] of STATE_BYTES) {
      if (sameBytes(buf, tokenStarts[t]!, tokenEnds[t]!, b)) {
        state = name;
        t++;
        break;
      }
    }
  }
  // Recv-Q and Send-Q, then the two endpoints.
  if (t + 3 >= n || !allDigits(buf, tokenStarts[t]!, tokenEnds[t]!) || !allDigits(buf, tokenStarts[t + 1]!, tokenEnds[t + 1]!)) return null;
  const local = endpointAt(buf, tokenStarts[t + 2]!, tokenEnds[t + 2]!, addresses);
  const remote = endpointAt(buf, tokenStarts[t + 3]!, tokenEnds[t + 3]!, addresses);
  if (local === null || remote === null) return null;
  return { state, local, remote };
}

function allDigits(buf: Buffer, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function toInfo(s: SocketLine, f: InfoFields): SsTcpInfo {
  return {
    state: s.state,
    localAddress: s.local.address,
    localPort: s.local.port,
    remoteAddress: s.remote.address,
    remotePort: s.remote.port,
    bytesSent: f.bytesSent,
    bytesAcked: f.bytesAcked,
    bytesReceived: f.bytesReceived,
    bytesRetrans: f.bytesRetrans,
    retransCurrent: f.retrans?.[0] ?? 0,
    retransTotal: f.retrans?.[1] ?? 0,
    rttMs: f.rtt?.[0] ?? null,
    rttVarMs: f.rtt?.[1] ?? null,
    minRttMs: f.minRttMs,
    deliveryRateBitsPerSec: f.deliveryRateBitsPerSec,
    cwnd: f.cwnd,
  };
}

/**
 * `ss -tinH` parsed from its bytes as they arrive (a pipe's chunks, split anywhere): no string
 * of the whole output (100k connections: ~48 MB) and no string per line, so the parse runs
 * while ss prints, a chunk at a time. Same result as parsing the whole text at once.
 */
export class SsTcpParser {
  private readonly connections: SsTcpInfo[] = [];
  private skipped = 0;
  private pending: SocketLine | null = null;
  /** The start of a line whose end is in a later chunk. */
  private carry: Buffer | null = null;
  private readonly addresses = new Map<number, string>();

  /** The next bytes of the output. */
  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const line = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.line(line, 0, line.length);
      start = nl + 1;
    }
    const len = chunk.length;
    while (start < len) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        this.carry = Buffer.from(chunk.subarray(start));
        return;
      }
      this.line(chunk, start, nl);
      start = nl + 1;
    }
  }

  /**
   * The output ended: a last line without a newline is parsed as far as it goes, or dropped
   * (`dropCutLine`: the output was cut at a byte cap, so a last line is likely half printed).
   */
  end(dropCutLine = false): SsTcpTable {
    if (this.carry !== null && dropCutLine) this.carry = null;
    if (this.carry !== null) {
      const last = this.carry;
      this.carry = null;
      this.line(last, 0, last.length);
    }
    if (this.pending !== null) this.connections.push(toInfo(this.pending, NO_INFO));
    this.pending = null;
    return { connections: this.connections, skipped: this.skipped };
  }

  private line(buf: Buffer, from: number, to: number): void {
    const first = from < to ? buf[from] : -1;
    if (first === 9 || first === 32) {
      // Indented: the tcp_info line of the socket line above.
      if (this.pending !== null) {
        this.connections.push(toInfo(this.pending, readInfo(buf, from, to)));
        this.pending = null;
      }
      return;
    }
    if (this.pending !== null) this.connections.push(toInfo(this.pending, NO_INFO));
    this.pending = null;
    let i = from;
    while (i < to && isBlank(buf[i]!)) i++;
    if (i === to) return;
    // A header line (`ss -tin` without -H): its first word and a blank.
    const c = buf[from]!;
    if ((c === 78 || c === 83 || c === 82) && HEADER.test(buf.toString('latin1', from, Math.min(to, from + 8)))) return;
    const parsed = parseSocketLine(buf, from, to, this.addresses);
    if (parsed === null) this.skipped++;
    else this.pending = parsed;
  }
}

/**
 * Parse the whole output of `ss -tinH` (or -tin: a "State Recv-Q …" header line is skipped).
 * A socket line without a following indented line (TIME-WAIT has an empty one) gets zero
 * counters and null RTT. A trailing socket line cut short by an output cap parses as far as it
 * goes; a cut info line only loses the fields after the cut.
 */
export function parseSsTcpTable(text: string): SsTcpTable {
  const parser = new SsTcpParser();
  parser.push(Buffer.from(text, 'utf8'));
  return parser.end();
}
