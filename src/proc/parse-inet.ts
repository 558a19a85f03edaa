// parse*: /proc/net/{tcp,tcp6,udp,udp6,raw,raw6} text → SocketEntry[]. Pure: text in, data out.
//
// Line formats (kernel seq_printf formats, as of Linux 6.x):
//   tcp full   net/ipv4/tcp_ipv4.c get_tcp4_sock / net/ipv6/tcp_ipv6.c get_tcp6_sock (17 fields):
//     sl: local:port remote:port st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
//         refcount pointer rto ato (quick<<1|pingpong) cwnd ssthresh
//   tcp short  get_timewait4_sock (TIME_WAIT, or FIN_WAIT2 as a timewait substate) and
//              get_openreq4 (request socks, printed as SYN_RECV): 12 fields, ending at pointer.
//   udp / raw  udp4_format_sock / raw_sock_seq_show / __ip6_dgram_sock_seq_show (13 fields):
//     … inode ref pointer drops        (raw: the local "port" is the IP protocol number)
// Hex: addresses (u32 words in host byte order), ports, st, tx/rx queues (bytes), tr, tm->when
// (clock ticks), retrnsmt. Decimal: uid, timeout (icsk_probes_out), inode, refcount, rto, ato,
// qack, cwnd (segments), ssthresh (segments, -1 = initial slow start), drops.
// Lines are padded with trailing spaces (tcp: to 149 columns). Extra trailing columns a future
// kernel may add are ignored; fewer columns than expected mean a malformed line.
//
// Assumes a little-endian host (x86, arm64, …), as the address words are printed in host order.

import type { DatagramState, Protocol, SocketEntry, TcpState, TimerKind } from '../model/types.js';

export type InetProtocol = Exclude<Protocol, 'unix'>;

/** Result of parsing one /proc/net table: the sockets and how many non-blank lines were not understood. */
export interface ParsedTable {
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

/** All TCP states in kernel order, for exhaustive counting. */
export const TCP_STATES: readonly TcpState[] = TCP_STATE_BY_CODE.filter(
  (s): s is TcpState => s !== undefined,
);

/** tr column → timer kind (get_tcp4_sock: 1 retransmit/loss probe, 2 keepalive, 3 timewait, 4 zero-window probe). */
const TIMER_BY_CODE: readonly TimerKind[] = ['off', 'on', 'keepalive', 'timewait', 'probe'];

/** The kernel's USER_HZ: clock_t ticks per second in /proc (always 100 on Linux). 1 tick = 10 ms. */
const MS_PER_TICK = 10;

/** Stable identity of a socket across snapshots: protocol + endpoints + inode. */
export function socketKey(
  protocol: Protocol,
  localAddress: string,
  localPort: number,
  remoteAddress: string,
  remotePort: number,
  inode: number,
): string {
  return `${protocol} ${localAddress}:${localPort} ${remoteAddress}:${remotePort} ${inode}`;
}

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
// Character-level helpers. All take (text, start, end) so no substring is allocated per field.

/** Value of one hex digit char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const l = c | 32; // fold to lower case
  if (l >= 97 && l <= 102) return l - 87; // a-f
  return -1;
}

/** Hex number of 1..8 digits (fits in u32), or -1 when empty, too long or not hex. */
function parseHex32(text: string, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len > 8) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = hexDigit(text.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Unsigned decimal up to Number.MAX_SAFE_INTEGER, or -1. */
function parseUDec(text: string, start: number, end: number): number {
  if (end <= start || end - start > 16) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/** Signed decimal within ±Number.MAX_SAFE_INTEGER, or NaN. */
function parseSDec(text: string, start: number, end: number): number {
  if (end > start && text.charCodeAt(start) === 45 /* - */) {
    const v = parseUDec(text, start + 1, end);
    return v < 0 ? NaN : -v;
  }
  const v = parseUDec(text, start, end);
  return v < 0 ? NaN : v;
}

/** Decimal strings of 0..255, so dotted quads are built without number formatting. */
const BYTE_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Hex pair at text[at], at+1 as a byte, or -1. */
function hexByte(text: string, at: number): number {
  const hi = hexDigit(text.charCodeAt(at));
  const lo = hexDigit(text.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/**
 * Dotted quad from the 8 hex chars at text[start..start+8): one u32 printed with %08X in host
 * (little-endian) order, so the last byte printed is the first octet. null when not hex.
 */
function decodeIpv4At(text: string, start: number): string | null {
  const a = hexByte(text, start + 6);
  const b = hexByte(text, start + 4);
  const c = hexByte(text, start + 2);
  const d = hexByte(text, start);
  if ((a | b | c | d) < 0) return null;
  return `${BYTE_TEXT[a]}.${BYTE_TEXT[b]}.${BYTE_TEXT[c]}.${BYTE_TEXT[d]}`;
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

/** Dotted quad for a /proc/net/tcp IPv4 address column such as "0100007F" → "127.0.0.1"; null if malformed. */
export function decodeIpv4Hex(hex: string): string | null {
  return hex.length === 8 ? decodeIpv4At(hex, 0) : null;
}

/** RFC 5952 text for a /proc/net/tcp6 address column (32 hex chars) → "::1", "fe80::1", "::ffff:127.0.0.1"; null if malformed. */
export function decodeIpv6Hex(hex: string): string | null {
  return hex.length === 32 ? decodeIpv6At(hex, 0) : null;
}

// ---------------------------------------------------------------------------------------------
// Line parsing.

/** Distinct addresses remembered per table parse. */
const ADDRESS_CACHE_MAX = 4096;

/** Token boundaries of the current line; reused for every line (the parser never re-enters). */
const MAX_TOKENS = 17;
const tokStart = new Int32Array(MAX_TOKENS);
const tokEnd = new Int32Array(MAX_TOKENS);

/**
 * Split text[start..end) on spaces/tabs/CR into tokStart/tokEnd, stopping after `limit` tokens
 * (so the long trailing padding of full lines is never scanned). Returns the token count.
 */
function tokenize(text: string, start: number, end: number, limit: number): number {
  let count = 0;
  let i = start;
  while (i < end) {
    let c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (count === limit) return count + 1; // more tokens than we read: report "at least limit+1"
    tokStart[count] = i;
    do {
      i++;
      c = text.charCodeAt(i);
    } while (i < end && c !== 32 && c !== 9 && c !== 13);
    tokEnd[count] = i;
    count++;
  }
  return count;
}

/** True when the first token of a line is the column header ("sl"). */
function isHeader(text: string, count: number): boolean {
  return count > 0 && tokEnd[0]! - tokStart[0]! === 2 && text.startsWith('sl', tokStart[0]!);
}

/**
 * Parse one /proc/net table of inet sockets. Never throws: malformed lines (wrong field count,
 * bad hex, numbers beyond 2^53, unknown TCP states) are skipped and counted. The header and blank
 * lines are neither parsed nor counted.
 */
export function parseInetTable(text: string, protocol: InetProtocol): ParsedTable {
  const isTcp = protocol === 'tcp' || protocol === 'tcp6';
  const isV6 = protocol === 'tcp6' || protocol === 'udp6' || protocol === 'raw6';
  const addrLen = isV6 ? 32 : 8;
  const endpointLen = addrLen + 5; // "ADDR:PORT"
  // Full tcp lines have 17 fields, short (timewait/openreq) ones 12; udp/raw lines 13.
  const limit = isTcp ? 17 : 13;
  // Decoded addresses by their hex text: local addresses repeat thousands of times. Bounded, so
  // a table of mostly distinct remote peers does not pay for growing a map it never hits.
  const v4Cache = new Map<number, string>();
  const v6Cache = new Map<string, string>();

  const decodeAddr = (at: number): string | null => {
    if (!isV6) {
      const raw = parseHex32(text, at, at + 8);
      if (raw < 0) return null;
      let s = v4Cache.get(raw);
      if (s === undefined) {
        s = decodeIpv4At(text, at)!;
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
    const lineStart = pos;
    pos = eol + 1;
    const count = tokenize(text, lineStart, eol, limit);
    if (count === 0) continue; // blank
    if (isHeader(text, count)) continue;
    const entry = parseLine(count);
    if (entry === null) skipped++;
    else sockets.push(entry);
  }
  return { sockets, skipped };

  function parseLine(count: number): SocketEntry | null {
    const full = isTcp ? count >= 17 : count >= 13;
    if (!full && !(isTcp && count === 12)) return null;

    // sl: "%4d:" (udp: hash bucket). Only its shape is checked.
    if (text.charCodeAt(tokEnd[0]! - 1) !== 58 /* : */) return null;

    // local and remote "ADDR:PORT"
    const ls = tokStart[1]!;
    const rs = tokStart[2]!;
    if (tokEnd[1]! - ls !== endpointLen || text.charCodeAt(ls + addrLen) !== 58) return null;
    if (tokEnd[2]! - rs !== endpointLen || text.charCodeAt(rs + addrLen) !== 58) return null;
    const localPort = parseHex32(text, ls + addrLen + 1, ls + endpointLen);
    const remotePort = parseHex32(text, rs + addrLen + 1, rs + endpointLen);
    if (localPort < 0 || remotePort < 0) return null;

    // st
    if (tokEnd[3]! - tokStart[3]! !== 2) return null;
    const st = parseHex32(text, tokStart[3]!, tokEnd[3]!);
    if (st < 0) return null;
    let state: TcpState | DatagramState;
    if (isTcp) {
      const s = TCP_STATE_BY_CODE[st];
      if (s === undefined) return null;
      state = s;
    } else {
      // udp/raw reuse TCP numbers: 01 connected; 07 (TCP_CLOSE) and anything else: not connected.
      state = st === 1 ? 'ESTABLISHED' : 'UNCONN';
    }

    // tx_queue:rx_queue, bytes
    const qs = tokStart[4]!;
    if (tokEnd[4]! - qs !== 17 || text.charCodeAt(qs + 8) !== 58) return null;
    const sendQ = parseHex32(text, qs, qs + 8);
    const recvQ = parseHex32(text, qs + 9, qs + 17);
    if (sendQ < 0 || recvQ < 0) return null;

    // tr:tm->when — "%02X:%08lX", when in clock ticks (up to 16 hex digits on 64-bit).
    const ts = tokStart[5]!;
    const te = tokEnd[5]!;
    if (te - ts < 4 || te - ts > 19 || text.charCodeAt(ts + 2) !== 58) return null;
    const tr = parseHex32(text, ts, ts + 2);
    if (tr < 0) return null;
    let ticks = 0;
    for (let i = ts + 3; i < te; i++) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) return null;
      ticks = ticks * 16 + d;
    }
    // Older kernels (before jiffies_delta_to_clock_t clamped the delta to 0) printed an expired
    // timer as a negative long, e.g. FFFFFFFFFFFFFF9C: anything >= 2^31 ticks (~248 days) is 0.
    if (ticks >= 0x80000000) ticks = 0;

    const retrnsmt = parseHex32(text, tokStart[6]!, tokEnd[6]!);
    const uid = parseUDec(text, tokStart[7]!, tokEnd[7]!);
    const probes = parseUDec(text, tokStart[8]!, tokEnd[8]!); // "timeout" column: icsk_probes_out
    const inode = parseUDec(text, tokStart[9]!, tokEnd[9]!);
    if (retrnsmt < 0 || uid < 0 || probes < 0 || inode < 0) return null;

    let rtoMs: number | null = null;
    let atoMs: number | null = null;
    let cwnd: number | null = null;
    let ssthresh: number | null = null;
    let drops: number | null = null;
    if (isTcp) {
      if (full) {
        // 10 refcount, 11 pointer, 12 rto, 13 ato (clock ticks), 14 quick<<1|pingpong, 15 cwnd, 16 ssthresh
        const rto = parseUDec(text, tokStart[12]!, tokEnd[12]!);
        const ato = parseUDec(text, tokStart[13]!, tokEnd[13]!);
        const cw = parseUDec(text, tokStart[15]!, tokEnd[15]!);
        const last = parseSDec(text, tokStart[16]!, tokEnd[16]!);
        if (rto < 0 || ato < 0 || cw < 0 || last !== last) return null;
        rtoMs = rto * MS_PER_TICK;
        atoMs = ato * MS_PER_TICK;
        cwnd = cw;
        // For LISTEN the last column is the fastopen max_qlen, not ssthresh.
        ssthresh = st === 0x0a ? null : last;
      }
    } else {
      // 10 ref, 11 pointer, 12 drops (sk_drops)
      const d = parseUDec(text, tokStart[12]!, tokEnd[12]!);
      if (d < 0) return null;
      drops = d;
    }

    const localAddress = decodeAddr(ls);
    const remoteAddress = decodeAddr(rs);
    if (localAddress === null || remoteAddress === null) return null;

    return {
      // Same text as socketKey(). join() builds one flat string; a template literal would build a
      // tree of ~9 cons strings per line, which survives into old space (GC was the main cost at
      // 120k lines) and is flattened again anyway when the key is first hashed.
      key: [
        protocol, ' ', localAddress, ':', portText(localPort), ' ', remoteAddress, ':', portText(remotePort), ' ', inode,
      ].join(''),
      protocol,
      state,
      localAddress,
      localPort,
      remoteAddress,
      remotePort,
      recvQ,
      sendQ,
      timer: TIMER_BY_CODE[tr] ?? 'off',
      timerMs: ticks * MS_PER_TICK,
      // Like ss: the retrnsmt column for the retransmit timer, probes sent for the others.
      retransmits: tr === 1 ? retrnsmt : probes,
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

// ---------------------------------------------------------------------------------------------
// Fast state count for --summary.

/** TCP state totals of one /proc/net/tcp or tcp6 text. */
export interface TcpStateCounts {
  /** Every TcpState name → number of sockets (0 when none). */
  counts: Record<TcpState, number>;
  /** Sockets counted (sum of counts). */
  total: number;
  /** Non-blank, non-header lines whose state column could not be read. */
  skipped: number;
}

/**
 * Count TCP states without parsing whole lines: the st column sits at a fixed offset from the
 * colon ending "sl" (2 + 2*endpoint + 2, endpoint = 13 chars for tcp, 37 for tcp6; the width is
 * taken from the first data line). Only the columns it reads are validated, so a line that
 * parseInetTable would reject for a bad later field is still counted here.
 */
export function countTcpStatesFast(text: string): TcpStateCounts {
  const byCode = new Int32Array(16);
  let skipped = 0;
  let endpointLen = 0; // 13 (tcp) or 37 (tcp6), learned from the first data line
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const lineStart = pos;
    pos = eol + 1;
    // First non-blank char of the line.
    let i = lineStart;
    while (i < eol && text.charCodeAt(i) === 32) i++;
    if (i === eol) continue; // blank
    if (text.startsWith('sl ', i)) continue; // header
    let colon = i;
    while (colon < eol && text.charCodeAt(colon) !== 58) colon++;
    if (endpointLen === 0) {
      // Endpoint width = distance from the local address to the next space.
      const sp = text.indexOf(' ', colon + 2);
      const width = sp < 0 || sp > eol ? -1 : sp - (colon + 2);
      if (width === 13 || width === 37) endpointLen = width;
      else {
        skipped++;
        continue;
      }
    }
    const stAt = colon + 2 + 2 * endpointLen + 2;
    if (
      stAt + 2 >= eol ||
      text.charCodeAt(colon + 1) !== 32 ||
      text.charCodeAt(colon + 2 + endpointLen - 5) !== 58 ||
      text.charCodeAt(stAt - 1) !== 32 ||
      text.charCodeAt(stAt + 2) !== 32
    ) {
      skipped++;
      continue;
    }
    const st = hexByte(text, stAt);
    if (st < 1 || st > 12) {
      skipped++;
      continue;
    }
    byCode[st]!++;
  }
  const counts = {} as Record<TcpState, number>;
  let total = 0;
  for (let code = 1; code <= 12; code++) {
    const c = byCode[code]!;
    counts[TCP_STATE_BY_CODE[code]!] = c;
    total += c;
  }
  return { counts, total, skipped };
}
