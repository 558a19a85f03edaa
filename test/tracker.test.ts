import { describe, expect, it } from 'vitest';

import { SocketTracker, diffSnapshots, flowKey } from '../src/model/tracker.js';
import type { SocketRecord } from '../src/model/types.js';
import { rec, snap, withChanges } from './helpers/records.js';

const keys = (rs: readonly SocketRecord[]): string[] => rs.map((r) => r.key).sort();

/** A repeatable sequence in [0, 1) from `seed` (a linear congruential generator). */
function seededRandom(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('flowKey', () => {
  it.each([
    [
      'tcp keeps endpoints, drops the inode',
      rec({ protocol: 'tcp', localPort: 5000, remotePort: 80, inode: 7 }),
      'tcp 127.0.0.1:5000 127.0.0.1:80',
    ],
    [
      'tcp6',
      rec({ protocol: 'tcp6', localAddress: '::1', localPort: 443, remoteAddress: '::1', remotePort: 51000, inode: 9 }),
      'tcp6 ::1:443 ::1:51000',
    ],
    ['unix falls back to the full key', rec({ protocol: 'unix', inode: 4242 }), 'unix 4242'],
  ])('%s', (_name, record, expected) => {
    expect(flowKey(record)).toBe(expected);
  });

  it('is equal for the same connection before and after the inode changes', () => {
    const a = rec({ inode: 123, state: 'ESTABLISHED' });
    const b = withChanges(a, { inode: 0, state: 'TIME_WAIT' });
    expect(a.key).not.toBe(b.key);
    expect(flowKey(a)).toBe(flowKey(b));
  });
});

describe('diffSnapshots', () => {
  const est = rec({ localPort: 41000, inode: 1001 });
  const listen = rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, inode: 1002 });
  const udp = rec({ protocol: 'udp', state: 'UNCONN', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0, inode: 1003 });
  const unix = rec({ protocol: 'unix', state: 'CONNECTED', inode: 1004 });
  const newConn = rec({ localPort: 41001, inode: 1005 });

  it('first snapshot: everything is opened, nothing closed, interval 0', () => {
    const d = diffSnapshots(null, snap(1000, [est, listen]));
    expect(keys(d.opened)).toEqual(keys([est, listen]));
    expect(d.closed).toEqual([]);
    expect(d.changed).toEqual([]);
    expect(d.intervalMs).toBe(0);
  });

  it.each<{
    name: string;
    before: SocketRecord[];
    after: SocketRecord[];
    opened: SocketRecord[];
    closed: SocketRecord[];
    changed: [SocketRecord, SocketRecord][];
  }>([
    { name: 'nothing changed', before: [est, listen, udp, unix], after: [est, listen, udp, unix], opened: [], closed: [], changed: [] },
    { name: 'one opened', before: [est, listen], after: [est, listen, newConn], opened: [newConn], closed: [], changed: [] },
    { name: 'one closed', before: [est, listen, unix], after: [listen, unix], opened: [], closed: [est], changed: [] },
    { name: 'opened and closed at once (different flows)', before: [est], after: [newConn], opened: [newConn], closed: [est], changed: [] },
    {
      name: 'same key, new state is a change',
      before: [est],
      after: [withChanges(est, { state: 'CLOSE_WAIT' })],
      opened: [],
      closed: [],
      changed: [[est, withChanges(est, { state: 'CLOSE_WAIT' })]],
    },
    {
      name: 'same key, only queues changed: not a change',
      before: [est],
      after: [withChanges(est, { recvQ: 500, sendQ: 20 })],
      opened: [],
      closed: [],
      changed: [],
    },
    {
      name: 'ESTABLISHED → TIME_WAIT with the inode going to 0 is a state change, not close + open',
      before: [est, listen],
      after: [withChanges(est, { state: 'TIME_WAIT', inode: 0 }), listen],
      opened: [],
      closed: [],
      changed: [[est, withChanges(est, { state: 'TIME_WAIT', inode: 0 })]],
    },
    {
      name: 'FIN_WAIT1 orphan (inode 0) matched by endpoints too',
      before: [est],
      after: [withChanges(est, { state: 'FIN_WAIT1', inode: 0 })],
      opened: [],
      closed: [],
      changed: [[est, withChanges(est, { state: 'FIN_WAIT1', inode: 0 })]],
    },
    {
      name: 'a listener re-bound on the same port (remote port 0) is close + open, not a change',
      before: [listen],
      after: [withChanges(listen, { inode: 2002 })],
      opened: [withChanges(listen, { inode: 2002 })],
      closed: [listen],
      changed: [],
    },
    {
      name: 'unix sockets are matched by inode only',
      before: [unix],
      after: [withChanges(unix, { inode: 3003 })],
      opened: [withChanges(unix, { inode: 3003 })],
      closed: [unix],
      changed: [],
    },
    {
      name: 'tcp and tcp6 with the same ports are different flows',
      before: [est],
      after: [rec({ protocol: 'tcp6', localPort: est.localPort, remotePort: est.remotePort, inode: 0, state: 'TIME_WAIT' })],
      opened: [rec({ protocol: 'tcp6', localPort: est.localPort, remotePort: est.remotePort, inode: 0, state: 'TIME_WAIT' })],
      closed: [est],
      changed: [],
    },
  ])('$name', ({ before, after, opened, closed, changed }) => {
    const d = diffSnapshots(snap(1000, before), snap(2500, after));
    expect(keys(d.opened)).toEqual(keys(opened));
    expect(keys(d.closed)).toEqual(keys(closed));
    expect(d.changed.map((c) => [c.before.key, c.before.state, c.after.key, c.after.state])).toEqual(
      changed.map(([b, a]) => [b.key, b.state, a.key, a.state]),
    );
    expect(d.intervalMs).toBe(1500);
  });
});

describe('SocketTracker', () => {
  it('first snapshot: present at start, no changes, never new, age counted from the first snapshot', () => {
    const a = rec();
    const t = new SocketTracker({ newMs: 3000 });
    t.ingest(snap(10_000, [a]));
    expect(t.infoOf(a.key)).toEqual({ firstSeenMs: 10_000, presentAtStart: true, changes: [], peakRecvQ: 0, peakSendQ: 0 });
    expect(t.isNew(a.key, 10_000)).toBe(false);
    expect(t.ageMs(a.key, 12_500)).toBe(2500);
  });

  it('a socket opened later is new for newMs, then not; its first change is the opening', () => {
    const a = rec();
    const b = rec({ localPort: 40001 });
    const t = new SocketTracker({ newMs: 3000 });
    t.ingest(snap(10_000, [a]));
    t.ingest(snap(11_000, [a, b]));
    const info = t.infoOf(b.key);
    expect(info?.presentAtStart).toBe(false);
    expect(info?.firstSeenMs).toBe(11_000);
    expect(info?.changes).toEqual([{ atMs: 11_000, from: null, to: 'ESTABLISHED' }]);
    const table: [number, boolean][] = [
      [11_000, true],
      [13_999, true],
      [14_000, false],
      [20_000, false],
    ];
    for (const [now, expected] of table) expect([now, t.isNew(b.key, now)]).toEqual([now, expected]);
    expect(t.ageMs(b.key, 16_000)).toBe(5000);
  });

  it('unknown keys: no info, no age, not new', () => {
    const t = new SocketTracker();
    t.ingest(snap(0, [rec()]));
    expect(t.infoOf('tcp nope')).toBeNull();
    expect(t.ageMs('tcp nope', 100)).toBeNull();
    expect(t.isNew('tcp nope', 100)).toBe(false);
  });

  it('ESTABLISHED → TIME_WAIT (inode change) keeps the first-seen time and records one change, no tombstone', () => {
    const a = rec({ inode: 555 });
    const tw = withChanges(a, { state: 'TIME_WAIT', inode: 0 });
    const t = new SocketTracker();
    t.ingest(snap(1000, []));
    t.ingest(snap(2000, [a]));
    const diff = t.ingest(snap(3000, [tw]));
    expect(diff.opened).toEqual([]);
    expect(diff.closed).toEqual([]);
    expect(t.infoOf(a.key)).toBeNull();
    const info = t.infoOf(tw.key);
    expect(info?.firstSeenMs).toBe(2000);
    expect(info?.changes).toEqual([
      { atMs: 2000, from: null, to: 'ESTABLISHED' },
      { atMs: 3000, from: 'ESTABLISHED', to: 'TIME_WAIT' },
    ]);
    expect(t.currentTombstones().map((x) => x.record.key)).not.toContain(a.key);
    expect(t.size().sockets).toBe(1);
  });

  it('state changes per socket are bounded by maxChangesPerSocket, newest kept', () => {
    const states = ['ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK'] as const;
    const a = rec({ state: 'ESTABLISHED' });
    const t = new SocketTracker({ maxChangesPerSocket: 4 });
    t.ingest(snap(0, [a]));
    for (let i = 1; i <= 10; i++) t.ingest(snap(i * 1000, [withChanges(a, { state: states[i % 3] })]));
    const changes = t.infoOf(a.key)?.changes ?? [];
    expect(changes).toHaveLength(4);
    expect(changes.at(-1)).toEqual({ atMs: 10_000, from: states[9 % 3], to: states[10 % 3] });
    expect(changes[0]?.atMs).toBe(7000);
  });

  it('peak queues are the maximum ever seen', () => {
    const a = rec();
    const t = new SocketTracker();
    t.ingest(snap(0, [a]));
    for (const [i, [r, s]] of [
      [10, 0],
      [500, 3],
      [20, 90],
      [0, 0],
    ].entries()) {
      t.ingest(snap((i + 1) * 1000, [withChanges(a, { recvQ: r, sendQ: s })]));
    }
    expect(t.infoOf(a.key)).toMatchObject({ peakRecvQ: 500, peakSendQ: 90 });
  });

  describe('tombstones', () => {
    it('a closed socket stays a tombstone for tombstoneMs (snapshot time), then is dropped', () => {
      const a = rec();
      const keep = rec({ localPort: 1 });
      const t = new SocketTracker({ tombstoneMs: 5000 });
      t.ingest(snap(1000, [a, keep]));
      t.ingest(snap(2000, [keep]));
      expect(t.infoOf(a.key)).toBeNull();
      expect(t.currentTombstones()).toEqual([{ record: a, closedAtMs: 2000 }]);
      t.ingest(snap(6999, [keep]));
      expect(t.currentTombstones()).toHaveLength(1);
      t.ingest(snap(7000, [keep]));
      expect(t.currentTombstones()).toEqual([]);
    });

    it('are listed newest first', () => {
      const a = rec({ localPort: 1 });
      const b = rec({ localPort: 2 });
      const c = rec({ localPort: 3 });
      const t = new SocketTracker({ tombstoneMs: 10_000 });
      t.ingest(snap(0, [a, b, c]));
      t.ingest(snap(1000, [b, c]));
      t.ingest(snap(2000, [c]));
      t.ingest(snap(3000, []));
      expect(t.currentTombstones().map((x) => [x.record.key, x.closedAtMs])).toEqual([
        [c.key, 3000],
        [b.key, 2000],
        [a.key, 1000],
      ]);
    });

    it('a TIME_WAIT socket that finally disappears becomes a tombstone under its TIME_WAIT key', () => {
      const a = rec({ inode: 77 });
      const tw = withChanges(a, { state: 'TIME_WAIT', inode: 0 });
      const t = new SocketTracker({ tombstoneMs: 5000 });
      t.ingest(snap(0, [a]));
      t.ingest(snap(1000, [tw]));
      t.ingest(snap(61_000, []));
      expect(t.currentTombstones().map((x) => [x.record.key, x.record.state, x.closedAtMs])).toEqual([[tw.key, 'TIME_WAIT', 61_000]]);
      expect(t.size()).toMatchObject({ sockets: 0, tombstones: 1 });
    });
  });

  describe('watch', () => {
    it('collects queue samples of the watched socket, bounded to maxQueueSamples (newest kept)', () => {
      const a = rec();
      const t = new SocketTracker({ maxQueueSamples: 5 });
      t.watch(a.key);
      for (let i = 0; i < 12; i++) t.ingest(snap(i * 1000, [withChanges(a, { recvQ: i, sendQ: 100 + i })]));
      expect(t.queueSamples()).toEqual([7, 8, 9, 10, 11].map((i) => ({ atMs: i * 1000, recvQ: i, sendQ: 100 + i })));
      expect(t.size().samples).toBe(5);
    });

    it('watching another socket starts over; watch(null) stops sampling', () => {
      const a = rec({ localPort: 1 });
      const b = rec({ localPort: 2 });
      const t = new SocketTracker();
      t.watch(a.key);
      t.ingest(snap(0, [a, b]));
      t.ingest(snap(1000, [a, b]));
      expect(t.queueSamples()).toHaveLength(2);
      t.watch(a.key);
      expect(t.queueSamples()).toHaveLength(2);
      t.watch(b.key);
      expect(t.queueSamples()).toEqual([]);
      t.ingest(snap(2000, [a, withChanges(b, { recvQ: 9 })]));
      expect(t.queueSamples()).toEqual([{ atMs: 2000, recvQ: 9, sendQ: 0 }]);
      t.watch(null);
      t.ingest(snap(3000, [a, b]));
      expect(t.queueSamples()).toEqual([]);
    });

    it('follows the watched socket through the inode change to TIME_WAIT', () => {
      const a = rec({ inode: 88 });
      const tw = withChanges(a, { state: 'TIME_WAIT', inode: 0 });
      const t = new SocketTracker();
      t.watch(a.key);
      t.ingest(snap(0, [a]));
      t.ingest(snap(1000, [tw]));
      t.ingest(snap(2000, [tw]));
      expect(t.queueSamples().map((s) => s.atMs)).toEqual([0, 1000, 2000]);
    });
  });

  it('a mass close keeps only the newest maxTombstones tombstones', () => {
    const many = Array.from({ length: 50 }, (_, i) => rec({ localPort: 30_000 + i }));
    const t = new SocketTracker({ maxTombstones: 10, tombstoneMs: 60_000 });
    t.ingest(snap(0, many));
    t.ingest(snap(1000, many.slice(5)));
    t.ingest(snap(2000, []));
    const stones = t.currentTombstones();
    expect(stones).toHaveLength(10);
    expect(stones.every((x) => x.closedAtMs === 2000)).toBe(true);
  });

  it('ingest reports the same diff as diffSnapshots over a random churn (seeded)', () => {
    const random = seededRandom(12345);
    const t = new SocketTracker();
    let prev: ReturnType<typeof snap> | null = null;
    let live: SocketRecord[] = [];
    let port = 10_000;
    const summary = (d: ReturnType<typeof diffSnapshots>): unknown => ({
      opened: keys(d.opened),
      closed: keys(d.closed),
      changed: d.changed.map((c) => `${c.before.key} ${c.before.state} -> ${c.after.key} ${c.after.state}`).sort(),
      intervalMs: d.intervalMs,
    });
    for (let i = 0; i < 300; i++) {
      const next: SocketRecord[] = [];
      for (const s of live) {
        const r = random();
        if (r < 0.1) continue; // closed
        if (r < 0.2 && s.state === 'ESTABLISHED') next.push(withChanges(s, { state: 'TIME_WAIT', inode: 0 }));
        else if (r < 0.25 && s.state === 'ESTABLISHED') next.push(withChanges(s, { state: 'CLOSE_WAIT' }));
        else next.push(s);
      }
      const fresh = Math.floor(random() * 6);
      for (let k = 0; k < fresh; k++) {
        const kind = random();
        next.push(
          kind < 0.7
            ? rec({ localPort: port++ })
            : kind < 0.85
              ? rec({ protocol: 'unix', state: 'CONNECTED' })
              : rec({ state: 'LISTEN', localPort: port++, remoteAddress: '0.0.0.0', remotePort: 0 }),
        );
      }
      const snapshot = snap(i * 500, next);
      expect([i, summary(t.ingest(snapshot))]).toEqual([i, summary(diffSnapshots(prev, snapshot))]);
      prev = snapshot;
      live = next;
    }
  });

  it('applyIngestSteps, paused at every record, ends as ingest does; at its pauses the last snapshot keeps its entries', () => {
    const random = seededRandom(777);
    const whole = new SocketTracker();
    const stepped = new SocketTracker();
    let live: SocketRecord[] = [];
    let prev: ReturnType<typeof snap> | null = null;
    let port = 20_000;
    let pauses = 0;
    for (let i = 0; i < 120; i++) {
      const next: SocketRecord[] = [];
      for (const s of live) {
        const r = random();
        if (r < 0.1) continue;
        if (r < 0.2 && s.state === 'ESTABLISHED') next.push(withChanges(s, { state: 'TIME_WAIT', inode: 0 }));
        else if (r < 0.25 && s.state === 'ESTABLISHED') next.push(withChanges(s, { state: 'CLOSE_WAIT' }));
        else if (r < 0.3) next.push(withChanges(s, { recvQ: s.recvQ + 1 }));
        else next.push(s);
      }
      for (let k = Math.floor(random() * 8); k > 0; k--) next.push(rec({ localPort: port++ }));
      const snapshot = snap(i * 500, next);
      const expected = whole.ingest(snapshot);
      const plans = stepped.planIngest(snapshot, 1);
      let p = plans.next();
      while (p.done !== true) p = plans.next();
      const stonesBefore = stepped.currentTombstones();
      const turnoverBefore = stepped.lastTurnover();
      const steps = stepped.applyIngestSteps(p.value, 1);
      let step = steps.next();
      while (step.done !== true) {
        pauses++;
        // A frame drawn now (of the last snapshot) finds every row's entry, the same tombstones and turnover.
        for (const r of prev?.sockets ?? []) expect(stepped.firstSeenOf(r)).toBeDefined();
        expect(stepped.currentTombstones()).toBe(stonesBefore);
        expect(stepped.lastTurnover()).toBe(turnoverBefore);
        // One plan at a time: another apply meanwhile is refused.
        if (pauses === 1) expect(() => stepped.applyIngest(p.value)).toThrow(/applying/);
        step = steps.next();
      }
      const summary = (d: ReturnType<typeof diffSnapshots>): unknown => [keys(d.opened), keys(d.closed), d.changed.length, d.intervalMs];
      expect([i, summary(step.value)]).toEqual([i, summary(expected)]);
      for (const r of next) expect(stepped.infoOf(r.key)).toEqual(whole.infoOf(r.key));
      expect(stepped.currentTombstones().map((t) => t.record.key)).toEqual(whole.currentTombstones().map((t) => t.record.key));
      expect(stepped.size()).toEqual(whole.size());
      prev = snapshot;
      live = next;
    }
    expect(pauses).toBeGreaterThan(500);
  });

  it('size stays flat over 1000 ingests of churning sockets: info = live sockets, tombstones bounded', () => {
    const tombstoneMs = 5000;
    const tickMs = 1000;
    const t = new SocketTracker({ tombstoneMs, maxQueueSamples: 50 });
    const listener = rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, inode: 1 });
    let live: SocketRecord[] = [listener];
    let nextPort = 20_000;
    let maxTombstones = 0;
    t.watch(listener.key);
    for (let i = 0; i < 1000; i++) {
      // Each tick: the 4 oldest connections go (2 straight away, 2 via TIME_WAIT), 5 new ones come,
      // and last tick's TIME_WAIT sockets disappear; the count swings between ~5 and ~30.
      const conns = live.filter((s) => s !== listener);
      const est = conns.filter((s) => s.state === 'ESTABLISHED');
      const toTimeWait = est.slice(0, 2).map((s) => withChanges(s, { state: 'TIME_WAIT', inode: 0 }));
      const kept = est.slice(i % 7 === 0 ? 2 : 4);
      const fresh = Array.from({ length: i % 10 < 5 ? 5 : 2 }, () => rec({ localPort: 8080, remotePort: nextPort++ }));
      live = [listener, ...kept, ...toTimeWait, ...fresh];
      t.ingest(snap(i * tickMs, live));
      const size = t.size();
      expect(size.sockets).toBe(live.length);
      maxTombstones = Math.max(maxTombstones, size.tombstones);
      // Closes per tick are at most 4, tombstones live < tombstoneMs: at most 4 * 5 of them.
      expect(size.tombstones).toBeLessThanOrEqual(4 * (tombstoneMs / tickMs));
      expect(size.samples).toBeLessThanOrEqual(50);
    }
    expect(maxTombstones).toBeGreaterThan(0);
    expect(t.size().samples).toBe(50);
  });
});
