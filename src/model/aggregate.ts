// count*: aggregations over a snapshot's sockets. Pure and linear in the number of sockets.

import { runSteps } from './sort-steps.js';
import type { Protocol, ProtocolGroup, SocketRecord, SocketState } from './types.js';

export const PROTOCOL_GROUP = {
  tcp: 'tcp',
  tcp6: 'tcp',
  udp: 'udp',
  udp6: 'udp',
  raw: 'raw',
  raw6: 'raw',
  unix: 'unix',
} as const satisfies Record<Protocol, ProtocolGroup>;

export type StateCounts = Partial<Record<SocketState, number>>;
export type CountsByGroup = Record<ProtocolGroup, StateCounts>;

export function countByState(sockets: readonly SocketRecord[]): CountsByGroup {
  const counts: CountsByGroup = { tcp: {}, udp: {}, raw: {}, unix: {} };
  for (const s of sockets) {
    const g = counts[PROTOCOL_GROUP[s.protocol]];
    g[s.state] = (g[s.state] ?? 0) + 1;
  }
  return counts;
}

/** One socket more (+1) or less (-1) in counts made by countByState; a state that falls to 0 is removed. */
export function adjustCount(counts: CountsByGroup, s: SocketRecord, delta: 1 | -1): void {
  const g = counts[PROTOCOL_GROUP[s.protocol]];
  const n = (g[s.state] ?? 0) + delta;
  if (n === 0) delete g[s.state];
  else g[s.state] = n;
}

/** A copy that later adjustCount calls on the original do not change. */
export function copyCounts(counts: CountsByGroup): CountsByGroup {
  return { tcp: { ...counts.tcp }, udp: { ...counts.udp }, raw: { ...counts.raw }, unix: { ...counts.unix } };
}

export function totalOf(counts: StateCounts): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v ?? 0;
  return n;
}

/** One row of a grouped view (by port, by peer, by process). */
export interface GroupRow {
  /** What the group is keyed by: "8080", "10.0.0.7", "1234" (pid). */
  readonly key: string;
  readonly label: string;
  readonly total: number;
  readonly states: StateCounts;
  /** Port groups only: the listener's current accept queue (LISTEN Recv-Q), summed over listeners. */
  readonly acceptQueue: number;
  readonly listening: boolean;
  /** Process groups: pid; port groups: owner pid of the listener; else null. */
  readonly pid: number | null;
  /** Process name of the group's owner (untrusted text), or null. */
  readonly process: string | null;
  /** Port groups: protocols seen ("tcp", "tcp6"); informational. */
  readonly protocols: readonly Protocol[];
}

interface MutableGroup {
  key: string;
  label: string;
  total: number;
  states: StateCounts;
  acceptQueue: number;
  listening: boolean;
  pid: number | null;
  process: string | null;
  protocols: Protocol[];
}

function bump(groups: Map<string, MutableGroup>, key: string, label: string, s: SocketRecord): MutableGroup {
  let g = groups.get(key);
  if (g === undefined) {
    g = newGroup(key, label);
    groups.set(key, g);
  }
  return count(g, s);
}

function newGroup(key: string, label: string): MutableGroup {
  return { key, label, total: 0, states: {}, acceptQueue: 0, listening: false, pid: null, process: null, protocols: [] };
}

function count(g: MutableGroup, s: SocketRecord): MutableGroup {
  g.total++;
  g.states[s.state] = (g.states[s.state] ?? 0) + 1;
  if (!g.protocols.includes(s.protocol)) g.protocols.push(s.protocol);
  return g;
}

/** The group of a numbered key (port, pid) in `groups`, made with its key text and label when new. */
function numberedGroup(groups: Map<number, MutableGroup>, n: number, key: () => string, label: () => string): MutableGroup {
  let g = groups.get(n);
  if (g === undefined) {
    g = newGroup(key(), label());
    groups.set(n, g);
  }
  return g;
}

const byTotal = (a: GroupRow, b: GroupRow): number => b.total - a.total || a.key.localeCompare(b.key);

/** What a service-side test needs: ListeningEndpoints, or its incremental twin ListeningEndpointCounts. */
export interface ListenCover {
  covers(s: SocketRecord): boolean;
}

/**
 * The key a listener is remembered by: "t8080" for a wildcard address (0.0.0.0, ::), "t8080|10.0.0.1"
 * for one address ("u" for UDP); null for a socket that does not listen.
 */
function listenKeyOf(s: SocketRecord): string | null {
  if (s.protocol === 'unix') return null;
  if (s.state !== 'LISTEN' && !(s.state === 'UNCONN' && s.protocol.startsWith('udp'))) return null;
  const t = transportOf(s);
  return isWildcardAddress(s.localAddress) ? `${t}${s.localPort}` : `${t}${s.localPort}|${unmapped(s.localAddress)}`;
}

function coversWith(has: (key: string) => boolean, s: SocketRecord): boolean {
  if (s.protocol === 'unix') return false;
  const t = transportOf(s);
  return has(`${t}${s.localPort}`) || has(`${t}${s.localPort}|${unmapped(s.localAddress)}`);
}

/**
 * Where this host listens: TCP listeners and bound UDP sockets, by address and port. A socket is
 * on the service side (an accepted connection, a connected UDP socket of a bound port) when a
 * listener of its transport covers its local address and port: the same address, or a wildcard
 * one (0.0.0.0, ::). A client socket whose ephemeral port happens to equal a listener's port on
 * another address (127.0.0.2:34771 beside a listener on 127.0.0.1:34771) stays a client.
 */
/** ListeningEndpoints: a port listened on at every address (0.0.0.0, ::). */
const WILDCARD = 'any';

export class ListeningEndpoints implements ListenCover {
  /**
   * By transport ('t', 'u') and port: WILDCARD when a listener takes every address, else the
   * addresses listened on. Asked once per socket by the grouped views (100k a frame): a number
   * lookup, no key string made for a port nobody listens on.
   */
  private readonly ports = { t: new Map<number, Set<string> | typeof WILDCARD>(), u: new Map<number, Set<string> | typeof WILDCARD>() };

  constructor(sockets: readonly SocketRecord[]) {
    for (const s of sockets) {
      if (listenKeyOf(s) === null) continue;
      const byPort = this.ports[transportOf(s)];
      const known = byPort.get(s.localPort);
      if (known === WILDCARD) continue;
      if (isWildcardAddress(s.localAddress)) byPort.set(s.localPort, WILDCARD);
      else if (known === undefined) byPort.set(s.localPort, new Set([unmapped(s.localAddress)]));
      else known.add(unmapped(s.localAddress));
    }
  }

  /** The socket's local address and port are listened on here (a listener covers itself). */
  covers(s: SocketRecord): boolean {
    if (s.protocol === 'unix') return false;
    const known = this.ports[transportOf(s)].get(s.localPort);
    return known !== undefined && (known === WILDCARD || known.has(unmapped(s.localAddress)));
  }
}

/**
 * ListeningEndpoints kept up to date socket by socket (the session's turnover): listeners per
 * key, so SO_REUSEPORT siblings and a listener whose line changed come and go without the set
 * changing. `add` and `remove` say whether the set of listened endpoints changed.
 */
export class ListeningEndpointCounts implements ListenCover {
  private readonly counts = new Map<string, number>();

  /** true when s is a listener of an endpoint nobody listened on before. */
  add(s: SocketRecord): boolean {
    const k = listenKeyOf(s);
    if (k === null) return false;
    const n = this.counts.get(k) ?? 0;
    this.counts.set(k, n + 1);
    return n === 0;
  }

  /** true when s was the last listener of its endpoint. */
  remove(s: SocketRecord): boolean {
    const k = listenKeyOf(s);
    if (k === null) return false;
    const n = this.counts.get(k) ?? 0;
    if (n <= 1) {
      this.counts.delete(k);
      return n === 1;
    }
    this.counts.set(k, n - 1);
    return false;
  }

  covers(s: SocketRecord): boolean {
    return coversWith((k) => this.counts.has(k), s);
  }

  clear(): void {
    this.counts.clear();
  }
}

const transportOf = (s: SocketRecord): 't' | 'u' => (s.protocol.startsWith('udp') ? 'u' : 't');
const isWildcardAddress = (address: string): boolean => address === '0.0.0.0' || address === '::';
/** ::ffff:127.0.0.1 (an IPv4 client of a dual-stack socket) is 127.0.0.1. */
const unmapped = (address: string): string => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

/**
 * Group inet sockets by service port: a TCP/UDP listener's port collects its LISTEN sockets and
 * every connection on an address and port it listens on (the inbound side). Outbound client
 * sockets are left out so the view lists services (countByRemotePort groups them). `listening`:
 * where the host listens, when `sockets` is a filtered part of a snapshot whose listeners may be
 * filtered out (their accepted connections are still the inbound side).
 */
export function countByLocalPort(sockets: readonly SocketRecord[], listening?: ListenCover): GroupRow[] {
  return runSteps(groupByLocalPortSteps(sockets, listening)).sort(byTotal);
}

/** Sockets counted between two pauses of the grouping steps below. */
const GROUP_STEP_SOCKETS = 2048;

/** countByLocalPort's groups in steps (pausing every few thousand sockets), unsorted. */
export function* groupByLocalPortSteps(sockets: readonly SocketRecord[], listening?: ListenCover): Generator<void, GroupRow[]> {
  const endpoints = listening ?? new ListeningEndpoints(sockets);
  const groups = new Map<number, MutableGroup>();
  for (let i = 0; i < sockets.length; i++) {
    if (i % GROUP_STEP_SOCKETS === GROUP_STEP_SOCKETS - 1) yield;
    const s = sockets[i] as SocketRecord;
    if (!endpoints.covers(s)) continue;
    const key = (): string => String(s.localPort);
    const g = count(numberedGroup(groups, s.localPort, key, key), s);
    if (s.state === 'LISTEN' || s.state === 'UNCONN') {
      g.listening = true;
      // Only a TCP listener's Recv-Q is an accept queue; a UDP socket's is bytes waiting.
      if (s.state === 'LISTEN') g.acceptQueue += s.recvQ;
      if (s.owner !== null && (g.pid === null || s.owner.pid < g.pid)) {
        g.pid = s.owner.pid;
        g.process = s.owner.command;
      }
    }
  }
  return [...groups.values()];
}

/** Group connected inet sockets by the remote host. */
export function countByRemoteHost(sockets: readonly SocketRecord[]): GroupRow[] {
  return runSteps(groupByRemoteHostSteps(sockets)).sort(byTotal);
}

/** countByRemoteHost's groups in steps, unsorted. */
export function* groupByRemoteHostSteps(sockets: readonly SocketRecord[]): Generator<void, GroupRow[]> {
  const groups = new Map<string, MutableGroup>();
  for (let i = 0; i < sockets.length; i++) {
    if (i % GROUP_STEP_SOCKETS === GROUP_STEP_SOCKETS - 1) yield;
    const s = sockets[i] as SocketRecord;
    if (s.protocol === 'unix' || s.remotePort === 0) continue;
    bump(groups, s.remoteAddress, s.remoteAddress, s);
  }
  return [...groups.values()];
}

/** Group sockets by owning process; sockets without a known owner go to one "unknown" row. */
export function countByProcess(sockets: readonly SocketRecord[]): GroupRow[] {
  return runSteps(groupByProcessSteps(sockets)).sort(byTotal);
}

/** countByProcess's groups in steps, unsorted. */
export function* groupByProcessSteps(sockets: readonly SocketRecord[]): Generator<void, GroupRow[]> {
  const groups = new Map<number, MutableGroup>();
  for (let i = 0; i < sockets.length; i++) {
    if (i % GROUP_STEP_SOCKETS === GROUP_STEP_SOCKETS - 1) yield;
    const s = sockets[i] as SocketRecord;
    const owner = s.owner;
    // The unknown owner is pid -1 here ("-"): pids are positive.
    const g =
      owner === null
        ? count(
            numberedGroup(
              groups,
              -1,
              () => '-',
              () => '(unknown owner)',
            ),
            s,
          )
        : count(
            numberedGroup(
              groups,
              owner.pid,
              () => String(owner.pid),
              () => owner.command,
            ),
            s,
          );
    if (owner !== null) {
      g.pid = owner.pid;
      g.process = owner.command;
    }
  }
  return [...groups.values()];
}

/**
 * Group outbound sockets by the remote port they go to: client-side TCP/UDP sockets whose local
 * port nobody here listens on (ephemeral ports), TIME_WAIT included, so "1,200 TIME_WAIT towards
 * :5432" shows up even when the backend runs elsewhere. Keys are "to:PORT" (apart from
 * countByLocalPort's "PORT"); pid/process are set when every owned socket of the group has the
 * same owner. `listening`: where the host listens, when `sockets` is a filtered part of a
 * snapshot (the listeners may be filtered out; their accepted connections are still not clients).
 */
export function countByRemotePort(sockets: readonly SocketRecord[], listening?: ListenCover): GroupRow[] {
  return runSteps(groupByRemotePortSteps(sockets, listening)).sort(byTotal);
}

/** countByRemotePort's groups in steps, unsorted. */
export function* groupByRemotePortSteps(sockets: readonly SocketRecord[], listening?: ListenCover): Generator<void, GroupRow[]> {
  const endpoints = listening ?? new ListeningEndpoints(sockets);
  const groups = new Map<number, MutableGroup>();
  const mixedOwners = new Set<number>();
  for (let i = 0; i < sockets.length; i++) {
    if (i % GROUP_STEP_SOCKETS === GROUP_STEP_SOCKETS - 1) yield;
    const s = sockets[i] as SocketRecord;
    if (s.protocol === 'unix' || s.remotePort === 0 || s.state === 'LISTEN' || endpoints.covers(s)) continue;
    const port = s.remotePort;
    const g = count(
      numberedGroup(
        groups,
        port,
        () => `to:${port}`,
        () => `→:${port}`,
      ),
      s,
    );
    if (s.owner === null || mixedOwners.has(port)) continue;
    if (g.pid === null) {
      g.pid = s.owner.pid;
      g.process = s.owner.command;
    } else if (g.pid !== s.owner.pid) {
      mixedOwners.add(port);
      g.pid = null;
      g.process = null;
    }
  }
  return [...groups.values()];
}
