// count*: state transitions per second from one SnapshotDiff ("ESTABLISHED→CLOSE_WAIT 12/s"),
// plus sockets opened and closed per second. Pure. Transitions are what two samples show: a
// socket that went ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 between samples counts once, as
// ESTABLISHED→FIN_WAIT2; a socket that opened and closed between samples is not seen at all
// unless it is still in TIME_WAIT.
//
// Opened and closed count connections, so that steady churn reads opened ≈ closed:
// - opened: sockets seen for the first time (including those first seen already in TIME_WAIT);
// - closed: connections that ended during the interval: sockets that vanished while not in
//   TIME_WAIT, transitions into TIME_WAIT or CLOSE from another state, and sockets first seen
//   already in TIME_WAIT (they opened and closed between samples). A TIME_WAIT socket that
//   vanishes was counted when it entered TIME_WAIT (it lingers 60 s): it counts zero times.

import type { SnapshotDiff } from './tracker.js';
import type { SocketRecord, SocketState } from './types.js';

export interface TransitionRate {
  readonly from: SocketState;
  readonly to: SocketState;
  /** "ESTABLISHED→CLOSE_WAIT" (kernel names). */
  readonly label: string;
  /** Sockets that made this change during the interval. */
  readonly count: number;
  /** count per second of the interval; 0 when the interval is unknown (first snapshot). */
  readonly perSec: number;
}

export interface TransitionRates {
  /** Length of the interval the diff covers, ms (0 for the first snapshot). */
  readonly intervalMs: number;
  /** Most frequent first; ties by label. */
  readonly transitions: readonly TransitionRate[];
  readonly opened: number;
  readonly closed: number;
  readonly openedPerSec: number;
  readonly closedPerSec: number;
}

export const TRANSITION_ARROW = '→';

export function transitionLabel(from: SocketState, to: SocketState): string {
  return `${from}${TRANSITION_ARROW}${to}`;
}

/** States a connection is over in: entering one of them from another state closes it. */
const ENDED_STATES: ReadonlySet<SocketState> = new Set<SocketState>(['TIME_WAIT', 'CLOSE']);

const perSec = (count: number, intervalMs: number): number => (intervalMs > 0 ? (count * 1000) / intervalMs : 0);

/**
 * Transitions and open/close counts of one diff, per second of its interval. With `include`,
 * only sockets it accepts count (e.g. a compiled filter, or `s => s.localPort === 8080`): a
 * change counts when the socket is accepted before or after it, so `state close-wait` sees both
 * ESTABLISHED→CLOSE_WAIT and CLOSE_WAIT→LAST_ACK. The first diff of a session (every socket
 * "opened", intervalMs 0) gives zero rates.
 */
export function countTransitions(diff: SnapshotDiff, include?: (s: SocketRecord) => boolean): TransitionRates {
  const counts = new Map<string, { from: SocketState; to: SocketState; count: number }>();
  // The tracker pairs a closed socket with a new one on the same endpoints (the inode changed).
  // In the same state that is no transition but a reconnection: one closed, one opened.
  let reopened = 0;
  let reclosed = 0;
  const accepts = (s: SocketRecord): boolean => include === undefined || include(s);
  for (const { before, after } of diff.changed) {
    if (before.state === after.state) {
      if (accepts(after)) reopened++;
      if (accepts(before) && before.state !== 'TIME_WAIT') reclosed++;
      if (accepts(after) && after.state === 'TIME_WAIT') reclosed++;
      continue;
    }
    if (!accepts(after) && !accepts(before)) continue;
    if (ENDED_STATES.has(after.state) && !ENDED_STATES.has(before.state)) reclosed++;
    const label = transitionLabel(before.state, after.state);
    const c = counts.get(label);
    if (c === undefined) counts.set(label, { from: before.state, to: after.state, count: 1 });
    else c.count++;
  }
  const first = diff.intervalMs <= 0;
  const openedNow = diff.opened.filter(accepts);
  const opened = first ? 0 : reopened + openedNow.length;
  const closed = first
    ? 0
    : reclosed +
      diff.closed.filter((s) => accepts(s) && s.state !== 'TIME_WAIT').length +
      openedNow.filter((s) => s.state === 'TIME_WAIT').length;
  const transitions = [...counts.entries()]
    .map(([label, c]) => ({ from: c.from, to: c.to, label, count: c.count, perSec: perSec(c.count, diff.intervalMs) }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  return {
    intervalMs: diff.intervalMs,
    transitions,
    opened,
    closed,
    openedPerSec: perSec(opened, diff.intervalMs),
    closedPerSec: perSec(closed, diff.intervalMs),
  };
}

/**
 * Several consecutive intervals as one (rates over their summed length), to steady a header
 * that refreshes every second. Pass at most a bounded window, e.g. the last 5 results.
 */
export function mergeTransitionRates(parts: readonly TransitionRates[]): TransitionRates {
  let intervalMs = 0;
  let opened = 0;
  let closed = 0;
  const counts = new Map<string, { from: SocketState; to: SocketState; count: number }>();
  for (const p of parts) {
    if (p.intervalMs <= 0) continue; // the first snapshot's diff says nothing about rates
    intervalMs += p.intervalMs;
    opened += p.opened;
    closed += p.closed;
    for (const t of p.transitions) {
      const c = counts.get(t.label);
      if (c === undefined) counts.set(t.label, { from: t.from, to: t.to, count: t.count });
      else c.count += t.count;
    }
  }
  const transitions = [...counts.entries()]
    .map(([label, c]) => ({ from: c.from, to: c.to, label, count: c.count, perSec: perSec(c.count, intervalMs) }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  return { intervalMs, transitions, opened, closed, openedPerSec: perSec(opened, intervalMs), closedPerSec: perSec(closed, intervalMs) };
}
