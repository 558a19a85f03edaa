// Live: real loopback servers and clients opened by this test must appear in a snapshot in the
// right states, with the right ports and owning pid; ss (iproute2) is the oracle for counts.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSnapshot, collectSnapshotAsync } from '../src/proc/collect-snapshot.js';
import { createInlineOwnerSource } from '../src/proc/owner-source.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import type { Snapshot, SocketRecord } from '../src/model/types.js';

const procFs = createProcFs('/proc');
const deps = {
  procFs,
  owners: createOwnerScanner(procFs),
  userName: (uid: number) => (uid === 0 ? 'root' : String(uid)),
  hostname: () => os.hostname(),
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
};

const hasIpv6 = (procFs.readText('net/tcp6') ?? '').split('\n').length > 0 && procFs.readText('net/if_inet6') !== null;

function listen(server: net.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function connect(port: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host }, () => resolve(s));
    s.once('error', reject);
  });
}

/** IPv4 sockets between 127.0.0.1 and 127.0.0.1 (or unbound peers); IPv6 ones pass. */
const onLo = (r: SocketRecord): boolean =>
  r.protocol !== 'tcp' || (r.localAddress === '127.0.0.1' && (r.remoteAddress === '127.0.0.1' || r.remoteAddress === '0.0.0.0'));

const until = async (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

function ss(args: string[]): Promise<string | null> {
  return new Promise((resolve) => execFile('ss', args, { timeout: 10_000 }, (err, out) => resolve(err ? null : out)));
}

describe('live loopback sockets', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  let child: ChildProcess;
  let childPort = 0;
  let estPort = 0;
  let halfPort = 0;
  let twPort = 0;
  let mappedPort = 0;
  let v6Port = 0;
  let snap: Snapshot;

  beforeAll(async () => {
    // A listener owned by another process, with one connection from us.
    child = spawn(
      process.execPath,
      [
        '-e',
        "const s=require('net').createServer(c=>{}).listen(0,'127.0.0.1',()=>{console.log(s.address().port)});setInterval(()=>{},1000)",
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    childPort = await new Promise<number>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    sockets.push(await connect(childPort, '127.0.0.1'));

    // ESTABLISHED pair, both ends ours.
    const est = net.createServer((c) => sockets.push(c));
    servers.push(est);
    estPort = await listen(est, '127.0.0.1');
    sockets.push(await connect(estPort, '127.0.0.1'));

    // Half-closed: the client sends FIN, the server never closes → server CLOSE_WAIT, client FIN_WAIT2.
    const half = net.createServer({ allowHalfOpen: true }, (c) => sockets.push(c));
    servers.push(half);
    halfPort = await listen(half, '127.0.0.1');
    const halfClient = await connect(halfPort, '127.0.0.1');
    halfClient.end();
    sockets.push(halfClient);

    // TIME_WAIT: the client closes first, the server answers with its FIN.
    const tw = net.createServer((c) => c.on('end', () => c.end()));
    servers.push(tw);
    twPort = await listen(tw, '127.0.0.1');
    const twClient = await connect(twPort, '127.0.0.1');
    await new Promise<void>((resolve) => {
      twClient.on('close', () => resolve());
      twClient.end();
    });

    // Dual-stack listener reached over IPv4: a v4-mapped IPv6 socket.
    if (hasIpv6) {
      const mapped = net.createServer((c) => sockets.push(c));
      servers.push(mapped);
      mappedPort = await listen(mapped, '::');
      sockets.push(await connect(mappedPort, '127.0.0.1'));
      const v6 = net.createServer((c) => sockets.push(c));
      servers.push(v6);
      v6Port = await listen(v6, '::1');
      sockets.push(await connect(v6Port, '::1'));
    }

    const ready = (s: Snapshot): boolean =>
      s.sockets.some((r) => onLo(r) && r.localPort === halfPort && r.state === 'CLOSE_WAIT') &&
      s.sockets.some((r) => onLo(r) && r.remotePort === halfPort && r.state === 'FIN_WAIT2') &&
      s.sockets.some((r) => onLo(r) && r.remotePort === twPort && r.state === 'TIME_WAIT');
    await until(() => ready((snap = collectSnapshot(deps))), 'CLOSE_WAIT, FIN_WAIT2 and TIME_WAIT to appear');
  });

  afterAll(() => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    child?.kill();
  });

  // Other programs (load generators, parallel tests) may use the same port numbers on other
  // loopback addresses: IPv4 sockets count only when both ends are on 127.0.0.1.
  const find = (pred: (r: SocketRecord) => boolean): SocketRecord[] => snap.sockets.filter((r) => onLo(r) && pred(r));

  it('finds listeners with their owning pid and command', () => {
    const [l] = find((r) => r.protocol === 'tcp' && r.state === 'LISTEN' && r.localPort === childPort);
    expect(l).toBeDefined();
    expect(l?.localAddress).toBe('127.0.0.1');
    expect(l?.owner?.pid).toBe(child.pid);
    expect(l?.owner?.command).toBe('node');
    expect(l?.owner?.commandLine).toContain('createServer');
    const [mine] = find((r) => r.state === 'LISTEN' && r.localPort === estPort);
    expect(mine?.owner?.pid).toBe(process.pid);
    expect(mine?.user).toBe(os.userInfo().uid === 0 ? 'root' : String(os.userInfo().uid));
  });

  it('finds both ends of an ESTABLISHED pair with matching ports', () => {
    const server = find((r) => r.state === 'ESTABLISHED' && r.localPort === estPort);
    const client = find((r) => r.state === 'ESTABLISHED' && r.remotePort === estPort);
    expect(server).toHaveLength(1);
    expect(client).toHaveLength(1);
    expect(server[0]?.remotePort).toBe(client[0]?.localPort);
    expect(server[0]?.owner?.pid).toBe(process.pid);
    expect(client[0]?.owner?.pid).toBe(process.pid);
    expect(server[0]?.inode).toBeGreaterThan(0);
  });

  it('shows the half-closed pair as CLOSE_WAIT (server) and FIN_WAIT2 (client)', () => {
    expect(find((r) => r.localPort === halfPort && r.state === 'CLOSE_WAIT')).toHaveLength(1);
    expect(find((r) => r.remotePort === halfPort && r.state === 'FIN_WAIT2')).toHaveLength(1);
  });

  it('shows the actively closed client as TIME_WAIT with no inode and no owner', () => {
    const tw = find((r) => r.remotePort === twPort && r.state === 'TIME_WAIT');
    expect(tw.length).toBeGreaterThanOrEqual(1);
    expect(tw[0]?.inode).toBe(0);
    expect(tw[0]?.owner).toBeNull();
    expect(tw[0]?.timer).toBe('timewait');
    expect(tw[0]?.timerMs).toBeGreaterThan(0);
    expect(tw[0]?.timerMs).toBeLessThanOrEqual(60_000);
  });

  it.skipIf(!hasIpv6)('decodes ::1 and v4-mapped addresses from tcp6', () => {
    const v6 = find((r) => r.protocol === 'tcp6' && r.state === 'ESTABLISHED' && r.localPort === v6Port);
    expect(v6).toHaveLength(1);
    expect(v6[0]?.localAddress).toBe('::1');
    expect(v6[0]?.remoteAddress).toBe('::1');
    const mapped = find((r) => r.protocol === 'tcp6' && r.state === 'ESTABLISHED' && r.localPort === mappedPort);
    expect(mapped).toHaveLength(1);
    expect(mapped[0]?.localAddress).toBe('::ffff:127.0.0.1');
    const listener = find((r) => r.protocol === 'tcp6' && r.state === 'LISTEN' && r.localPort === mappedPort);
    expect(listener[0]?.localAddress).toBe('::');
  });

  it('the async collector with owners behind the async interface agrees with the sync one', async () => {
    const async = await collectSnapshotAsync({ ...deps, owners: createInlineOwnerSource(createOwnerScanner(procFs)) });
    const pick = (s: Snapshot): string[] =>
      s.sockets
        .filter((r) => onLo(r) && (r.localPort === estPort || r.remotePort === estPort))
        .map((r) => `${r.state} ${r.localPort} ${r.remotePort} ${r.owner?.pid}`)
        .sort();
    expect(pick(async)).toEqual(pick(snap));
  });

  it('agrees with ss on the states of this test’s ports', async () => {
    const out = await ss(['-tanH']);
    if (out === null) return; // ss not installed: nothing to compare with
    const ports = new Set([estPort, halfPort, childPort, twPort]);
    const portOf = (ep: string): number => Number(ep.slice(ep.lastIndexOf(':') + 1));
    const ssStates = out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.trim().split(/\s+/))
      .filter(
        (f) =>
          f.length >= 5 && ports.has(portOf(f[3] ?? '')) && (f[3] ?? '').startsWith('127.0.0.1:') && (f[4] ?? '').startsWith('127.0.0.1:'),
      )
      .map((f) => `${f[0]} ${portOf(f[3] ?? '')}`)
      .sort();
    const SS_NAME: Record<string, string> = {
      ESTABLISHED: 'ESTAB',
      CLOSE_WAIT: 'CLOSE-WAIT',
      FIN_WAIT2: 'FIN-WAIT-2',
      TIME_WAIT: 'TIME-WAIT',
    };
    const fresh = collectSnapshot(deps);
    const ours = fresh.sockets
      .filter((r) => r.protocol === 'tcp' && onLo(r) && ports.has(r.localPort) && r.remoteAddress === '127.0.0.1' && r.state !== 'LISTEN')
      .map((r) => `${SS_NAME[r.state] ?? r.state} ${r.localPort}`)
      .sort();
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(ssStates);
  });
});
