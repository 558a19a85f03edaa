import { describe, expect, it } from 'vitest';

import { SocketTracker, diffSnapshots } from '../src/model/tracker.js';
import { countTransitions, mergeTransitionRates, transitionLabel } from '../src/model/transitions.js';
import { rec, snap, withChanges } from './helpers/records.js';

describe('countTransitions', () => {
  const a = rec({ localPort: 8080, remotePort: 50001 });
  const b = rec({ localPort: 8080, remotePort: 50002 });
  const c = rec({ localPort: 8080, remotePort: 50003 });
  const d = rec({ localPort: 9090, remotePort: 50004 });
  const gone = rec({ localPort: 9090, remotePort: 50005 });
  const s0 = snap(10_000, [a, b, c, d, gone]);
  const fresh = rec({ localPort: 8080, remotePort: 50006 });
  const s1 = snap(12_000, [
    withChanges(a, { state: 'CLOSE_WAIT', key: a.key }),
    withChanges(b, { state: 'CLOSE_WAIT', key: b.key }),
    // The inode goes to 0 on the way to TIME_WAIT: matched by endpoints.
    withChanges(c, { state: 'TIME_WAIT', inode: 0 }),
    withChanges(d, { state: 'CLOSE_WAIT', key: d.key }),
    fresh,
  ]);
  const diff = diffSnapshots(s0, s1);

  it('counts each state change per second of the interval, most frequent first', () => {
    const r = countTransitions(diff);
    expect(r.intervalMs).toBe(2000);
    expect(r.transitions).toEqual([
      { from: 'ESTABLISHED', to: 'CLOSE_WAIT', label: 'ESTABLISHED→CLOSE_WAIT', count: 3, perSec: 1.5 },
      { from: 'ESTABLISHED', to: 'TIME_WAIT', label: 'ESTABLISHED→TIME_WAIT', count: 1, perSec: 0.5 },
    ]);
    // Closed: `gone` vanished while ESTABLISHED, `c` entered TIME_WAIT.
    expect(r).toMatchObject({ opened: 1, closed: 2, openedPerSec: 0.5, closedPerSec: 1 });
  });

  it('restricted by a predicate (per port when filtered)', () => {
    const r = countTransitions(diff, (s) => s.localPort === 8080);
    expect(r.transitions.map((t) => [t.label, t.count])).toEqual([
      ['ESTABLISHED→CLOSE_WAIT', 2],
      ['ESTABLISHED→TIME_WAIT', 1],
    ]);
    expect(r).toMatchObject({ opened: 1, closed: 1 });
  });

  it('a change counts when the socket matches before or after it', () => {
    const r = countTransitions(diff, (s) => s.state === 'TIME_WAIT');
    expect(r.transitions.map((t) => t.label)).toEqual(['ESTABLISHED→TIME_WAIT']);
    const est = countTransitions(diff, (s) => s.state === 'ESTABLISHED');
    expect(est.transitions.map((t) => t.count)).toEqual([3, 1]);
  });

  it('the first snapshot of a session has no rates (everything "opened", interval 0)', () => {
    const r = countTransitions(diffSnapshots(null, s0));
    expect(r).toEqual({ intervalMs: 0, transitions: [], opened: 0, closed: 0, openedPerSec: 0, closedPerSec: 0 });
  });

  it('gives the same answer from the tracker', () => {
    const t = new SocketTracker();
    t.ingest(s0);
    expect(countTransitions(t.ingest(s1))).toEqual(countTransitions(diff));
  });

  it('a reconnection on the same endpoints (new inode, same state) is one closed and one opened, not ESTABLISHED→ESTABLISHED', () => {
    const old = rec({ localPort: 40_000, remotePort: 8080, inode: 111 });
    const other = rec({ localPort: 40_001, remotePort: 8080, inode: 222 });
    const again = withChanges(old, { inode: 333 });
    const d = diffSnapshots(snap(1000, [old, other]), snap(2000, [again, withChanges(other, { state: 'CLOSE_WAIT', key: other.key })]));
    expect(d.changed.some((c) => c.before.state === c.after.state)).toBe(true); // the tracker pairs them (it follows the flow)
    const r = countTransitions(d);
    expect(r.transitions.map((t) => t.label)).toEqual(['ESTABLISHED→CLOSE_WAIT']);
    expect(r).toMatchObject({ opened: 1, closed: 1 });
    expect(countTransitions(d, (s) => s.localPort === 40_000)).toMatchObject({ transitions: [], opened: 1, closed: 1 });
  });

  it('steady churn reads opened = closed: TIME_WAIT counts once when entered (or first seen), never when it expires', () => {
    // Loopback clients to port 8080, 6 connections a second, TIME_WAIT lasting 60 s (sampled
    // every second for 80 s). Even connections are seen ESTABLISHED on both sides for one sample,
    // then the client is in TIME_WAIT and the server socket is gone; odd ones open and close
    // between samples: only the client's TIME_WAIT is ever seen.
    type Conn = { client: ReturnType<typeof rec>; server: ReturnType<typeof rec>; t: number; seen: boolean };
    const conns: Conn[] = [];
    let port = 30_000;
    const at = (t: number): ReturnType<typeof snap> => {
      for (let i = 0; i < 6 && t < 80; i++) {
        const p = port++;
        conns.push({
          client: rec({ localPort: p, remotePort: 8080 }),
          server: rec({ localPort: 8080, remotePort: p }),
          t,
          seen: i % 2 === 0,
        });
      }
      const sockets = conns.flatMap((c) => {
        const age = t - c.t;
        if (age === 0) return c.seen ? [c.client, c.server] : [];
        if (age <= 60) return [withChanges(c.client, { state: 'TIME_WAIT', inode: 0 })];
        return [];
      });
      return snap(t * 1000, sockets);
    };
    const rates = [];
    let prev = at(0);
    for (let t = 1; t <= 80; t++) {
      const next = at(t);
      rates.push({
        t,
        all: countTransitions(diffSnapshots(prev, next)),
        server: countTransitions(diffSnapshots(prev, next), (s) => s.localPort === 8080),
      });
      prev = next;
    }
    // Before any TIME_WAIT expires (the old count said "closed 3/s" then, against 9/s opened)...
    const early = mergeTransitionRates(rates.filter((r) => r.t >= 10 && r.t < 15).map((r) => r.all));
    expect(early).toMatchObject({ openedPerSec: 9, closedPerSec: 9 });
    // ...and after they start expiring (no double count: it would read 15/s).
    const late = mergeTransitionRates(rates.filter((r) => r.t >= 70 && r.t < 75).map((r) => r.all));
    expect(late).toMatchObject({ openedPerSec: 9, closedPerSec: 9 });
    // The include filter still selects sockets: the server side opens and closes 3 a second.
    expect(mergeTransitionRates(rates.filter((r) => r.t >= 10 && r.t < 15).map((r) => r.server))).toMatchObject({
      openedPerSec: 3,
      closedPerSec: 3,
    });
  });

  it('transitionLabel uses kernel names', () => {
    expect(transitionLabel('FIN_WAIT2', 'TIME_WAIT')).toBe('FIN_WAIT2→TIME_WAIT');
  });
});

describe('mergeTransitionRates', () => {
  it('sums counts over the summed interval and ignores first-snapshot diffs', () => {
    const x = rec({ localPort: 1 });
    const y = rec({ localPort: 2 });
    const d1 = countTransitions(diffSnapshots(snap(0, [x, y]), snap(1000, [withChanges(x, { state: 'FIN_WAIT1', key: x.key }), y])));
    const d2 = countTransitions(diffSnapshots(snap(1000, [y]), snap(4000, [withChanges(y, { state: 'FIN_WAIT1', key: y.key }), rec()])));
    const first = countTransitions(diffSnapshots(null, snap(0, [x, y])));
    const m = mergeTransitionRates([first, d1, d2]);
    expect(m.intervalMs).toBe(4000);
    expect(m.transitions).toEqual([{ from: 'ESTABLISHED', to: 'FIN_WAIT1', label: 'ESTABLISHED→FIN_WAIT1', count: 2, perSec: 0.5 }]);
    expect(m).toMatchObject({ opened: 1, openedPerSec: 0.25, closed: 0 });
    expect(mergeTransitionRates([])).toMatchObject({ intervalMs: 0, transitions: [], openedPerSec: 0 });
  });
});
