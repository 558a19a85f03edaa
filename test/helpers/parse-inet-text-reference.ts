// The text parser of /proc/net/{tcp,tcp6,udp,udp6,raw,raw6} as shipped before the tables were
// parsed from bytes (src/proc/parse-inet.ts at 16a5977, reduced to parseInetTable): kept as an
// oracle, so that tests can check that the bytes parser gives the same records for any input.

import { hexDigit } from '../../src/model/address.js';
import type { DatagramState, Protocol, SocketEntry, TcpState, TimerKind } from '../../src/model/types.js';

type InetProtocol = Exclude<Protocol, 'unix'>;

/** Result of parsing one /proc/net table: the sockets and how many non-blank lines were not understood. */
interface ParsedTable {
  sockets: SocketEntry[];
  skipped: number;
}

/** st column → TCP state (include/net/tcp_states.h). Index = state number. */
const TCP_STATE_BY_CODE: readonly (TcpState | undefined)[] = [
  undefined,
  'ESTABLISHED', // 0x01
  'SYN_SENT', // 0x02
  'SYN_RECV', // 0x03
  'FIN_WAIT1', // 0x04
  'FIN_WAIT2', // 0x05
  'TIME_WAIT', // 0x06
  'CLOSE', // 0x07
  'CLOSE_WAIT', // 0x08
  'LAST_ACK', // 0x09
  'LISTEN', // 0x0A
  'CLOSING', // 0x0B
  'NEW_SYN_RECV', // 0x0C
];

/** tr column → timer kind (get_tcp4_sock: 1 retransmit/loss probe, 2 keepalive, 3 timewait, 4 zero-window probe). */
const TIMER_BY_CODE: readonly TimerKind[] = ['off', 'on', 'keepalive', 'timewait', 'probe'];

/** The kernel's USER_HZ: clock_t ticks per second in /proc (always 100 on Linux). 1 tick = 10 ms. */
const MS_PER_TICK = 10;

/**
 * Decimal text of port numbers, filled on first use: saves a number→string per endpoint per line.
 * Allocated whole on first use (a sparse array would fall back to slow dictionary elements).
 */
let portTextCache: (string | undefined)[] | null = null;

function portText(port: number): string {
  const cache = (portTextCache ??= new Array<string | undefined>(65536).fill(undefined));
  let s = cache[port];
  if (s === undefined) {
    s = String(port);
    cache[port] = s;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Character-level helpers: they read char codes in place, so no substring is allocated per field.

/** Decimal strings of 0..255, so dotted quads are built without number formatting. */
const BYTE_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Dotted quad of a u32 as printed by the kernel (host order, little-endian): low byte first. */
function ipv4FromRaw(raw: number): string {
  return `${BYTE_TEXT[raw & 0xff]}.${BYTE_TEXT[(raw >>> 8) & 0xff]}.${BYTE_TEXT[(raw >>> 16) & 0xff]}.${BYTE_TEXT[raw >>> 24]}`;
}

/** Hex pair at text[at], at+1 as a byte, or -1. */
function hexByte(text: string, at: number): number {
  const hi = hexDigit(text.charCodeAt(at));
  const lo = hexDigit(text.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** Reusable scratch for the 16 bytes of an IPv6 address. */
const V6_BYTES = new Uint8Array(16);

/**
 * Compressed RFC 5952 text from the 32 hex chars at text[start..start+32): four u32 words
 * (s6_addr32[0..3]) each printed %08X in host (little-endian) order. v4-mapped addresses
 * (::ffff:0:0/96) come out as "::ffff:a.b.c.d". null when not hex.
 */
function decodeIpv6At(text: string, start: number): string | null {
  const bytes = V6_BYTES;
  for (let w = 0; w < 4; w++) {
    const at = start + w * 8;
    for (let k = 0; k < 4; k++) {
      const v = hexByte(text, at + 6 - 2 * k);
      if (v < 0) return null;
      bytes[w * 4 + k] = v;
    }
  }
  // v4-mapped: 80 zero bits, 16 one bits, then the IPv4 address (RFC 5952 section 5).
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (bytes[i] !== 0) mapped = false;
  if (mapped) {
    return `::ffff:${BYTE_TEXT[bytes[12]!]}.${BYTE_TEXT[bytes[13]!]}.${BYTE_TEXT[bytes[14]!]}.${BYTE_TEXT[bytes[15]!]}`;
  }
  // Longest run of >= 2 zero groups (first one on a tie) becomes "::" (RFC 5952 section 4.2).
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && bytes[2 * g] === 0 && bytes[2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }
  let out = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out += '::';
      g += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += (((bytes[2 * g]! << 8) | bytes[2 * g + 1]!) >>> 0).toString(16);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Line parsing: one pass per line with a cursor; each field is validated as it is read, so no
// token array, no substrings, no regexes.

/** Distinct addresses remembered per table parse. */
const ADDRESS_CACHE_MAX = 4096;

/** Where the last read* call stopped (a second return value without allocating). */
let cursor = 0;

function isSep(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

function skipSpaces(text: string, p: number, end: number): number {
  while (p < end && isSep(text.charCodeAt(p))) p++;
  return p;
}

/**
 * Hex digits from p up to the next separator (or `stop` char), 1..maxDigits of them, as a Number
 * (exact up to 13 digits; the 16-digit tm->when is only compared against 2^31). -1 when empty,
 * too long or not hex. Sets `cursor` to the char after the digits.
 */
function readHex(text: string, p: number, end: number, maxDigits: number, stop: number): number {
  const start = p;
  let v = 0;
  while (p < end) {
    const c = text.charCodeAt(p);
    if (c === stop || isSep(c)) break;
    const d = hexDigit(c);
    if (d < 0) return -1;
    v = v * 16 + d;
    p++;
  }
  cursor = p;
  return p === start || p - start > maxDigits ? -1 : v;
}

/** Decimal (optionally signed) up to the next separator, within ±2^53; NaN when malformed. Sets `cursor`. */
function readDec(text: string, p: number, end: number, signed: boolean): number {
  let neg = false;
  if (signed && p < end && text.charCodeAt(p) === 45 /* - */) {
    neg = true;
    p++;
  }
  const start = p;
  let v = 0;
  while (p < end) {
    const c = text.charCodeAt(p);
    if (isSep(c)) break;
    const d = c - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
    p++;
  }
  cursor = p;
  if (p === start || p - start > 16 || v > Number.MAX_SAFE_INTEGER) return NaN;
  return neg ? -v : v;
}

/** Skip one whitespace-separated field; -1 when the line ended before it. */
function skipField(text: string, p: number, end: number): number {
  p = skipSpaces(text, p, end);
  if (p >= end) return -1;
  while (p < end && !isSep(text.charCodeAt(p))) p++;
  return p;
}

/**
 * Parse one /proc/net table of inet sockets. Never throws: malformed lines (missing fields, bad
 * hex, numbers beyond 2^53, unknown TCP states) are skipped and counted. The header and blank
 * lines are neither parsed nor counted.
 */
export function parseInetTableText(text: string, protocol: InetProtocol): ParsedTable {
  return parseInet(text, protocol);
}

function parseInet(text: string, protocol: InetProtocol): ParsedTable {
  const isTcp = protocol === 'tcp' || protocol === 'tcp6';
  const isV6 = protocol === 'tcp6' || protocol === 'udp6' || protocol === 'raw6';
  const addrLen = isV6 ? 32 : 8;
  // Decoded addresses by their hex text: local addresses repeat thousands of times. Bounded, so
  // a table of mostly distinct remote peers does not pay for growing a map it never hits.
  const v4Cache = new Map<number, string>();
  const v6Cache = new Map<string, string>();

  /** Address of the endpoint at text[at..at+addrLen), or null when not hex. */
  const readAddress = (at: number): string | null => {
    if (!isV6) {
      let raw = 0;
      for (let i = at; i < at + 8; i++) {
        const d = hexDigit(text.charCodeAt(i));
        if (d < 0) return null;
        raw = raw * 16 + d;
      }
      let s = v4Cache.get(raw);
      if (s === undefined) {
        s = ipv4FromRaw(raw);
        if (v4Cache.size < ADDRESS_CACHE_MAX) v4Cache.set(raw, s);
      }
      return s;
    }
    const hex = text.slice(at, at + 32);
    let s = v6Cache.get(hex);
    if (s === undefined) {
      const d = decodeIpv6At(text, at);
      if (d === null) return null;
      s = d;
      if (v6Cache.size < ADDRESS_CACHE_MAX) v6Cache.set(hex, s);
    }
    return s;
  };

  const sockets: SocketEntry[] = [];
  let skipped = 0;
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const first = skipSpaces(text, pos, eol);
    pos = eol + 1;
    if (first === eol) continue; // blank
    // Header: "  sl  local_address …"
    if (text.charCodeAt(first) === 115 /* s */ && text.charCodeAt(first + 1) === 108 /* l */) continue;
    const entry = parseLine(first, eol);
    if (entry === null) skipped++;
    else sockets.push(entry);
  }
  return { sockets, skipped };

  function parseLine(first: number, end: number): SocketEntry | null {
    // sl: "%4d:" (udp: the hash bucket). Only its shape is checked.
    let p = first;
    while (p < end && text.charCodeAt(p) >= 48 && text.charCodeAt(p) <= 57) p++;
    if (p === first || text.charCodeAt(p) !== 58 /* : */) return null;

    // local and remote "ADDR:PORT", %08X (x4 for IPv6) and %04X
    const ls = skipSpaces(text, p + 1, end);
    if (text.charCodeAt(ls + addrLen) !== 58) return null;
    const localPort = readHex(text, ls + addrLen + 1, end, 4, -1);
    if (localPort < 0 || cursor - ls !== addrLen + 5) return null;
    const rs = skipSpaces(text, cursor, end);
    if (rs === cursor || text.charCodeAt(rs + addrLen) !== 58) return null;
    const remotePort = readHex(text, rs + addrLen + 1, end, 4, -1);
    if (remotePort < 0 || cursor - rs !== addrLen + 5) return null;

    // st
    p = skipSpaces(text, cursor, end);
    const st = readHex(text, p, end, 2, -1);
    if (st < 0 || cursor - p !== 2) return null;
    let state: TcpState | DatagramState;
    if (isTcp) {
      const s = TCP_STATE_BY_CODE[st];
      if (s === undefined) return null;
      state = s;
    } else {
      // udp/raw reuse TCP numbers: 01 connected; 07 (TCP_CLOSE) and anything else: not connected.
      state = st === 1 ? 'ESTABLISHED' : 'UNCONN';
    }

    // tx_queue:rx_queue, bytes, %08X:%08X
    p = skipSpaces(text, cursor, end);
    const sendQ = readHex(text, p, end, 8, 58);
    if (sendQ < 0 || text.charCodeAt(cursor) !== 58) return null;
    const recvQ = readHex(text, cursor + 1, end, 8, -1);
    if (recvQ < 0) return null;

    // tr:tm->when, "%02X:%08lX"; when in clock ticks, up to 16 hex digits on 64-bit
    p = skipSpaces(text, cursor, end);
    const tr = readHex(text, p, end, 2, 58);
    if (tr < 0 || text.charCodeAt(cursor) !== 58) return null;
    let ticks = readHex(text, cursor + 1, end, 16, -1);
    if (ticks < 0) return null;
    // Older kernels (before jiffies_delta_to_clock_t clamped the delta to 0) printed an expired
    // timer as a negative long, e.g. FFFFFFFFFFFFFF9C: anything >= 2^31 ticks (~248 days) is 0.
    if (ticks >= 0x80000000) ticks = 0;

    // retrnsmt %08X, uid %5u, timeout %8d (icsk_probes_out), inode %lu
    const retrnsmt = readHex(text, skipSpaces(text, cursor, end), end, 8, -1);
    if (retrnsmt < 0) return null;
    let uid = readDec(text, skipSpaces(text, cursor, end), end, false);
    if (uid !== uid) return null;
    const probes = readDec(text, skipSpaces(text, cursor, end), end, false);
    if (probes !== probes) return null;
    const inode = readDec(text, skipSpaces(text, cursor, end), end, false);
    if (inode !== inode) return null;

    // refcount, pointer: present on every line, not used
    p = skipField(text, cursor, end);
    if (p < 0) return null;
    p = skipField(text, p, end);
    if (p < 0) return null;

    let rtoMs: number | null = null;
    let atoMs: number | null = null;
    let cwnd: number | null = null;
    let ssthresh: number | null = null;
    let drops: number | null = null;
    p = skipSpaces(text, p, end);
    if (isTcp) {
      // Short lines (timewait, openreq) end here. Full ones go on with
      // rto ato (clock ticks) (quick<<1|pingpong) cwnd ssthresh; more columns are ignored.
      if (p < end) {
        const rto = readDec(text, p, end, false);
        const ato = readDec(text, skipSpaces(text, cursor, end), end, false);
        if (rto !== rto || ato !== ato) return null;
        p = skipField(text, cursor, end); // quick<<1|pingpong
        if (p < 0) return null;
        const cw = readDec(text, skipSpaces(text, p, end), end, false);
        const last = readDec(text, skipSpaces(text, cursor, end), end, true);
        if (cw !== cw || last !== last) return null;
        rtoMs = rto * MS_PER_TICK;
        atoMs = ato * MS_PER_TICK;
        cwnd = cw;
        // For LISTEN the last column is the fastopen max_qlen, not ssthresh.
        ssthresh = st === 0x0a ? null : last;
      } else if (st === 0x06 || st === 0x05) {
        // A short TIME_WAIT or FIN_WAIT2 line is a timewait sock (get_timewait4_sock): it has no
        // owner, and the kernel prints uid 0 for it. -1 = no uid, so it is never "root's".
        uid = -1;
      }
    } else {
      // drops (sk_drops); more columns are ignored
      const d = readDec(text, p, end, false);
      if (d !== d) return null;
      drops = d;
    }

    const localAddress = readAddress(ls);
    const remoteAddress = readAddress(rs);
    if (localAddress === null || remoteAddress === null) return null;

    // Same text as socketKey(). join() builds one flat string; a template literal builds a tree
    // of ~9 cons strings per line that survives into old space and is flattened again when the
    // key is first hashed (measured ~2x slower). Keys are still ~40% of the parse time.
    const key = [protocol, ' ', localAddress, ':', portText(localPort), ' ', remoteAddress, ':', portText(remotePort), ' ', inode].join('');
    const timer = TIMER_BY_CODE[tr] ?? 'off';
    const timerMs = ticks * MS_PER_TICK;
    // Like ss: the retrnsmt column for the retransmit timer, probes sent for the others.
    const retransmits = tr === 1 ? retrnsmt : probes;
    return {
      key,
      protocol,
      state,
      localAddress,
      localPort,
      remoteAddress,
      remotePort,
      recvQ,
      sendQ,
      timer,
      timerMs,
      retransmits,
      uid,
      inode,
      rtoMs,
      atoMs,
      cwnd,
      ssthresh,
      drops,
      path: null,
      unixType: null,
    };
  }
}
