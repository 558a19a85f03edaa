// Numeric sort keys for the socket table: each row of the order gets a few doubles, computed once
// when it enters the order and carried with it from one snapshot to the next, so sorting and
// merging compare numbers instead of strings and multi-field records. The order is exactly the
// comparator's of socket-rows.ts (sort fields, then the row key as text): strings are replaced by
// their rank among the strings seen (addresses by text, names by localeCompare), and the row key's
// text order by a few numbers read off its fields (socketKeyOrder below). A row whose fields do
// not fit (a key not in the parsers' format, a port out of range, NaN) makes its order fall back
// to the comparator.

import type { ConnRate } from '../model/conn-rates.js';
import type { SocketTracker } from '../model/tracker.js';
import type { SocketRecord } from '../model/types.js';
import type { SocketSortKey } from './ui-state.js';

/** Labels run over [0, LABEL_SPACE): 30 bits, packed beside a 16- or 18-bit field in a double (53 bits). */
const LABEL_SPACE = 2 ** 30;

interface Labelled {
  /** Gapped rank in its order: a new string gets a label between its neighbours' without renumbering them. */
  label: number;
  fresh: boolean;
}

/**
 * Inserts `fresh` items (not in `sorted`) into the order of `cmp`, labelling them between their
 * neighbours; items comparing 0 share a label. Returns the merged order, and whether the existing
 * labels had to be renumbered (no room left between two neighbours).
 */
function insertLabelled<T extends Labelled>(sorted: T[], fresh: T[], cmp: (a: T, b: T) => number): { order: T[]; renumbered: boolean } {
  fresh.sort(cmp);
  const order: T[] = [];
  let i = 0;
  let j = 0;
  while (i < sorted.length || j < fresh.length) {
    if (j >= fresh.length || (i < sorted.length && cmp(sorted[i] as T, fresh[j] as T) <= 0)) order.push(sorted[i++] as T);
    else order.push(fresh[j++] as T);
  }
  for (let a = 0; a < order.length;) {
    if (!(order[a] as T).fresh) {
      a++;
      continue;
    }
    let b = a;
    while (b < order.length && (order[b] as T).fresh) b++;
    const prev = a > 0 ? (order[a - 1] as T) : null;
    const next = b < order.length ? (order[b] as T) : null;
    const lo = prev === null ? -1 : prev.label;
    const hi = next === null ? LABEL_SPACE : next.label;
    // Distinct labels the run needs (equal neighbours share theirs).
    let needed = 0;
    for (let k = a; k < b; k++) {
      const before = k === a ? prev : (order[k - 1] as T);
      if (before !== null && cmp(before, order[k] as T) === 0) continue;
      if (next !== null && cmp(order[k] as T, next) === 0) continue;
      needed++;
    }
    if (hi - lo - 1 < needed) return { order: renumber(order, cmp), renumbered: true };
    const step = (hi - lo) / (needed + 1);
    let made = 0;
    for (let k = a; k < b; k++) {
      const t = order[k] as T;
      const before = k === a ? prev : (order[k - 1] as T);
      if (before !== null && cmp(before, t) === 0) t.label = before.label;
      else if (next !== null && cmp(t, next) === 0) t.label = next.label;
      else t.label = Math.floor(lo + step * ++made);
      t.fresh = false;
    }
    a = b;
  }
  return { order, renumbered: false };
}

/** Labels spread evenly over the whole space again (equal items share one). */
function renumber<T extends Labelled>(order: T[], cmp: (a: T, b: T) => number): T[] {
  let distinct = 0;
  for (let k = 0; k < order.length; k++) if (k === 0 || cmp(order[k - 1] as T, order[k] as T) !== 0) distinct++;
  const step = Math.floor(LABEL_SPACE / (distinct + 1));
  let made = 0;
  for (let k = 0; k < order.length; k++) {
    const t = order[k] as T;
    if (k > 0 && cmp(order[k - 1] as T, t) === 0) t.label = (order[k - 1] as T).label;
    else t.label = step * ++made;
    t.fresh = false;
  }
  return order;
}

interface Ranked extends Labelled {
  readonly text: string;
}

/** An address: its rank by text (the sort fields compare addresses with `<`) and its group in the row keys' text. */
interface AddressInfo {
  /** The address, ranked by text. */
  readonly plain: Ranked;
  /** `address + ':'` as it appears in a row key, ranked by text. */
  readonly colon: Ranked & { readonly address: AddressInfo };
  /**
   * Label of the first `address:` that starts every `address:` from it to this one (its group):
   * two row keys whose addresses are in different groups compare as the groups do.
   */
  group: number;
  /** Another address's `address:` starts with this one's, or the other way round (IPv6 "::1" and "::1:2"): the group alone cannot order it. */
  ambiguous: boolean;
}

const byText = (a: Ranked, b: Ranked): number => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
const byLocale = (a: Ranked, b: Ranked): number => a.text.localeCompare(b.text);

/**
 * The ranks of the strings the sort keys read (addresses, owner names, users, paths), kept from
 * one order to the next of the same sort. `epoch` changes when a rank already handed out changed:
 * keys made before then must be made again (the order they describe stays right).
 */
export class SortKeyTables {
  epoch = 0;
  private readonly addresses = new Map<string, AddressInfo>();
  private plainOrder: Ranked[] = [];
  private colonOrder: (Ranked & { readonly address: AddressInfo })[] = [];
  private readonly texts = new Map<string, Ranked>();
  private textOrder: Ranked[] = [];
  private readonly pendingAddresses = new Set<string>();
  private readonly pendingTexts = new Set<string>();

  /** Strings known after the first commit (see worthRebuilding). */
  private baseline = 0;

  /** An address's ranks; undefined (and noted for commit) when not known yet. */
  address(text: string): AddressInfo | undefined {
    const a = this.addresses.get(text);
    if (a === undefined) this.pendingAddresses.add(text);
    return a;
  }

  /** A name's rank by localeCompare; undefined (and noted for commit) when not known yet. */
  text(text: string): number | undefined {
    const t = this.texts.get(text);
    if (t === undefined) {
      this.pendingTexts.add(text);
      return undefined;
    }
    return t.label;
  }

  get size(): number {
    return this.addresses.size + this.texts.size;
  }

  /** Strings of closed sockets pile up over a long run: fresh tables once there are twice as many as after the first commit. */
  worthRebuilding(): boolean {
    return this.size > 2 * Math.max(4096, this.baseline);
  }

  /** Ranks the strings looked up but not known; bumps `epoch` when a rank given before changed. */
  commit(): void {
    let changed = false;
    if (this.pendingAddresses.size > 0) {
      const fresh: AddressInfo[] = [];
      for (const text of this.pendingAddresses) {
        const info = { plain: { text, label: 0, fresh: true }, group: 0, ambiguous: false } as {
          -readonly [K in keyof AddressInfo]: AddressInfo[K];
        };
        info.colon = { text: `${text}:`, label: 0, fresh: true, address: info };
        this.addresses.set(text, info);
        fresh.push(info);
      }
      this.pendingAddresses.clear();
      const plain = insertLabelled(
        this.plainOrder,
        fresh.map((f) => f.plain),
        byText,
      );
      this.plainOrder = plain.order;
      const colon = insertLabelled(
        this.colonOrder,
        fresh.map((f) => f.colon),
        byText,
      );
      this.colonOrder = colon.order;
      const regrouped = this.regroup(new Set(fresh));
      changed = plain.renumbered || colon.renumbered || regrouped;
    }
    if (this.pendingTexts.size > 0) {
      const fresh: Ranked[] = [];
      for (const text of this.pendingTexts) {
        const info = { text, label: 0, fresh: true };
        this.texts.set(text, info);
        fresh.push(info);
      }
      this.pendingTexts.clear();
      const r = insertLabelled(this.textOrder, fresh, byLocale);
      this.textOrder = r.order;
      changed ||= r.renumbered;
    }
    if (changed) this.epoch++;
    if (this.baseline === 0) this.baseline = this.size;
  }

  /** Groups over the `address:` order; true when an address known before changed group or ambiguity. */
  private regroup(fresh: ReadonlySet<AddressInfo>): boolean {
    let changed = false;
    const order = this.colonOrder;
    for (let a = 0; a < order.length;) {
      const head = order[a] as Ranked;
      let b = a + 1;
      while (b < order.length && (order[b] as Ranked).text.startsWith(head.text)) b++;
      const ambiguous = b - a > 1;
      for (let k = a; k < b; k++) {
        const info = (order[k] as { readonly address: AddressInfo }).address;
        if (!fresh.has(info) && (info.group !== head.label || info.ambiguous !== ambiguous)) changed = true;
        info.group = head.label;
        info.ambiguous = ambiguous;
      }
      a = b;
    }
    return changed;
  }
}

/** Protocol names in text order: the first field of a row key. */
const PROTOCOL_TEXT_RANK: Readonly<Record<SocketRecord['protocol'], number>> = (() => {
  const names: SocketRecord['protocol'][] = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix'];
  const sorted = [...names].sort();
  return Object.fromEntries(names.map((n) => [n, sorted.indexOf(n)])) as Record<SocketRecord['protocol'], number>;
})();

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * A non-negative integer's decimal text as a number in the text's order ("8" < "80" < "9"): its
 * digits left-aligned over `places` places, then how many there are (a prefix sorts first).
 */
const decimalTextOrder = (n: number, digits: number, places: number): number => n * (POW10[places - digits] as number) * 16 + digits;

/** Ports' decimalTextOrder over 5 places, made on first use (< 2^20). */
let portTextOrder: Float64Array | null = null;
function portOrder(port: number): number {
  if (portTextOrder === null) {
    portTextOrder = new Float64Array(65536);
    for (let p = 0; p < 65536; p++) portTextOrder[p] = decimalTextOrder(p, p < 10 ? 1 : p < 100 ? 2 : p < 1000 ? 3 : p < 10000 ? 4 : 5, 5);
  }
  return portTextOrder[port] as number;
}

/**
 * Start of `n`'s decimal text (String(n)) ending at `end` in `key`, or -1 when it is not there
 * (n a non-negative integer below 1e10, at most 10 digits).
 */
function decimalBefore(key: string, end: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n >= 1e10) return -1;
  let q = end;
  let rest = n;
  do {
    const digit = rest % 10;
    if (q <= 0 || key.charCodeAt(--q) !== 48 + digit) return -1;
    rest = (rest - digit) / 10;
  } while (rest > 0);
  return q;
}

const INODE_PLACES = 10;
const TWO_16 = 2 ** 16;
const TWO_20 = 2 ** 20;
const TWO_50 = 2 ** 50;
/** Columns of a row key's text order (writeKeyOrder). */
const KEY_COLUMNS = 3;

/** What a key reads besides the record: backlogs, rates and first-seen times (ages). */
export interface SortKeyContext {
  readonly tracker: SocketTracker;
  readonly backlogs: ReadonlyMap<string, number> | undefined;
  readonly rates: ReadonlyMap<string, ConnRate> | undefined;
}

/** What `write` made of a row. */
export const KEY_WRITTEN = 0;
/** The row cannot be keyed exactly: the order is sorted by the comparator instead. */
export const KEY_INVALID = 1;
/** A string the tables do not know yet: commit the tables, then write the row again. */
export const KEY_UNKNOWN = 2;

export interface SortKeyWriter {
  /** Doubles per row: the sort's own columns, then the row key's. */
  readonly width: number;
  /** Of them, the sort's own (a row that keeps its place when these are equal: same key). */
  readonly sortColumns: number;
  readonly tables: SortKeyTables;
  /** Writes the row of `record` (a tombstone's when `closed`) at `out[row * width]`: KEY_WRITTEN, KEY_INVALID or KEY_UNKNOWN. */
  write(record: SocketRecord, closed: boolean, out: Float64Array, row: number): number;
  /** Only the sort's own columns, at `out[at]` (a row's place among rows of the same key). */
  writeSortColumns(record: SocketRecord, closed: boolean, out: Float64Array, at: number): number;
}

/** The numbers of a valid port (16 bits), or NaN. */
const port16 = (p: number): number => (Number.isInteger(p) && p >= 0 && p < TWO_16 ? p : NaN);

/**
 * The row key's text order in 3 numbers (a total order's last tie-break), for keys in the
 * parsers' format: "proto laddr:lport raddr:rport inode" or "unix inode", a tombstone's with
 * " †closedAtMs" after it. Column 1: protocol, local address group, local port text; 2: remote
 * address group, remote port text; 3: inode text and whether closed. A field the numbers cannot
 * tell apart (an ambiguous address group, "unix 0 …", two tombstones of one key) leaves the
 * columns after it 0: rows equal in all three compare their key strings. False when the key is
 * not in that format.
 */
function writeKeyOrder(
  r: SocketRecord,
  closed: boolean,
  local: AddressInfo | undefined,
  remote: AddressInfo | undefined,
  out: Float64Array,
  at: number,
): number {
  // Read from the end: inode, remote port and address, local port and address, protocol.
  const key = r.key;
  const proto = PROTOCOL_TEXT_RANK[r.protocol];
  if (proto === undefined) return KEY_INVALID;
  const plen = r.protocol.length;
  if (r.protocol === 'unix') {
    if (!key.startsWith('unix ')) return KEY_INVALID;
    if (r.inode === 0) {
      // "unix 0 <kernel address>": the rest of the key decides.
      if (!key.startsWith('unix 0 ')) return KEY_INVALID;
      out[at] = proto * TWO_50 + decimalTextOrder(0, 1, INODE_PLACES);
      out[at + 1] = 0;
      out[at + 2] = 0;
      return KEY_WRITTEN;
    }
    const start = decimalBefore(key, key.length, r.inode);
    if (start !== plen + 1) return KEY_INVALID;
    out[at] = proto * TWO_50 + decimalTextOrder(r.inode, key.length - start, INODE_PLACES);
    out[at + 1] = 0;
    out[at + 2] = closed ? 1 : 0;
    return KEY_WRITTEN;
  }
  const inodeAt = decimalBefore(key, key.length, r.inode);
  if (inodeAt < 1 || key.charCodeAt(inodeAt - 1) !== 32) return KEY_INVALID;
  const rportAt = decimalBefore(key, inodeAt - 1, r.remotePort);
  if (rportAt < 1 || key.charCodeAt(rportAt - 1) !== 58 || r.remotePort > 65535) return KEY_INVALID;
  const raddrAt = rportAt - 1 - r.remoteAddress.length;
  if (raddrAt < 1 || key.charCodeAt(raddrAt - 1) !== 32 || !key.startsWith(r.remoteAddress, raddrAt)) return KEY_INVALID;
  const lportAt = decimalBefore(key, raddrAt - 1, r.localPort);
  if (lportAt < 1 || key.charCodeAt(lportAt - 1) !== 58 || r.localPort > 65535) return KEY_INVALID;
  if (lportAt - 1 - r.localAddress.length !== plen + 1 || !key.startsWith(r.localAddress, plen + 1)) return KEY_INVALID;
  if (key.charCodeAt(plen) !== 32 || !key.startsWith(r.protocol)) return KEY_INVALID;
  if (local === undefined || remote === undefined) return KEY_UNKNOWN;
  if (local.ambiguous) {
    out[at] = proto * TWO_50 + local.group * TWO_20;
    out[at + 1] = 0;
    out[at + 2] = 0;
    return KEY_WRITTEN;
  }
  out[at] = proto * TWO_50 + local.group * TWO_20 + portOrder(r.localPort);
  if (remote.ambiguous) {
    out[at + 1] = remote.group * TWO_20;
    out[at + 2] = 0;
    return KEY_WRITTEN;
  }
  out[at + 1] = remote.group * TWO_20 + portOrder(r.remotePort);
  out[at + 2] = decimalTextOrder(r.inode, key.length - inodeAt, INODE_PLACES) * 2 + (closed ? 1 : 0);
  return KEY_WRITTEN;
}

/**
 * The writer of one sort's keys. Columns mirror the comparator of socket-rows.ts field by field:
 * small integer fields are packed into one double where they fit (a state rank, a protocol rank and
 * a port: 23 bits), strings become their rank, descending negates the sort's columns.
 */
export function sortKeyWriter(
  sortKey: SocketSortKey,
  descending: boolean,
  ctx: SortKeyContext,
  tables: SortKeyTables,
  stateRank: Readonly<Record<string, number>>,
  protoRank: Readonly<Record<string, number>>,
): SortKeyWriter {
  const sortColumns = SORT_COLUMNS[sortKey];
  const width = sortColumns + KEY_COLUMNS;
  const sign = descending ? -1 : 1;
  /** rank(address) * 2^16 + port, NaN when the port does not fit; undefined when the address is not known yet. */
  const endpoint = (a: AddressInfo | undefined, port: number): number | undefined =>
    a === undefined ? undefined : a.plain.label * TWO_16 + port16(port);
  const fill = (
    record: SocketRecord,
    closed: boolean,
    localAddress: AddressInfo | undefined,
    remoteAddress: AddressInfo | undefined,
    out: Float64Array,
    at: number,
  ): boolean | undefined => {
    const r = record;
    switch (sortKey) {
      case 'proto': {
        const local = endpoint(localAddress, r.localPort);
        const path = tables.text(r.path ?? '');
        if (local === undefined || path === undefined) return undefined;
        out[at] = (protoRank[r.protocol] as number) * 2 ** 46 + local;
        out[at + 1] = path;
        return true;
      }
      case 'state': {
        const peer = endpoint(remoteAddress, r.remotePort);
        if (peer === undefined) return undefined;
        out[at] = (stateRank[r.state] as number) * 2 ** 19 + (protoRank[r.protocol] as number) * TWO_16 + port16(r.localPort);
        out[at + 1] = peer;
        return true;
      }
      case 'local':
      case 'peer': {
        const local = endpoint(localAddress, r.localPort);
        const peer = endpoint(remoteAddress, r.remotePort);
        const path = tables.text(r.path ?? '');
        if (local === undefined || peer === undefined || path === undefined) return undefined;
        if (sortKey === 'local') {
          out[at] = local;
          out[at + 1] = path;
          out[at + 2] = peer;
        } else {
          out[at] = peer;
          out[at + 1] = local;
          out[at + 2] = path;
        }
        return true;
      }
      case 'recvq':
        out[at] = r.recvQ;
        out[at + 1] = r.sendQ;
        return true;
      case 'sendq': {
        const backlog = closed || r.state !== 'LISTEN' ? undefined : ctx.backlogs?.get(r.key);
        out[at] = backlog ?? r.sendQ;
        out[at + 1] = r.recvQ;
        return true;
      }
      case 'process': {
        const command = tables.text(r.owner?.command ?? '\uffff');
        if (command === undefined) return undefined;
        out[at] = command;
        out[at + 1] = r.owner?.pid ?? 0;
        return true;
      }
      case 'user': {
        const user = tables.text(r.user);
        if (user === undefined) return undefined;
        out[at] = user;
        return true;
      }
      case 'age': {
        const info = closed ? undefined : ctx.tracker.firstSeenOf(r);
        out[at] = info === undefined ? -Infinity : -info.firstSeenMs;
        return true;
      }
      case 'out':
      case 'in':
      case 'rtt': {
        const rate = closed ? undefined : ctx.rates?.get(r.key);
        out[at] = (sortKey === 'out' ? rate?.sendBytesPerSec : sortKey === 'in' ? rate?.recvBytesPerSec : rate?.rttMs) ?? -1;
        return true;
      }
    }
  };
  /** The sort's own columns at `out[at]`, negated when descending. */
  const writeSort = (
    record: SocketRecord,
    closed: boolean,
    local: AddressInfo | undefined,
    remote: AddressInfo | undefined,
    out: Float64Array,
    at: number,
  ): number => {
    if (fill(record, closed, local, remote, out, at) === undefined) return KEY_UNKNOWN;
    for (let c = 0; c < sortColumns; c++) {
      const v = out[at + c] as number;
      // NaN (a field out of range, or not a number) has no place in an order of numbers.
      if (v !== v) return KEY_INVALID;
      if (sign < 0) out[at + c] = -v;
    }
    return KEY_WRITTEN;
  };
  return {
    width,
    sortColumns,
    tables,
    write(record, closed, out, row) {
      const at = row * width;
      const local = tables.address(record.localAddress);
      const remote = tables.address(record.remoteAddress);
      const keyOrder = writeKeyOrder(record, closed, local, remote, out, at + sortColumns);
      if (keyOrder === KEY_INVALID) return KEY_INVALID;
      const own = writeSort(record, closed, local, remote, out, at);
      return own === KEY_WRITTEN ? keyOrder : own;
    },
    writeSortColumns(record, closed, out, at) {
      return writeSort(record, closed, tables.address(record.localAddress), tables.address(record.remoteAddress), out, at);
    },
  };
}

/** The sort's own columns per sort key (the comparator's fields, packed). */
const SORT_COLUMNS: Readonly<Record<SocketSortKey, number>> = {
  proto: 2,
  state: 2,
  local: 3,
  peer: 3,
  recvq: 2,
  sendq: 2,
  process: 2,
  user: 1,
  age: 1,
  out: 1,
  in: 1,
  rtt: 1,
};
