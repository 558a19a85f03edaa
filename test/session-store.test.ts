// The session store: snapshots in, one immutable session state out. No terminal, no clock.

import { describe, expect, it } from 'vitest';
import { compileFilter } from '../src/filter/index.js';
import { UNKNOWN_SYSCTLS } from '../src/model/listener-health.js';
import { SessionStore, shownPicture, type ViewFilter } from '../src/model/session-store.js';
import { rec } from './helpers/records.js';
import { makeSnapshot } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;
const SYSCTLS = { ...UNKNOWN_SYSCTLS, somaxconn: 4096 };

function filterOf(text: string): ViewFilter {
  const c = compileFilter(text);
  if (!c.ok) throw new Error(text);
  return { text, matches: c.filter };
}

// A listener with listen(1) holding 2 finished handshakes (a full accept queue, as the kernel
// shows it: backlog + 1), and one connection waiting in CLOSE_WAIT.
const listener = rec({
  state: 'LISTEN',
  localAddress: '127.0.0.1',
  localPort: 8080,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  recvQ: 2,
  inode: 1,
});
const estab = rec({ localPort: 40000, remotePort: 8080, inode: 2 });
const cw = rec({ state: 'CLOSE_WAIT', localPort: 8080, remotePort: 40001, inode: 3 });

describe('ingest', () => {
  it('gives a new state per snapshot: counts, rates, a diff after the first, findings; old states stay as they were', () => {
    const store = new SessionStore();
    const first = store.ingest(makeSnapshot([listener, estab], { takenAtMs: T0, counters: { 'Tcp.ActiveOpens': 10 } }));
    expect(first.live?.diff).toBeNull();
    expect(first.live?.counts.tcp).toEqual({ LISTEN: 1, ESTABLISHED: 1 });
    const second = store.ingest(makeSnapshot([listener, estab, cw], { takenAtMs: T0 + 2000, counters: { 'Tcp.ActiveOpens': 30 } }));
    expect(second).not.toBe(first);
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.live?.rates['Tcp.ActiveOpens']).toBe(10);
    expect(second.live?.diff?.opened.map((s) => s.key)).toEqual([cw.key]);
    expect(first.live?.counts.tcp).toEqual({ LISTEN: 1, ESTABLISHED: 1 });
    expect(second.history.length).toBe(2);
  });

  it('reports a connection whose key changed on the way to TIME_WAIT as rekeyed (old key → new key)', () => {
    const store = new SessionStore();
    const conn = rec({ localPort: 45000, remotePort: 8080, inode: 77 });
    store.ingest(makeSnapshot([conn], { takenAtMs: T0 }));
    const tw = rec({ state: 'TIME_WAIT', localPort: 45000, remotePort: 8080, inode: 0 });
    const s = store.ingest(makeSnapshot([tw], { takenAtMs: T0 + 1000 }));
    expect(tw.key).not.toBe(conn.key);
    expect([...(s.live?.rekeyed ?? [])]).toEqual([[conn.key, tw.key]]);
  });
});

describe('environment', () => {
  it('keeps the last known backlog when a reading has none, so a full queue stays full (no flicker)', () => {
    const store = new SessionStore();
    store.setEnvironment({ sysctls: SYSCTLS, backlogs: new Map([['127.0.0.1:8080', 1]]) });
    let s = store.ingest(makeSnapshot([listener], { takenAtMs: T0 }));
    expect(s.live?.listeners[0]).toMatchObject({ backlog: 1, backlogSource: 'ss', flags: ['queue-full'] });
    const raised = s.live?.findings.find((f) => f.rule === 'accept-queue-full');
    expect(raised?.holding).toBe(true);
    // The poller's next sysctl reading arrives before ss answers.
    for (let i = 1; i <= 20; i++) {
      store.setEnvironment({ sysctls: SYSCTLS, backlogs: null });
      s = store.ingest(makeSnapshot([listener], { takenAtMs: T0 + i * 1000 }));
      expect(s.live?.listeners[0]).toMatchObject({ backlog: 1, backlogSource: 'ss' });
      expect(s.live?.findings.find((f) => f.rule === 'accept-queue-full')).toMatchObject({ holding: true, sinceMs: T0 });
    }
    // A new reading replaces it.
    store.setEnvironment({ sysctls: SYSCTLS, backlogs: new Map([['127.0.0.1:8080', 128]]) });
    s = store.ingest(makeSnapshot([listener], { takenAtMs: T0 + 30_000 }));
    expect(s.live?.listeners[0]).toMatchObject({ backlog: 128, flags: [] });
  });

  it('a finding stays (not holding) through its hold-down once the condition is gone, then clears', () => {
    const store = new SessionStore();
    store.setEnvironment({ sysctls: SYSCTLS, backlogs: new Map([['127.0.0.1:8080', 1]]) });
    store.ingest(makeSnapshot([listener], { takenAtMs: T0 }));
    const drained = { ...listener, recvQ: 0 };
    const hold = store.holdDownMs;
    let s = store.ingest(makeSnapshot([drained], { takenAtMs: T0 + 1000 }));
    expect(s.live?.findings.find((f) => f.rule === 'accept-queue-full')?.holding).toBe(false);
    s = store.ingest(makeSnapshot([drained], { takenAtMs: T0 + hold - 1 }));
    expect(s.live?.findings.find((f) => f.rule === 'accept-queue-full')?.holding).toBe(false);
    s = store.ingest(makeSnapshot([drained], { takenAtMs: T0 + hold }));
    expect(s.live?.findings.find((f) => f.rule === 'accept-queue-full')).toBeUndefined();
  });
});

describe('pause, filter, reset', () => {
  it('pause keeps a copy of the picture while ingest goes on', () => {
    const store = new SessionStore();
    store.ingest(makeSnapshot([listener], { takenAtMs: T0 }));
    const paused = store.setPaused(true);
    const frozen = paused.frozen;
    const s = store.ingest(makeSnapshot([listener, estab, cw], { takenAtMs: T0 + 1000 }));
    expect(shownPicture(s)).toBe(frozen);
    expect(s.live?.snapshot.sockets).toHaveLength(3);
    expect(shownPicture(store.showLatest())?.snapshot.sockets).toHaveLength(3);
    expect(shownPicture(store.setPaused(false))).toBe(store.state.live);
  });

  it('counts under the filter from the moment it is set, and keeps their history', () => {
    const store = new SessionStore();
    store.ingest(makeSnapshot([listener, estab, cw], { takenAtMs: T0 }));
    let s = store.setFilter(filterOf('state close-wait'));
    expect(s.live?.matched).toEqual({ filterText: 'state close-wait', counts: expect.objectContaining({ tcp: { CLOSE_WAIT: 1 } }) });
    s = store.ingest(
      makeSnapshot([listener, estab, cw, rec({ state: 'CLOSE_WAIT', localPort: 8080, remotePort: 40002, inode: 9 })], {
        takenAtMs: T0 + 1000,
      }),
    );
    expect(s.live?.matched?.counts.tcp).toEqual({ CLOSE_WAIT: 2 });
    expect(s.filteredHistory?.history.series('CLOSE_WAIT', 5)).toEqual([1, 2]);
    expect(s.history.series('CLOSE_WAIT', 5)).toEqual([1, 2]);
    expect(store.setFilter(null).filteredHistory).toBeNull();
  });

  it('reset forgets ages, history and findings but keeps markers and the environment', () => {
    const store = new SessionStore();
    store.setEnvironment({ sysctls: SYSCTLS, backlogs: new Map([['127.0.0.1:8080', 1]]) });
    store.ingest(makeSnapshot([listener], { takenAtMs: T0 }));
    store.addMarker('ramp');
    const s = store.reset();
    expect(s.live).toBeNull();
    expect(s.history.length).toBe(0);
    expect(s.tracker.size().sockets).toBe(0);
    expect(s.markers.map((m) => m.name)).toEqual(['ramp']);
    expect(s.environment.backlogs?.get('127.0.0.1:8080')).toBe(1);
    const after = store.ingest(makeSnapshot([listener], { takenAtMs: T0 + 60_000 }));
    expect(after.live?.diff).toBeNull();
    expect(after.live?.findings.find((f) => f.rule === 'accept-queue-full')?.sinceMs).toBe(T0 + 60_000);
  });
});
