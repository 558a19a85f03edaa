import { describe, expect, it } from 'vitest';

import {
  ConnRateTable,
  joinConnRates,
  joinConnRatesSteps,
  medianOf,
  nextTcpInfoReadAtMs,
  portsOfShownConnections,
  ratesAgeMs,
  sumRatesByLocalPort,
  sumRatesByPeer,
  sumRatesByProcess,
  totalRates,
  type ConnRate,
} from '../src/model/conn-rates.js';
import { parseSsTcpTable } from '../src/proc/parse-ss-tcp.js';
import { rec } from './helpers/records.js';

/** `ss -tinH` text for connections: [local, lport, remote, rport, tcp_info fields]. */
function ssText(rows: readonly (readonly [string, number, string, number, string?])[]): string {
  const endpoint = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  return rows.map(([la, lp, ra, rp, fields]) => `ESTAB 0 0 ${endpoint(la, lp)} ${endpoint(ra, rp)}\n\t cubic ${fields ?? ''}\n`).join('');
}
const infoOf = (rows: Parameters<typeof ssText>[0]) => parseSsTcpTable(ssText(rows));

describe('joinConnRates: the join by tuple', () => {
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
    const { rates } = joinConnRates(
      null,
      [v4, v6, mapped],
      infoOf([
        ['127.0.0.1', 5000, '127.0.0.1', 80, 'bytes_acked:1'],
        ['0:0:0:0:0:0:0:1', 5001, '::1', 80, 'bytes_acked:2'],
        ['::ffff:127.0.0.1', 80, '::ffff:127.0.0.1', 5002, 'bytes_acked:3'],
        ['127.0.0.1', 80, '127.0.0.1', 5002, 'bytes_acked:4'], // same ports, plain IPv4: not the mapped socket
      ]),
      1000,
    );
    expect(rates.get(v4.key)?.bytesAcked).toBe(1);
    expect(rates.get(v6.key)?.bytesAcked).toBe(2);
    expect(rates.get(mapped.key)?.bytesAcked).toBe(3);
    expect(rates.size).toBe(3);
  });

  it('leaves out listeners, TIME_WAIT, UDP, duplicate tuples and other addresses', () => {
    const listen = rec({ state: 'LISTEN', localPort: 80, remoteAddress: '0.0.0.0', remotePort: 0 });
    const tw = rec({ state: 'TIME_WAIT', localPort: 6000 });
    const udp = rec({ protocol: 'udp', localPort: 6001 });
    const dup = rec({ localPort: 6002 });
    const elsewhere = rec({ localAddress: '10.9.9.9', localPort: 6003 });
    const { rates } = joinConnRates(
      null,
      [listen, tw, udp, dup, elsewhere],
      infoOf([
        ['127.0.0.1', 80, '0.0.0.0', 0],
        ['127.0.0.1', 6000, '127.0.0.1', 80],
        ['127.0.0.1', 6001, '127.0.0.1', 80],
        ['127.0.0.1', 6002, '127.0.0.1', 80],
        ['127.0.0.1', 6002, '127.0.0.1', 80],
        ['127.0.0.1', 6003, '127.0.0.1', 80],
      ]),
      1000,
    );
    expect(rates.size).toBe(0);
  });

  it('many connections on few addresses: each finds its own row (the tuple table under collisions)', () => {
    const sockets = Array.from({ length: 5000 }, (_, i) =>
      rec({ localAddress: `127.0.0.${1 + (i % 7)}`, localPort: 1024 + i, remotePort: 80 + (i % 3) }),
    );
    const info = infoOf(
      [...sockets]
        .reverse()
        .map((s) => [s.localAddress, s.localPort, s.remoteAddress, s.remotePort, `bytes_acked:${s.localPort * 3}`] as const),
    );
    const { rates } = joinConnRates(null, sockets, info, 1000);
    expect(rates.size).toBe(5000);
    expect(sockets.every((s) => rates.get(s.key)?.bytesAcked === s.localPort * 3)).toBe(true);
    // In the snapshot's order.
    expect([...rates.keys()]).toEqual(sockets.map((s) => s.key));
  });

  it('runs as steps: a large join pauses on the way and gives what the one-go join gives', () => {
    const sockets = Array.from({ length: 12_000 }, (_, i) => rec({ localPort: 1024 + i, remotePort: 80 }));
    const info = infoOf(sockets.map((s) => [s.localAddress, s.localPort, s.remoteAddress, s.remotePort, 'bytes_received:5'] as const));
    const steps = joinConnRatesSteps(null, sockets, info, 1000);
    let pauses = 0;
    let step = steps.next();
    while (step.done !== true) {
      pauses++;
      step = steps.next();
    }
    expect(pauses).toBeGreaterThan(2);
    const whole = joinConnRates(null, sockets, info, 1000).rates;
    expect(step.value.rates.size).toBe(12_000);
    expect([...step.value.rates.keys()]).toEqual([...whole.keys()]);
    expect([...step.value.rates.values()].every((r) => r.bytesReceived === 5)).toBe(true);
  });
});

describe('joinConnRates: rates against the previous read', () => {
  const sock = rec({ localAddress: '1.1.1.1', localPort: 1, remoteAddress: '2.2.2.2', remotePort: 2 });
  const read = (fields: string) => infoOf([['1.1.1.1', 1, '2.2.2.2', 2, fields]]);
  const a = read('rtt:3/1 bytes_acked:1000 bytes_received:500 retrans:0/1');

  it('a connection seen once has counters but no rate yet', () => {
    const r = joinConnRates(null, [sock], a, 10_000);
    expect(r.rates.get(sock.key)).toEqual({
      sendBytesPerSec: null,
      recvBytesPerSec: null,
      retransPerSec: null,
      rttMs: 3,
      rttVarMs: 1,
      bytesAcked: 1000,
      bytesReceived: 500,
      retransTotal: 1,
    });
    expect(r.intervalSec).toBeNull();
    expect(r.asOfMs).toBe(10_000);
  });

  it('deltas over the interval between reads', () => {
    const first = joinConnRates(null, [sock], a, 10_000);
    const second = joinConnRates(first.state, [sock], read('rtt:4/2 bytes_acked:5000 bytes_received:1500 retrans:1/5'), 12_000);
    expect(second.rates.get(sock.key)).toMatchObject({ sendBytesPerSec: 2000, recvBytesPerSec: 500, retransPerSec: 2, rttMs: 4 });
    expect(second.intervalSec).toBe(2);
  });

  it('a counter going backwards (tuple reused) restarts the connection: no rate', () => {
    const first = joinConnRates(null, [sock], a, 10_000);
    const second = joinConnRates(first.state, [sock], read('bytes_acked:10 bytes_received:9000'), 11_000);
    expect(second.rates.get(sock.key)?.sendBytesPerSec).toBeNull();
    const third = joinConnRates(second.state, [sock], read('bytes_acked:1010 bytes_received:9000'), 12_000);
    expect(third.rates.get(sock.key)?.sendBytesPerSec).toBe(1000);
  });

  it('the same tuple on another socket (another inode) is another connection: no rate', () => {
    const first = joinConnRates(null, [sock], a, 10_000);
    const reused = rec({ localAddress: '1.1.1.1', localPort: 1, remoteAddress: '2.2.2.2', remotePort: 2 });
    expect(reused.key).not.toBe(sock.key);
    const second = joinConnRates(first.state, [reused], read('bytes_acked:5000 bytes_received:1500 retrans:0/5'), 12_000);
    expect(second.rates.get(reused.key)).toMatchObject({ sendBytesPerSec: null, bytesAcked: 5000 });
  });

  it('a connection that moved in the output and between addresses keeps its rate', () => {
    const other = rec({ localAddress: '3.3.3.3', localPort: 7, remoteAddress: '2.2.2.2', remotePort: 2 });
    const first = joinConnRates(
      null,
      [sock, other],
      infoOf([
        ['1.1.1.1', 1, '2.2.2.2', 2, 'bytes_acked:100'],
        ['3.3.3.3', 7, '2.2.2.2', 2, 'bytes_acked:7'],
      ]),
      1000,
    );
    const second = joinConnRates(
      first.state,
      [other, sock],
      infoOf([
        ['3.3.3.3', 7, '2.2.2.2', 2, 'bytes_acked:17'],
        ['9.9.9.9', 5, '1.1.1.1', 1],
        ['1.1.1.1', 1, '2.2.2.2', 2, 'bytes_acked:300'],
      ]),
      2000,
    );
    expect(second.rates.get(sock.key)?.sendBytesPerSec).toBe(200);
    expect(second.rates.get(other.key)?.sendBytesPerSec).toBe(10);
  });

  it('a non-positive interval gives no rate; vanished connections are forgotten', () => {
    const first = joinConnRates(null, [sock], a, 10_000);
    expect(joinConnRates(first.state, [sock], a, 10_000).rates.get(sock.key)?.sendBytesPerSec).toBeNull();
    const gone = joinConnRates(first.state, [], a, 11_000);
    expect(gone.rates.size).toBe(0);
    expect(joinConnRates(gone.state, [sock], a, 12_000).rates.get(sock.key)?.sendBytesPerSec).toBeNull();
  });

  it('the table is a read-only map: get, has, size, iteration, forEach agree', () => {
    const other = rec({ localAddress: '3.3.3.3', localPort: 7, remoteAddress: '2.2.2.2', remotePort: 2 });
    const { rates } = joinConnRates(
      null,
      [sock, other],
      infoOf([
        ['1.1.1.1', 1, '2.2.2.2', 2, 'rtt:1/1'],
        ['3.3.3.3', 7, '2.2.2.2', 2],
      ]),
      1000,
    );
    expect(rates).toBeInstanceOf(ConnRateTable);
    expect(rates.has(sock.key)).toBe(true);
    expect(rates.has('tcp 9.9.9.9:1 2.2.2.2:2 1')).toBe(false);
    expect(rates.get(sock.key)).toBe(rates.get(sock.key));
    const seen: string[] = [];
    rates.forEach((r, k) => seen.push(`${k}=${r.rttMs}`));
    expect(seen).toEqual([`${sock.key}=1`, `${other.key}=null`]);
    expect([...rates.values()].map((r) => r.rttMs)).toEqual([1, null]);
    expect(new Map(rates)).toEqual(new Map([...rates.entries()]));
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

  it("the same sums from a read's table (columns) as from a map of objects", () => {
    const sums = (r: ReadonlyMap<string, ConnRate>) => [
      sumRatesByProcess(sockets, r),
      sumRatesByLocalPort(sockets, r),
      sumRatesByPeer(sockets, r),
      totalRates(r),
      totalRates(r, [in1.key, out.key]),
    ];
    // Two reads 1 s apart: in1 +100/+10, in2 +200/+20, out +1000/+5000, fresh first seen.
    const conns = [in1, in2, out, fresh];
    const at = (k: number) =>
      infoOf(
        conns.map((s, i) => {
          const grow = [
            [100, 10],
            [200, 20],
            [1000, 5000],
            [0, 0],
          ][i]!;
          return [
            s.localAddress,
            s.localPort,
            s.remoteAddress,
            s.remotePort,
            `rtt:${[1, 3, 8, 2][i]}/1 bytes_acked:${1 + k * grow[0]!} bytes_received:${k * grow[1]!} retrans:0/${k * (i < 3 ? 1 : 0)}`,
          ] as const;
        }),
      );
    const first = joinConnRates(null, [listener, in1, in2, out], at(0), 0);
    const second = joinConnRates(first.state, sockets, at(1), 1000);
    expect(second.rates).toBeInstanceOf(ConnRateTable);
    expect(sums(second.rates)).toEqual(sums(rates));
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
