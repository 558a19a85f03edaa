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

import { hexDigit } from '../model/address.js';
import type { DatagramState, Protocol, SocketEntry, SocketRecord, TcpState, TimerKind } from '../model/types.js';
import { InodeIndex } from './inode-index.js';

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
 * Decimal text of port numbers below 32768 (listening and well-known ports, which repeat), filled
 * on first use: saves a number→string per endpoint per line. Ephemeral ports (Linux's default
 * range starts at 32768) are mostly one per connection: kept, they would be one more string per
 * socket. Allocated whole on first use (a sparse array would fall back to slow dictionary elements).
 */
let portTextCache: (string | undefined)[] | null = null;
const PORT_TEXT_CACHED_BELOW = 32768;

function portText(port: number): string {
  if (port >= PORT_TEXT_CACHED_BELOW) return String(port);
  const cache = (portTextCache ??= new Array<string | undefined>(PORT_TEXT_CACHED_BELOW).fill(undefined));
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
  for (let w = 0; w < 4; w++) {
    const at = start + w * 8;
    for (let k = 0; k < 4; k++) {
      const v = hexByte(text, at + 6 - 2 * k);
      if (v < 0) return null;
      V6_BYTES[w * 4 + k] = v;
    }
  }
  return formatIpv6(V6_BYTES);
}

/** decodeIpv6At over the bytes of a table: the 32 hex digits at b[start..start+32). */
function decodeIpv6Bytes(b: Buffer, start: number): string | null {
  for (let w = 0; w < 4; w++) {
    const at = start + w * 8;
    for (let k = 0; k < 4; k++) {
      const hi = hexDigit(b[at + 6 - 2 * k]!);
      const lo = hexDigit(b[at + 7 - 2 * k]!);
      if (hi < 0 || lo < 0) return null;
      V6_BYTES[w * 4 + k] = (hi << 4) | lo;
    }
  }
  return formatIpv6(V6_BYTES);
}

/** RFC 5952 text of 16 address bytes (network order). */
function formatIpv6(bytes: Uint8Array): string {
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
  if (hex.length !== 8) return null;
  let raw = 0;
  for (let i = 0; i < 8; i++) {
    const d = hexDigit(hex.charCodeAt(i));
    if (d < 0) return null;
    raw = raw * 16 + d;
  }
  return ipv4FromRaw(raw);
}

/** RFC 5952 text for a /proc/net/tcp6 address column (32 hex chars) → "::1", "fe80::1", "::ffff:127.0.0.1"; null if malformed. */
export function decodeIpv6Hex(hex: string): string | null {
  return hex.length === 32 ? decodeIpv6At(hex, 0) : null;
}

// ---------------------------------------------------------------------------------------------
// Line parsing, from the table's bytes as read: one pass per line with a cursor, each field
// validated as it is read, so no decoded text, no substring per line or field, no regexes.
//
// The result is the same as parsing the UTF-8 decoded text (test/helpers/parse-inet-text-reference.ts
// is that parser; tests compare the two): separators, digits and colons are ASCII, a UTF-8
// decoder never folds an ASCII byte into a replacement character, so fields split at the same
// places; a field with a byte >= 0x80 is malformed for every reader of it here (hex, decimal),
// and the columns that are only skipped (refcount, pointer, extra columns) take any bytes.

/** Distinct addresses interned (see internIpv4): cleared when full. */
const ADDRESS_CACHE_MAX = 4096;

/**
 * Address text by value, kept across parses and tables: every record of the same address shares
 * one string (local addresses repeat thousands of times; a changed line of a known peer gets the
 * string its old record had). Bounded: a table of mostly distinct peers clears it when full.
 */
const ipv4Names = new Map<number, string>();
/** The same for IPv6, by the 32 hex characters of the column (latin1 text of the bytes). */
const ipv6Names = new Map<string, string>();

function internIpv4(raw: number): string {
  let s = ipv4Names.get(raw);
  if (s === undefined) {
    s = ipv4FromRaw(raw);
    if (ipv4Names.size >= ADDRESS_CACHE_MAX) ipv4Names.clear();
    ipv4Names.set(raw, s);
  }
  return s;
}

/** Where the last read* call stopped (a second return value without allocating). */
let cursor = 0;

function isSep(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

function skipSpaces(b: Buffer, p: number, end: number): number {
  while (p < end && isSep(b[p]!)) p++;
  return p;
}

/**
 * Hex digits from p up to the next separator (or `stop` byte), 1..maxDigits of them, as a Number
 * (exact up to 13 digits; the 16-digit tm->when is only compared against 2^31). -1 when empty,
 * too long or not hex. Sets `cursor` to the byte after the digits.
 */
function readHex(b: Buffer, p: number, end: number, maxDigits: number, stop: number): number {
  const start = p;
  let v = 0;
  while (p < end) {
    const c = b[p]!;
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
function readDec(b: Buffer, p: number, end: number, signed: boolean): number {
  let neg = false;
  if (signed && p < end && b[p] === 45 /* - */) {
    neg = true;
    p++;
  }
  const start = p;
  let v = 0;
  while (p < end) {
    const c = b[p]!;
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
function skipField(b: Buffer, p: number, end: number): number {
  p = skipSpaces(b, p, end);
  if (p >= end) return -1;
  while (p < end && !isSep(b[p]!)) p++;
  return p;
}

/** End of the line that starts at or before `from`: the index of its '\n', or `end`. */
function lineEnd(b: Buffer, from: number, end: number): number {
  const eol = from >= end ? -1 : b.indexOf(10, from);
  return eol < 0 || eol > end ? end : eol;
}

/**
 * Parse one /proc/net table of inet sockets. Never throws: malformed lines (missing fields, bad
 * hex, numbers beyond 2^53, unknown TCP states) are skipped and counted. The header and blank
 * lines are neither parsed nor counted.
 */
export function parseInetTable(text: string, protocol: InetProtocol, options: InetParseOptions = {}): ParsedTable {
  const bytes = Buffer.from(text, 'utf8');
  const { sockets, skipped } = parseInetBytes(bytes, bytes.length, protocol, null, options);
  return { sockets, skipped };
}

export interface InetParseOptions {
  /**
   * Build every new entry in the shape of a SocketRecord not yet joined with its owner (`owner`
   * null, `sharedBy` PENDING_JOIN, `user` ''), so that the collector fills those three fields
   * in place instead of copying every socket into a second object (see isPendingRecord).
   */
  readonly pendingRecords?: boolean;
  /** Arrays for the result's `bounds`, used when large enough (a refresh then allocates none). */
  readonly scratch?: LineBounds;
  /** An index to reset and use for the previous table's inodes, instead of a new one. */
  readonly inodeIndex?: InodeIndex;
  /**
   * false: an entry with an inode gets key '' (only inode 0 sockets get theirs: the
   * de-duplication of the tables tells them apart by key). For a snapshot printed once and never
   * compared with another (`--once`): at 100k sockets the keys are ~0.2 s of CPU, their building
   * and their garbage. Default true.
   */
  readonly keys?: boolean;
}

/** sharedBy of a record that parsing built and the owner join has not filled in yet. */
export const PENDING_JOIN = -1;

/** A SocketRecord built by the parser, not yet joined: its three join fields may be written once. */
export interface PendingRecord extends SocketEntry {
  owner: SocketRecord['owner'];
  sharedBy: number;
  user: string;
  uid: number;
}

/** Whether an entry is a parsed record still waiting for its join (never true once published). */
export function isPendingRecord(e: SocketEntry | SocketRecord): e is PendingRecord {
  return (e as Partial<SocketRecord>).sharedBy === PENDING_JOIN;
}

/**
 * What the next parse needs of each entry's line after its "sl:" column, without the bytes:
 * lengths[i], its length in bytes; prints[2i], prints[2i+1], its fingerprint (lineFingerprint),
 * which the next parse compares its lines with; inodes[i], the entry's inode (read from here, the
 * entries' objects need not be visited).
 */
export interface LineBounds {
  readonly lengths: Int32Array;
  readonly inodes: Float64Array;
  readonly prints: Int32Array;
}

/** The previous parse of a table, for parseInetBytes: entries[i] and its line's bounds and fingerprint. */
export interface PreviousParse<T extends SocketEntry> {
  readonly bounds: LineBounds;
  readonly entries: readonly T[];
}

/** A parse of a table's bytes: see parseInetBytes. */
export interface InetBytesParse<T extends SocketEntry> {
  /** Entries in table order: objects of `previous` where the line is unchanged, new ones otherwise. */
  readonly sockets: (SocketEntry | T)[];
  /** sockets[i]'s line after "sl:" in the bytes parsed, and its fingerprint (the next refresh's `previous`). */
  readonly bounds: LineBounds;
  /** How many entries came from `previous`. */
  readonly reused: number;
  readonly skipped: number;
}

/**
 * Parse the table in bytes[0, length) (UTF-8 as the kernel prints it; no text is decoded). With
 * `previous` — the last parse of the same table — a line whose bytes after the "sl:" column (sl
 * is the line's position and shifts when an earlier socket closes) have the same length and
 * fingerprint as a line of `previous` (typically most lines, between two refreshes a second
 * apart) is not parsed again: its object from `previous` is returned as is, so nothing is rebuilt
 * and consumers can compare by identity. The previous bytes are not needed (a 100k-socket table
 * is ~16 MB: the caller reads the next table into the same buffer). A changed line of a socket
 * seen before keeps the old record's `key` string when protocol, endpoints and inode are the
 * same (no second copy of it is built).
 *
 * Matching needs no hashing: the kernel lists sockets in hash-bucket order, so lines that stay
 * keep their order and a line is looked for near where it is expected in the previous table
 * (REUSE_WINDOW lines either side of the position after the last match, shifted by the lines
 * not matched since). A line found nowhere near is parsed: reuse only saves work. It changes a
 * result only if a changed line keeps its length and both 32-bit halves of its fingerprint
 * (lineFingerprint: ~2^-64 for a line that changed).
 */
export function parseInetBytes<T extends SocketEntry>(
  bytes: Buffer,
  length: number,
  protocol: InetProtocol,
  previous: PreviousParse<T> | null,
  options: InetParseOptions = {},
): InetBytesParse<T> {
  const steps = parseInetSteps(bytes, length, protocol, previous, options);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** Lines parseInetSteps parses (or reuses) between two of its pauses. */
export const PARSE_STEP_LINES = 1_024;

/**
 * parseInetBytes as steps: the generator pauses after every PARSE_STEP_LINES lines and returns
 * the same result as parseInetBytes when done, so that a caller can let the event loop run
 * between steps (the live dashboard's refresh: collectSnapshotSlicedAsync). While it is paused,
 * `bytes`, `previous` and `options` must be left as they are.
 */
export function parseInetSteps<T extends SocketEntry>(
  bytes: Buffer,
  length: number,
  protocol: InetProtocol,
  previous: PreviousParse<T> | null,
  options: InetParseOptions = {},
): Generator<void, InetBytesParse<T>, void> {
  const reuse: ReuseState<T> | null =
    previous === null || options.keys === false
      ? null
      : // Every field from the start (byInode too): one hidden class, so the optimised code that reads it stays valid.
        { previous, reused: 0, next: 0, misses: 0, byInode: undefined, spareIndex: options.inodeIndex };
  return parseInet(bytes, Math.min(length, bytes.length), protocol, reuse, options);
}

/** Lines looked at either side of the expected position in the previous table. */
const REUSE_WINDOW = 4;

interface ReuseState<T extends SocketEntry> {
  readonly previous: PreviousParse<T>;
  reused: number;
  /** Index in previous.entries after the last match. */
  next: number;
  /** Lines not matched since the last match (changed in place, or new). */
  misses: number;
  /** previous.entries by inode, built on the first line that the window cannot place. */
  byInode: InodeIndex | undefined;
  /** An index to build byInode in (InetParseOptions.inodeIndex). */
  readonly spareIndex: InodeIndex | undefined;
}

/** Row of `inode` in the previous table, or -1 (builds the index once per parse). */
function previousRowOf<T extends SocketEntry>(reuse: ReuseState<T>, inode: number): number {
  if (reuse.byInode === undefined) {
    const { entries, bounds } = reuse.previous;
    const index = reuse.spareIndex?.reset(entries.length) ?? new InodeIndex(entries.length);
    const { inodes } = bounds;
    for (let i = 0; i < entries.length; i++) {
      const inode = inodes[i]!;
      if (inode !== 0) index.getOrSet(inode, i);
    }
    reuse.byInode = index;
  }
  return reuse.byInode.get(inode);
}

/**
 * The fingerprint of b[start, end) (a line after its "sl:" column) in print[0] and print[1]: two
 * 32-bit hashes of different construction over its 4-byte words (murmur3's and xxHash32's
 * rounds, each with its own finalizer), so that a changed line of the same length is taken for
 * the old one only when both agree (~2^-64). /proc prints these lines (the kernel's own hex
 * digits, numbers and spaces), nothing a peer could choose byte by byte. ~9 ms for the ~16 MB of
 * a 100k-socket table, against ~5 ms to compare it with the previous bytes, which need ~16 MB
 * kept.
 */
export function lineFingerprint(view: DataView, start: number, end: number, print: Int32Array): void {
  const len = end - start;
  let h1 = 0x9747b28c ^ len;
  let h2 = (0x165667b1 + len) | 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const k = view.getInt32(i, true);
    let k1 = Math.imul(k, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 = (h2 + Math.imul(k, 0x85ebca77)) | 0;
    h2 = Math.imul((h2 << 13) | (h2 >>> 19), 0x9e3779b1);
  }
  for (; i < end; i++) {
    const k = view.getUint8(i);
    h1 = Math.imul(h1 ^ k, 0x5bd1e995);
    h2 = (h2 + Math.imul(k, 0x165667b1)) | 0;
    h2 = Math.imul((h2 << 11) | (h2 >>> 21), 0x9e3779b1);
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  print[0] = h1 ^ (h1 >>> 16);
  h2 ^= h2 >>> 15;
  h2 = Math.imul(h2, 0x85ebca77);
  h2 ^= h2 >>> 13;
  h2 = Math.imul(h2, 0xc2b2ae3d);
  print[1] = h2 ^ (h2 >>> 16);
}

/** Whether previous row `row`'s line has length `len` and fingerprint `print`. */
function samePreviousLine<T extends SocketEntry>(reuse: ReuseState<T>, row: number, len: number, print: Int32Array): boolean {
  const { lengths, prints } = reuse.previous.bounds;
  return lengths[row] === len && prints[2 * row] === print[0] && prints[2 * row + 1] === print[1];
}

/** Row of the previous table whose line has length `len` and fingerprint `print`, near the expected position, or -1. */
function findPrevious<T extends SocketEntry>(reuse: ReuseState<T>, len: number, print: Int32Array): number {
  const n = reuse.previous.entries.length;
  if (n === 0) return -1;
  const expected = reuse.next + reuse.misses;
  // The expected line first, then outwards.
  for (let d = 0; d <= REUSE_WINDOW; d++) {
    const after = expected + d;
    if (after < n && samePreviousLine(reuse, after, len, print)) return after;
    const before = expected - d;
    if (d > 0 && before >= reuse.next && before < n && samePreviousLine(reuse, before, len, print)) return before;
  }
  if (reuse.next < expected && samePreviousLine(reuse, reuse.next, len, print)) return reuse.next;
  return -1;
}

/** A bounds array twice as long with the first `count` values of `a`. */
function grown<A extends Int32Array | Float64Array>(a: A, count: number): A {
  const bigger = (
    a instanceof Int32Array ? new Int32Array(Math.max(1024, a.length * 2)) : new Float64Array(Math.max(1024, a.length * 2))
  ) as A;
  bigger.set(a.subarray(0, count));
  return bigger;
}

function* parseInet<T extends SocketEntry>(
  b: Buffer,
  n: number,
  protocol: InetProtocol,
  reuse: ReuseState<T> | null,
  options: InetParseOptions,
): Generator<void, InetBytesParse<T>, void> {
  const parser = new InetLineParser<T>(b, n, protocol, reuse, options);
  while (!parser.run()) yield;
  return parser.result();
}

/**
 * One parse of an inet table (parseInet): its lines read PARSE_STEP_LINES at a time by run().
 * A class, not closures inside the generator: closures made anew by every parse lost their
 * optimised code at each garbage collection (V8 keeps it for the next closure only while one
 * holding it is alive), and a --log-function-events log of the live dashboard at 100k sockets
 * showed parseLine alone compiled again by TurboFan 7 times in 35 s (~540 ms). Methods are
 * compiled once.
 */
class InetLineParser<T extends SocketEntry> {
  private readonly pending: boolean;
  private readonly withKeys: boolean;
  private readonly isTcp: boolean;
  private readonly isV6: boolean;
  private readonly addrLen: number;
  private lengths: Int32Array;
  private inodes: Float64Array;
  private prints: Int32Array;
  /** The fingerprint of the line being read; none for a one-shot parse (keys false: never compared). */
  private readonly print = new Int32Array(2);
  private readonly view: DataView | null;
  private readonly sockets: (SocketEntry | T)[];
  private count = 0;
  /** The previous row of the socket whose changed line parseLine is reading (inode, or the expected row for inode 0); -1 none. */
  private candidateRow = -1;
  private skipped = 0;
  private pos = 0;
  /** Lines until the next pause (see parseInetSteps); `paused`: the line at pos waits for the next run. */
  private untilPause = PARSE_STEP_LINES;
  private paused = false;

  constructor(
    private readonly b: Buffer,
    private readonly n: number,
    private readonly protocol: InetProtocol,
    private readonly reuse: ReuseState<T> | null,
    options: InetParseOptions,
  ) {
    this.pending = options.pendingRecords === true;
    this.withKeys = options.keys !== false;
    this.isTcp = protocol === 'tcp' || protocol === 'tcp6';
    this.isV6 = protocol === 'tcp6' || protocol === 'udp6' || protocol === 'raw6';
    this.addrLen = this.isV6 ? 32 : 8;
    // Line bounds, 150 bytes a tcp line (fewer for tcp6's long ones is fine: the arrays grow).
    const want = Math.ceil(n / 120) + 16;
    const scratch = options.scratch;
    this.lengths = scratch !== undefined && scratch.lengths.length >= want ? scratch.lengths : new Int32Array(want);
    const rows = this.lengths.length;
    this.inodes = scratch !== undefined && scratch.inodes.length === rows ? scratch.inodes : new Float64Array(rows);
    this.prints = scratch !== undefined && scratch.prints.length === 2 * rows ? scratch.prints : new Int32Array(2 * rows);
    this.view = this.withKeys ? new DataView(b.buffer, b.byteOffset, b.length) : null;
    // Presized to the line estimate and trimmed at the end: a 100k-line table grown by push copies
    // its elements ~20 times (~2.8 MB of garbage arrays a refresh, most of it large objects).
    this.sockets = new Array<SocketEntry | T>(Math.max(want, reuse?.previous.entries.length ?? 0));
  }

  /** Reads lines until the next pause (false) or the end of the table (true). */
  run(): boolean {
    const { b, n, reuse, view, print } = this;
    let pos = this.pos;
    try {
      while (pos < n) {
        if (this.paused) this.paused = false;
        else if (--this.untilPause === 0) {
          this.untilPause = PARSE_STEP_LINES;
          this.paused = true;
          return false;
        }
        const first = skipSpaces(b, pos, n);
        if (first >= n) break; // trailing blanks
        if (b[first] === 10) {
          pos = first + 1; // blank line
          continue;
        }
        // Header: "  sl  local_address …"
        if (b[first] === 115 /* s */ && first + 1 < n && b[first + 1] === 108 /* l */) {
          pos = lineEnd(b, first, n) + 1;
          continue;
        }
        // The line's bytes after "sl:" (sl: one or more digits, as parseLine checks); a line without
        // them is malformed, and never reused whatever follows.
        let colon = first;
        while (colon < n && b[colon]! >= 48 && b[colon]! <= 57) colon++;
        const start = colon > first && colon < n && b[colon] === 58 ? colon + 1 : -1;
        const eol = lineEnd(b, first, n);
        pos = eol + 1;
        if (view !== null && start >= 0) lineFingerprint(view, start, eol, print);
        if (reuse === null) {
          const entry = this.parseLine(first, eol);
          if (entry === null) this.skipped++;
          else this.keep(entry, start, eol, entry.inode);
          continue;
        }
        const at = start < 0 ? -1 : findPrevious(reuse, eol - start, print);
        if (at >= 0) {
          reuse.reused++;
          reuse.next = at + 1;
          reuse.misses = 0;
          this.keep(reuse.previous.entries[at]!, start, eol, reuse.previous.bounds.inodes[at]!);
          continue;
        }
        this.candidateRow = -1;
        const entry = this.parseLine(first, eol);
        if (entry === null) this.skipped++;
        else this.keep(entry, start, eol, entry.inode);
        // Re-synchronise on a socket that was there before (its line changed: a timer, a queue);
        // otherwise assume the line replaced one (changed in place) or was inserted.
        const row = entry === null || entry.inode === 0 ? -1 : this.candidateRow;
        if (row >= 0) {
          reuse.next = row + 1;
          reuse.misses = 0;
        } else reuse.misses++;
      }
      return true;
    } finally {
      this.pos = pos;
    }
  }

  /** The parse, once run() returned true. */
  result(): InetBytesParse<T> {
    const { sockets, lengths, inodes, prints } = this;
    sockets.length = this.count;
    return { sockets, bounds: { lengths, inodes, prints }, reused: this.reuse?.reused ?? 0, skipped: this.skipped };
  }

  private keep(entry: SocketEntry | T, start: number, eol: number, inode: number): void {
    const i = this.count++;
    if (i === this.lengths.length) {
      this.lengths = grown(this.lengths, i);
      this.inodes = grown(this.inodes, i);
      this.prints = grown(this.prints, 2 * i);
    }
    this.lengths[i] = eol - start;
    this.inodes[i] = inode;
    this.prints[2 * i] = this.print[0]!;
    this.prints[2 * i + 1] = this.print[1]!;
    this.sockets[i] = entry;
  }

  /** Address of the endpoint at b[at..at+addrLen), or null when not hex. */
  private readAddress(at: number): string | null {
    const b = this.b;
    if (!this.isV6) {
      let raw = 0;
      for (let i = at; i < at + 8; i++) {
        const d = hexDigit(b[i]!);
        if (d < 0) return null;
        raw = raw * 16 + d;
      }
      return internIpv4(raw);
    }
    const hex = b.toString('latin1', at, at + 32);
    let s = ipv6Names.get(hex);
    if (s === undefined) {
      const d = decodeIpv6Bytes(b, at);
      if (d === null) return null;
      s = d;
      if (ipv6Names.size >= ADDRESS_CACHE_MAX) ipv6Names.clear();
      ipv6Names.set(hex, s);
    }
    return s;
  }

  /** `key` of a changed line: the previous record's string when it is the same socket, else a new one. */
  private keyOf(localAddress: string, localPort: number, remoteAddress: string, remotePort: number, inode: number): string {
    const { reuse, protocol } = this;
    if (reuse !== null) {
      const row = inode !== 0 ? previousRowOf(reuse, inode) : reuse.next + reuse.misses;
      if (inode !== 0) this.candidateRow = row;
      const old = row >= 0 ? reuse.previous.entries[row] : undefined;
      if (
        old !== undefined &&
        old.inode === inode &&
        old.localPort === localPort &&
        old.remotePort === remotePort &&
        old.localAddress === localAddress &&
        old.remoteAddress === remoteAddress &&
        old.protocol === protocol
      ) {
        return old.key;
      }
    }
    // Same text as socketKey(). join() builds one flat string; a template literal builds a tree
    // of ~9 cons strings per line that survives into old space and is flattened again when the
    // key is first hashed (measured ~2x slower).
    return [protocol, ' ', localAddress, ':', portText(localPort), ' ', remoteAddress, ':', portText(remotePort), ' ', inode].join('');
  }

  private parseLine(first: number, end: number): SocketEntry | null {
    const { b, addrLen, isTcp, protocol } = this;
    // sl: "%4d:" (udp: the hash bucket). Only its shape is checked.
    let p = first;
    while (p < end && b[p]! >= 48 && b[p]! <= 57) p++;
    if (p === first || p >= end || b[p] !== 58 /* : */) return null;

    // local and remote "ADDR:PORT", %08X (x4 for IPv6) and %04X
    const ls = skipSpaces(b, p + 1, end);
    if (ls + addrLen >= end || b[ls + addrLen] !== 58) return null;
    const localPort = readHex(b, ls + addrLen + 1, end, 4, -1);
    if (localPort < 0 || cursor - ls !== addrLen + 5) return null;
    const rs = skipSpaces(b, cursor, end);
    if (rs === cursor || rs + addrLen >= end || b[rs + addrLen] !== 58) return null;
    const remotePort = readHex(b, rs + addrLen + 1, end, 4, -1);
    if (remotePort < 0 || cursor - rs !== addrLen + 5) return null;

    // st
    p = skipSpaces(b, cursor, end);
    const st = readHex(b, p, end, 2, -1);
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
    p = skipSpaces(b, cursor, end);
    const sendQ = readHex(b, p, end, 8, 58);
    if (sendQ < 0 || cursor >= end || b[cursor] !== 58) return null;
    const recvQ = readHex(b, cursor + 1, end, 8, -1);
    if (recvQ < 0) return null;

    // tr:tm->when, "%02X:%08lX"; when in clock ticks, up to 16 hex digits on 64-bit
    p = skipSpaces(b, cursor, end);
    const tr = readHex(b, p, end, 2, 58);
    if (tr < 0 || cursor >= end || b[cursor] !== 58) return null;
    let ticks = readHex(b, cursor + 1, end, 16, -1);
    if (ticks < 0) return null;
    // Older kernels (before jiffies_delta_to_clock_t clamped the delta to 0) printed an expired
    // timer as a negative long, e.g. FFFFFFFFFFFFFF9C: anything >= 2^31 ticks (~248 days) is 0.
    if (ticks >= 0x80000000) ticks = 0;

    // retrnsmt %08X, uid %5u, timeout %8d (icsk_probes_out), inode %lu
    const retrnsmt = readHex(b, skipSpaces(b, cursor, end), end, 8, -1);
    if (retrnsmt < 0) return null;
    let uid = readDec(b, skipSpaces(b, cursor, end), end, false);
    if (uid !== uid) return null;
    const probes = readDec(b, skipSpaces(b, cursor, end), end, false);
    if (probes !== probes) return null;
    const inode = readDec(b, skipSpaces(b, cursor, end), end, false);
    if (inode !== inode) return null;

    // refcount, pointer: present on every line, not used
    p = skipField(b, cursor, end);
    if (p < 0) return null;
    p = skipField(b, p, end);
    if (p < 0) return null;

    let rtoMs: number | null = null;
    let atoMs: number | null = null;
    let cwnd: number | null = null;
    let ssthresh: number | null = null;
    let drops: number | null = null;
    p = skipSpaces(b, p, end);
    if (isTcp) {
      // Short lines (timewait, openreq) end here. Full ones go on with
      // rto ato (clock ticks) (quick<<1|pingpong) cwnd ssthresh; more columns are ignored.
      if (p < end) {
        const rto = readDec(b, p, end, false);
        const ato = readDec(b, skipSpaces(b, cursor, end), end, false);
        if (rto !== rto || ato !== ato) return null;
        p = skipField(b, cursor, end); // quick<<1|pingpong
        if (p < 0) return null;
        const cw = readDec(b, skipSpaces(b, p, end), end, false);
        const last = readDec(b, skipSpaces(b, cursor, end), end, true);
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
      const d = readDec(b, p, end, false);
      if (d !== d) return null;
      drops = d;
    }

    const localAddress = this.readAddress(ls);
    const remoteAddress = this.readAddress(rs);
    if (localAddress === null || remoteAddress === null) return null;

    const key = inode !== 0 && !this.withKeys ? '' : this.keyOf(localAddress, localPort, remoteAddress, remotePort, inode);
    const timer = TIMER_BY_CODE[tr] ?? 'off';
    const timerMs = ticks * MS_PER_TICK;
    // Like ss: the retrnsmt column for the retransmit timer, probes sent for the others.
    const retransmits = tr === 1 ? retrnsmt : probes;
    if (this.pending) {
      // The record's own shape (one object per socket, no copy in the join): see PendingRecord.
      const record: PendingRecord = {
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
        owner: null,
        sharedBy: PENDING_JOIN,
        user: '',
      };
      return record;
    }
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
  const tally: StateTally = { byCode: new Int32Array(16), skipped: 0, endpointLen: 0 };
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    countLineState(text, pos, eol, tally);
    pos = eol + 1;
  }
  return countsOfTally(tally);
}

/** Running totals of a state count: per st code, lines skipped, and the endpoint width once learned. */
interface StateTally {
  readonly byCode: Int32Array;
  skipped: number;
  /** 13 (tcp) or 37 (tcp6), learned from the first data line; 0 until then. */
  endpointLen: number;
}

function countsOfTally(tally: StateTally): TcpStateCounts {
  const counts = {} as Record<TcpState, number>;
  let total = 0;
  for (let code = 1; code <= 12; code++) {
    const c = tally.byCode[code]!;
    counts[TCP_STATE_BY_CODE[code]!] = c;
    total += c;
  }
  return { counts, total, skipped: tally.skipped };
}

/** One line text[lineStart..eol) of countTcpStatesFast: counted, skipped, or ignored (blank, header). */
function countLineState(text: string, lineStart: number, eol: number, tally: StateTally): void {
  // First non-blank char of the line.
  let i = lineStart;
  while (i < eol && text.charCodeAt(i) === 32) i++;
  if (i === eol) return; // blank
  if (text.startsWith('sl ', i)) return; // header
  let colon = i;
  while (colon < eol && text.charCodeAt(colon) !== 58) colon++;
  if (tally.endpointLen === 0) {
    // Endpoint width = distance from the local address to the next space.
    // (Searched within the line only: a search to the end of the text for every line of a
    // table without spaces would be quadratic.)
    let sp = colon + 2;
    while (sp < eol && text.charCodeAt(sp) !== 32) sp++;
    const width = sp >= eol ? -1 : sp - (colon + 2);
    if (width === 13 || width === 37) tally.endpointLen = width;
    else {
      tally.skipped++;
      return;
    }
  }
  const endpointLen = tally.endpointLen;
  const stAt = colon + 2 + 2 * endpointLen + 2;
  if (
    stAt + 2 >= eol ||
    text.charCodeAt(colon + 1) !== 32 ||
    text.charCodeAt(colon + 2 + endpointLen - 5) !== 58 ||
    text.charCodeAt(stAt - 1) !== 32 ||
    text.charCodeAt(stAt + 2) !== 32
  ) {
    tally.skipped++;
    return;
  }
  const st = hexByte(text, stAt);
  if (st < 1 || st > 12) {
    tally.skipped++;
    return;
  }
  tally.byCode[st]!++;
}

/**
 * countTcpStatesFast of the UTF-8 text in `bytes`, without decoding it: the same counts for any
 * input. A line is examined byte by byte as countTcpStatesFast examines it char by char; the
 * positions agree as long as the line is ASCII up to the state column, so a line with a byte
 * >= 0x80 there (never printed by the kernel) is decoded and counted as text.
 */
export function countTcpStatesInBytes(bytes: Buffer): TcpStateCounts {
  const counter = new TcpStateCounter();
  counter.add(bytes, 0, bytes.length, true);
  return counter.result();
}

/**
 * countTcpStatesInBytes of a table given a piece at a time (read through a small buffer: no
 * buffer the size of the table), with the same counts as over the whole table at once.
 */
export class TcpStateCounter {
  private readonly tally: StateTally = { byCode: new Int32Array(16), skipped: 0, endpointLen: 0 };

  /**
   * Count the whole lines of bytes[from, end) and return where the last of them ends (after its
   * "\n"): what follows is the start of a line the next piece finishes. With `last` (the end of
   * the table) that rest is the table's last line, counted too, and `end` is returned.
   */
  add(bytes: Buffer, from: number, end: number, last: boolean): number {
    const { tally } = this;
    let pos = from;
    while (pos < end) {
      let eol = bytes.indexOf(10, pos);
      if (eol < 0 || eol >= end) {
        if (!last) return pos;
        eol = end;
      }
      const lineStart = pos;
      pos = eol + 1;
      const outcome = tally.endpointLen === 0 ? LINE_UNSURE : countLineBytes(bytes, lineStart, eol, tally);
      if (outcome === LINE_DONE) continue;
      // The first data line (it sets the endpoint width), a line to skip, or non-ASCII before the
      // state column: as text, unless the whole line is ASCII (then the bytes gave the answer).
      if (outcome === LINE_SKIPPED && isAscii(bytes, lineStart, eol)) {
        tally.skipped++;
        continue;
      }
      countLineState(bytes.toString('utf8', lineStart, eol), 0, eol - lineStart, tally);
    }
    return Math.min(pos, end);
  }

  result(): TcpStateCounts {
    return countsOfTally(this.tally);
  }
}

/** countLineBytes outcomes: counted or ignored; would be skipped; cannot tell from the bytes. */
const LINE_DONE = 0;
const LINE_SKIPPED = 1;
const LINE_UNSURE = 2;

function isAscii(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** hexDigit of a byte: 0–15, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** countLineState over bytes, once the endpoint width is known (see countTcpStatesInBytes). */
function countLineBytes(bytes: Buffer, lineStart: number, eol: number, tally: StateTally): number {
  let i = lineStart;
  while (i < eol && bytes[i] === 32) i++;
  if (i === eol) return LINE_DONE; // blank
  if (bytes[i] === 115 /* s */ && bytes[i + 1] === 108 /* l */ && bytes[i + 2] === 32 && i + 2 < eol) return LINE_DONE; // header
  let colon = i;
  while (colon < eol && bytes[colon] !== 58) colon++;
  const endpointLen = tally.endpointLen;
  const stAt = colon + 2 + 2 * endpointLen + 2;
  if (
    stAt + 2 >= eol ||
    bytes[colon + 1] !== 32 ||
    bytes[colon + 2 + endpointLen - 5] !== 58 ||
    bytes[stAt - 1] !== 32 ||
    bytes[stAt + 2] !== 32
  ) {
    return LINE_SKIPPED;
  }
  const hi = hexValue(bytes[stAt]!);
  const lo = hexValue(bytes[stAt + 1]!);
  const st = hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
  if (st < 1 || st > 12) return LINE_SKIPPED;
  if (!isAscii(bytes, lineStart, stAt)) return LINE_UNSURE;
  tally.byCode[st]!++;
  return LINE_DONE;
}

/**
 * Parse a tally of the st column, one "<st> <count>" line per state code as the remote side's
 * `awk '{ n[$4]++ } …'` prints it over --ssh (see SshProcFs.stateTally): the same totals as
 * countTcpStatesFast. A code outside 01–0C counts as that many skipped lines, an unreadable line
 * as one.
 */
export function parseTcpStateTally(text: string): TcpStateCounts {
  const byCode = new Array<number>(13).fill(0);
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([0-9A-Fa-f]{2}) (\d{1,15})$/.exec(line);
    if (m === null) {
      skipped++;
      continue;
    }
    const code = parseInt(m[1]!, 16);
    const n = Number(m[2]);
    if (code >= 1 && code <= 12) byCode[code] = (byCode[code] ?? 0) + n;
    else skipped += n;
  }
  const counts = {} as Record<TcpState, number>;
  let total = 0;
  for (let code = 1; code <= 12; code++) {
    counts[TCP_STATE_BY_CODE[code]!] = byCode[code]!;
    total += byCode[code]!;
  }
  return { counts, total, skipped };
}
