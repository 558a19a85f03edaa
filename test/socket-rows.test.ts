import { describe, expect, it } from 'vitest';

import { compileFilter, type CompiledFilter } from '../src/filter/index.js';
import { SocketTracker } from '../src/model/tracker.js';
import type { SocketRecord } from '../src/model/types.js';
import {
  STATE_SORT_RANK,
  buildSocketRowList,
  buildSocketRowListSteps,
  buildSocketRows,
  type SocketRow,
  type SocketRowList,
} from '../src/view/socket-rows.js';
import { SOCKET_SORT_KEYS, type SocketSortKey } from '../src/view/ui-state.js';
import { rec, snap } from './helpers/records.js';

function filterOf(text: string): CompiledFilter {
  const c = compileFilter(text);
  if (!c.ok) throw new Error(`bad test filter ${text}: ${c.error.message}`);
  return c.filter;
}

// Eight sockets, each with a distinct value for every sort key, named for readable expectations.
const named: Record<string, SocketRecord> = {
  web: rec({
    state: 'LISTEN',
    localAddress: '0.0.0.0',
    localPort: 80,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    recvQ: 3,
    owner: { pid: 10, command: 'nginx' },
    user: 'root',
  }),
  est: rec({
    localAddress: '10.0.0.1',
    localPort: 80,
    remoteAddress: '10.0.0.7',
    remotePort: 50_000,
    recvQ: 10,
    sendQ: 0,
    owner: { pid: 11, command: 'nginx' },
    user: 'www',
  }),
  cw: rec({
    state: 'CLOSE_WAIT',
    localAddress: '10.0.0.1',
    localPort: 5432,
    remoteAddress: '10.0.0.2',
    remotePort: 40_000,
    recvQ: 1,
    sendQ: 5,
    owner: { pid: 20, command: 'postgres' },
    user: 'postgres',
  }),
  tw: rec({
    state: 'TIME_WAIT',
    localAddress: '10.0.0.1',
    localPort: 44_000,
    remoteAddress: '93.184.216.34',
    remotePort: 443,
    inode: 0,
    recvQ: 0,
    sendQ: 0,
    user: 'alice',
  }),
  syn: rec({
    state: 'SYN_SENT',
    localAddress: '10.0.0.1',
    localPort: 44_001,
    remoteAddress: '10.0.0.3',
    remotePort: 22,
    sendQ: 1,
    owner: { pid: 30, command: 'ssh' },
    user: 'bob',
  }),
  v6: rec({
    protocol: 'tcp6',
    localAddress: '::1',
    localPort: 631,
    remoteAddress: '::1',
    remotePort: 50_001,
    recvQ: 300,
    sendQ: 2,
    owner: { pid: 40, command: 'cupsd' },
    user: 'lp',
  }),
  dns: rec({
    protocol: 'udp',
    state: 'UNCONN',
    localAddress: '127.0.0.53',
    localPort: 53,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    sendQ: 7,
    recvQ: 2,
    owner: { pid: 50, command: 'resolved' },
    user: 'systemd-resolve',
  }),
  sock: rec({
    protocol: 'unix',
    state: 'CONNECTED',
    path: '/run/dbus/system_bus_socket',
    recvQ: 4,
    sendQ: 3,
    owner: { pid: 60, command: 'dbus' },
    user: 'messagebus',
  }),
};
const nameOf = new Map(Object.entries(named).map(([n, r]) => [r.key, n]));
const names = (rows: readonly SocketRow[]): string[] =>
  rows.map((r) => (r.closedAtMs === null ? (nameOf.get(r.key) ?? r.key) : `†${nameOf.get(r.record.key) ?? r.record.key}`));

/** A tracker that saw `web`, `dns` and `sock` from the start; the others arrive over time. */
function trackerAt3000(): SocketTracker {
  const t = new SocketTracker({ newMs: 1500, tombstoneMs: 5000 });
  const arrivals: [number, string][] = [
    [500, 'v6'],
    [1000, 'cw'],
    [1500, 'tw'],
    [2000, 'est'],
    [3000, 'syn'],
  ];
  const live = [named['web']!, named['dns']!, named['sock']!];
  t.ingest(snap(0, [...live]));
  for (const [atMs, name] of arrivals) {
    live.push(named[name]!);
    t.ingest(snap(atMs, [...live]));
  }
  return t;
}

const ALL = Object.values(named);
const build = (sort: SocketSortKey, descending = false, over: Partial<Parameters<typeof buildSocketRows>[0]> = {}): SocketRow[] =>
  buildSocketRows({
    sockets: ALL,
    takenAtMs: 3000,
    tracker: trackerAt3000(),
    filter: null,
    sort: { key: sort, descending },
    tombstones: true,
    ...over,
  });

describe('sorting: every key, ascending and descending', () => {
  it.each<[SocketSortKey, string[], string[] | null]>([
    // tcp by local address, then tcp6, udp, unix.
    ['proto', ['web', 'est', 'cw', 'tw', 'syn', 'v6', 'dns', 'sock'], null],
    // LISTEN, SYN_SENT, then ESTABLISHED-like (tcp, tcp6, unix CONNECTED), CLOSE_WAIT, TIME_WAIT, UNCONN.
    ['state', ['web', 'syn', 'est', 'v6', 'sock', 'cw', 'tw', 'dns'], null],
    // "" (unix) < 0.0.0.0 < 10.0.0.1:80 < :5432 < :44000 < :44001 < 127.0.0.53 < ::1 (text order of addresses).
    ['local', ['sock', 'web', 'est', 'cw', 'tw', 'syn', 'dns', 'v6'], null],
    ['peer', ['sock', 'web', 'dns', 'cw', 'syn', 'est', 'tw', 'v6'], null],
    // recvQ 0 (sendQ 0, then 1), 1, 2, 3, 4, 10, 300.
    ['recvq', ['tw', 'syn', 'cw', 'dns', 'web', 'sock', 'est', 'v6'], null],
    // sendQ 0 (recvQ 0, 3, 10), 1, 2, 3, 5, 7.
    ['sendq', ['tw', 'web', 'est', 'syn', 'v6', 'sock', 'cw', 'dns'], null],
    // cupsd, dbus, nginx (pid 10), nginx (pid 11), postgres, resolved, ssh; no owner sorts last.
    ['process', ['v6', 'sock', 'web', 'est', 'cw', 'dns', 'syn', 'tw'], null],
    ['user', ['tw', 'syn', 'v6', 'sock', 'cw', 'web', 'dns', 'est'], null],
    // 0, 1000, 1500, 2000, 2500, then three seen at start (3000) tied: by key (tcp < udp < unix) both ways.
    ['age', ['syn', 'est', 'tw', 'cw', 'v6', 'web', 'dns', 'sock'], ['web', 'dns', 'sock', 'v6', 'cw', 'tw', 'est', 'syn']],
  ])('%s', (key, ascending, descending) => {
    expect(names(build(key, false, { tombstones: false }))).toEqual(ascending);
    expect(names(build(key, true, { tombstones: false }))).toEqual(descending ?? [...ascending].reverse());
  });

  it('covers every sort key the UI offers', () => {
    expect([...SOCKET_SORT_KEYS].sort()).toEqual([
      'age',
      'in',
      'local',
      'out',
      'peer',
      'process',
      'proto',
      'recvq',
      'rtt',
      'sendq',
      'state',
      'user',
    ]);
  });

  it('state order puts listeners first and waiting states after established (problems near the top)', () => {
    const order = [
      'LISTEN',
      'SYN_SENT',
      'SYN_RECV',
      'ESTABLISHED',
      'CLOSE_WAIT',
      'FIN_WAIT1',
      'FIN_WAIT2',
      'CLOSING',
      'LAST_ACK',
      'TIME_WAIT',
      'CLOSE',
      'UNCONN',
    ] as const;
    const ranks = order.map((s) => STATE_SORT_RANK[s]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(ranks).size).toBe(order.length);
  });
});

describe('ties are broken by key, in the same direction either way (stable, deterministic)', () => {
  const same = Array.from({ length: 6 }, (_, i) =>
    rec({ localPort: 1000 + ((i * 7) % 6), recvQ: 5, sendQ: 5, user: 'same', owner: { pid: 1, command: 'same' } }),
  );
  const byKey = [...same].map((r) => r.key).sort();
  const tracker = new SocketTracker();
  tracker.ingest(snap(0, same));

  it.each<SocketSortKey>(['recvq', 'sendq', 'user', 'process', 'age'])('%s', (key) => {
    for (const descending of [false, true]) {
      for (const input of [same, [...same].reverse()]) {
        const rows = buildSocketRows({ sockets: input, takenAtMs: 0, tracker, filter: null, sort: { key, descending }, tombstones: false });
        expect([key, descending, rows.map((r) => r.key)]).toEqual([key, descending, byKey]);
      }
    }
  });
});

describe('rows carry age, new and at-least flags from the tracker', () => {
  it.each<[string, number | null, boolean, boolean]>([
    ['web', 3000, false, true], // seen in the first snapshot: age is a lower bound
    ['v6', 2500, false, false],
    ['cw', 2000, false, false],
    ['tw', 1500, false, false], // newMs is 1500: no longer new
    ['est', 1000, true, false],
    ['syn', 0, true, false],
  ])('%s', (name, ageMs, isNew, ageAtLeast) => {
    const row = build('state').find((r) => nameOf.get(r.key) === name);
    expect(row).toMatchObject({ ageMs, isNew, ageAtLeast, closedAtMs: null });
  });

  it('a socket the tracker never saw has no age and is not new', () => {
    const stranger = rec({ localPort: 9 });
    const rows = buildSocketRows({
      sockets: [stranger],
      takenAtMs: 3000,
      tracker: trackerAt3000(),
      filter: null,
      sort: { key: 'age', descending: false },
      tombstones: false,
    });
    expect(rows).toEqual([
      { key: stranger.key, record: stranger, closedAtMs: null, ageMs: null, isNew: false, ageAtLeast: false, backlog: null },
    ]);
  });
});

describe('tombstones', () => {
  function closedTracker(): { tracker: SocketTracker; live: SocketRecord[] } {
    const t = new SocketTracker({ tombstoneMs: 5000 });
    t.ingest(snap(0, ALL));
    const live = ALL.filter((r) => r !== named['est'] && r !== named['dns']);
    t.ingest(snap(1000, live));
    return { tracker: t, live };
  }

  it('closed sockets are included with closedAtMs and a key of their own', () => {
    const { tracker, live } = closedTracker();
    const rows = buildSocketRows({
      sockets: live,
      takenAtMs: 1000,
      tracker,
      filter: null,
      sort: { key: 'local', descending: false },
      tombstones: true,
    });
    const closed = rows.filter((r) => r.closedAtMs !== null);
    expect(names(closed).sort()).toEqual(['†dns', '†est']);
    for (const r of closed) {
      expect(r.closedAtMs).toBe(1000);
      expect(r.key).not.toBe(r.record.key); // never collides with a live row of the same socket
      expect([r.ageMs, r.isNew]).toEqual([null, false]);
    }
    expect(rows).toHaveLength(ALL.length);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('are sorted among the live rows by the same key', () => {
    const { tracker, live } = closedTracker();
    const rows = buildSocketRows({
      sockets: live,
      takenAtMs: 1000,
      tracker,
      filter: null,
      sort: { key: 'recvq', descending: true },
      tombstones: true,
    });
    expect(names(rows)).toEqual(['v6', '†est', 'sock', 'web', '†dns', 'cw', 'syn', 'tw']);
  });

  it('are left out when asked (paused on an older copy)', () => {
    const { tracker, live } = closedTracker();
    const rows = buildSocketRows({
      sockets: live,
      takenAtMs: 1000,
      tracker,
      filter: null,
      sort: { key: 'state', descending: false },
      tombstones: false,
    });
    expect(rows.every((r) => r.closedAtMs === null)).toBe(true);
    expect(rows).toHaveLength(live.length);
  });

  it('the filter applies to tombstones too', () => {
    const { tracker, live } = closedTracker();
    const rows = buildSocketRows({
      sockets: live,
      takenAtMs: 1000,
      tracker,
      filter: filterOf('udp'),
      sort: { key: 'state', descending: false },
      tombstones: true,
    });
    expect(names(rows)).toEqual(['†dns']);
  });
});

describe('filtering', () => {
  it.each<[string, string[]]>([
    ['tcp', ['web', 'est', 'cw', 'tw', 'syn', 'v6']],
    ['state listen', ['web']],
    ['state close-wait or state time-wait', ['cw', 'tw']],
    ['sport 80', ['web', 'est']],
    ['dst 10.0.0.7', ['est']],
    ['proc nginx', ['web', 'est']],
    ['pid 20', ['cw']],
    ['unix', ['sock']],
    ['not proc *', ['tw']],
    ['port 1', []],
  ])('%s', (text, expected) => {
    const rows = build('proto', false, { filter: filterOf(text), tombstones: false });
    expect(names(rows)).toEqual(expected);
  });

  it('no filter lists everything', () => {
    expect(build('proto', false, { tombstones: false })).toHaveLength(ALL.length);
  });
});

describe('buildSocketRowList: the incremental order equals sorting everything', () => {
  // 400 sockets with a pseudo-random spread of every sort field; then a next snapshot that keeps
  // most record objects (unchanged lines), replaces some (changed queues or state), drops some
  // (tombstones) and adds new ones, as the collector does.
  const random = (seed: number): (() => number) => {
    let x = seed;
    return () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
  };
  const states = ['ESTABLISHED', 'LISTEN', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_SENT'] as const;
  const make = (next: () => number, i: number): SocketRecord =>
    rec({
      protocol: next() < 0.8 ? 'tcp' : 'tcp6',
      state: states[Math.floor(next() * states.length)]!,
      localAddress: next() < 0.5 ? '10.0.0.1' : '10.0.0.2',
      localPort: 1000 + Math.floor(next() * 20),
      remotePort: 2000 + i,
      recvQ: Math.floor(next() * 4),
      sendQ: Math.floor(next() * 4),
      owner: next() < 0.3 ? null : { pid: 100 + Math.floor(next() * 5), command: `cmd${Math.floor(next() * 5)}` },
      user: `u${Math.floor(next() * 3)}`,
    });
  const keysOf = (list: SocketRowList): string[] => list.keys();

  it.each(SOCKET_SORT_KEYS.flatMap((k) => [false, true].map((d) => [k, d] as const)))(
    '%s descending=%s, with a filter and tombstones',
    (key, descending) => {
      const next = random(7);
      const first = Array.from({ length: 400 }, (_, i) => make(next, i));
      const second = first
        .filter(() => next() > 0.04) // 4% closed
        .map((r) => (next() < 0.03 ? { ...r, recvQ: r.recvQ + 7 } : r)); // 3% changed: new objects
      for (let i = 0; i < 8; i++) second.push(make(next, 1000 + i)); // new ones
      const tracker = new SocketTracker({ newMs: 1500, tombstoneMs: 5000 });
      tracker.ingest(snap(0, first));
      const filter = filterOf('state established or state listen or port 1003 or port 1004 or port 1005 or port 1006 or port 1007');
      const input = (sockets: SocketRecord[], takenAtMs: number) => ({
        sockets,
        takenAtMs,
        tracker,
        filter,
        sort: { key, descending },
        tombstones: true,
      });
      const before = buildSocketRowList(input(first, 0), null, 'f');
      // As a first frame does: only the rows shown are read (selected, not sorted) before the
      // next snapshot's list is built on this one. They equal the first rows of the full sort.
      const sortedFirst = buildSocketRowList(input(first, 0), null, 'f');
      const allKeys = sortedFirst.keys();
      const shownRows = Array.from({ length: 40 }, (_, i) => before.at(i)!);
      expect(shownRows).toEqual(Array.from({ length: 40 }, (_, i) => sortedFirst.at(i)!));
      expect(shownRows.map((r) => r.key)).toEqual(allKeys.slice(0, 40));
      expect(before.length).toBe(allKeys.length);
      expect(before.closedRows).toBe(sortedFirst.closedRows);
      tracker.ingest(snap(1000, second));
      const incremental = buildSocketRowList(input(second, 1000), before, 'f');
      const fresh = buildSocketRowList(input(second, 1000), null, 'f');
      expect(fresh.closedRows).toBeGreaterThan(0);
      expect(keysOf(incremental)).toEqual(keysOf(fresh));
      const rowsOf = (l: SocketRowList): SocketRow[] => Array.from({ length: l.length }, (_, i) => l.at(i)!);
      expect(rowsOf(incremental)).toEqual(rowsOf(fresh));
      expect(incremental.indexOfKey(fresh.keyAt(17)!)).toBe(17);
      expect(incremental.closedRows).toBe(fresh.closedRows);
      // Rows read one by one past the first selected ones (the list sorts then) keep the order.
      const stepped = buildSocketRowList(input(second, 1000), null, 'f');
      expect(Array.from({ length: stepped.length }, (_, i) => stepped.keyAt(i))).toEqual(keysOf(fresh));
    },
  );

  it('the first rows of an unsorted list are the first rows of the full order, every key, 1,000 sockets with tombstones', () => {
    for (const key of SOCKET_SORT_KEYS) {
      for (const descending of [false, true]) {
        const next = random(11);
        const first = Array.from({ length: 1000 }, (_, i) => make(next, i));
        const tracker = new SocketTracker({ newMs: 1500, tombstoneMs: 5000 });
        tracker.ingest(snap(0, first));
        const second = first.filter(() => next() > 0.1);
        tracker.ingest(snap(1000, second));
        const input = { sockets: second, takenAtMs: 1000, tracker, filter: null, sort: { key, descending }, tombstones: true };
        const selected = buildSocketRowList(input);
        const shown = Array.from({ length: 128 }, (_, i) => selected.at(i)!);
        const sorted = buildSocketRowList(input);
        const keys = sorted.keys();
        expect(sorted.closedRows).toBeGreaterThan(0);
        expect(
          shown.map((r) => r.key),
          `${key} ${descending}`,
        ).toEqual(keys.slice(0, 128));
        expect(shown).toEqual(Array.from({ length: 128 }, (_, i) => sorted.at(i)!));
        // Past the first rows: the full order, the same as read from a sorted list.
        expect(selected.at(128)).toEqual(sorted.at(128));
        expect(selected.keys()).toEqual(keys);
      }
    }
  });

  it('a next snapshot that replaces most records is sorted in full, not merged (the same order)', () => {
    const next = random(5);
    const first = Array.from({ length: 300 }, (_, i) => make(next, i));
    const second = Array.from({ length: 300 }, (_, i) => make(next, 500 + i));
    const tracker = new SocketTracker();
    tracker.ingest(snap(0, first));
    const base = { tracker, filter: null, tombstones: false, sort: { key: 'local' as const, descending: false } };
    const before = buildSocketRowList({ ...base, sockets: first, takenAtMs: 0 });
    expect(before.at(0)).toBeDefined();
    tracker.ingest(snap(1000, second));
    const after = buildSocketRowList({ ...base, sockets: second, takenAtMs: 1000 }, before);
    const fresh = buildSocketRowList({ ...base, sockets: second, takenAtMs: 1000 });
    expect(after.keys()).toEqual(fresh.keys());
    expect(Array.from({ length: 300 }, (_, i) => after.keyAt(i))).toEqual(fresh.keys());
  });

  it('a list from another filter or sort is not built on (full sort)', () => {
    const next = random(3);
    const sockets = Array.from({ length: 50 }, (_, i) => make(next, i));
    const tracker = new SocketTracker();
    tracker.ingest(snap(0, sockets));
    const base = { sockets, takenAtMs: 0, tracker, filter: null, tombstones: false };
    const byState = buildSocketRowList({ ...base, sort: { key: 'state', descending: false } });
    const byPeer = buildSocketRowList({ ...base, sort: { key: 'peer', descending: false } }, byState);
    expect(byPeer.keys()).toEqual(buildSocketRowList({ ...base, sort: { key: 'peer', descending: false } }).keys());
  });
});

describe('buildSocketRowList over a run of snapshots: built on the last list, in steps, equals a full sort', () => {
  const random = (seed: number): (() => number) => {
    let x = seed;
    return () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
  };
  const states = ['ESTABLISHED', 'LISTEN', 'TIME_WAIT', 'CLOSE_WAIT', 'FIN_WAIT2'] as const;
  let inode = 1;
  const make = (next: () => number): SocketRecord =>
    rec({
      protocol: next() < 0.8 ? 'tcp' : 'tcp6',
      state: states[Math.floor(next() * states.length)]!,
      localAddress: `10.0.0.${1 + Math.floor(next() * 12)}`,
      localPort: 1000 + Math.floor(next() * 30),
      remoteAddress: `10.0.1.${1 + Math.floor(next() * 12)}`,
      remotePort: 2000 + Math.floor(next() * 500),
      recvQ: Math.floor(next() * 3),
      sendQ: Math.floor(next() * 3),
      owner: next() < 0.3 ? null : { pid: 100 + Math.floor(next() * 5), command: `cmd${Math.floor(next() * 5)}` },
      user: `u${Math.floor(next() * 3)}`,
      inode: inode++,
    });
  /** The next snapshot as a churning host's: most record objects kept, some closed, some lines changed (a timer: same key), some new. */
  const step = (next: () => number, sockets: readonly SocketRecord[]): SocketRecord[] => {
    const out: SocketRecord[] = [];
    for (const s of sockets) {
      const r = next();
      if (r < 0.06) continue; // closed: a tombstone
      if (r < 0.16)
        out.push({ ...s }); // the same socket, its line changed (timer): a new object, same key
      else if (r < 0.19)
        out.push({ ...s, recvQ: s.recvQ + 5 }); // queues moved: sorts elsewhere by recvq
      else out.push(s);
    }
    for (let i = 0; i < 15; i++) out.push(make(next));
    return out;
  };
  const rowsOf = (l: SocketRowList): SocketRow[] => Array.from({ length: l.length }, (_, i) => l.at(i)!);
  const inSteps = (input: Parameters<typeof buildSocketRowList>[0], previous: SocketRowList | null, filterText: string): SocketRowList => {
    const steps = buildSocketRowListSteps(input, previous, filterText);
    let pauses = 0;
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
      pauses++;
      if (pauses > 1_000_000) throw new Error('no end');
    }
  };

  it.each(SOCKET_SORT_KEYS.flatMap((k) => [false, true].map((d) => [k, d] as const)))(
    '%s descending=%s: 8 snapshots with tombstones and a filter, every row and random windows',
    (key, descending) => {
      const next = random(97 + key.length);
      const tracker = new SocketTracker({ newMs: 1500, tombstoneMs: 3000, maxTombstones: 40 });
      const filter = filterOf('not port 1003 and not port 1017');
      let sockets = Array.from({ length: 3000 }, () => make(next));
      let list: SocketRowList | null = null;
      for (let round = 0; round < 8; round++) {
        if (round > 0) sockets = step(next, sockets);
        const takenAtMs = round * 1000;
        tracker.ingest(snap(takenAtMs, sockets));
        const input = { sockets, takenAtMs, tracker, filter, sort: { key, descending }, tombstones: true };
        // Round 1 builds on a list whose first rows only were read (selected, not sorted).
        list = inSteps(input, list, 'f');
        if (round === 0) expect(list.at(0)).toBeDefined();
        const fresh = buildSocketRowList(input);
        const all = fresh.keys();
        if (round === 0) continue;
        expect(list.keys(), `round ${round}`).toEqual(all);
        expect(list.length).toBe(all.length);
        expect(list.closedRows).toBe(fresh.closedRows);
        if (round >= 2) expect(list.closedRows).toBeGreaterThan(0);
        // Random windows: what the table reads at a scroll position equals the full sort's rows there.
        for (let w = 0; w < 5; w++) {
          const offset = Math.floor(next() * Math.max(1, all.length - 40));
          const window = Array.from({ length: 40 }, (_, i) => list!.at(offset + i));
          expect(window).toEqual(Array.from({ length: 40 }, (_, i) => fresh.at(offset + i)));
          expect(list.indexOfKey(all[offset]!)).toBe(offset);
        }
        if (round === 7) expect(rowsOf(list)).toEqual(rowsOf(fresh));
      }
    },
  );

  it('a new sort sorted in steps by two callers at once (after its first frame, and the next snapshot) gives the full order', () => {
    const next = random(23);
    const tracker = new SocketTracker({ tombstoneMs: 5000 });
    const first = Array.from({ length: 6000 }, () => make(next));
    tracker.ingest(snap(0, first));
    const base = { tracker, filter: null, tombstones: true, sort: { key: 'peer' as const, descending: false } };
    const shown = buildSocketRowList({ ...base, sockets: first, takenAtMs: 0 });
    expect(shown.at(0)).toBeDefined(); // its first rows selected, the rest unsorted
    const background = shown.sortSteps();
    for (let i = 0; i < 3; i++) expect(background.next().done).toBe(false);
    const second = step(next, first);
    tracker.ingest(snap(1000, second));
    const input = { ...base, sockets: second, takenAtMs: 1000 };
    const built = buildSocketRowListSteps(input, shown, '');
    let r = built.next();
    for (let i = 0; r.done !== true; i++) {
      if (i % 2 === 0) background.next();
      r = built.next();
    }
    for (let b = background.next(); b.done !== true; b = background.next());
    expect(r.value.keys()).toEqual(buildSocketRowList(input).keys());
  });

  it('new rates, UNIX peers or backlogs for the same snapshot keep the order object and show in the rows', () => {
    const next = random(5);
    const sockets = Array.from({ length: 500 }, () => make(next));
    const tracker = new SocketTracker();
    tracker.ingest(snap(0, sockets));
    const base = { sockets, takenAtMs: 0, tracker, filter: null, tombstones: true, sort: { key: 'state' as const, descending: false } };
    const first = buildSocketRowList(base);
    expect(first.keys()).toHaveLength(500);
    const rate = {
      sendBytesPerSec: 10,
      recvBytesPerSec: 20,
      retransPerSec: 0,
      rttMs: 1,
      rttVarMs: 0,
      bytesAcked: 1,
      bytesReceived: 1,
      retransTotal: 0,
    };
    const rates = new Map([[first.keyAt(3)!, rate]]);
    const withRates = buildSocketRowList({ ...base, rates }, first);
    const orderOf = (l: SocketRowList): unknown => (l as unknown as { order: unknown }).order;
    expect(orderOf(withRates)).toBe(orderOf(first));
    expect(withRates.anyRate).toBe(true);
    expect(first.anyRate).toBe(false);
    expect(withRates.at(3)!.rate).toEqual(rate);
    expect(withRates.keys()).toEqual(buildSocketRowList({ ...base, rates }).keys());
    // Sorted by a rate, new rates make a new order.
    const byOut = { ...base, rates, sort: { key: 'out' as const, descending: true } };
    const outFirst = buildSocketRowList(byOut);
    const outNext = buildSocketRowList({ ...byOut, rates: new Map(rates) }, outFirst);
    expect(orderOf(outNext)).not.toBe(orderOf(outFirst));
    expect(outNext.keyAt(0)).toBe(first.keyAt(3));
  });
});
