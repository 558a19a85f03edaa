// parse*: the text of `ss -tinH` (iproute2), every connection with its tcp_info counters.
// ss prints one line per socket ("ESTAB 0 0 127.0.0.1:5432 127.0.0.1:41000", optionally after a
// Netid column and followed by `users:(...)` etc.) and then an indented line of tcp_info fields
// ("bbr wscale:7,7 rto:204 rtt:0.03/0.015 … bytes_sent:100000 bytes_acked:100001 …").
// ss leaves out counters that are zero (bytes_acked, bytes_received, retrans), so a missing
// counter reads as 0. Addresses come as "1.2.3.4:80", "[::1]:443", "[::ffff:1.2.3.4]:80",
// "[fe80::1]%eth0:22" (scope after the bracket) and "*" for a wildcard.
//
// The output is kept as columns (one typed-array row per connection, addresses as ids into one
// list of texts), not one object per connection: 100k connections are ~48 MB of text, and what
// the rates need of each is 4 numbers of the tuple and 5 of tcp_info (model/conn-rates.ts).

import type { TcpInfoColumns } from '../model/conn-rates.js';

/** ss's TCP state names (sstate_name in ss.c); a row's stateCode is its index + 1, 0 for none. */
export const SS_TCP_STATES = [
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
] as const;
const NETIDS = ['tcp', 'mptcp', 'tcp6'];

/** What one `ss -tinH` printed, as columns; `stateCode` per row (see SS_TCP_STATES). */
export interface SsTcpTable extends TcpInfoColumns {
  readonly stateCode: Uint8Array;
  /** Socket lines that did not parse (unknown shape, bad address or port). */
  readonly skipped: number;
}

/** ss's state name of one row ("" when ss printed no state column). */
export function ssStateName(table: SsTcpTable, row: number): string {
  const code = table.stateCode[row] ?? 0;
  return code === 0 ? '' : SS_TCP_STATES[code - 1]!;
}

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

/** ss's state and netid names as bytes, for a comparison without decoding the token. */
const STATE_BYTES: readonly Buffer[] = SS_TCP_STATES.map((name) => Buffer.from(name));
const NETID_BYTES: readonly Buffer[] = NETIDS.map((name) => Buffer.from(name));

function sameBytes(buf: Buffer, from: number, to: number, key: Buffer): boolean {
  if (to - from !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[from + i] !== key[i]) return false;
  return true;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Number(text of buf[from, to)) as JavaScript reads it, without decoding: digits with at most one
 * '.', up to 15 digits, as one exact integer divided by a power of ten (the same double Number
 * gives: one correctly rounded division). Anything else (signs, exponents, longer) goes through
 * Number itself. An empty text is 0 (as Number('') is). Non-negative finite results only; else NaN.
 */
function numberAt(buf: Buffer, from: number, to: number): number {
  if (from === to) return 0;
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

/** Bytes of the tcp_info keys read (each `key:` at the start of a token; the first one wins). */
const B = 98; // b
const R = 114; // r
const T = 116; // t
const E = 101; // e
const A = 97; // a
const COLON = 58;
const SLASH = 47;
const KEY_BYTES_ACKED = Buffer.from('bytes_acked:');
const KEY_BYTES_RECEIVED = Buffer.from('bytes_received:');
const KEY_RETRANS = Buffer.from('retrans:');

/** buf[at, at + key.length) equals key, all of it before `to`. */
function hasKeyAt(buf: Buffer, at: number, to: number, key: Buffer): boolean {
  if (at + key.length > to) return false;
  for (let i = 1; i < key.length; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

/** Spaces to compare a line's padding with. */
const BLANKS = Buffer.alloc(1024, 32);

/** Field bits: a key's first token wins. */
const F_RTT = 1;
const F_ACKED = 2;
const F_RECEIVED = 4;
const F_RETRANS = 8;

/** Initial rows of a parser's columns (doubled as needed). */
const INITIAL_ROWS = 1024;

/**
 * `ss -tinH` parsed from its bytes as they arrive (a pipe's chunks, split anywhere) into columns:
 * no string of the whole output, none per line and no object per connection, so the parse runs
 * while ss prints, a chunk at a time, and leaves next to nothing for the collector. Same result
 * as parsing the whole text at once.
 */
export class SsTcpParser {
  private rows = 0;
  private capacity = INITIAL_ROWS;
  private skipped = 0;
  /** The row whose tcp_info line comes next (the socket line just read), or -1. */
  private pendingRow = -1;
  /** The start of a line whose end is in a later chunk. */
  private carry: Buffer | null = null;
  private stateCode = new Uint8Array(INITIAL_ROWS);
  private localAddressId = new Int32Array(INITIAL_ROWS);
  private localPort = new Uint16Array(INITIAL_ROWS);
  private remoteAddressId = new Int32Array(INITIAL_ROWS);
  private remotePort = new Uint16Array(INITIAL_ROWS);
  private bytesAcked = new Float64Array(INITIAL_ROWS);
  private bytesReceived = new Float64Array(INITIAL_ROWS);
  private retransTotal = new Float64Array(INITIAL_ROWS);
  private rttMs = new Float64Array(INITIAL_ROWS);
  private rttVarMs = new Float64Array(INITIAL_ROWS);
  /** Address texts; a row's address ids index this list. */
  private readonly addresses: string[] = [];
  /** Plain IPv4 texts by their value as an int32 (see endpointAt) → address id: no string per connection. */
  private readonly ipv4Ids = new Map<number, number>();
  /** Other host texts as printed ("[::1]", "[fe80::1]%eth0") → address id, -1 when not an address. */
  private readonly hostIds = new Map<string, number>();
  private readonly idOfAddress = new Map<string, number>();
  /** endpointAt's result. */
  private endpointAddressId = 0;
  private endpointPort = 0;

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
   * The parser is done with: the columns are views of its arrays.
   */
  end(dropCutLine = false): SsTcpTable {
    if (this.carry !== null && dropCutLine) this.carry = null;
    if (this.carry !== null) {
      const last = this.carry;
      this.carry = null;
      this.line(last, 0, last.length);
    }
    this.pendingRow = -1;
    const n = this.rows;
    return {
      count: n,
      skipped: this.skipped,
      addresses: this.addresses,
      stateCode: this.stateCode.subarray(0, n),
      localAddressId: this.localAddressId.subarray(0, n),
      localPort: this.localPort.subarray(0, n),
      remoteAddressId: this.remoteAddressId.subarray(0, n),
      remotePort: this.remotePort.subarray(0, n),
      bytesAcked: this.bytesAcked.subarray(0, n),
      bytesReceived: this.bytesReceived.subarray(0, n),
      retransTotal: this.retransTotal.subarray(0, n),
      rttMs: this.rttMs.subarray(0, n),
      rttVarMs: this.rttVarMs.subarray(0, n),
    };
  }

  private line(buf: Buffer, from: number, to: number): void {
    const first = from < to ? buf[from] : -1;
    if (first === 9 || first === 32) {
      // Indented: the tcp_info line of the socket line above.
      if (this.pendingRow >= 0) this.info(buf, from, to, this.pendingRow);
      this.pendingRow = -1;
      return;
    }
    this.pendingRow = -1;
    let i = from;
    while (i < to && isBlank(buf[i]!)) i++;
    if (i === to) return;
    // A header line (`ss -tin` without -H): its first word and a blank.
    const c = buf[from]!;
    if ((c === 78 || c === 83 || c === 82) && HEADER.test(buf.toString('latin1', from, Math.min(to, from + 8)))) return;
    if (!this.socketLine(buf, from, to)) this.skipped++;
  }

  /** "[Netid] [State] Recv-Q Send-Q Local Peer [more]" → a new row; false if malformed. */
  private socketLine(buf: Buffer, from: number, to: number): boolean {
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
    // A Netid column ("tcp", "mptcp", "tcp6") starts in lowercase, a state in uppercase.
    const first = n > 0 ? buf[tokenStarts[0]!]! : 0;
    if ((first === 116 || first === 109) && NETID_BYTES.some((b) => sameBytes(buf, tokenStarts[0]!, tokenEnds[0]!, b))) t++;
    let state = 0;
    const c = t < n ? buf[tokenStarts[t]!]! : 0;
    if (c >= 65 && c <= 90) {
      for (let k = 0; k < STATE_BYTES.length; k++) {
        if (sameBytes(buf, tokenStarts[t]!, tokenEnds[t]!, STATE_BYTES[k]!)) {
          state = k + 1;
          t++;
          break;
        }
      }
    }
    // Recv-Q and Send-Q, then the two endpoints.
    if (t + 3 >= n || !allDigits(buf, tokenStarts[t]!, tokenEnds[t]!) || !allDigits(buf, tokenStarts[t + 1]!, tokenEnds[t + 1]!))
      return false;
    if (!this.endpointAt(buf, tokenStarts[t + 2]!, tokenEnds[t + 2]!)) return false;
    const localId = this.endpointAddressId;
    const localPort = this.endpointPort;
    if (!this.endpointAt(buf, tokenStarts[t + 3]!, tokenEnds[t + 3]!)) return false;
    if (this.rows === this.capacity) this.grow();
    const row = this.rows++;
    this.stateCode[row] = state;
    this.localAddressId[row] = localId;
    this.localPort[row] = localPort;
    this.remoteAddressId[row] = this.endpointAddressId;
    this.remotePort[row] = this.endpointPort;
    // No tcp_info line (TIME-WAIT prints an empty one): zero counters, no RTT.
    this.bytesAcked[row] = 0;
    this.bytesReceived[row] = 0;
    this.retransTotal[row] = 0;
    this.rttMs[row] = Number.NaN;
    this.rttVarMs[row] = Number.NaN;
    this.pendingRow = row;
    return true;
  }

  /**
   * One endpoint token buf[from, to) as parseSsEndpoint reads it, into endpointAddressId and
   * endpointPort; false when it is not one. A plain IPv4 "a.b.c.d:port" (the usual case) is read
   * from the bytes, without a string; anything else decodes its host part once per distinct text.
   */
  private endpointAt(buf: Buffer, from: number, to: number): boolean {
    // The four octets as one int32 (a Smi key: no number object per lookup). A leading zero or
    // an octet over 255 takes the slow path, so equal values are equal texts.
    let value = 0;
    let group = 0;
    let digits = 0;
    let groups = 0;
    let i = from;
    for (; i < to; i++) {
      const c = buf[i]!;
      if (c >= 48 && c <= 57) {
        if ((digits === 1 && group === 0) || ++digits > 3) break;
        group = group * 10 + (c - 48);
      } else if ((c === 46 || c === 58) && digits > 0 && group <= 255) {
        value = (value << 8) | group;
        groups++;
        group = 0;
        digits = 0;
        if (c === 58) break;
      } else break;
    }
    if (i < to && buf[i] === 58 && groups === 4) {
      const port = portAt(buf, i + 1, to);
      if (port >= 0) {
        let id = this.ipv4Ids.get(value);
        if (id === undefined) {
          id = this.addressId(buf.toString('latin1', from, i));
          this.ipv4Ids.set(value, id);
        }
        this.endpointAddressId = id;
        this.endpointPort = port;
        return true;
      }
    }
    // Anything else: the host text (brackets, scope, "*") once per distinct text.
    const colon = buf.lastIndexOf(58, to - 1);
    if (colon <= from) return false;
    const port = buf[colon + 1] === 42 && colon + 2 === to ? 0 : portAt(buf, colon + 1, to);
    if (port < 0) return false;
    const host = buf.toString('latin1', from, colon);
    let id = this.hostIds.get(host);
    if (id === undefined) {
      const parsed = parseSsEndpoint(`${host}:0`);
      id = parsed === null ? -1 : this.addressId(parsed.address);
      this.hostIds.set(host, id);
    }
    if (id < 0) return false;
    this.endpointAddressId = id;
    this.endpointPort = port;
    return true;
  }

  private addressId(address: string): number {
    let id = this.idOfAddress.get(address);
    if (id === undefined) {
      id = this.addresses.length;
      this.addresses.push(address);
      this.idOfAddress.set(address, id);
    }
    return id;
  }

  /** The tcp_info fields of one indented line into `row`, each from its first `key:` token. */
  private info(buf: Buffer, from: number, to: number, row: number): void {
    let seen = 0;
    let i = from;
    while (i < to) {
      let c = buf[i]!;
      if (c <= 32) {
        // ss pads the line to its widest one (~80 blanks a line at 100k connections) and puts one
        // blank between tokens: at two blanks, a native compare says whether only blanks are left.
        if (c === 32 && buf[i + 1] === 32 && to - i <= BLANKS.length && buf.compare(BLANKS, 0, to - i, i, to) === 0) break;
        i++;
        continue;
      }
      const start = i;
      // Only tokens that start with "r" or "b" can be wanted: the others are skipped unread.
      let key = 0;
      if (c === R) {
        if (buf[i + 1] === T && buf[i + 2] === T && buf[i + 3] === COLON && i + 3 < to) key = F_RTT;
        else if (buf[i + 1] === E && hasKeyAt(buf, i, to, KEY_RETRANS)) key = F_RETRANS;
      } else if (c === B && buf[i + 5] === 95 && buf[i + 1] === 121) {
        // "bytes_": bytes_acked or bytes_received (not bytes_sent, bytes_retrans).
        const d = buf[i + 6];
        if (d === A && hasKeyAt(buf, i, to, KEY_BYTES_ACKED)) key = F_ACKED;
        else if (d === R && buf[i + 7] === E && hasKeyAt(buf, i, to, KEY_BYTES_RECEIVED)) key = F_RECEIVED;
      }
      while (c > 32) {
        if (++i >= to) break;
        c = buf[i]!;
      }
      if (key === 0 || (seen & key) !== 0) continue;
      seen |= key;
      const end = i;
      switch (key) {
        case F_RTT: {
          // rtt:AVG/VAR (ms); both or neither.
          const v = start + 4;
          const slash = slashIn(buf, v, end);
          if (slash < 0) break;
          const avg = numberAt(buf, v, slash);
          const variance = numberAt(buf, slash + 1, end);
          if (Number.isNaN(avg) || Number.isNaN(variance)) break;
          this.rttMs[row] = avg;
          this.rttVarMs[row] = variance;
          break;
        }
        case F_ACKED:
          this.bytesAcked[row] = countOf(numberAt(buf, start + KEY_BYTES_ACKED.length, end));
          break;
        case F_RECEIVED:
          this.bytesReceived[row] = countOf(numberAt(buf, start + KEY_BYTES_RECEIVED.length, end));
          break;
        default: {
          // retrans:CUR/TOTAL: the total (a missing or malformed one reads as 0).
          const v = start + KEY_RETRANS.length;
          const slash = slashIn(buf, v, end);
          if (slash < 0 || Number.isNaN(numberAt(buf, v, slash))) break;
          this.retransTotal[row] = countOf(numberAt(buf, slash + 1, end));
          break;
        }
      }
    }
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const grown = <A extends Uint8Array | Uint16Array | Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.stateCode = grown(this.stateCode, (n) => new Uint8Array(n));
    this.localAddressId = grown(this.localAddressId, (n) => new Int32Array(n));
    this.localPort = grown(this.localPort, (n) => new Uint16Array(n));
    this.remoteAddressId = grown(this.remoteAddressId, (n) => new Int32Array(n));
    this.remotePort = grown(this.remotePort, (n) => new Uint16Array(n));
    this.bytesAcked = grown(this.bytesAcked, (n) => new Float64Array(n));
    this.bytesReceived = grown(this.bytesReceived, (n) => new Float64Array(n));
    this.retransTotal = grown(this.retransTotal, (n) => new Float64Array(n));
    this.rttMs = grown(this.rttMs, (n) => new Float64Array(n));
    this.rttVarMs = grown(this.rttVarMs, (n) => new Float64Array(n));
    this.capacity = capacity;
  }
}

/** Token bounds of a socket line, [start, end) pairs, at most 8 tokens. */
const tokenStarts = new Int32Array(8);
const tokenEnds = new Int32Array(8);

/** The first '/' in buf[from, to), or -1. */
function slashIn(buf: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] === SLASH) return i;
  return -1;
}

/** A port of 1–5 digits, 0–65535, filling buf[from, to); else -1. */
function portAt(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 5) return -1;
  let port = 0;
  for (let j = from; j < to; j++) {
    const c = buf[j]!;
    if (c < 48 || c > 57) return -1;
    port = port * 10 + (c - 48);
  }
  return port <= 65535 ? port : -1;
}

function allDigits(buf: Buffer, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Parse the whole output of `ss -tinH` (or -tin: a "State Recv-Q …" header line is skipped).
 * A socket line without a following indented line (TIME-WAIT has an empty one) gets zero
 * counters and no RTT (NaN). A trailing socket line cut short by an output cap parses as far as
 * it goes; a cut info line only loses the fields after the cut.
 */
export function parseSsTcpTable(text: string): SsTcpTable {
  const parser = new SsTcpParser();
  parser.push(Buffer.from(text, 'utf8'));
  return parser.end();
}
