import { describe, expect, it } from 'vitest';

import { endpointKey } from '../src/model/address.js';
import { UNKNOWN_SYSCTLS, buildListenerHealth, summarizeListenersByPort, type NetSysctls } from '../src/model/listener-health.js';
import { parseSsListenBacklogs, parseSsListenLine, readListenBacklogs } from '../src/proc/read-backlogs.js';
import { rec, snap, type RecordOverrides } from './helpers/records.js';

const SYSCTLS: NetSysctls = { ...UNKNOWN_SYSCTLS, somaxconn: 4096, ephemeralPortRange: { low: 32768, high: 60999 } };

const listener = (port: number, recvQ: number, extra: RecordOverrides = {}) =>
  rec({
    state: 'LISTEN',
    localAddress: '0.0.0.0',
    localPort: port,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    recvQ,
    owner: { pid: 10, command: 'nginx' },
    ...extra,
  });
const conn = (port: number, state: RecordOverrides['state'], i: number, extra: RecordOverrides = {}) =>
  rec({ state, localAddress: '10.0.0.1', localPort: port, remoteAddress: '10.9.0.1', remotePort: 40000 + i, ...extra });

describe('parseSsListenLine', () => {
  it.each([
    { line: 'LISTEN 0      128      0.0.0.0:22  0.0.0.0:*', want: { address: '0.0.0.0', port: 22, recvQ: 0, sendQ: 128 } },
    { line: 'LISTEN 3      511    127.0.0.1:37425 0.0.0.0:*', want: { address: '127.0.0.1', port: 37425, recvQ: 3, sendQ: 511 } },
    { line: 'LISTEN 0      4096      [::]:80     [::]:*', want: { address: '::', port: 80, recvQ: 0, sendQ: 4096 } },
    { line: 'LISTEN 0      4096     [::1]:631    [::]:*', want: { address: '::1', port: 631, recvQ: 0, sendQ: 4096 } },
    { line: 'LISTEN 0      4096         *:9100      *:*', want: { address: '*', port: 9100, recvQ: 0, sendQ: 4096 } },
    { line: 'LISTEN 0      4096 127.0.0.53%lo:53  0.0.0.0:*', want: { address: '127.0.0.53', port: 53, recvQ: 0, sendQ: 4096 } },
    { line: 'LISTEN 0 10 [::ffff:127.0.0.1]:8080 [::]:*', want: { address: '::ffff:127.0.0.1', port: 8080, recvQ: 0, sendQ: 10 } },
    { line: 'LISTEN 0 1 [FE80::1]%eth0:22 [::]:*', want: { address: 'fe80::1', port: 22, recvQ: 0, sendQ: 1 } },
    // ss leaves the State column out when given a state filter.
    { line: '2      1      127.0.0.1:5000  0.0.0.0:*', want: { address: '127.0.0.1', port: 5000, recvQ: 2, sendQ: 1 } },
    { line: '', want: null },
    { line: 'State Recv-Q Send-Q Local Address:Port Peer Address:Port', want: null },
    { line: 'LISTEN x 128 0.0.0.0:22 0.0.0.0:*', want: null },
    { line: 'LISTEN 0 128 0.0.0.0:99999 0.0.0.0:*', want: null },
  ])('$line', ({ line, want }) => {
    expect(parseSsListenLine(line)).toEqual(want);
  });
});

describe('parseSsListenBacklogs', () => {
  it('keys by endpoint as endpointKey builds it, keeping the largest of SO_REUSEPORT siblings', () => {
    const text = [
      'LISTEN 0 128 0.0.0.0:22 0.0.0.0:*',
      'LISTEN 0 511 [::]:22 [::]:*',
      'LISTEN 0 64 0.0.0.0:80 0.0.0.0:*',
      'LISTEN 0 256 0.0.0.0:80 0.0.0.0:*',
      '',
    ].join('\n');
    const m = parseSsListenBacklogs(text);
    expect([...m.entries()]).toEqual([
      ['0.0.0.0:22', 128],
      ['[::]:22', 511],
      ['0.0.0.0:80', 256],
    ]);
    expect(m.get(endpointKey('::', 22))).toBe(511);
  });
});

describe('readListenBacklogs', () => {
  it('gives an empty map when ss is missing', async () => {
    expect((await readListenBacklogs(1000, 'sockscope-no-such-ss-binary')).size).toBe(0);
  });
});

describe('buildListenerHealth', () => {
  it('one row per TCP listener with queue, limit and the connections on its port', () => {
    const s = snap(1000, [
      listener(8080, 3),
      conn(8080, 'ESTABLISHED', 1),
      conn(8080, 'ESTABLISHED', 2),
      conn(8080, 'CLOSE_WAIT', 3),
      conn(8080, 'SYN_RECV', 4, { inode: 0 }),
      conn(8080, 'TIME_WAIT', 5, { inode: 0 }),
      // Not this listener: another port, an outbound connection, UDP.
      conn(9090, 'ESTABLISHED', 6),
      rec({ state: 'ESTABLISHED', localPort: 45000, remotePort: 8080 }),
      rec({ protocol: 'udp', state: 'UNCONN', localPort: 8080, remotePort: 0 }),
    ]);
    const [row, ...rest] = buildListenerHealth(s, {}, SYSCTLS, new Map([['0.0.0.0:8080', 8]]));
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      protocol: 'tcp',
      localPort: 8080,
      endpoint: '0.0.0.0:8080',
      acceptQueue: 3,
      backlog: 8,
      backlogSource: 'ss',
      backlogIsEstimate: false,
      established: 2,
      closeWait: 1,
      synRecv: 1,
      flags: [],
      notes: [],
    });
    expect(row?.owner?.command).toBe('nginx');
    expect(row?.fillRatio).toBeCloseTo(3 / 8);
  });

  it.each<{ name: string; recvQ: number; backlog: number; rates: Record<string, number>; flags: string[] }>([
    { name: 'half full: filling', recvQ: 4, backlog: 8, rates: {}, flags: ['queue-filling'] },
    { name: 'at the limit: full', recvQ: 8, backlog: 8, rates: {}, flags: ['queue-full'] },
    { name: 'over the limit (backlog + 1): full', recvQ: 9, backlog: 8, rates: {}, flags: ['queue-full'] },
    {
      name: 'overflows rising, queue non-empty: dropping',
      recvQ: 2,
      backlog: 8,
      rates: { 'TcpExt.ListenOverflows': 5, 'TcpExt.ListenDrops': 5 },
      flags: ['dropping'],
    },
    {
      name: 'overflows rising, queue full: full and dropping',
      recvQ: 9,
      backlog: 8,
      rates: { 'TcpExt.ListenOverflows': 5 },
      flags: ['queue-full', 'dropping'],
    },
    { name: 'overflows rising but queue empty: not attributed', recvQ: 0, backlog: 8, rates: { 'TcpExt.ListenOverflows': 5 }, flags: [] },
    { name: 'drops only (no overflow) also count', recvQ: 1, backlog: 8, rates: { 'TcpExt.ListenDrops': 1 }, flags: ['dropping'] },
    { name: 'quiet', recvQ: 1, backlog: 8, rates: { 'TcpExt.ListenOverflows': 0 }, flags: [] },
  ])('flags: $name', ({ recvQ, backlog, rates, flags }) => {
    const [row] = buildListenerHealth(snap(0, [listener(80, recvQ)]), rates, SYSCTLS, new Map([['0.0.0.0:80', backlog]]));
    expect(row?.flags).toEqual(flags);
    if (flags.includes('dropping')) expect(row?.notes.join(' ')).toMatch(/machine-wide/);
  });

  it('without ss falls back to somaxconn and says it is an estimate', () => {
    const [row] = buildListenerHealth(snap(0, [listener(80, 100)]), {}, SYSCTLS);
    expect(row).toMatchObject({ backlog: 4096, backlogSource: 'somaxconn', backlogIsEstimate: true });
    expect(row?.fillRatio).toBeCloseTo(100 / 4096);
    expect(row?.notes[0]).toMatch(/somaxconn = 4096 is an upper bound/);
  });

  it('with an estimated limit, rising overflows mark a non-empty queue as full (the ratio cannot tell)', () => {
    const [row] = buildListenerHealth(snap(0, [listener(80, 5)]), { 'TcpExt.ListenOverflows': 3 }, SYSCTLS);
    expect(row?.flags).toEqual(['queue-full', 'dropping']);
  });

  it('unknown limit when neither ss nor somaxconn is known', () => {
    const [row] = buildListenerHealth(snap(0, [listener(80, 5)]), {}, UNKNOWN_SYSCTLS, new Map());
    expect(row).toMatchObject({ backlog: null, backlogSource: 'unknown', fillRatio: null, flags: [] });
  });

  it('matches ss keys for IPv6, v4-mapped and dual-stack "*" listeners', () => {
    const s = snap(0, [
      listener(80, 0, { protocol: 'tcp6', localAddress: '::', remoteAddress: '::' }),
      listener(81, 0, { protocol: 'tcp6', localAddress: '::1', remoteAddress: '::' }),
      listener(82, 0, { protocol: 'tcp6', localAddress: '::ffff:127.0.0.1', remoteAddress: '::' }),
    ]);
    const rows = buildListenerHealth(
      s,
      {},
      SYSCTLS,
      new Map([
        ['*:80', 10],
        ['[::1]:81', 11],
        ['[::ffff:127.0.0.1]:82', 12],
      ]),
    );
    expect(rows.map((r) => [r.localPort, r.backlog, r.backlogSource])).toEqual([
      [80, 10, 'ss'],
      [81, 11, 'ss'],
      [82, 12, 'ss'],
    ]);
  });

  it('gives connections to the listener that accepted them: same address first, then the wildcard', () => {
    const s = snap(0, [
      listener(53, 0, { localAddress: '127.0.0.53', owner: { pid: 1, command: 'resolved' } }),
      listener(53, 0, { localAddress: '0.0.0.0', owner: { pid: 2, command: 'dnsmasq' } }),
      listener(53, 0, { protocol: 'tcp6', localAddress: '::', remoteAddress: '::', owner: { pid: 2, command: 'dnsmasq' } }),
      conn(53, 'ESTABLISHED', 1, { localAddress: '127.0.0.53' }),
      conn(53, 'ESTABLISHED', 2, { localAddress: '10.0.0.1' }),
      conn(53, 'ESTABLISHED', 3, { localAddress: '10.0.0.1' }),
      conn(53, 'ESTABLISHED', 4, { protocol: 'tcp6', localAddress: 'fe80::1', remoteAddress: 'fe80::2' }),
      conn(53, 'ESTABLISHED', 5, { protocol: 'tcp6', localAddress: '::ffff:10.0.0.1', remoteAddress: '::ffff:10.9.0.1' }),
    ]);
    const rows = buildListenerHealth(s, {}, SYSCTLS);
    const by = (p: string, a: string) => rows.find((r) => r.protocol === p && r.localAddress === a)?.established;
    expect(by('tcp', '127.0.0.53')).toBe(1);
    expect(by('tcp', '0.0.0.0')).toBe(2);
    expect(by('tcp6', '::')).toBe(2);
  });

  it('sorts the fullest first and skips UDP and UNIX listeners', () => {
    const s = snap(0, [
      listener(1, 1),
      listener(2, 900),
      listener(3, 50),
      rec({ protocol: 'udp', state: 'UNCONN', localPort: 4, remotePort: 0 }),
      rec({ protocol: 'unix', state: 'LISTENING', path: '/run/x.sock' }),
    ]);
    expect(buildListenerHealth(s, {}, { ...SYSCTLS, somaxconn: 1000 }).map((r) => r.localPort)).toEqual([2, 3, 1]);
  });

  it('summarizeListenersByPort sums queues and merges flags per port', () => {
    const s = snap(0, [
      listener(80, 9, { inode: 1 }),
      listener(80, 1, { inode: 2 }), // SO_REUSEPORT sibling
      listener(443, 0),
      conn(80, 'SYN_RECV', 1, { inode: 0 }),
    ]);
    const m = summarizeListenersByPort(
      buildListenerHealth(
        s,
        {},
        SYSCTLS,
        new Map([
          ['0.0.0.0:80', 8],
          ['0.0.0.0:443', 8],
        ]),
      ),
    );
    expect(m.get(80)).toEqual({ port: 80, acceptQueue: 10, backlog: 16, backlogIsEstimate: false, synRecv: 1, flags: ['queue-full'] });
    expect(m.get(443)?.flags).toEqual([]);
  });
});
