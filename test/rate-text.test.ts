import { describe, expect, it } from 'vitest';

import { joinConnRates, type ConnRatesState } from '../src/model/conn-rates.js';
import { appendRateHistory, EMPTY_RATE_HISTORY, type RateHistory } from '../src/model/rate-history.js';
import { parseSsTcpTable } from '../src/proc/parse-ss-tcp.js';
import { rec } from './helpers/records.js';
import { formatBytesPerSec, formatPerSec, formatRttMs, portWithService } from '../src/view/rate-text.js';

describe('rate text', () => {
  it.each([
    [null, '-'],
    [0, '0 B/s'],
    [999.4, '999 B/s'],
    [1950, '1.95 kB/s'],
    [2_000_000, '2.00 MB/s'],
    [12_345_678, '12.3 MB/s'],
    [987_000_000, '987 MB/s'],
    [3.2e12, '3.20 TB/s'],
    [-5, '0 B/s'],
  ])('%s bytes/s → %s', (v, text) => {
    expect(formatBytesPerSec(v)).toBe(text);
  });

  it('rtt and per-second counts', () => {
    expect(formatRttMs(null)).toBe('-');
    expect(formatRttMs(0.021)).toBe('0.021 ms');
    expect(formatRttMs(3.25)).toBe('3.25 ms');
    expect(formatRttMs(180.4)).toBe('180 ms');
    expect(formatPerSec(0)).toBe('0');
    expect(formatPerSec(0.5)).toBe('0.5/s');
    expect(formatPerSec(12.4)).toBe('12/s');
    expect(formatPerSec(null)).toBe('-');
  });

  it('service names next to registered ports, not ephemeral ones', () => {
    const names = new Map([
      [5432, 'postgresql'],
      [60000, 'x11-ish'],
    ]);
    expect(portWithService(5432, names)).toBe('5432 postgresql');
    expect(portWithService(60000, names)).toBe('60000');
    expect(portWithService(8081, names)).toBe('8081');
    expect(portWithService(5432, null)).toBe('5432');
  });
});

describe('appendRateHistory', () => {
  const rate = (send: number | null, recv: number | null) => ({
    sendBytesPerSec: send,
    recvBytesPerSec: recv,
    retransPerSec: null,
    rttMs: null,
    rttVarMs: null,
    bytesAcked: 0,
    bytesReceived: 0,
    retransTotal: 0,
  });
  const total = (n: number) => ({ connections: 1, withRate: 1, sendBytesPerSec: n, recvBytesPerSec: 0, retransPerSec: 0 });

  it('appends each read once, keeps the last N per direction, forgets closed connections, skips rate-less ones', () => {
    let h = appendRateHistory(
      EMPTY_RATE_HISTORY,
      new Map([
        ['a', rate(10, 5)],
        ['b', rate(null, null)],
      ]),
      total(15),
      1000,
      3,
    );
    h = appendRateHistory(h, new Map([['a', rate(20, 0)]]), total(20), 1000, 3); // same read: ignored
    expect(h.perConnection.get('a')).toEqual({ sendBytesPerSec: [10], recvBytesPerSec: [5] });
    expect(h.perConnection.has('b')).toBe(false);
    for (const [t, v] of [
      [2000, 1],
      [3000, 2],
      [4000, 3],
    ] as const) {
      h = appendRateHistory(h, new Map([['a', rate(v, 2 * v)]]), total(v), t, 3);
    }
    expect(h.perConnection.get('a')).toEqual({ sendBytesPerSec: [1, 2, 3], recvBytesPerSec: [2, 4, 6] });
    expect(h.host).toEqual([1, 2, 3]);
    h = appendRateHistory(h, new Map(), total(0), 5000, 3);
    expect(h.perConnection.size).toBe(0);
  });

  it('keeps idle connections out until they move bytes, and lets them go once their window is all zero', () => {
    let h = appendRateHistory(EMPTY_RATE_HISTORY, new Map([['idle', rate(0, 0)]]), total(0), 1000, 3);
    expect(h.perConnection.has('idle')).toBe(false);
    h = appendRateHistory(h, new Map([['idle', rate(0, 40)]]), total(40), 2000, 3);
    expect(h.perConnection.get('idle')).toEqual({ sendBytesPerSec: [0], recvBytesPerSec: [40] });
    for (const t of [3000, 4000]) h = appendRateHistory(h, new Map([['idle', rate(0, 0)]]), total(0), t, 3);
    // The drop to zero stays visible while the window still holds the burst…
    expect(h.perConnection.get('idle')).toEqual({ sendBytesPerSec: [0, 0, 0], recvBytesPerSec: [40, 0, 0] });
    h = appendRateHistory(h, new Map([['idle', rate(0, 0)]]), total(0), 5000, 3);
    // …and the connection leaves once the burst has scrolled out.
    expect(h.perConnection.has('idle')).toBe(false);
  });

  it('keeps at most maxConnections, those already kept first', () => {
    let h = appendRateHistory(
      EMPTY_RATE_HISTORY,
      new Map([
        ['a', rate(10, 0)],
        ['b', rate(10, 0)],
      ]),
      total(20),
      1000,
      3,
      2,
    );
    expect([...h.perConnection.keys()]).toEqual(['a', 'b']);
    // c comes first in the read but a and b go on; c waits for room.
    h = appendRateHistory(
      h,
      new Map([
        ['c', rate(99, 0)],
        ['a', rate(11, 0)],
        ['b', rate(12, 0)],
      ]),
      total(122),
      2000,
      3,
      2,
    );
    expect([...h.perConnection.keys()].sort()).toEqual(['a', 'b']);
    expect(h.perConnection.get('b')?.sendBytesPerSec).toEqual([10, 12]);
    // b closes: c takes its place.
    h = appendRateHistory(
      h,
      new Map([
        ['c', rate(99, 0)],
        ['a', rate(11, 0)],
      ]),
      total(110),
      3000,
      3,
      2,
    );
    expect([...h.perConnection.keys()].sort()).toEqual(['a', 'c']);
    expect(h.perConnection.get('c')?.sendBytesPerSec).toEqual([99]);
  });
});

describe("appendRateHistory from a read's table (columns)", () => {
  it('keeps the same trends as from a map of the same rates: continuing first, newcomers up to the cap', () => {
    const sockets = Array.from({ length: 12 }, (_, i) => rec({ localPort: 30000 + i, remotePort: 80 }));
    // Read k: socket i sends (i * k) % 5 bytes more than at read k - 1 (0 bytes: idle at times).
    let acked = sockets.map(() => 1);
    let state: ConnRatesState | null = null;
    let fromTable: RateHistory = EMPTY_RATE_HISTORY;
    let fromMap: RateHistory = EMPTY_RATE_HISTORY;
    for (let k = 1; k <= 7; k++) {
      acked = acked.map((a, i) => a + ((i * k) % 5));
      const text = sockets.map((s, i) => `ESTAB 0 0 127.0.0.1:${s.localPort} 127.0.0.1:80\n\t rtt:1/1 bytes_acked:${acked[i]}\n`).join('');
      const read = joinConnRates(state, sockets, parseSsTcpTable(text), k * 1000);
      state = read.state;
      const t = { connections: 12, withRate: 12, sendBytesPerSec: k, recvBytesPerSec: 0, retransPerSec: 0 };
      fromTable = appendRateHistory(fromTable, read.rates, t, k * 1000, 4, 5);
      fromMap = appendRateHistory(fromMap, new Map(read.rates), t, k * 1000, 4, 5);
      expect(new Map([...fromTable.perConnection].sort())).toEqual(new Map([...fromMap.perConnection].sort()));
      expect(fromTable.host).toEqual(fromMap.host);
    }
    expect(fromTable.perConnection.size).toBe(5);
  });
});
