import { describe, expect, it } from 'vitest';

import {
  computeConnRates,
  joinTcpInfo,
  medianOf,
  nextTcpInfoReadAtMs,
  portsOfShownConnections,
  ratesAgeMs,
  sumRatesByLocalPort,
  sumRatesByPeer,
  sumRatesByProcess,
  totalRates,
  type TcpConnInfo,
} from '../src/model/conn-rates.js';
import { rec } from './helpers/records.js';

function info(la: string, lp: number, ra: string, rp: number, c: Partial<TcpConnInfo> = {}): TcpConnInfo {
  return {
    state: 'ESTAB',
    localAddress: la,
    localPort: lp,
    remoteAddress: ra,
    remotePort: rp,
    bytesSent: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    bytesRetrans: 0,
    retransCurrent: 0,
    retransTotal: 0,
    rttMs: null,
    rttVarMs: null,
    minRttMs: null,
    deliveryRateBitsPerSec: null,
    cwnd: null,
    ...c,
  };
}

describe('joinTcpInfo', () => {
  it('joins by tuple across address spellings: IPv4, ::1, v4-mapped', () => {
    const v4 = rec({ localAddress: '127.0.0.1', localPort: 5000, remoteAddress: '127.0.0.1', remotePort: 80 });
    const v6 = rec({ protocol: 'tcp6', localAddress: '::1', localPort: 5001, remoteAddress: '::1', remotePort: 80 });
    const mapped = rec({
      protocol: 'tcp6',
      localAddress: '::ffff:127.0.0.1',
      localPort: 80,
      remoteAddress: '::ffff:127.0.0.1',
      remotePort: 5002,
    });
    const joined = joinTcpInfo(
      [v4, v6, mapped],
      [
        info('127.0.0.1', 5000, '127.0.0.1', 80, { bytesAcked: 1 }),
        info('0:0:0:0:0:0:0:1', 5001, '::1', 80, { bytesAcked: 2 }),
        info('::ffff:127.0.0.1', 80, '::ffff:127.0.0.1', 5002, { bytesAcked: 3 }),
        info('127.0.0.1', 80, '127.0.0.1', 5002, { bytesAcked: 4 }), // same ports, plain IPv4: not the mapped socket
      ],
    );
    expect(joined.get(v4.key)?.bytesAcked).toBe(1);
    expect(joined.get(v6.key)?.bytesAcked).toBe(2);
    expect(joined.get(mapped.key)?.bytesAcked).toBe(3);
  });

  it('leaves out listeners, TIME_WAIT, UDP and duplicate tuples', () => {
    const listen = rec({ state: 'LISTEN', localPort: 80, remoteAddress: '0.0.0.0', remotePort: 0 });
    const tw = rec({ state: 'TIME_WAIT', localPort: 6000 });
    const udp = rec({ protocol: 'udp', localPort: 6001 });
    const dup = rec({ localPort: 6002 });
    const joined = joinTcpInfo(
      [listen, tw, udp, dup],
      [
        info('127.0.0.1', 80, '0.0.0.0', 0),
        info('127.0.0.1', 6000, '127.0.0.1', 80),
        info('127.0.0.1', 6001, '127.0.0.1', 80),
        info('127.0.0.1', 6002, '127.0.0.1', 80),
        info('127.0.0.1', 6002, '127.0.0.1', 80),
      ],
    );
    expect(joined.size).toBe(0);
  });
});

describe('computeConnRates', () => {
  const a = new Map([
    ['k', info('1.1.1.1', 1, '2.2.2.2', 2, { bytesAcked: 1000, bytesReceived: 500, retransTotal: 1, rttMs: 3, rttVarMs: 1 })],
  ]);

  it('a connection seen once has counters but no rate yet', () => {
    const r = computeConnRates(null, a, 10_000);
    expect(r.rates.get('k')).toMatchObject({
      sendBytesPerSec: null,
      recvBytesPerSec: null,
      retransPerSec: null,
      rttMs: 3,
      bytesAcked: 1000,
    });
    expect(r.intervalSec).toBeNull();
    expect(r.asOfMs).toBe(10_000);
  });

  it('deltas over the interval between reads', () => {
    const first = computeConnRates(null, a, 10_000);
    const b = new Map([['k', info('1.1.1.1', 1, '2.2.2.2', 2, { bytesAcked: 5000, bytesReceived: 1500, retransTotal: 5, rttMs: 4 })]]);
    const second = computeConnRates(first.state, b, 12_000);
    expect(second.rates.get('k')).toMatchObject({ sendBytesPerSec: 2000, recvBytesPerSec: 500, retransPerSec: 2, rttMs: 4 });
    expect(second.intervalSec).toBe(2);
  });

  it('a counter going backwards (tuple reused) restarts the connection: no rate', () => {
    const first = computeConnRates(null, a, 10_000);
    const b = new Map([['k', info('1.1.1.1', 1, '2.2.2.2', 2, { bytesAcked: 10, bytesReceived: 9000 })]]);
    const second = computeConnRates(first.state, b, 11_000);
    expect(second.rates.get('k')?.sendBytesPerSec).toBeNull();
    const third = computeConnRates(
      second.state,
      new Map([['k', info('1.1.1.1', 1, '2.2.2.2', 2, { bytesAcked: 1010, bytesReceived: 9000 })]]),
      12_000,
    );
    expect(third.rates.get('k')?.sendBytesPerSec).toBe(1000);
  });

  it('a non-positive interval gives no rate; vanished keys are forgotten', () => {
    const first = computeConnRates(null, a, 10_000);
    expect(computeConnRates(first.state, a, 10_000).rates.get('k')?.sendBytesPerSec).toBeNull();
    const gone = computeConnRates(first.state, new Map(), 11_000);
    expect(gone.state.counters.size).toBe(0);
  });
});

describe('sums per process, port, peer and host', () => {
  const listener = rec({
    state: 'LISTEN',
    localPort: 5432,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    owner: { pid: 10, command: 'postgres' },
  });
  const in1 = rec({ localPort: 5432, remoteAddress: '10.0.0.1', remotePort: 40001, owner: { pid: 11, command: 'postgres' } });
  const in2 = rec({ localPort: 5432, remoteAddress: '10.0.0.2', remotePort: 40002, owner: { pid: 11, command: 'postgres' } });
  const out = rec({ localPort: 50000, remoteAddress: '10.0.0.1', remotePort: 443, owner: { pid: 20, command: 'curl' } });
  const fresh = rec({ localPort: 5432, remoteAddress: '10.0.0.3', remotePort: 40003 });
  const sockets = [listener, in1, in2, out, fresh];
  const rate = (send: number | null, recv: number | null, rtt: number | null) => ({
    sendBytesPerSec: send,
    recvBytesPerSec: recv,
    retransPerSec: send === null ? null : 1,
    rttMs: rtt,
    rttVarMs: null,
    bytesAcked: 0,
    bytesReceived: 0,
    retransTotal: 0,
  });
  const rates = new Map([
    [in1.key, rate(100, 10, 1)],
    [in2.key, rate(200, 20, 3)],
    [out.key, rate(1000, 5000, 8)],
    [fresh.key, rate(null, null, 2)],
  ]);

  it('per process', () => {
    const rows = sumRatesByProcess(sockets, rates);
    expect(rows.map((r) => [r.key, r.sendBytesPerSec, r.recvBytesPerSec, r.connections, r.withRate])).toEqual([
      ['20', 1000, 5000, 1, 1],
      ['11', 300, 30, 2, 2],
      ['-', 0, 0, 1, 0],
    ]);
  });

  it('per listening port, with the listener as owner; outbound connections left out', () => {
    const rows = sumRatesByLocalPort(sockets, rates);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      key: '5432',
      sendBytesPerSec: 300,
      recvBytesPerSec: 30,
      retransPerSec: 2,
      connections: 3,
      withRate: 2,
      pid: 10,
      process: 'postgres',
    });
    expect(rows[0]?.rttMedianMs).toBe(2);
    expect(rows[0]?.rttWorstMs).toBe(3);
  });

  it('per peer with RTT median and worst', () => {
    const rows = sumRatesByPeer(sockets, rates);
    const p1 = rows.find((r) => r.key === '10.0.0.1');
    expect(p1).toMatchObject({ sendBytesPerSec: 1100, recvBytesPerSec: 5010, connections: 2, rttMedianMs: 4.5, rttWorstMs: 8 });
    expect(rows[0]?.key).toBe('10.0.0.1');
  });

  it('host total, and a total over only some keys (what a filter shows)', () => {
    expect(totalRates(rates)).toEqual({ connections: 4, withRate: 3, sendBytesPerSec: 1300, recvBytesPerSec: 5030, retransPerSec: 3 });
    expect(totalRates(rates, [in1.key, listener.key])).toEqual({
      connections: 1,
      withRate: 1,
      sendBytesPerSec: 100,
      recvBytesPerSec: 10,
      retransPerSec: 1,
    });
  });

  it('median of odd and even counts', () => {
    expect(medianOf([])).toBeNull();
    expect(medianOf([5, 1, 3])).toBe(3);
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('cadence and age', () => {
  it('every refresh while cheap; spaced by cost / budget when not', () => {
    expect(nextTcpInfoReadAtMs(1000, 20, 1000, 0.1)).toBe(2000);
    expect(nextTcpInfoReadAtMs(1000, 400, 1000, 0.1)).toBe(5000);
  });

  it('age of the rates against the snapshot shown', () => {
    expect(ratesAgeMs(null, 5000)).toBeNull();
    expect(ratesAgeMs({ asOfMs: 2000 }, 5000)).toBe(3000);
    expect(ratesAgeMs({ asOfMs: 6000 }, 5000)).toBe(0);
  });

  it('ports of what a filter shows, or null when too many', () => {
    const shown = [rec({ localPort: 5000 }), rec({ localPort: 5001 }), rec({ state: 'LISTEN', localPort: 80, remotePort: 0 })];
    expect(portsOfShownConnections(shown)).toEqual([5000, 5001]);
    expect(portsOfShownConnections(shown, 1)).toBeNull();
  });
});
