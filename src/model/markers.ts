// Markers for load tests: "mark" the machine before a run, compare after. A marker is a compact
// summary (TCP state counts, the busiest service ports with their state counts, the headline
// kernel counters), never a copied snapshot, so 20 markers cost a few kilobytes. Pure.

import { countByLocalPort } from './aggregate.js';
import { HEADLINE_COUNTERS } from './rates.js';
import { TCP_STATES } from './state-info.js';
import type { Snapshot, SocketRecord, TcpState } from './types.js';

export type TcpStateCounts = Readonly<Partial<Record<TcpState, number>>>;

export interface MarkerPort {
  /** Local service port (a TCP listener's port; connections on it are the inbound side). */
  readonly port: number;
  readonly total: number;
  readonly states: TcpStateCounts;
}

/** The socket filter a marker was taken under (the screen's filter at the time). */
export interface MarkerFilter {
  readonly text: string;
  readonly matches: (s: SocketRecord) => boolean;
}

export interface Marker {
  readonly name: string;
  readonly takenAtMs: number;
  /**
   * The filter shown when the marker was dropped, or null: its socket counts cover only the
   * sockets that matched, and a comparison counts the sockets of now under the same filter.
   */
  readonly filter: MarkerFilter | null;
  /** TCP sockets (tcp + tcp6) per state. */
  readonly tcpStates: TcpStateCounts;
  readonly tcpTotal: number;
  /** Every socket of the snapshot, all protocols. */
  readonly socketTotal: number;
  /** The busiest TCP service ports, most sockets first (at most `topPorts`). */
  readonly ports: readonly MarkerPort[];
  /** HEADLINE_COUNTERS values at the time (cumulative kernel counters, /proc/net/snmp and netstat). */
  readonly counters: Readonly<Record<string, number>>;
}

export interface MarkerOptions {
  /** At most this many markers are kept; the oldest go first. */
  readonly maxMarkers: number;
  /** Ports kept per marker. */
  readonly topPorts: number;
}

export const DEFAULT_MARKER_OPTIONS: MarkerOptions = { maxMarkers: 20, topPorts: 20 };

/** The sockets a marker (or a comparison with it) counts: every one, or those its filter matches. */
function countedSockets(snapshot: Snapshot, filter: MarkerFilter | null): readonly SocketRecord[] {
  return filter === null ? snapshot.sockets : snapshot.sockets.filter(filter.matches);
}

function tcpSummary(sockets: readonly SocketRecord[]): { states: Partial<Record<TcpState, number>>; total: number; ports: MarkerPort[] } {
  const states: Partial<Record<TcpState, number>> = {};
  const tcp = sockets.filter((s) => s.protocol === 'tcp' || s.protocol === 'tcp6');
  for (const s of tcp) {
    const st = s.state as TcpState;
    states[st] = (states[st] ?? 0) + 1;
  }
  const ports = countByLocalPort(tcp).map((g) => ({ port: Number(g.key), total: g.total, states: g.states as TcpStateCounts }));
  return { states, total: tcp.length, ports };
}

/** The compact summary of one snapshot (of the sockets `filter` matches, when given). */
export function createMarker(
  name: string,
  snapshot: Snapshot,
  options: Partial<MarkerOptions> = {},
  filter: MarkerFilter | null = null,
): Marker {
  const { topPorts } = { ...DEFAULT_MARKER_OPTIONS, ...options };
  const sockets = countedSockets(snapshot, filter);
  const t = tcpSummary(sockets);
  const counters: Record<string, number> = {};
  for (const { key } of HEADLINE_COUNTERS) {
    const v = snapshot.counters[key];
    if (v !== undefined) counters[key] = v;
  }
  return {
    name,
    takenAtMs: snapshot.takenAtMs,
    filter,
    tcpStates: t.states,
    tcpTotal: t.total,
    socketTotal: sockets.length,
    ports: t.ports.slice(0, topPorts),
    counters,
  };
}

/**
 * The marker list with a new marker appended (a marker of the same name is replaced), oldest
 * dropped beyond maxMarkers. Returns a new array; `markers` is not changed (reducer-friendly).
 */
export function addMarker(
  markers: readonly Marker[],
  name: string,
  snapshot: Snapshot,
  options: Partial<MarkerOptions> = {},
  filter: MarkerFilter | null = null,
): Marker[] {
  const { maxMarkers } = { ...DEFAULT_MARKER_OPTIONS, ...options };
  const next = [...markers.filter((m) => m.name !== name), createMarker(name, snapshot, options, filter)];
  return next.slice(Math.max(0, next.length - maxMarkers));
}

/** A default name: "mark 3" for the third marker, "mark 4" after it, and so on. */
export function nextMarkerName(markers: readonly Marker[]): string {
  let n = markers.length + 1;
  while (markers.some((m) => m.name === `mark ${n}`)) n++;
  return `mark ${n}`;
}

export interface DeltaRow {
  /** What the row counts: a TCP state, or a counter name. */
  readonly key: string;
  readonly now: number;
  readonly then: number;
  /** now - then. */
  readonly delta: number;
}

export interface PortDeltaRow {
  readonly port: number;
  readonly now: number;
  readonly then: number;
  readonly delta: number;
  /** Per TCP state, every state that is non-zero now or then, in lifecycle order. */
  readonly states: readonly DeltaRow[];
}

export interface Comparison {
  readonly marker: Marker;
  /** Time since the marker, ms (snapshot.takenAtMs - marker.takenAtMs). */
  readonly elapsedMs: number;
  readonly tcpTotal: DeltaRow;
  readonly socketTotal: DeltaRow;
  /** Per TCP state (lifecycle order), every state non-zero now or then. */
  readonly states: readonly DeltaRow[];
  /**
   * Per port: the marker's ports and today's busiest ones (at most 2 × topPorts rows), largest
   * absolute change first. A port in only one of them reads 0 in the other — for a port that
   * was outside the marker's top-N, "then" is not known and 0 is shown.
   */
  readonly ports: readonly PortDeltaRow[];
  /** HEADLINE_COUNTERS known at both times: growth since the marker (ListenOverflows, resets, …); counters that went backwards (reset) are left out. */
  readonly counters: readonly DeltaRow[];
}

function stateRows(now: TcpStateCounts, then: TcpStateCounts): DeltaRow[] {
  const rows: DeltaRow[] = [];
  for (const st of TCP_STATES) {
    const n = now[st] ?? 0;
    const t = then[st] ?? 0;
    if (n !== 0 || t !== 0) rows.push({ key: st, now: n, then: t, delta: n - t });
  }
  return rows;
}

/**
 * Now against a marker: per state, per port and per counter rows of now / then / delta. Sockets
 * are counted under the marker's filter on both sides; kernel counters are machine-wide.
 */
export function compareWithMarker(marker: Marker, snapshot: Snapshot, options: Partial<MarkerOptions> = {}): Comparison {
  const { topPorts } = { ...DEFAULT_MARKER_OPTIONS, ...options };
  const sockets = countedSockets(snapshot, marker.filter);
  const t = tcpSummary(sockets);
  const nowPorts = new Map(t.ports.map((p) => [p.port, p]));
  const thenPorts = new Map(marker.ports.map((p) => [p.port, p]));
  const wanted = new Set<number>([...marker.ports.map((p) => p.port), ...t.ports.slice(0, topPorts).map((p) => p.port)]);
  const ports: PortDeltaRow[] = [];
  for (const port of wanted) {
    const n = nowPorts.get(port);
    const th = thenPorts.get(port);
    const now = n?.total ?? 0;
    const then = th?.total ?? 0;
    ports.push({ port, now, then, delta: now - then, states: stateRows(n?.states ?? {}, th?.states ?? {}) });
  }
  ports.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || b.now - a.now || a.port - b.port);
  const counters: DeltaRow[] = [];
  for (const { key } of HEADLINE_COUNTERS) {
    const then = marker.counters[key];
    const now = snapshot.counters[key];
    // A counter that went backwards was reset (other namespace, reboot): no meaningful delta.
    if (then === undefined || now === undefined || now < then) continue;
    counters.push({ key, now, then, delta: now - then });
  }
  return {
    marker,
    elapsedMs: snapshot.takenAtMs - marker.takenAtMs,
    tcpTotal: { key: 'tcp', now: t.total, then: marker.tcpTotal, delta: t.total - marker.tcpTotal },
    socketTotal: {
      key: 'all',
      now: sockets.length,
      then: marker.socketTotal,
      delta: sockets.length - marker.socketTotal,
    },
    states: stateRows(t.states, marker.tcpStates),
    ports,
    counters,
  };
}
