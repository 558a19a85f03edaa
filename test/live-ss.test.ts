// Live: per-connection rates from `ss -tinH` against a loopback stream paced at a known rate by
// its sender, and UNIX peers from `ss -xH` between a server and a client in two processes.
// Skipped where ss is not installed.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { sumRatesByLocalPort, sumRatesByProcess, totalRates } from '../src/model/conn-rates.js';
import { SessionStore } from '../src/model/session-store.js';
import { countUnixPeersByProcess } from '../src/model/unix-peers.js';
import { buildFrame } from '../src/view/frame.js';
import { initialUiState } from '../src/view/ui-state.js';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { collectUnixPeers, createConnRatesSource } from '../src/proc/collect-conn-rates.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import { DEFAULT_SS_OPTIONS, runCommand } from '../src/proc/read-ss-info.js';

const procFs = createProcFs('/proc');
const deps = {
  procFs,
  owners: createOwnerScanner(procFs),
  userName: (uid: number) => String(uid),
  hostname: () => os.hostname(),
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
};
const ssDeps = { run: runCommand, now: () => Date.now(), monotonicMs: () => performance.now() };

const hasSs = ((): boolean => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
})();

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Start `node -e script`, resolve with its first stdout line. */
function startNode(script: string, args: string[] = []): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ child, line: buf.slice(0, nl) });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Sender paced by the clock: at every tick it sends what RATE * elapsed says is due, so timer
// lateness under load does not lower the average. The receiver reads and drops everything.
const PACED_STREAM = `
const net = require('net');
const RATE = Number(process.argv[1]); // bytes per second
const server = net.createServer((c) => c.on('data', () => {})).listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const client = net.connect(port, '127.0.0.1', () => {
    const start = Date.now();
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 120);
    setInterval(() => {
      const due = Math.floor((RATE * (Date.now() - start)) / 1000) - sent;
      for (let left = due; left > 0; left -= chunk.length) client.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      if (due > 0) sent += due;
    }, 20);
    console.log(port + ' ' + client.localPort);
  });
});
setTimeout(() => process.exit(0), 60000);
`;

describe.skipIf(!hasSs)('live: rates of a paced loopback stream', () => {
  it('the computed bytes/s of both ends are within 15% of the paced 2 MB/s', { timeout: 120_000 }, async () => {
    const RATE = 2_000_000;
    const { child, line } = await startNode(PACED_STREAM, [String(RATE)]);
    const [serverPort, clientPort] = line.split(' ').map(Number) as [number, number];
    const source = createConnRatesSource(ssDeps, DEFAULT_SS_OPTIONS, { intervalMs: 1000, budgetFraction: 0.5 });
    await sleep(1000); // past the first writes

    // ss asked for the stream's port only: cheap however many connections the machine holds.
    const first = await source.refresh(collectSnapshot(deps), [serverPort], true);
    expect(first.ok).toBe(true);
    await sleep(3000);
    const snap = collectSnapshot(deps);
    const second = await source.refresh(snap, [serverPort], true);
    if (!second.ok) throw new Error(second.message);
    expect(second.rates.intervalSec).toBeGreaterThan(2);

    const clientSock = snap.sockets.find((s) => s.protocol === 'tcp' && s.localPort === clientPort && s.remotePort === serverPort);
    const serverSock = snap.sockets.find((s) => s.protocol === 'tcp' && s.localPort === serverPort && s.remotePort === clientPort);
    expect(clientSock?.owner?.pid).toBe(child.pid);
    const out = second.rates.rates.get(clientSock!.key);
    const inn = second.rates.rates.get(serverSock!.key);
    expect(out?.sendBytesPerSec).toBeGreaterThan(RATE * 0.85);
    expect(out?.sendBytesPerSec).toBeLessThan(RATE * 1.15);
    expect(inn?.recvBytesPerSec).toBeGreaterThan(RATE * 0.85);
    expect(inn?.recvBytesPerSec).toBeLessThan(RATE * 1.15);
    expect(out?.rttMs).toBeGreaterThan(0);

    // The same figure summed per process, per listening port and for the host.
    const proc = sumRatesByProcess(snap.sockets, second.rates.rates).find((g) => g.pid === child.pid);
    expect(proc?.sendBytesPerSec).toBeGreaterThan(RATE * 0.85);
    expect(proc?.recvBytesPerSec).toBeGreaterThan(RATE * 0.85);
    const port = sumRatesByLocalPort(snap.sockets, second.rates.rates).find((g) => g.key === String(serverPort));
    expect(port?.recvBytesPerSec).toBeGreaterThan(RATE * 0.85);
    expect(port?.pid).toBe(child.pid);
    expect(totalRates(second.rates.rates).sendBytesPerSec).toBeGreaterThan(RATE * 0.85);
    child.kill('SIGKILL');
  });
});

const UNIX_SERVER = `
const net = require('net');
const server = net.createServer((c) => c.on('data', () => {})).listen(process.argv[1], () => console.log('ready'));
setTimeout(() => process.exit(0), 60000);
`;
const UNIX_CLIENT = `
const net = require('net');
const c = net.connect(process.argv[1], () => console.log('connected'));
setTimeout(() => process.exit(0), 60000);
`;

const UNIX_MANY_CLIENTS = `
const net = require('net');
const n = Number(process.argv[2]);
let open = 0;
for (let i = 0; i < n; i++) net.connect(process.argv[1], () => { if (++open === n) console.log('connected'); });
setTimeout(() => process.exit(0), 60000);
`;

describe.skipIf(!hasSs)('live: UNIX socket peers', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sockscope-peers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the client's socket shows the server's inode and pid, and the other way round", { timeout: 120_000 }, async () => {
    const sockPath = path.join(dir, 'srv.sock');
    const server = await startNode(UNIX_SERVER, [sockPath]);
    const client = await startNode(UNIX_CLIENT, [sockPath]);
    // Both processes also hold UNIX socketpairs for their stdio: the server's end of this
    // connection is the one that carries the bound path (accepted sockets show it too).
    let snap = collectSnapshot(deps);
    const deadline = Date.now() + 10_000;
    const serverEnd = () =>
      snap.sockets.find(
        (s) => s.protocol === 'unix' && s.owner?.pid === server.child.pid && s.state === 'CONNECTED' && s.path === sockPath,
      );
    while (serverEnd() === undefined && Date.now() < deadline) {
      await sleep(100);
      snap = collectSnapshot(deps);
    }
    const serverSock = serverEnd();
    expect(serverSock).toBeDefined();

    const r = await collectUnixPeers(ssDeps, DEFAULT_SS_OPTIONS, snap);
    if (!r.ok) throw new Error(r.message);
    const toClient = r.peers.get(serverSock!.inode);
    expect(toClient?.peerPid).toBe(client.child.pid);
    const clientSock = snap.sockets.find((s) => s.protocol === 'unix' && s.inode === toClient?.peerInode);
    expect(clientSock?.owner?.pid).toBe(client.child.pid);
    expect(r.peers.get(clientSock!.inode)).toEqual({
      peerInode: serverSock!.inode,
      peerPid: server.child.pid,
      peerProcess: 'node',
      peerPath: sockPath,
    });
  });

  it(
    'by process: the client talks to the server over as many sockets as ss -xp says, and the other way round',
    { timeout: 120_000 },
    async () => {
      const CONNECTIONS = 3;
      const sockPath = path.join(dir, 'many.sock');
      const server = await startNode(UNIX_SERVER, [sockPath]);
      const client = await startNode(UNIX_MANY_CLIENTS, [sockPath, String(CONNECTIONS)]);
      const serverPid = server.child.pid!;
      const clientPid = client.child.pid!;
      let snap = collectSnapshot(deps);
      const accepted = () =>
        snap.sockets.filter((s) => s.protocol === 'unix' && s.owner?.pid === serverPid && s.state === 'CONNECTED' && s.path === sockPath)
          .length;
      const deadline = Date.now() + 10_000;
      while (accepted() < CONNECTIONS && Date.now() < deadline) {
        await sleep(100);
        snap = collectSnapshot(deps);
      }
      expect(accepted()).toBe(CONNECTIONS);
      const r = await collectUnixPeers(ssDeps, DEFAULT_SS_OPTIONS, snap);
      if (!r.ok) throw new Error(r.message);

      // The oracle: ss -xp names each socket's users; count one process's sockets whose peer inode
      // belongs to the other process.
      const ssText = execFileSync('ss', ['-xpH'], { encoding: 'utf8', timeout: 10_000 });
      const holders = new Map<number, number[]>();
      const ends: { inode: number; peerInode: number; pids: number[] }[] = [];
      for (const line of ssText.split('\n')) {
        const m = /\s(\d+)\s+\S+\s+(\d+)\s+users:\(\((.*)\)\)\s*$/.exec(line);
        if (m === null) continue;
        const pids = [...m[3]!.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1]));
        holders.set(Number(m[1]), pids);
        ends.push({ inode: Number(m[1]), peerInode: Number(m[2]), pids });
      }
      const ssCount = (from: number, to: number): number =>
        ends.filter((e) => e.pids.includes(from) && (holders.get(e.peerInode) ?? []).includes(to)).length;
      expect(ssCount(clientPid, serverPid)).toBe(CONNECTIONS);
      expect(ssCount(serverPid, clientPid)).toBe(CONNECTIONS);

      const by = countUnixPeersByProcess(snap.sockets, r.peers);
      expect(by.get(String(clientPid))?.find((p) => p.peerPid === serverPid)).toEqual({
        peerPid: serverPid,
        peerProcess: 'node',
        connections: ssCount(clientPid, serverPid),
        path: sockPath,
      });
      expect(by.get(String(serverPid))?.find((p) => p.peerPid === clientPid)?.connections).toBe(ssCount(serverPid, clientPid));

      // The by-process view with the client selected: its note names the server with that count.
      const store = new SessionStore();
      store.ingest(snap);
      store.setUnixPeers(r.peers);
      const ui = { ...initialUiState({ intervalMs: 1000 }), view: 'processes' as const, selectedKey: String(clientPid) };
      const frame = buildFrame({
        session: store.state,
        ui,
        size: { width: 160, height: 40 },
        theme: { ascii: false },
        filter: null,
        context: { modeLabel: null, cost: null, scopeLabel: null, timeZoneOffsetMin: 0, replay: false, tcpInfo: null, details: null },
      });
      if (frame.main?.kind !== 'table') throw new Error('no table');
      expect(frame.selectedKey).toBe(String(clientPid));
      expect(frame.main.notes.join(' ')).toContain(`→ ${serverPid}/node (${ssCount(clientPid, serverPid)}) ${sockPath}`);
      client.child.kill('SIGKILL');
      server.child.kill('SIGKILL');
    },
  );
});
