// Per-connection throughput and latency from tcp_info counters read at two instants (bottom's
// and nethogs' approach without packet capture: the kernel already counts bytes per socket).
// Pure: the counters come from `ss -tinH` (src/proc/read-ss-info.ts); this module joins them to
// a snapshot's sockets by tuple, turns counter deltas into rates, and sums rates per process,
// per listening port, per peer and for the host.

import { ListeningEndpoints, PROTOCOL_GROUP } from './aggregate.js';
import type { SocketRecord } from './types.js';

/**
 * tcp_info of the connections one `ss -tinH` printed (src/proc/parse-ss-tcp.ts), one row per
 * connection in columns: the tuple as numbers (addresses as ids into `addresses`) and the
 * counters the rates need. Counters are bytes / segments since the socket opened; ss leaves out
 * those that are zero, so a missing one is 0.
 */
export interface TcpInfoColumns {
  readonly count: number;
  /** Address texts without brackets or %scope ("127.0.0.1", "::1", "::ffff:127.0.0.1"); the ids index this list. */
  readonly addresses: readonly string[];
  readonly localAddressId: Int32Array;
  readonly localPort: Uint16Array;
  readonly remoteAddressId: Int32Array;
  readonly remotePort: Uint16Array;
  /** tcpi_bytes_acked: bytes the peer acknowledged (+1 for the SYN once established). */
  readonly bytesAcked: Float64Array;
  /** tcpi_bytes_received: payload bytes received in order. */
  readonly bytesReceived: Float64Array;
  /** retrans:CUR/TOTAL's TOTAL: segments retransmitted over the socket's life. */
  readonly retransTotal: Float64Array;
  /** rtt:AVG/VAR, milliseconds (tcpi_rtt and tcpi_rttvar, printed in ms by ss); NaN when ss printed none. */
  readonly rttMs: Float64Array;
  readonly rttVarMs: Float64Array;
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

/** The previous read, kept to compute the next deltas: its table holds the counters. */
export interface ConnRatesState {
  /** When the counters were read, ms since epoch. */
  readonly takenAtMs: number;
  readonly table: ConnRateTable;
  /** Its ss rows by tuple, and the slot each was joined to. */
  readonly index: TupleIndex;
  /** The inode of the socket of each slot (a tuple reused by another socket is another connection). */
  readonly inodeOfSlot: Float64Array;
}

export interface ConnRates {
  readonly state: ConnRatesState;
  /** Socket key → rates (a ConnRateTable). */
  readonly rates: ReadonlyMap<string, ConnRate>;
  /** When the counters behind these rates were read (the header compares it with takenAtMs). */
  readonly asOfMs: number;
  /** Seconds between the two reads the rates come from; null on the first read. */
  readonly intervalSec: number | null;
}

/** One read's rates in columns, one slot per joined connection; NaN where a ConnRate has null. */
interface RateColumns {
  readonly sendBytesPerSec: Float64Array;
  readonly recvBytesPerSec: Float64Array;
  readonly retransPerSec: Float64Array;
  readonly rttMs: Float64Array;
  readonly rttVarMs: Float64Array;
  readonly bytesAcked: Float64Array;
  readonly bytesReceived: Float64Array;
  readonly retransTotal: Float64Array;
}

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/**
 * Per-connection rates of one read as a read-only map by socket key: the numbers live in typed
 * columns (one slot per connection), and a ConnRate object is made only for a key asked for, once.
 * The sums below and the trend read the columns directly.
 */
export class ConnRateTable implements ReadonlyMap<string, ConnRate> {
  /** ConnRate objects made so far, by slot. */
  private made: (ConnRate | undefined)[] | null = null;
  /** totalRates over every slot, once asked for (the dashboard asks at every refresh). */
  totalMemo: RateTotals | null = null;

  constructor(
    private readonly slots: ReadonlyMap<string, number>,
    /** Socket key of each slot. */
    readonly keyOfSlot: readonly string[],
    readonly columns: RateColumns,
  ) {}

  get size(): number {
    return this.keyOfSlot.length;
  }

  /** The slot of a socket key, or -1. */
  slotOf(key: string): number {
    return this.slots.get(key) ?? -1;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  get(key: string): ConnRate | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.at(slot);
  }

  /** The rate of one slot (0 ≤ slot < size). */
  at(slot: number): ConnRate {
    const made = (this.made ??= []);
    let r = made[slot];
    if (r === undefined) {
      const c = this.columns;
      r = {
        sendBytesPerSec: orNull(c.sendBytesPerSec[slot]!),
        recvBytesPerSec: orNull(c.recvBytesPerSec[slot]!),
        retransPerSec: orNull(c.retransPerSec[slot]!),
        rttMs: orNull(c.rttMs[slot]!),
        rttVarMs: orNull(c.rttVarMs[slot]!),
        bytesAcked: c.bytesAcked[slot]!,
        bytesReceived: c.bytesReceived[slot]!,
        retransTotal: c.retransTotal[slot]!,
      };
      made[slot] = r;
    }
    return r;
  }

  forEach(visit: (value: ConnRate, key: string, map: ReadonlyMap<string, ConnRate>) => void, thisArg?: unknown): void {
    for (let slot = 0; slot < this.keyOfSlot.length; slot++) visit.call(thisArg, this.at(slot), this.keyOfSlot[slot]!, this);
  }

  *entries(): MapIterator<[string, ConnRate]> {
    for (let slot = 0; slot < this.keyOfSlot.length; slot++) yield [this.keyOfSlot[slot]!, this.at(slot)];
  }

  keys(): MapIterator<string> {
    return this.keyOfSlot.values();
  }

  *values(): MapIterator<ConnRate> {
    for (let slot = 0; slot < this.keyOfSlot.length; slot++) yield this.at(slot);
  }

  [Symbol.iterator](): MapIterator<[string, ConnRate]> {
    return this.entries();
  }
}

/** Socket records joined per step of joinConnRatesSteps (~1–5 ms a step at 100k on this loaded host; ss rows are entered 4x as many a step). */
const JOIN_STEP_ROWS = 2048;

/** A 32-bit hash of a tuple of canonical address ids and ports. */
function tupleHash(localId: number, localPort: number, remoteId: number, remotePort: number): number {
  let h = Math.imul(localPort | (remotePort << 16), 0x9e3779b1);
  h ^= Math.imul(localId + 1, 0x85ebca6b) ^ Math.imul(remoteId + 0x1000, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/**
 * The rows of one ss read by tuple: addresses as canonical ids (one per address whatever its
 * spelling: canonicalAddress), ports as numbers, in an open-addressing table of row + 1 per cell
 * (0: empty, linear probing). No string is built or hashed per connection; the address texts
 * (a few dozen) are looked up in a small map. A tuple printed twice (two namespaces' views
 * merged) is ambiguous: rowOf finds neither.
 */
class TupleIndex {
  private readonly canonicalIds = new Map<string, number>();
  private readonly idOfText = new Map<string, number>();
  private readonly ssIds: Int32Array;
  private readonly cells: Int32Array;
  private readonly mask: number;
  private readonly ambiguous: Uint8Array;
  private readonly localAddressId: Int32Array;
  private readonly localPort: Uint16Array;
  private readonly remoteAddressId: Int32Array;
  private readonly remotePort: Uint16Array;
  /** Slot of each row in the rates joined from it, -1 when none (set by the join). */
  readonly slotOfRow: Int32Array;
  private filled = 0;

  constructor(info: TcpInfoColumns) {
    this.ssIds = new Int32Array(info.addresses.length);
    info.addresses.forEach((text, i) => {
      const canonical = canonicalAddress(text);
      let id = this.canonicalIds.get(canonical);
      if (id === undefined) this.canonicalIds.set(canonical, (id = this.canonicalIds.size));
      this.ssIds[i] = id;
      this.idOfText.set(text, id);
    });
    let cells = 16;
    while (cells < info.count * 2) cells *= 2;
    this.cells = new Int32Array(cells);
    this.mask = cells - 1;
    this.ambiguous = new Uint8Array(info.count);
    this.slotOfRow = new Int32Array(info.count).fill(-1);
    ({
      localAddressId: this.localAddressId,
      localPort: this.localPort,
      remoteAddressId: this.remoteAddressId,
      remotePort: this.remotePort,
    } = info);
  }

  /** Enters rows up to `to` (in steps: fillTo(n) several times). */
  fillTo(to: number): void {
    const { ssIds, cells, mask, localAddressId, localPort, remoteAddressId, remotePort } = this;
    for (let r = this.filled; r < to; r++) {
      const lid = ssIds[localAddressId[r]!]!;
      const rid = ssIds[remoteAddressId[r]!]!;
      const lp = localPort[r]!;
      const rp = remotePort[r]!;
      let cell = tupleHash(lid, lp, rid, rp) & mask;
      for (;;) {
        const at = cells[cell]! - 1;
        if (at < 0) {
          cells[cell] = r + 1;
          break;
        }
        if (localPort[at] === lp && remotePort[at] === rp && ssIds[localAddressId[at]!] === lid && ssIds[remoteAddressId[at]!] === rid) {
          this.ambiguous[at] = 1;
          break;
        }
        cell = (cell + 1) & mask;
      }
    }
    this.filled = Math.max(this.filled, to);
  }

  /** The canonical id of an address text, -1 when no row has it. */
  private idOf(text: string): number {
    let id = this.idOfText.get(text);
    if (id === undefined) {
      id = this.canonicalIds.get(canonicalAddress(text)) ?? -1;
      this.idOfText.set(text, id);
    }
    return id;
  }

  /** The row of a tuple, or -1 (none, or ambiguous). */
  rowOf(localAddress: string, lp: number, remoteAddress: string, rp: number): number {
    const lid = this.idOf(localAddress);
    const rid = this.idOf(remoteAddress);
    if (lid < 0 || rid < 0) return -1;
    const { ssIds, cells, mask, localAddressId, localPort, remoteAddressId, remotePort } = this;
    let cell = tupleHash(lid, lp, rid, rp) & mask;
    for (;;) {
      const at = cells[cell]! - 1;
      if (at < 0) return -1;
      if (localPort[at] === lp && remotePort[at] === rp && ssIds[localAddressId[at]!] === lid && ssIds[remoteAddressId[at]!] === rid)
        return this.ambiguous[at] === 1 ? -1 : at;
      cell = (cell + 1) & mask;
    }
  }
}

/**
 * Join one read's tcp_info to a snapshot's sockets by tuple, and rates from the counters now
 * (read at takenAtMs) and the previous read's (`prev`), as steps of a few thousand rows (run
 * them in slices: runInSlices). Only connected TCP sockets are joined (not LISTEN, not
 * TIME_WAIT: ss's default state set has neither, and they carry no traffic); addresses match
 * whatever their spelling; when two connections share a tuple neither is joined. A connection
 * seen for the first time (no row of the same tuple and inode last time), a counter that went
 * backwards (tuple reused by a new connection) or a non-positive interval give null rates.
 */
export function* joinConnRatesSteps(
  prev: ConnRatesState | null,
  sockets: readonly SocketRecord[],
  info: TcpInfoColumns,
  takenAtMs: number,
): Generator<void, ConnRates> {
  const elapsedMs = prev === null ? 0 : takenAtMs - prev.takenAtMs;
  const seconds = elapsedMs > 0 ? elapsedMs / 1000 : null;
  const n = info.count;
  const index = new TupleIndex(info);
  for (let r = 0; r < n; r += JOIN_STEP_ROWS * 4) {
    index.fillTo(Math.min(n, r + JOIN_STEP_ROWS * 4));
    yield;
  }
  // The joined connections, in the snapshot's order.
  const cap = Math.min(n, sockets.length);
  const out: RateColumns = {
    sendBytesPerSec: new Float64Array(cap),
    recvBytesPerSec: new Float64Array(cap),
    retransPerSec: new Float64Array(cap),
    rttMs: new Float64Array(cap),
    rttVarMs: new Float64Array(cap),
    bytesAcked: new Float64Array(cap),
    bytesReceived: new Float64Array(cap),
    retransTotal: new Float64Array(cap),
  };
  const inodeOfSlot = new Float64Array(cap);
  const slots = new Map<string, number>();
  const keyOfSlot: string[] = [];
  // The previous read: its rows by tuple, and of each the slot it was joined to and that socket's inode.
  const was = seconds === null || prev === null ? null : prev;
  let count = 0;
  for (let i = 0; i < sockets.length && n > 0; i++) {
    if ((i & (JOIN_STEP_ROWS - 1)) === 0 && i > 0) yield;
    const s = sockets[i]!;
    if (s.state === 'LISTEN' || s.state === 'TIME_WAIT' || s.remotePort === 0 || PROTOCOL_GROUP[s.protocol] !== 'tcp') continue;
    const row = index.rowOf(s.localAddress, s.localPort, s.remoteAddress, s.remotePort);
    if (row < 0) continue;
    const slot = count;
    slots.set(s.key, slot);
    if (slots.size === count) {
      // The same key twice (a snapshot never has it): the first one stays.
      slots.set(s.key, keyOfSlot.indexOf(s.key));
      continue;
    }
    count++;
    keyOfSlot.push(s.key);
    index.slotOfRow[row] = slot;
    inodeOfSlot[slot] = s.inode;
    const acked = info.bytesAcked[row]!;
    const received = info.bytesReceived[row]!;
    const retrans = info.retransTotal[row]!;
    out.bytesAcked[slot] = acked;
    out.bytesReceived[slot] = received;
    out.retransTotal[slot] = retrans;
    out.rttMs[slot] = info.rttMs[row]!;
    out.rttVarMs[slot] = info.rttVarMs[row]!;
    let p = -1;
    if (was !== null) {
      const prevRow = was.index.rowOf(s.localAddress, s.localPort, s.remoteAddress, s.remotePort);
      p = prevRow < 0 ? -1 : was.index.slotOfRow[prevRow]!;
      if (p >= 0 && was.inodeOfSlot[p] !== s.inode) p = -1;
    }
    const before = was?.table.columns;
    if (
      p >= 0 &&
      seconds !== null &&
      before !== undefined &&
      acked >= before.bytesAcked[p]! &&
      received >= before.bytesReceived[p]! &&
      retrans >= before.retransTotal[p]!
    ) {
      out.sendBytesPerSec[slot] = (acked - before.bytesAcked[p]!) / seconds;
      out.recvBytesPerSec[slot] = (received - before.bytesReceived[p]!) / seconds;
      out.retransPerSec[slot] = (retrans - before.retransTotal[p]!) / seconds;
    } else {
      out.sendBytesPerSec[slot] = Number.NaN;
      out.recvBytesPerSec[slot] = Number.NaN;
      out.retransPerSec[slot] = Number.NaN;
    }
  }
  // Views of the joined rows, not copies: a copy of the eight columns cost ~6 MB a read at 100k
  // connections, to give back the rows ss printed but the snapshot did not join (a few %).
  const trimmed: RateColumns =
    count === cap
      ? out
      : {
          sendBytesPerSec: out.sendBytesPerSec.subarray(0, count),
          recvBytesPerSec: out.recvBytesPerSec.subarray(0, count),
          retransPerSec: out.retransPerSec.subarray(0, count),
          rttMs: out.rttMs.subarray(0, count),
          rttVarMs: out.rttVarMs.subarray(0, count),
          bytesAcked: out.bytesAcked.subarray(0, count),
          bytesReceived: out.bytesReceived.subarray(0, count),
          retransTotal: out.retransTotal.subarray(0, count),
        };
  const rates = new ConnRateTable(slots, keyOfSlot, trimmed);
  return { state: { takenAtMs, table: rates, index, inodeOfSlot }, rates, asOfMs: takenAtMs, intervalSec: seconds };
}

/** joinConnRatesSteps in one go. */
export function joinConnRates(
  prev: ConnRatesState | null,
  sockets: readonly SocketRecord[],
  info: TcpInfoColumns,
  takenAtMs: number,
): ConnRates {
  const steps = joinConnRatesSteps(prev, sockets, info, takenAtMs);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
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

/**
 * One socket's rate as numbers (NaN for null), read from a ConnRateTable's columns in place or
 * from a plain map's objects: the sums never make an object per connection.
 */
class RateReader {
  sendBytesPerSec = Number.NaN;
  recvBytesPerSec = Number.NaN;
  retransPerSec = Number.NaN;
  rttMs = Number.NaN;
  private readonly table: ConnRateTable | null;

  constructor(private readonly rates: ReadonlyMap<string, ConnRate>) {
    this.table = rates instanceof ConnRateTable ? rates : null;
  }

  /** False when the key has no rate. */
  read(key: string): boolean {
    if (this.table !== null) {
      const slot = this.table.slotOf(key);
      if (slot < 0) return false;
      const c = this.table.columns;
      this.sendBytesPerSec = c.sendBytesPerSec[slot]!;
      this.recvBytesPerSec = c.recvBytesPerSec[slot]!;
      this.retransPerSec = c.retransPerSec[slot]!;
      this.rttMs = c.rttMs[slot]!;
      return true;
    }
    const r = this.rates.get(key);
    if (r === undefined) return false;
    this.sendBytesPerSec = r.sendBytesPerSec ?? Number.NaN;
    this.recvBytesPerSec = r.recvBytesPerSec ?? Number.NaN;
    this.retransPerSec = r.retransPerSec ?? Number.NaN;
    this.rttMs = r.rttMs ?? Number.NaN;
    return true;
  }
}

const orZero = (v: number): number => (Number.isNaN(v) ? 0 : v);

function addTo(groups: Map<string, MutableRateGroup>, key: string, label: string, r: RateReader): MutableRateGroup {
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
  if (!Number.isNaN(r.sendBytesPerSec)) {
    g.withRate++;
    g.sendBytesPerSec += r.sendBytesPerSec;
    g.recvBytesPerSec += orZero(r.recvBytesPerSec);
    g.retransPerSec += orZero(r.retransPerSec);
  }
  if (!Number.isNaN(r.rttMs)) g.rtts.push(r.rttMs);
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
  const r = new RateReader(rates);
  for (const s of sockets) {
    if (!r.read(s.key)) continue;
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
  const r = new RateReader(rates);
  for (const s of sockets) {
    if (PROTOCOL_GROUP[s.protocol] !== 'tcp' || !r.read(s.key) || !listening.covers(s)) continue;
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
  const r = new RateReader(rates);
  for (const s of sockets) {
    if (s.remotePort === 0 || !r.read(s.key) || listening.covers(s)) continue;
    addTo(groups, `to:${s.remotePort}`, `→:${s.remotePort}`, r);
  }
  return finish(groups);
}

/** Rates per remote host, with the RTT median and worst over its connections. */
export function sumRatesByPeer(sockets: readonly SocketRecord[], rates: ReadonlyMap<string, ConnRate>): RateGroup[] {
  const groups = new Map<string, MutableRateGroup>();
  const r = new RateReader(rates);
  for (const s of sockets) {
    if (!r.read(s.key)) continue;
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
  if (keys === undefined && rates instanceof ConnRateTable) {
    if (rates.totalMemo !== null) return rates.totalMemo;
    // Every slot, from the columns.
    const c = rates.columns;
    connections = rates.size;
    for (let slot = 0; slot < connections; slot++) {
      const out = c.sendBytesPerSec[slot]!;
      if (Number.isNaN(out)) continue;
      withRate++;
      send += out;
      recv += orZero(c.recvBytesPerSec[slot]!);
      retrans += orZero(c.retransPerSec[slot]!);
    }
    rates.totalMemo = { connections, withRate, sendBytesPerSec: send, recvBytesPerSec: recv, retransPerSec: retrans };
    return rates.totalMemo;
  }
  const r = new RateReader(rates);
  const add = (key: string): void => {
    if (!r.read(key)) return;
    connections++;
    if (Number.isNaN(r.sendBytesPerSec)) return;
    withRate++;
    send += r.sendBytesPerSec;
    recv += orZero(r.recvBytesPerSec);
    retrans += orZero(r.retransPerSec);
  };
  for (const k of keys ?? rates.keys()) add(k);
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
