// Helpers shared by the findings rules: TCP sockets, the input's per-socket aggregates (groups by
// port, owner tallies), and number formats for the texts. Pure.

import type { SocketRecord } from '../../types.js';
import { safeText } from '../../safe-text.js';
import { buildFindingAggregates, ephemeralRangeOf, type FindingAggregates, type OwnerTally, type PortGroup } from '../aggregates.js';
import type { FindingSubject, FindingsInput } from '../types.js';

export { newTally, tallyOwner, type OwnerTally, type PortGroup } from '../aggregates.js';

export const isTcp = (s: SocketRecord): boolean => s.protocol === 'tcp' || s.protocol === 'tcp6';

/**
 * The input's per-socket aggregates: the session's incremental ones when given (built for these
 * sysctls' ephemeral range), else built once per input from the whole snapshot.
 */
const builtFor = new WeakMap<FindingsInput, FindingAggregates>();

export function aggregatesOf(input: FindingsInput): FindingAggregates {
  const given = input.aggregates;
  const range = ephemeralRangeOf(input.sysctls);
  if (given !== undefined && given.ephemeralRange.low === range.low && given.ephemeralRange.high === range.high) return given;
  let built = builtFor.get(input);
  if (built === undefined) {
    built = buildFindingAggregates(input.snapshot, input.sysctls);
    builtFor.set(input, built);
  }
  return built;
}

/** Bounded, untrusted process name for text. */
export const proc = (command: string): string => safeText(command, 64);

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

export function topKey(counts: ReadonlyMap<string, number>): { key: string; count: number } | null {
  let best: { key: string; count: number } | null = null;
  for (const [key, count] of counts)
    if (best === null || count > best.count || (count === best.count && key < best.key)) best = { key, count };
  return best;
}

/** Where a group is, in words: "port 8080" or "connections to port 5432". */
export const groupPlace = (g: PortGroup): string => (g.side === 'service' ? `port ${g.port}` : `connections to remote port ${g.port}`);
