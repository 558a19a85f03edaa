// The grouped views (by port, by peer, by process) are counted and sorted in steps at 100k
// sockets (src/model/aggregate.ts group*Steps, src/model/sort-steps.ts, sortGroupsSteps): the
// same rows and order as counting and sorting at once, checked here against plain reference
// implementations over random sockets that span several steps.

import { describe, expect, it } from 'vitest';

import {
  ListeningEndpoints,
  countByLocalPort,
  countByProcess,
  countByRemoteHost,
  countByRemotePort,
  type GroupRow,
} from '../src/model/aggregate.js';
import type { RateGroup } from '../src/model/conn-rates.js';
import { runSteps, sortSteps } from '../src/model/sort-steps.js';
import type { Protocol, SocketRecord, SocketState } from '../src/model/types.js';
import { sortGroups } from '../src/view/dashboard-view.js';
import { GROUP_SORT_KEYS } from '../src/view/ui-state.js';
import { rec } from './helpers/records.js';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** Listeners (wildcard, one address, v4-mapped, UDP) and connections over a few addresses and ports, owners or not. */
function randomSockets(seed: number, n: number): SocketRecord[] {
  const r = random(seed);
  const addresses = ['127.0.0.1', '127.0.0.2', '10.0.0.7', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::'];
  const ports = [22, 80, 443, 5432, 8080, 9090, 40000, 40001, 50000];
  const out: SocketRecord[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r();
    const localAddress = pick(r, addresses);
    const protocol: Protocol = localAddress.includes(':') ? (r() < 0.2 ? 'udp6' : 'tcp6') : r() < 0.2 ? 'udp' : 'tcp';
    const owner = r() < 0.3 ? null : { pid: 100 + Math.floor(r() * 6), command: pick(r, ['nginx', 'postgres', 'curl']) };
    if (kind < 0.05) {
      const state: SocketState = protocol.startsWith('udp') ? 'UNCONN' : 'LISTEN';
      out.push(
        rec({
          protocol,
          state,
          localAddress,
          localPort: pick(r, ports),
          remoteAddress: '0.0.0.0',
          remotePort: 0,
          recvQ: Math.floor(r() * 3),
          owner,
          inode: i + 1,
        }),
      );
    } else if (kind < 0.08) {
      out.push(rec({ protocol: 'unix', state: 'CONNECTED', owner, inode: i + 1 }));
    } else {
      const state = pick(r, ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_RECV', 'FIN_WAIT2'] as const);
      const remotePort = r() < 0.05 ? 0 : r() < 0.5 ? pick(r, ports) : 30000 + Math.floor(r() * 3000);
      out.push(
        rec({
          protocol,
          state,
          localAddress,
          localPort: r() < 0.5 ? pick(r, ports) : 30000 + Math.floor(r() * 3000),
          remoteAddress: pick(r, addresses),
          remotePort,
          owner,
          inode: state === 'TIME_WAIT' ? 0 : i + 1,
        }),
      );
    }
  }
  return out;
}

/** Where the host listens, as it was decided before (key strings per listener: "t8080", "t8080|127.0.0.1"). */
function referenceCovers(sockets: readonly SocketRecord[]): (s: SocketRecord) => boolean {
  const t = (s: SocketRecord): string => (s.protocol.startsWith('udp') ? 'u' : 't');
  const unmapped = (a: string): string => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);
  const keys = new Set<string>();
  for (const s of sockets) {
    if (s.protocol === 'unix') continue;
    if (s.state !== 'LISTEN' && !(s.state === 'UNCONN' && s.protocol.startsWith('udp'))) continue;
    keys.add(
      s.localAddress === '0.0.0.0' || s.localAddress === '::'
        ? `${t(s)}${s.localPort}`
        : `${t(s)}${s.localPort}|${unmapped(s.localAddress)}`,
    );
  }
  return (s) =>
    s.protocol !== 'unix' && (keys.has(`${t(s)}${s.localPort}`) || keys.has(`${t(s)}${s.localPort}|${unmapped(s.localAddress)}`));
}

interface RefGroup {
  key: string;
  label: string;
  total: number;
  states: Record<string, number>;
  acceptQueue: number;
  listening: boolean;
  pid: number | null;
  process: string | null;
  protocols: string[];
}

/** Groups by a key per socket (null: left out), counted one socket at a time, ordered by key. */
function referenceGroups(
  sockets: readonly SocketRecord[],
  keyOf: (s: SocketRecord) => [key: string, label: string] | null,
  extra: (g: RefGroup, s: SocketRecord) => void,
): RefGroup[] {
  const groups = new Map<string, RefGroup>();
  for (const s of sockets) {
    const k = keyOf(s);
    if (k === null) continue;
    let g = groups.get(k[0]);
    if (g === undefined) {
      g = { key: k[0], label: k[1], total: 0, states: {}, acceptQueue: 0, listening: false, pid: null, process: null, protocols: [] };
      groups.set(k[0], g);
    }
    g.total++;
    g.states[s.state] = (g.states[s.state] ?? 0) + 1;
    if (!g.protocols.includes(s.protocol)) g.protocols.push(s.protocol);
    extra(g, s);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

const byKey = (rows: readonly GroupRow[]): GroupRow[] => [...rows].sort((a, b) => (a.key < b.key ? -1 : 1));

describe('sortSteps', () => {
  it.each([0, 1, 2047, 2048, 2049, 9_000])('equals Array#sort, ties kept in their order (%i items)', (n) => {
    const r = random(n + 1);
    const items = Array.from({ length: n }, (_, i) => ({ v: Math.floor(r() * 50), i }));
    const cmp = (a: { v: number }, b: { v: number }): number => a.v - b.v;
    const sorted = runSteps(sortSteps(items, cmp));
    expect(sorted).toEqual([...items].sort(cmp));
    // Stable: equal values keep their input order.
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.v === sorted[i - 1]!.v) expect(sorted[i]!.i).toBeGreaterThan(sorted[i - 1]!.i);
  });

  it('pauses between runs and merges: steps, not one block, past 2,048 items', () => {
    const steps = sortSteps(
      Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_000),
      (a, b) => a - b,
    );
    let pauses = 0;
    for (let s = steps.next(); s.done !== true; s = steps.next()) pauses++;
    expect(pauses).toBeGreaterThan(5);
  });
});

describe('ListeningEndpoints', () => {
  it.each([1, 2, 3])('covers the sockets the key-string test covered (seed %i)', (seed) => {
    const sockets = randomSockets(seed, 3_000);
    const endpoints = new ListeningEndpoints(sockets);
    const reference = referenceCovers(sockets);
    const covered = sockets.filter((s) => endpoints.covers(s));
    expect(covered).toEqual(sockets.filter(reference));
    expect(covered.length).toBeGreaterThan(100);
    expect(covered.length).toBeLessThan(sockets.length - 100);
  });
});

describe('grouped counts over several steps', () => {
  const sockets = randomSockets(7, 20_000);
  const covers = referenceCovers(sockets);

  it('by local port: the service side of every listened address and port', () => {
    const reference = referenceGroups(
      sockets,
      (s) => (covers(s) ? [String(s.localPort), String(s.localPort)] : null),
      (g, s) => {
        if (s.state !== 'LISTEN' && s.state !== 'UNCONN') return;
        g.listening = true;
        if (s.state === 'LISTEN') g.acceptQueue += s.recvQ;
        if (s.owner !== null && (g.pid === null || s.owner.pid < g.pid)) {
          g.pid = s.owner.pid;
          g.process = s.owner.command;
        }
      },
    );
    expect(reference.length).toBeGreaterThan(5);
    expect(byKey(countByLocalPort(sockets))).toEqual(reference);
  });

  it('by remote port: client-side sockets, the owner when all agree', () => {
    const mixed = new Set<string>();
    const reference = referenceGroups(
      sockets,
      (s) =>
        s.protocol === 'unix' || s.remotePort === 0 || s.state === 'LISTEN' || covers(s)
          ? null
          : [`to:${s.remotePort}`, `→:${s.remotePort}`],
      (g, s) => {
        if (s.owner === null || mixed.has(g.key)) return;
        if (g.pid === null) {
          g.pid = s.owner.pid;
          g.process = s.owner.command;
        } else if (g.pid !== s.owner.pid) {
          mixed.add(g.key);
          g.pid = null;
          g.process = null;
        }
      },
    );
    expect(reference.length).toBeGreaterThan(1000);
    expect(byKey(countByRemotePort(sockets))).toEqual(reference);
  });

  it('by remote host and by process', () => {
    const hosts = referenceGroups(
      sockets,
      (s) => (s.protocol === 'unix' || s.remotePort === 0 ? null : [s.remoteAddress, s.remoteAddress]),
      () => undefined,
    );
    expect(byKey(countByRemoteHost(sockets))).toEqual(hosts);
    const processes = referenceGroups(
      sockets,
      (s) => (s.owner === null ? ['-', '(unknown owner)'] : [String(s.owner.pid), s.owner.command]),
      (g, s) => {
        if (s.owner === null) return;
        g.pid = s.owner.pid;
        g.process = s.owner.command;
      },
    );
    expect(byKey(countByProcess(sockets))).toEqual(processes);
  });

  it('sortGroups orders as the comparator it always used, for every sort key and direction', () => {
    const groups = [...countByLocalPort(sockets), ...countByRemotePort(sockets), ...countByProcess(sockets)];
    const r = random(11);
    const rates = new Map<string, RateGroup>();
    for (const g of groups)
      if (r() < 0.5)
        rates.set(g.key, {
          key: g.key,
          label: g.label,
          connections: 1,
          withRate: r() < 0.8 ? 1 : 0,
          sendBytesPerSec: Math.floor(r() * 5) * 100,
          recvBytesPerSec: Math.floor(r() * 5) * 100,
          retransPerSec: 0,
          rttMedianMs: r() < 0.5 ? null : Math.floor(r() * 4),
          rttWorstMs: r() < 0.5 ? null : Math.floor(r() * 4),
        } as RateGroup);
    const n = (g: GroupRow, s: string): number => (g.states as Record<string, number>)[s] ?? 0;
    const value = (g: GroupRow, key: string): number | string => {
      const x = rates.get(g.key);
      if (key === 'out') return x === undefined || x.withRate === 0 ? -1 : x.sendBytesPerSec;
      if (key === 'in') return x === undefined || x.withRate === 0 ? -1 : x.recvBytesPerSec;
      if (key === 'rtt') return x?.rttMedianMs ?? -1;
      if (key === 'rttmax') return x?.rttWorstMs ?? -1;
      if (key === 'key') {
        const port = g.key.startsWith('to:') ? g.key.slice(3) : g.key;
        return /^\d+$/.test(port) ? Number(port) : g.key;
      }
      if (key === 'total') return g.total;
      if (key === 'established') return n(g, 'ESTABLISHED') + n(g, 'CONNECTED');
      if (key === 'timewait') return n(g, 'TIME_WAIT');
      if (key === 'closewait') return n(g, 'CLOSE_WAIT');
      if (key === 'synrecv') return n(g, 'SYN_RECV') + n(g, 'NEW_SYN_RECV');
      return g.acceptQueue;
    };
    expect(groups.length).toBeGreaterThan(2048);
    for (const key of GROUP_SORT_KEYS)
      for (const descending of [false, true]) {
        const sign = descending ? -1 : 1;
        const reference = [...groups].sort((a, b) => {
          const va = value(a, key);
          const vb = value(b, key);
          const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
          return sign * c || a.key.localeCompare(b.key);
        });
        expect(sortGroups(groups, { key, descending }, rates).map((g) => g.key)).toEqual(reference.map((g) => g.key));
      }
  });
});
