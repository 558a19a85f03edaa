// Helpers shared by the findings rules: TCP sockets, listening ports, owner tallies, groups of
// sockets by port, and number formats for the texts. Pure.

import { unmapIpv4 } from '../../address.js';
import type { Snapshot, SocketOwner, SocketRecord, TcpState } from '../../types.js';
import { safeText } from '../../safe-text.js';
import type { FindingSubject } from '../types.js';

export const isTcp = (s: SocketRecord): boolean => s.protocol === 'tcp' || s.protocol === 'tcp6';

export function listeningPorts(snapshot: Snapshot): Set<number> {
  const ports = new Set<number>();
  for (const s of snapshot.sockets) if (s.state === 'LISTEN' && isTcp(s)) ports.add(s.localPort);
  return ports;
}

/** Bounded, untrusted process name for text. */
export const proc = (command: string): string => safeText(command, 64);

export interface OwnerTally {
  /** pid → [command, sockets] */
  readonly byPid: Map<number, { command: string; count: number }>;
  unknown: number;
}

export const newTally = (): OwnerTally => ({ byPid: new Map(), unknown: 0 });

export function tallyOwner(t: OwnerTally, owner: SocketOwner | null): void {
  if (owner === null) {
    t.unknown++;
    return;
  }
  const e = t.byPid.get(owner.pid);
  if (e === undefined) t.byPid.set(owner.pid, { command: owner.command, count: 1 });
  else e.count++;
}

/** The process holding most of the sockets, or null when no owner is known. */
export function topOwner(t: OwnerTally): { pid: number; command: string; count: number } | null {
  let best: { pid: number; command: string; count: number } | null = null;
  for (const [pid, e] of t.byPid) {
    if (best === null || e.count > best.count || (e.count === best.count && pid < best.pid))
      best = { pid, command: e.command, count: e.count };
  }
  return best;
}

/** "held by nginx (pid 12), 40 of them; 3 by 2 other processes; 5 with no known owner". */
export function describeOwners(t: OwnerTally, noun: string): string {
  const top = topOwner(t);
  if (top === null) return `No process could be found holding these ${noun} (run as root to see other users' processes).`;
  const others = t.byPid.size - 1;
  let text = `They are held by ${proc(top.command)} (pid ${top.pid})`;
  if (others > 0) text += `, ${top.count} of them; ${others} other process${others === 1 ? ' holds' : 'es hold'} the rest`;
  if (t.unknown > 0) text += `; ${t.unknown} have no known owner`;
  return `${text}.`;
}

export function ownerSubject(t: OwnerTally): Pick<FindingSubject, 'pid' | 'process'> {
  const top = topOwner(t);
  return top === null ? {} : { pid: top.pid, process: proc(top.command) };
}

export const fmt = (n: number): string => (n >= 100 || Number.isInteger(n) ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
export const pct = (share: number): string => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

/**
 * Sockets of one state grouped where it means something: by service port when the local port is
 * a TCP listener's (the server side), else by remote port (this host is the client).
 */
export interface PortGroup {
  readonly key: string;
  readonly side: 'service' | 'remote';
  readonly port: number;
  count: number;
  readonly owners: OwnerTally;
  /** remote address → sockets, to name the main peer. */
  readonly peers: Map<string, number>;
  orphans: number;
}

export function groupByPort(snapshot: Snapshot, state: TcpState): Map<string, PortGroup> {
  const listening = listeningPorts(snapshot);
  const groups = new Map<string, PortGroup>();
  for (const s of snapshot.sockets) {
    if (s.state !== state || !isTcp(s)) continue;
    const service = listening.has(s.localPort);
    const port = service ? s.localPort : s.remotePort;
    const key = service ? `sport ${port}` : `dport ${port}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, side: service ? 'service' : 'remote', port, count: 0, owners: newTally(), peers: new Map(), orphans: 0 };
      groups.set(key, g);
    }
    g.count++;
    tallyOwner(g.owners, s.owner);
    if (s.inode === 0) g.orphans++;
    const peer = unmapIpv4(s.remoteAddress);
    g.peers.set(peer, (g.peers.get(peer) ?? 0) + 1);
  }
  return groups;
}

export function topKey(counts: ReadonlyMap<string, number>): { key: string; count: number } | null {
  let best: { key: string; count: number } | null = null;
  for (const [key, count] of counts)
    if (best === null || count > best.count || (count === best.count && key < best.key)) best = { key, count };
  return best;
}

/** Where a group is, in words: "port 8080" or "connections to port 5432". */
export const groupPlace = (g: PortGroup): string => (g.side === 'service' ? `port ${g.port}` : `connections to remote port ${g.port}`);
