// Rows of the socket table: the filtered snapshot plus tombstones, sorted. Computed once per
// snapshot/filter/sort change (not per key press), then windowed by the table view.

import type { CompiledFilter } from '../filter/index.js';
import type { SocketTracker } from '../model/tracker.js';
import type { ConnRate } from '../model/conn-rates.js';
import type { UnixPeer } from '../model/unix-peers.js';
import type { SocketRecord, SocketState } from '../model/types.js';
import type { SocketSortKey } from './ui-state.js';

export interface SocketRow {
  readonly key: string;
  readonly record: SocketRecord;
  /** Closed since the last snapshots: shown dimmed for a few seconds (as htop does). */
  readonly closedAtMs: number | null;
  /** Observed age at the snapshot time, ms; null when unknown. */
  readonly ageMs: number | null;
  readonly isNew: boolean;
  /** Observed from the first snapshot: the real age is at least ageMs. */
  readonly ageAtLeast: boolean;
  /**
   * LISTEN only: the accept queue's limit (the listen() backlog, from ss), which ss shows as
   * Send-Q; null when unknown or not a listener.
   */
  readonly backlog: number | null;
  /** Rates from ss (tcp_info deltas), null when this socket has none. */
  readonly rate?: ConnRate | null;
  /** UNIX sockets: the other end (from ss), when known. */
  readonly peer?: UnixPeer | null;
}

/** Send-Q as ss shows it: a listener's backlog, else the bytes not yet acknowledged. */
export function shownSendQ(row: SocketRow): number {
  return row.backlog ?? row.record.sendQ;
}

/**
 * A closed socket as filters see it: its last state is history, so it never matches a state
 * filter (the state counts and `ss -tan state …` do not count it either), but it still matches
 * by port, address or process.
 */
export function tombstoneForFilter(record: SocketRecord): SocketRecord {
  return { ...record, state: 'CLOSE' };
}

/** Order in which states sort (and list in charts): problems near the top. */
export const STATE_SORT_RANK: Readonly<Record<SocketState, number>> = {
  LISTEN: 0,
  LISTENING: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  NEW_SYN_RECV: 2,
  ESTABLISHED: 3,
  CONNECTED: 3,
  CONNECTING: 3,
  CLOSE_WAIT: 4,
  FIN_WAIT1: 5,
  FIN_WAIT2: 6,
  CLOSING: 7,
  LAST_ACK: 8,
  TIME_WAIT: 9,
  DISCONNECTING: 9,
  CLOSE: 10,
  UNCONN: 11,
  UNCONNECTED: 11,
};

const PROTO_RANK: Readonly<Record<SocketRecord['protocol'], number>> = {
  tcp: 0,
  tcp6: 1,
  udp: 2,
  udp6: 3,
  raw: 4,
  raw6: 5,
  unix: 6,
};

function compareAddress(aAddr: string, aPort: number, bAddr: string, bPort: number): number {
  return aAddr < bAddr ? -1 : aAddr > bAddr ? 1 : aPort - bPort;
}

function comparator(key: SocketSortKey): (a: SocketRow, b: SocketRow) => number {
  const local = (a: SocketRow, b: SocketRow): number =>
    compareAddress(a.record.localAddress, a.record.localPort, b.record.localAddress, b.record.localPort) ||
    (a.record.path ?? '').localeCompare(b.record.path ?? '');
  const peer = (a: SocketRow, b: SocketRow): number =>
    compareAddress(a.record.remoteAddress, a.record.remotePort, b.record.remoteAddress, b.record.remotePort);
  switch (key) {
    case 'proto':
      return (a, b) => PROTO_RANK[a.record.protocol] - PROTO_RANK[b.record.protocol] || local(a, b);
    case 'state':
      return (a, b) =>
        STATE_SORT_RANK[a.record.state] - STATE_SORT_RANK[b.record.state] ||
        PROTO_RANK[a.record.protocol] - PROTO_RANK[b.record.protocol] ||
        a.record.localPort - b.record.localPort ||
        peer(a, b);
    case 'local':
      return (a, b) => local(a, b) || peer(a, b);
    case 'peer':
      return (a, b) => peer(a, b) || local(a, b);
    case 'recvq':
      return (a, b) => a.record.recvQ - b.record.recvQ || a.record.sendQ - b.record.sendQ;
    case 'sendq':
      return (a, b) => shownSendQ(a) - shownSendQ(b) || a.record.recvQ - b.record.recvQ;
    case 'process':
      return (a, b) =>
        (a.record.owner?.command ?? '\uffff').localeCompare(b.record.owner?.command ?? '\uffff') ||
        (a.record.owner?.pid ?? 0) - (b.record.owner?.pid ?? 0);
    case 'user':
      return (a, b) => a.record.user.localeCompare(b.record.user);
    case 'age':
      return (a, b) => (a.ageMs ?? -1) - (b.ageMs ?? -1);
    case 'out':
      return (a, b) => (a.rate?.sendBytesPerSec ?? -1) - (b.rate?.sendBytesPerSec ?? -1);
    case 'in':
      return (a, b) => (a.rate?.recvBytesPerSec ?? -1) - (b.rate?.recvBytesPerSec ?? -1);
    case 'rtt':
      return (a, b) => (a.rate?.rttMs ?? -1) - (b.rate?.rttMs ?? -1);
  }
}

export interface SocketRowsInput {
  readonly sockets: readonly SocketRecord[];
  readonly takenAtMs: number;
  readonly tracker: SocketTracker;
  readonly filter: CompiledFilter | null;
  readonly sort: { readonly key: SocketSortKey; readonly descending: boolean };
  /** Include tombstones of closed sockets (not when paused on an older copy). */
  readonly tombstones: boolean;
  /** Backlog limits of LISTEN sockets by socket key (only exact ones, from ss). */
  readonly backlogs?: ReadonlyMap<string, number>;
  /** Per-connection rates by socket key (from ss), when read. */
  readonly rates?: ReadonlyMap<string, ConnRate>;
  /** UNIX peers by inode (from ss), when read. */
  readonly unixPeers?: ReadonlyMap<number, UnixPeer>;
}

export function buildSocketRows(input: SocketRowsInput): SocketRow[] {
  const { tracker, filter, takenAtMs } = input;
  const { newMs } = tracker.options;
  const rows: SocketRow[] = [];
  for (const s of input.sockets) {
    if (filter !== null && !filter(s)) continue;
    const info = tracker.firstSeenOf(s);
    const ageMs = info === undefined ? null : takenAtMs - info.firstSeenMs;
    rows.push({
      key: s.key,
      record: s,
      closedAtMs: null,
      ageMs,
      isNew: info !== undefined && !info.presentAtStart && ageMs !== null && ageMs < newMs,
      ageAtLeast: info?.presentAtStart ?? false,
      backlog: s.state === 'LISTEN' ? (input.backlogs?.get(s.key) ?? null) : null,
      ...(input.rates === undefined ? {} : { rate: input.rates.get(s.key) ?? null }),
      ...(input.unixPeers === undefined || s.protocol !== 'unix' ? {} : { peer: input.unixPeers.get(s.inode) ?? null }),
    });
  }
  if (input.tombstones) {
    for (const t of tracker.currentTombstones()) {
      if (filter !== null && !filter(tombstoneForFilter(t.record))) continue;
      rows.push({
        key: `${t.record.key} †${t.closedAtMs}`,
        record: t.record,
        closedAtMs: t.closedAtMs,
        ageMs: null,
        isNew: false,
        ageAtLeast: false,
        backlog: null,
      });
    }
  }
  const cmp = comparator(input.sort.key);
  const sign = input.sort.descending ? -1 : 1;
  rows.sort((a, b) => sign * cmp(a, b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return rows;
}
