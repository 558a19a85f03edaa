// What the findings rules count over every socket, kept as aggregates that one socket at a time
// can be added to or taken from: the session store feeds them its tracker's turnover (the records
// that left and arrived since the last snapshot), so a refresh costs what changed, not a pass over
// 100k sockets per rule. Built from a whole snapshot (buildFindingAggregates) they are the full
// recomputation the incremental ones must equal. Pure.
//
// The service side is decided by address and port (ListeningEndpoints, as the by-port view and
// the rates): a client on 127.0.0.2 whose ephemeral port equals a port listened on at 127.0.0.1
// is not a service socket.

import { ListeningEndpoints, type ListenCover } from '../aggregate.js';
import { endpointKey, unmapIpv4 } from '../address.js';
import type { NetSysctls } from '../listener-health.js';
import type { Snapshot, SocketOwner, SocketRecord, TcpState } from '../types.js';
import { DEFAULT_EPHEMERAL_RANGE } from './thresholds.js';

const isTcp = (s: SocketRecord): boolean => s.protocol === 'tcp' || s.protocol === 'tcp6';

/** Sockets per owning process: pid → command and count, plus those with no known owner. */
export interface OwnerTally {
  readonly byPid: Map<number, { command: string; count: number }>;
  unknown: number;
}

export const newTally = (): OwnerTally => ({ byPid: new Map(), unknown: 0 });

export function tallyOwner(t: OwnerTally, owner: SocketOwner | null, delta: 1 | -1 = 1): void {
  if (owner === null) {
    t.unknown += delta;
    return;
  }
  const e = t.byPid.get(owner.pid);
  if (e === undefined) {
    if (delta > 0) t.byPid.set(owner.pid, { command: owner.command, count: 1 });
  } else {
    e.count += delta;
    if (e.count <= 0) t.byPid.delete(owner.pid);
  }
}

/** Add (1) or take (-1) one from a count map; a key that falls to 0 is removed. */
function bumpKey<K>(m: Map<K, number>, key: K, delta: 1 | -1): void {
  const n = (m.get(key) ?? 0) + delta;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}

/**
 * Sockets of one state grouped where it means something: by service port when a listener covers
 * the socket's local address and port (the server side), else by remote port (this host is the
 * client).
 */
export interface PortGroup {
  readonly key: string;
  readonly side: 'service' | 'remote';
  readonly port: number;
  count: number;
  readonly owners: OwnerTally;
  /** remote address → sockets, to name the main peer. */
  readonly peers: Map<string, number>;
  /** Sockets no process holds (inode 0). */
  orphans: number;
}

/** Half-open connections on one local port, and their source addresses. */
export interface SynRecvGroup {
  count: number;
  /** source address → half-open connections from it. */
  readonly sources: Map<string, number>;
}

/** TIME_WAIT sockets towards one peer (address and port) from ephemeral local ports. */
export interface TimeWaitPeer {
  readonly address: string;
  readonly port: number;
  count: number;
}

/** The states grouped by port for the rules (CLOSE_WAIT and FIN_WAIT2 pile-ups). */
const GROUPED_STATES = ['CLOSE_WAIT', 'FIN_WAIT2'] as const satisfies readonly TcpState[];
type GroupedState = (typeof GROUPED_STATES)[number];

const isGrouped = (state: string): state is GroupedState => state === 'CLOSE_WAIT' || state === 'FIN_WAIT2';

/** The ephemeral port range the TIME_WAIT rule measures against (the sysctl, else Linux's default). */
export function ephemeralRangeOf(sysctls: NetSysctls): { readonly low: number; readonly high: number } {
  return sysctls.ephemeralPortRange ?? DEFAULT_EPHEMERAL_RANGE;
}

/**
 * Per-socket counts the rules read. `add`/`remove` take one socket; the listening endpoints and
 * the ephemeral range they were counted under are fixed for the object's life (when either
 * changes, the owner builds a new one over the snapshot).
 */
export class FindingAggregates {
  private readonly portGroups: Record<GroupedState, Map<string, PortGroup>> = { CLOSE_WAIT: new Map(), FIN_WAIT2: new Map() };
  private readonly synRecv = new Map<number, SynRecvGroup>();
  private readonly timeWait = new Map<string, TimeWaitPeer>();
  private readonly retransmitPeers = new Map<string, number>();

  constructor(
    /** Which sockets are on the service side. */
    readonly listening: ListenCover,
    /** Ephemeral local ports (inclusive) whose TIME_WAIT sockets count towards a peer. */
    readonly ephemeralRange: { readonly low: number; readonly high: number },
  ) {}

  add(s: SocketRecord): void {
    this.apply(s, 1);
  }

  remove(s: SocketRecord): void {
    this.apply(s, -1);
  }

  private apply(s: SocketRecord, delta: 1 | -1): void {
    if (!isTcp(s)) return;
    if (s.retransmits > 0) bumpKey(this.retransmitPeers, unmapIpv4(s.remoteAddress), delta);
    const state = s.state;
    if (isGrouped(state)) this.applyPortGroup(this.portGroups[state], s, delta);
    else if (state === 'SYN_RECV' || state === 'NEW_SYN_RECV') {
      let g = this.synRecv.get(s.localPort);
      if (g === undefined) {
        if (delta < 0) return;
        g = { count: 0, sources: new Map() };
        this.synRecv.set(s.localPort, g);
      }
      g.count += delta;
      bumpKey(g.sources, unmapIpv4(s.remoteAddress), delta);
      if (g.count <= 0) this.synRecv.delete(s.localPort);
    } else if (state === 'TIME_WAIT') {
      const r = this.ephemeralRange;
      if (s.localPort < r.low || s.localPort > r.high) return;
      const address = unmapIpv4(s.remoteAddress);
      const peer = endpointKey(address, s.remotePort);
      const e = this.timeWait.get(peer);
      if (e === undefined) {
        if (delta > 0) this.timeWait.set(peer, { address, port: s.remotePort, count: 1 });
        return;
      }
      e.count += delta;
      if (e.count <= 0) this.timeWait.delete(peer);
    }
  }

  private applyPortGroup(groups: Map<string, PortGroup>, s: SocketRecord, delta: 1 | -1): void {
    const service = this.listening.covers(s);
    const port = service ? s.localPort : s.remotePort;
    const key = service ? `sport ${port}` : `dport ${port}`;
    let g = groups.get(key);
    if (g === undefined) {
      if (delta < 0) return;
      g = { key, side: service ? 'service' : 'remote', port, count: 0, owners: newTally(), peers: new Map(), orphans: 0 };
      groups.set(key, g);
    }
    g.count += delta;
    tallyOwner(g.owners, s.owner, delta);
    if (s.inode === 0) g.orphans += delta;
    bumpKey(g.peers, unmapIpv4(s.remoteAddress), delta);
    if (g.count <= 0) groups.delete(key);
  }

  /** Groups of the state's TCP sockets, by service or remote port. */
  groupsOf(state: GroupedState): ReadonlyMap<string, PortGroup> {
    return this.portGroups[state];
  }

  /** SYN_RECV and NEW_SYN_RECV sockets by local port. */
  synRecvByPort(): ReadonlyMap<number, SynRecvGroup> {
    return this.synRecv;
  }

  /** TIME_WAIT sockets from an ephemeral local port, by peer ("10.0.0.5:443"). */
  timeWaitByPeer(): ReadonlyMap<string, TimeWaitPeer> {
    return this.timeWait;
  }

  /** TCP sockets with unrecovered retransmits, by remote address. */
  retransmitsByPeer(): ReadonlyMap<string, number> {
    return this.retransmitPeers;
  }
}

/** The aggregates of a whole snapshot: the full recomputation. */
export function buildFindingAggregates(snapshot: Snapshot, sysctls: NetSysctls, listening?: ListenCover): FindingAggregates {
  const a = new FindingAggregates(listening ?? new ListeningEndpoints(snapshot.sockets), ephemeralRangeOf(sysctls));
  for (const s of snapshot.sockets) a.add(s);
  return a;
}
