import { describe, expect, it } from 'vitest';

import { addMarker, compareWithMarker, createMarker, nextMarkerName } from '../src/model/markers.js';
import type { Snapshot, SocketRecord } from '../src/model/types.js';
import { rec, snap } from './helpers/records.js';

const listen = (port: number): SocketRecord =>
  rec({ state: 'LISTEN', localAddress: '0.0.0.0', localPort: port, remoteAddress: '0.0.0.0', remotePort: 0 });
const many = (n: number, port: number, state: SocketRecord['state']): SocketRecord[] =>
  Array.from({ length: n }, (_, i) => rec({ state, localPort: port, remotePort: 30000 + i }));
const withCounters = (s: Snapshot, counters: Record<string, number>): Snapshot => ({ ...s, counters });

describe('createMarker', () => {
  it('keeps TCP state counts, the busiest service ports and the headline counters — not the sockets', () => {
    const s = withCounters(
      snap(5000, [
        listen(80),
        ...many(3, 80, 'ESTABLISHED'),
        listen(22),
        ...many(1, 22, 'ESTABLISHED'),
        rec({ protocol: 'udp', state: 'UNCONN', remotePort: 0 }),
        rec({ protocol: 'unix' }),
      ]),
      { 'TcpExt.ListenOverflows': 7, 'Tcp.ActiveOpens': 100, 'Ip.Forwarding': 1 },
    );
    const m = createMarker('before', s, { topPorts: 1 });
    expect(m).toEqual({
      name: 'before',
      takenAtMs: 5000,
      filter: null,
      tcpStates: { LISTEN: 2, ESTABLISHED: 4 },
      tcpTotal: 6,
      socketTotal: 8,
      ports: [{ port: 80, total: 4, states: { LISTEN: 1, ESTABLISHED: 3 } }],
      counters: { 'Tcp.ActiveOpens': 100, 'TcpExt.ListenOverflows': 7 },
    });
    expect(JSON.stringify(m).length).toBeLessThan(1000);
  });
});

describe('addMarker', () => {
  it('appends without changing the old list, replaces a marker of the same name, keeps at most 20', () => {
    const s = snap(0, []);
    let markers = addMarker([], 'a', s);
    const before = markers;
    markers = addMarker(markers, 'b', s);
    expect(before.map((m) => m.name)).toEqual(['a']);
    expect(markers.map((m) => m.name)).toEqual(['a', 'b']);
    markers = addMarker(markers, 'a', snap(9, []));
    expect(markers.map((m) => [m.name, m.takenAtMs])).toEqual([
      ['b', 0],
      ['a', 9],
    ]);
    for (let i = 0; i < 30; i++) markers = addMarker(markers, nextMarkerName(markers), s);
    expect(markers.length).toBe(20);
    expect(markers[markers.length - 1]?.name).toBe('mark 32');
    expect(new Set(markers.map((m) => m.name)).size).toBe(20);
    expect(addMarker(markers, 'x', s, { maxMarkers: 3 }).map((m) => m.name)).toEqual(['mark 31', 'mark 32', 'x']);
  });
});

describe('compareWithMarker', () => {
  const then = withCounters(snap(1000, [listen(80), ...many(10, 80, 'ESTABLISHED'), listen(22), ...many(2, 22, 'ESTABLISHED')]), {
    'TcpExt.ListenOverflows': 5,
    'Tcp.EstabResets': 100,
  });
  const now = withCounters(
    snap(61_000, [
      listen(80),
      ...many(4, 80, 'ESTABLISHED'),
      ...many(30, 80, 'CLOSE_WAIT'),
      listen(22),
      ...many(2, 22, 'ESTABLISHED'),
      listen(8080),
      ...many(5, 8080, 'TIME_WAIT'),
    ]),
    { 'TcpExt.ListenOverflows': 12, 'Tcp.EstabResets': 90 },
  );
  const marker = createMarker('load start', then);
  const c = compareWithMarker(marker, now);

  it('per state: now / then / delta in lifecycle order, states that are zero on both sides left out', () => {
    expect(c.elapsedMs).toBe(60_000);
    expect(c.states).toEqual([
      { key: 'LISTEN', now: 3, then: 2, delta: 1 },
      { key: 'ESTABLISHED', now: 6, then: 12, delta: -6 },
      { key: 'CLOSE_WAIT', now: 30, then: 0, delta: 30 },
      { key: 'TIME_WAIT', now: 5, then: 0, delta: 5 },
    ]);
    expect(c.tcpTotal).toEqual({ key: 'tcp', now: 44, then: 14, delta: 30 });
  });

  it('per port: marker ports and new ones, largest change first, with per-state rows', () => {
    expect(c.ports.map((p) => [p.port, p.now, p.then, p.delta])).toEqual([
      [80, 35, 11, 24],
      [8080, 6, 0, 6],
      [22, 3, 3, 0],
    ]);
    expect(c.ports[0]?.states).toEqual([
      { key: 'LISTEN', now: 1, then: 1, delta: 0 },
      { key: 'ESTABLISHED', now: 4, then: 10, delta: -6 },
      { key: 'CLOSE_WAIT', now: 30, then: 0, delta: 30 },
    ]);
  });

  it('counter deltas since the marker; a counter that went backwards (reset) is left out', () => {
    expect(c.counters).toEqual([{ key: 'TcpExt.ListenOverflows', now: 12, then: 5, delta: 7 }]);
  });
});

describe('a marker under a filter', () => {
  const port80 = { text: 'port 80', matches: (x: SocketRecord) => x.localPort === 80 || x.remotePort === 80 };

  it('counts only the sockets its filter matched, and a comparison counts now under the same filter', () => {
    const then = snap(1000, [listen(80), ...many(3, 80, 'ESTABLISHED'), listen(22), ...many(5, 22, 'ESTABLISHED')]);
    const m = createMarker('before', then, {}, port80);
    expect(m.filter?.text).toBe('port 80');
    expect(m.tcpTotal).toBe(4);
    expect(m.socketTotal).toBe(4);
    expect(m.ports.map((p) => p.port)).toEqual([80]);
    // Port 22 grows by 100, port 80 by 2 CLOSE_WAIT: only port 80's change is compared.
    const now = snap(4000, [
      listen(80),
      ...many(3, 80, 'ESTABLISHED'),
      ...many(2, 80, 'CLOSE_WAIT'),
      listen(22),
      ...many(105, 22, 'ESTABLISHED'),
    ]);
    const c = compareWithMarker(m, now);
    expect(c.tcpTotal).toMatchObject({ now: 6, then: 4, delta: 2 });
    expect(c.socketTotal).toMatchObject({ now: 6, then: 4, delta: 2 });
    expect(c.states.find((r) => r.key === 'CLOSE_WAIT')).toMatchObject({ now: 2, then: 0, delta: 2 });
    expect(c.ports.map((p) => p.port)).toEqual([80]);
    // Without the filter the same snapshots compare every socket.
    expect(compareWithMarker(createMarker('all', then), now).tcpTotal).toMatchObject({ now: 112, then: 10, delta: 102 });
  });
});
