import { describe, expect, it } from 'vitest';

import { ListeningEndpoints, countByLocalPort, countByRemotePort } from '../src/model/aggregate.js';
import { rec } from './helpers/records.js';

describe('countByRemotePort: client-side sockets per remote port', () => {
  const listener = rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, owner: { pid: 1, command: 'app' } });
  const inbound = rec({ localPort: 8080, remoteAddress: '10.0.0.9', remotePort: 51000, owner: { pid: 1, command: 'app' } });
  const toDb = [
    rec({ localPort: 40001, remoteAddress: '10.0.0.5', remotePort: 5432, owner: { pid: 1, command: 'app' } }),
    rec({ state: 'TIME_WAIT', localPort: 40002, remoteAddress: '10.0.0.5', remotePort: 5432, inode: 0 }),
    rec({ state: 'TIME_WAIT', localPort: 40003, remoteAddress: '10.0.0.6', remotePort: 5432, inode: 0 }),
  ];
  const toWeb = [
    rec({ localPort: 40004, remoteAddress: '1.1.1.1', remotePort: 443, owner: { pid: 1, command: 'app' } }),
    rec({ localPort: 40005, remoteAddress: '1.1.1.1', remotePort: 443, owner: { pid: 2, command: 'curl' } }),
  ];
  const udpDns = rec({ protocol: 'udp', state: 'ESTABLISHED', localPort: 40006, remoteAddress: '10.0.0.53', remotePort: 53 });
  const unix = rec({ protocol: 'unix' });
  const sockets = [listener, inbound, ...toDb, ...toWeb, udpDns, unix];

  it('counts per remote port with states, TIME_WAIT included; the inbound side and listeners left out', () => {
    const rows = countByRemotePort(sockets);
    expect(rows.map((r) => [r.key, r.label, r.total, r.states])).toEqual([
      ['to:5432', '→:5432', 3, { ESTABLISHED: 1, TIME_WAIT: 2 }],
      ['to:443', '→:443', 2, { ESTABLISHED: 2 }],
      ['to:53', '→:53', 1, { ESTABLISHED: 1 }],
    ]);
  });

  it('one owner → that owner; mixed owners → none', () => {
    const rows = countByRemotePort(sockets);
    expect(rows.find((r) => r.key === 'to:5432')).toMatchObject({ pid: 1, process: 'app', listening: false });
    expect(rows.find((r) => r.key === 'to:443')).toMatchObject({ pid: null, process: null });
  });

  it('the server side of the same port stays with countByLocalPort', () => {
    const local = countByLocalPort(sockets);
    expect(local.map((r) => r.key)).toEqual(['8080']);
    expect(countByRemotePort(sockets).some((r) => r.key === 'to:51000')).toBe(false);
  });
});

describe('countByRemotePort under a filter', () => {
  it("the listening ports of the whole snapshot keep a hidden listener's accepted connections out", () => {
    const listener = rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0 });
    const acceptedTw = rec({ state: 'TIME_WAIT', localPort: 8080, remoteAddress: '10.0.0.9', remotePort: 51000, inode: 0 });
    const clientTw = rec({ state: 'TIME_WAIT', localPort: 40002, remoteAddress: '10.0.0.5', remotePort: 5432, inode: 0 });
    const shown = [acceptedTw, clientTw]; // "state time-wait" hides the listener
    expect(countByRemotePort(shown).map((r) => r.key)).toEqual(['to:51000', 'to:5432']);
    const listening = new ListeningEndpoints([listener, ...shown]);
    expect(countByRemotePort(shown, listening).map((r) => r.key)).toEqual(['to:5432']);
    // ... and the accepted TIME_WAIT still counts under its service port.
    expect(countByLocalPort(shown).map((r) => r.key)).toEqual([]);
    expect(countByLocalPort(shown, listening).map((r) => [r.key, r.total])).toEqual([['8080', 1]]);
  });
});

describe('the service side is the listened address and port, not the port alone', () => {
  // A load generator binds its clients to 127.0.0.2…: a client's ephemeral port may equal the
  // port a server listens on at 127.0.0.1. That client is not the server's inbound side.
  const listener = rec({ state: 'LISTEN', localAddress: '127.0.0.1', localPort: 34771, remoteAddress: '0.0.0.0', remotePort: 0 });
  const accepted = rec({ localAddress: '127.0.0.1', localPort: 34771, remoteAddress: '127.0.0.2', remotePort: 40000 });
  const client = rec({ localAddress: '127.0.0.2', localPort: 34771, remoteAddress: '127.0.0.1', remotePort: 37189 });
  const wildcard = rec({ state: 'LISTEN', localAddress: '0.0.0.0', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0 });
  const onAnyAddress = rec({ localAddress: '10.1.2.3', localPort: 8080, remoteAddress: '10.9.9.9', remotePort: 50000 });
  const v6Any = rec({ protocol: 'tcp6', state: 'LISTEN', localAddress: '::', localPort: 9090, remoteAddress: '::', remotePort: 0 });
  const mapped = rec({
    protocol: 'tcp6',
    localAddress: '::ffff:127.0.0.1',
    localPort: 9090,
    remoteAddress: '::ffff:127.0.0.1',
    remotePort: 50001,
  });
  const udpClient = rec({
    protocol: 'udp',
    state: 'ESTABLISHED',
    localAddress: '127.0.0.1',
    localPort: 34771,
    remoteAddress: '127.0.0.53',
    remotePort: 53,
  });
  const sockets = [listener, accepted, client, wildcard, onAnyAddress, v6Any, mapped, udpClient];

  it('a client on another address with the same port counts as a client; wildcard listeners cover every address', () => {
    const local = countByLocalPort(sockets);
    expect(local.map((r) => [r.key, r.total])).toEqual([
      ['34771', 2],
      ['8080', 2],
      ['9090', 2],
    ]);
    expect(countByRemotePort(sockets).map((r) => [r.key, r.total])).toEqual([
      ['to:37189', 1],
      ['to:53', 1],
    ]);
  });
});
