import { describe, expect, it } from 'vitest';

import { compileFilter } from '../src/filter/index.js';
import type { ConnRate } from '../src/model/conn-rates.js';
import { SocketTracker } from '../src/model/tracker.js';
import type { SocketRecord } from '../src/model/types.js';
import { buildSocketRowList, buildSocketRowListSteps, sortedRowKeysByComparator, type SocketRowList } from '../src/view/socket-rows.js';
import { SOCKET_SORT_KEYS, type SocketSortKey } from '../src/view/ui-state.js';
import { rec, snap } from './helpers/records.js';

// The numeric sort keys (src/view/socket-sort-keys.ts) must give exactly the comparator's order:
// every list below is compared with the records sorted field by field (sortedRowKeysByComparator),
// on records chosen where numbers and text disagree: addresses one of which starts the other
// ("10.0.0.1" / "10.0.0.10", "::1" / "::1:2"), ports and inodes whose text order is not their
// numeric order (9 > 80 as text), IPv4 beside IPv6, equal fields, missing owners, names that
// compare by locale, UNIX sockets, tombstones (two of the same key), both directions.

const random = (seed: number): (() => number) => {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
};

const V4 = ['0.0.0.0', '10.0.0.1', '10.0.0.10', '10.0.0.100', '10.0.0.2', '127.0.0.1', '9.9.9.9', '1.2.3.4'];
const V6 = ['::', '::1', '::1:2', '::1:2:3', '::ffff:10.0.0.1', 'fe80::1', 'fe80::10', 'fe80::1:0', '2001:db8::1'];
// (7 is left out: the port of the socket closed twice below.)
const PORTS = [0, 1, 9, 22, 80, 443, 800, 8080, 8, 65535, 6553, 40000, 4000];
const COMMANDS = ['nginx', 'Nginx', 'node', 'élan', 'zsh', 'a', 'B', '', '\uffff'];
const USERS = ['root', 'Root', 'alice', 'Émile', 'bob', '', '1000'];
const PATHS = [null, '/run/a', '/run/B', '/run/é', '@abstract', ''];
const STATES = ['ESTABLISHED', 'LISTEN', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_SENT', 'FIN_WAIT2'] as const;

let inodes = 1;
/** Keys are unique in a table (the tracker follows sockets by key): a record whose key was made before is made again. */
const keysMade = new Set<string>();
function adversarial(next: () => number): SocketRecord {
  for (;;) {
    const r = adversarialOnce(next);
    if (keysMade.has(r.key)) continue;
    keysMade.add(r.key);
    return r;
  }
}

function adversarialOnce(next: () => number): SocketRecord {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const kind = next();
  if (kind < 0.1) {
    // UNIX: keys "unix <inode>", a few "unix 0 <address>" (no inode).
    const noInode = next() < 0.3;
    const inode = noInode ? 0 : pick([5, 12, 123, 1234, 99, 100, 1_000_000_007]) + inodes++ * 1000;
    return rec({
      protocol: 'unix',
      state: next() < 0.5 ? 'CONNECTED' : 'LISTENING',
      path: pick(PATHS),
      inode,
      key: noInode ? `unix 0 ffff${Math.floor(next() * 5000).toString(16)}` : `unix ${inode}`,
      recvQ: Math.floor(next() * 3),
      sendQ: Math.floor(next() * 3),
      owner: next() < 0.3 ? null : { pid: 100 + Math.floor(next() * 4), command: pick(COMMANDS) },
      user: pick(USERS),
    });
  }
  const v6 = kind < 0.4;
  const timeWait = next() < 0.15;
  return rec({
    protocol: kind < 0.95 ? (v6 ? 'tcp6' : 'tcp') : v6 ? 'udp6' : 'udp',
    state: timeWait ? 'TIME_WAIT' : pick(STATES),
    localAddress: pick(v6 ? V6 : V4),
    localPort: pick(PORTS),
    remoteAddress: pick(v6 ? V6 : V4),
    remotePort: pick(PORTS),
    // Inode 0 (TIME_WAIT) shares keys that differ only in endpoints; text order of inodes: 12 < 123 < 13.
    inode: timeWait ? 0 : pick([12, 123, 13, 1, 1000, 999, 4_294_967_295]) + inodes++ * 100,
    recvQ: pick([0, 0, 1, 5, 10, 2 ** 31]),
    sendQ: pick([0, 0, 3, 7, 100]),
    owner: next() < 0.35 ? null : { pid: 100 + Math.floor(next() * 4), command: pick(COMMANDS) },
    user: pick(USERS),
  });
}

const rate = (v: number): ConnRate => ({
  sendBytesPerSec: v,
  recvBytesPerSec: v % 7 === 0 ? null : v / 3,
  retransPerSec: 0,
  rttMs: (v % 5) * 0.25,
  rttVarMs: 0,
  bytesAcked: 0,
  bytesReceived: 0,
  retransTotal: 0,
});

const keyedOf = (list: SocketRowList): unknown => (list as unknown as { order: { keyed: unknown } }).order.keyed;

describe('numeric sort keys give the comparator order', () => {
  it.each(SOCKET_SORT_KEYS.flatMap((k) => [false, true].map((d) => [k, d] as const)))(
    '%s descending=%s: adversarial records, tombstones, and the next snapshots built on the last list',
    (key: SocketSortKey, descending) => {
      const next = random(31 + key.length * 7 + (descending ? 1 : 0));
      const tracker = new SocketTracker({ newMs: 1500, tombstoneMs: 5000, maxTombstones: 200 });
      let sockets = Array.from({ length: 700 }, () => adversarial(next));
      // A socket closed twice under one key (reopened between): two tombstones of the same key.
      const twice = rec({
        localAddress: '10.0.0.1',
        localPort: 80,
        remoteAddress: '10.0.0.10',
        remotePort: 7,
        inode: 0,
        state: 'TIME_WAIT',
      });
      let list: SocketRowList | null = null;
      for (let round = 0; round < 6; round++) {
        if (round > 0) {
          const out: SocketRecord[] = [];
          for (const s of sockets) {
            const r = next();
            if (r < 0.08) continue;
            if (r < 0.2) out.push({ ...s });
            else if (r < 0.26) out.push({ ...s, recvQ: s.recvQ + 1, sendQ: s.sendQ + 2 });
            else out.push(s);
          }
          for (let i = 0; i < 40; i++) out.push(adversarial(next));
          sockets = out;
        }
        const withTwice = round % 2 === 0 ? [...sockets, { ...twice }] : sockets;
        const takenAtMs = round * 1000;
        tracker.ingest(snap(takenAtMs, withTwice));
        const backlogs = new Map(withTwice.filter((s) => s.state === 'LISTEN').map((s, i) => [s.key, (i * 37) % 11]));
        const rates = new Map(withTwice.map((s, i) => [s.key, rate((i * 13 + round) % 23)]));
        const input = {
          sockets: withTwice,
          takenAtMs,
          tracker,
          filter: null,
          sort: { key, descending },
          tombstones: true,
          backlogs,
          rates,
        };
        const expected = sortedRowKeysByComparator(input);
        const fresh = buildSocketRowList(input);
        expect(fresh.keys(), `round ${round} fresh`).toEqual(expected);
        expect(keyedOf(fresh), 'sorted by numbers, not by the comparator').not.toBeNull();
        // Built on the last list in steps (rates and backlogs move only their own sorts' orders).
        const steps = buildSocketRowListSteps(input, list, '');
        let r = steps.next();
        while (r.done !== true) r = steps.next();
        list = r.value;
        expect(list.keys(), `round ${round} built on the last list`).toEqual(expected);
        if (round >= 2) expect(list.closedRows).toBeGreaterThan(0);
      }
      expect(tracker.currentTombstones().filter((t) => t.record.key === twice.key).length).toBeGreaterThan(1);
    },
  );

  it('under a filter, and the first rows selected before the whole order is sorted', () => {
    const next = random(5);
    const sockets = Array.from({ length: 1500 }, () => adversarial(next));
    const tracker = new SocketTracker();
    tracker.ingest(snap(0, sockets));
    const compiled = compileFilter('tcp6 or port 80 or port 8080');
    if (!compiled.ok) throw new Error('bad filter');
    for (const key of SOCKET_SORT_KEYS) {
      const input = {
        sockets,
        takenAtMs: 0,
        tracker,
        filter: compiled.filter,
        sort: { key, descending: key.length % 2 === 0 },
        tombstones: false,
      };
      const expected = sortedRowKeysByComparator(input);
      const list = buildSocketRowList(input, null, 'f');
      expect(
        Array.from({ length: 50 }, (_, i) => list.keyAt(i)),
        key,
      ).toEqual(expected.slice(0, 50));
      expect(list.keys(), key).toEqual(expected);
    }
  });

  it('a new address that another one starts (IPv6 "fe80::1" then "fe80::1:5") regroups the ranks: the next list is keyed again, same order', () => {
    const tracker = new SocketTracker();
    const first = Array.from({ length: 60 }, (_, i) =>
      rec({ protocol: 'tcp6', localAddress: i % 2 === 0 ? 'fe80::1' : 'fe80::2', localPort: 80 + (i % 7), remotePort: 1000 + i }),
    );
    tracker.ingest(snap(0, first));
    const base = { tracker, filter: null, tombstones: false, sort: { key: 'recvq' as const, descending: false } };
    const before = buildSocketRowList({ ...base, sockets: first, takenAtMs: 0 });
    expect(before.keys()).toEqual(sortedRowKeysByComparator({ ...base, sockets: first, takenAtMs: 0 }));
    const second = [
      ...first,
      ...Array.from({ length: 9 }, (_, i) => rec({ protocol: 'tcp6', localAddress: 'fe80::1:5', localPort: 8 + i, remotePort: 3000 + i })),
    ];
    tracker.ingest(snap(1000, second));
    const after = buildSocketRowList({ ...base, sockets: second, takenAtMs: 1000 }, before);
    expect(after.keys()).toEqual(sortedRowKeysByComparator({ ...base, sockets: second, takenAtMs: 1000 }));
  });

  it('records the numbers cannot hold (a port out of range, a key in another format, NaN queues) are sorted by the comparator, the same order', () => {
    const next = random(9);
    const normal = Array.from({ length: 300 }, () => adversarial(next));
    const odd = [
      rec({ localPort: 70_000 }),
      rec({ key: 'tcp custom key', localPort: 81 }),
      rec({ recvQ: Number.NaN, localPort: 82 }),
      rec({ state: 'NOT_A_STATE' as never, localPort: 83 }),
    ];
    const tracker = new SocketTracker();
    for (const [i, extra] of odd.entries()) {
      const sockets = [...normal, extra];
      tracker.ingest(snap(i * 1000, sockets));
      for (const key of ['state', 'local', 'recvq', 'proto'] as const) {
        const input = { sockets, takenAtMs: i * 1000, tracker, filter: null, sort: { key, descending: false }, tombstones: true };
        const list = buildSocketRowList(input);
        const keys = list.keys();
        // NaN has no consistent place (the comparator treats it as equal to everything): only the rest is compared.
        if (extra.recvQ === extra.recvQ) expect(keys, `${extra.key} ${key}`).toEqual(sortedRowKeysByComparator(input));
        expect(keys).toHaveLength(sockets.length + tracker.currentTombstones().length);
        if (key === 'recvq' || extra.key === 'tcp custom key' || extra.localPort === 70_000) expect(keyedOf(list)).toBeNull();
      }
    }
  });
});
