import { describe, expect, it } from 'vitest';

import { PROTOCOL_GROUP, countByLocalPort, countByProcess, countByRemoteHost, countByState, totalOf } from '../src/model/aggregate.js';
import type { SocketRecord } from '../src/model/types.js';
import { rec } from './helpers/records.js';

const any4 = { remoteAddress: '0.0.0.0', remotePort: 0 } as const;

describe('PROTOCOL_GROUP', () => {
  it.each([
    ['tcp', 'tcp'],
    ['tcp6', 'tcp'],
    ['udp', 'udp'],
    ['udp6', 'udp'],
    ['raw', 'raw'],
    ['raw6', 'raw'],
    ['unix', 'unix'],
  ] as const)('%s → %s', (protocol, group) => {
    expect(PROTOCOL_GROUP[protocol]).toBe(group);
  });
});

describe('countByState', () => {
  it('empty input: four empty groups', () => {
    expect(countByState([])).toEqual({ tcp: {}, udp: {}, raw: {}, unix: {} });
  });

  it('counts per protocol group and state; tcp6 adds to tcp, udp6 to udp', () => {
    const sockets: SocketRecord[] = [
      rec({ protocol: 'tcp', state: 'LISTEN', ...any4 }),
      rec({ protocol: 'tcp6', state: 'LISTEN', remotePort: 0 }),
      rec({ protocol: 'tcp', state: 'ESTABLISHED' }),
      rec({ protocol: 'tcp', state: 'ESTABLISHED' }),
      rec({ protocol: 'tcp6', state: 'ESTABLISHED' }),
      rec({ protocol: 'tcp', state: 'TIME_WAIT', inode: 0 }),
      rec({ protocol: 'udp', state: 'UNCONN', ...any4 }),
      rec({ protocol: 'udp6', state: 'UNCONN', remotePort: 0 }),
      rec({ protocol: 'udp', state: 'ESTABLISHED' }),
      rec({ protocol: 'raw6', state: 'UNCONN', remotePort: 0 }),
      rec({ protocol: 'unix', state: 'CONNECTED' }),
      rec({ protocol: 'unix', state: 'LISTENING' }),
      rec({ protocol: 'unix', state: 'CONNECTED' }),
    ];
    expect(countByState(sockets)).toEqual({
      tcp: { LISTEN: 2, ESTABLISHED: 3, TIME_WAIT: 1 },
      udp: { UNCONN: 2, ESTABLISHED: 1 },
      raw: { UNCONN: 1 },
      unix: { CONNECTED: 2, LISTENING: 1 },
    });
  });
});

describe('totalOf', () => {
  it.each([
    [{}, 0],
    [{ ESTABLISHED: 3 }, 3],
    [{ ESTABLISHED: 300000, SYN_RECV: 3, TIME_WAIT: 12 }, 300015],
    [{ LISTEN: undefined, CLOSE_WAIT: 2 }, 2],
  ])('%j → %d', (counts, total) => {
    expect(totalOf(counts)).toBe(total);
  });
});

describe('countByLocalPort', () => {
  const nginx = { pid: 200, command: 'nginx' };
  const nginxWorker = { pid: 201, command: 'nginx' };
  const sockets: SocketRecord[] = [
    // Port 80: two listeners (v4 and v6; the lowest pid is reported) and three inbound connections.
    rec({ state: 'LISTEN', localPort: 80, ...any4, recvQ: 2, owner: nginxWorker }),
    rec({
      protocol: 'tcp6',
      state: 'LISTEN',
      localAddress: '::',
      localPort: 80,
      remoteAddress: '::',
      remotePort: 0,
      recvQ: 1,
      owner: nginx,
    }),
    rec({ localPort: 80, remotePort: 50001, owner: nginxWorker }),
    rec({ localPort: 80, remotePort: 50002, owner: nginxWorker }),
    rec({ localPort: 80, remotePort: 50003, state: 'TIME_WAIT', inode: 0 }),
    // Port 5432: a listener with no known owner, one connection in CLOSE_WAIT.
    rec({ state: 'LISTEN', localPort: 5432, ...any4 }),
    rec({ localPort: 5432, remotePort: 60000, state: 'CLOSE_WAIT' }),
    // UDP 53: unconnected counts as listening.
    rec({ protocol: 'udp', state: 'UNCONN', localPort: 53, ...any4, owner: { pid: 50, command: 'dnsmasq' } }),
    // Outbound client sockets on ephemeral ports: left out.
    rec({ localPort: 45678, remotePort: 443 }),
    rec({ localPort: 45679, remotePort: 443 }),
    // UNIX sockets are never port groups.
    rec({ protocol: 'unix', state: 'LISTENING' }),
  ];

  it('lists services: listener ports with their inbound connections, biggest first', () => {
    const rows = countByLocalPort(sockets);
    expect(rows.map((r) => [r.key, r.total, r.states, r.acceptQueue, r.listening, r.pid, r.process, r.protocols])).toEqual([
      ['80', 5, { LISTEN: 2, ESTABLISHED: 2, TIME_WAIT: 1 }, 3, true, 200, 'nginx', ['tcp', 'tcp6']],
      ['5432', 2, { LISTEN: 1, CLOSE_WAIT: 1 }, 0, true, null, null, ['tcp']],
      ['53', 1, { UNCONN: 1 }, 0, true, 50, 'dnsmasq', ['udp']],
    ]);
  });

  it('no listeners → no rows', () => {
    expect(countByLocalPort([rec({ localPort: 45678, remotePort: 443 })])).toEqual([]);
  });

  it('equal totals are ordered by key text', () => {
    const rows = countByLocalPort([
      rec({ state: 'LISTEN', localPort: 9000, ...any4 }),
      rec({ state: 'LISTEN', localPort: 22, ...any4 }),
      rec({ state: 'LISTEN', localPort: 443, ...any4 }),
    ]);
    expect(rows.map((r) => r.key)).toEqual(['22', '443', '9000']);
  });
});

describe('countByRemoteHost', () => {
  it('groups connected inet sockets by peer address; listeners and unix are left out', () => {
    const rows = countByRemoteHost([
      rec({ remoteAddress: '10.0.0.7', remotePort: 443 }),
      rec({ remoteAddress: '10.0.0.7', remotePort: 443, state: 'TIME_WAIT', inode: 0 }),
      rec({ remoteAddress: '10.0.0.7', remotePort: 5432, state: 'SYN_SENT' }),
      rec({ protocol: 'tcp6', remoteAddress: '2001:db8::1', remotePort: 443 }),
      rec({ remoteAddress: '192.168.1.1', remotePort: 22 }),
      rec({ state: 'LISTEN', ...any4 }),
      rec({ protocol: 'udp', state: 'UNCONN', ...any4 }),
      rec({ protocol: 'unix' }),
    ]);
    expect(rows.map((r) => [r.key, r.label, r.total, r.states])).toEqual([
      ['10.0.0.7', '10.0.0.7', 3, { ESTABLISHED: 1, TIME_WAIT: 1, SYN_SENT: 1 }],
      ['192.168.1.1', '192.168.1.1', 1, { ESTABLISHED: 1 }],
      ['2001:db8::1', '2001:db8::1', 1, { ESTABLISHED: 1 }],
    ]);
  });
});

describe('countByProcess', () => {
  it('groups by owner pid; unknown owners share one row', () => {
    const rows = countByProcess([
      rec({ owner: { pid: 10, command: 'sshd' }, state: 'LISTEN', ...any4 }),
      rec({ owner: { pid: 10, command: 'sshd' } }),
      rec({ owner: { pid: 300, command: 'postgres' } }),
      rec({ owner: { pid: 300, command: 'postgres' }, protocol: 'unix', state: 'LISTENING' }),
      rec({ owner: { pid: 300, command: 'postgres' } }),
      rec({ owner: null, state: 'TIME_WAIT', inode: 0 }),
      rec({ owner: null, state: 'TIME_WAIT', inode: 0 }),
    ]);
    expect(rows.map((r) => [r.key, r.label, r.total, r.pid, r.process, r.states])).toEqual([
      ['300', 'postgres', 3, 300, 'postgres', { ESTABLISHED: 2, LISTENING: 1 }],
      ['-', '(unknown owner)', 2, null, null, { TIME_WAIT: 2 }],
      ['10', 'sshd', 2, 10, 'sshd', { LISTEN: 1, ESTABLISHED: 1 }],
    ]);
  });

  it('same command, different pids: separate rows', () => {
    const rows = countByProcess([rec({ owner: { pid: 1, command: 'w' } }), rec({ owner: { pid: 2, command: 'w' } })]);
    expect(rows.map((r) => r.key)).toEqual(['1', '2']);
  });
});
