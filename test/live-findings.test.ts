// Live: provoke the problems findings are about on loopback, for real, and check that the
// listener health and the findings engine see them in snapshots collected from /proc:
//   (a) a python3 listener with listen(1) that never calls accept(), and 10 clients → accept
//       queue full, listen overflows;
//   (b) a server that never closes after the peer's FIN (allowHalfOpen) and 30 clients that
//       end() in three waves → CLOSE_WAIT rising, owned by this test's process.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';

import { compileFilter } from '../src/filter/index.js';
import { FindingsEngine, createDefaultRules, type Finding } from '../src/model/findings.js';
import { SessionStore } from '../src/model/session-store.js';
import type { Snapshot } from '../src/model/types.js';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { readListenBacklogs } from '../src/proc/read-backlogs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import { readNetSysctls } from '../src/proc/read-sysctl.js';

const procFs = createProcFs('/proc');
const baseDeps = {
  procFs,
  userName: (uid: number) => String(uid),
  hostname: () => os.hostname(),
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  protocols: ['tcp', 'tcp6'] as const,
};
const withOwners = { ...baseDeps, owners: createOwnerScanner(procFs) };
const withoutOwners = { ...baseDeps, owners: null };

/** The real interpreter behind `python3` (pyenv shims exec it), so the child's pid is the owner's. */
function findPython(): string | null {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}

const until = async (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Feeds snapshots through the dashboard's own session store (ingest: tracker, rates, listener health, findings). */
class Pipeline {
  private readonly store: SessionStore;
  readonly sysctls = readNetSysctls(procFs);
  constructor(engine: FindingsEngine, backlogs: Map<string, number> | null) {
    this.store = new SessionStore({ createFindingsEngine: () => engine });
    this.store.setEnvironment({ sysctls: this.sysctls, backlogs });
  }
  step(snapshot: Snapshot) {
    const live = this.store.ingest(snapshot).live;
    if (live === null) throw new Error('ingest gave no picture');
    return { rates: live.rates, listeners: live.listeners, findings: live.findings };
  }
}

const python = findPython();

describe.skipIf(python === null)('live: a listener that never accepts', () => {
  let child: ChildProcess | null = null;
  const clients: net.Socket[] = [];
  afterAll(() => {
    for (const c of clients) c.destroy();
    child?.stdin?.end();
    child?.kill();
  });

  it('fills its accept queue: listener health flags it and the accept-queue finding names python', async () => {
    const script = [
      'import socket, sys',
      's = socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
      "s.bind(('127.0.0.1', 0))",
      's.listen(1)',
      'print(s.getsockname()[1], flush=True)',
      'sys.stdin.read()  # never accept(); exit when the test closes stdin',
    ].join('\n');
    const proc = spawn(python as string, ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    child = proc;
    const port = await new Promise<number>((resolve, reject) => {
      proc.once('error', reject);
      proc.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    });
    expect(port).toBeGreaterThan(0);

    const backlogs = await readListenBacklogs(5000);
    const pipeline = new Pipeline(new FindingsEngine(), backlogs);
    pipeline.step(collectSnapshot(withOwners));

    for (let i = 0; i < 10; i++) {
      const c = net.connect({ port, host: '127.0.0.1' });
      c.on('error', () => {}); // connects that time out or are reset at cleanup
      clients.push(c);
    }
    // Two handshakes complete (the kernel queues backlog + 1), the other SYNs are dropped.
    const isOurs = (s: Snapshot['sockets'][number]) => s.state === 'LISTEN' && s.localPort === port && s.localAddress === '127.0.0.1';
    await until(() => (collectSnapshot(withoutOwners).sockets.find(isOurs)?.recvQ ?? 0) >= 2, 'a full accept queue');
    await new Promise((r) => setTimeout(r, 200));

    const { rates, listeners, findings } = pipeline.step(collectSnapshot(withOwners));
    const row = listeners.find((l) => l.localPort === port && l.localAddress === '127.0.0.1');
    expect(row).toBeDefined();
    expect(row!.acceptQueue).toBeGreaterThanOrEqual(2);
    expect(row!.owner?.pid).toBe(proc.pid);
    expect(row!.flags).toContain('queue-full');
    if (backlogs.size > 0) {
      // ss is installed: the exact limit, 1, and the queue at backlog + 1.
      expect(row).toMatchObject({ backlog: 1, backlogSource: 'ss', backlogIsEstimate: false });
      expect(row!.fillRatio).toBeGreaterThanOrEqual(1);
    } else {
      expect(row!.backlogIsEstimate).toBe(true);
    }
    expect((rates['TcpExt.ListenOverflows'] ?? 0) + (rates['TcpExt.ListenDrops'] ?? 0)).toBeGreaterThan(0);
    expect(row!.flags).toContain('dropping');

    const f = findings.find((x: Finding) => x.rule === 'accept-queue-full' && x.subject.port === port);
    expect(f).toBeDefined();
    expect(f).toMatchObject({ severity: 'crit', holding: true, subject: { port, pid: proc.pid } });
    expect(f!.subject.process).toMatch(/^python/);
    expect(f!.title).toMatch(new RegExp(`Accept queue full on port ${port}: python`));
    expect(f!.detail).toMatch(/machine-wide/);
    const compiled = compileFilter(f!.filter);
    if (!compiled.ok) throw new Error(compiled.error.message);
    const now = collectSnapshot(withoutOwners);
    expect(now.sockets.filter(compiled.filter).map((s) => [s.state, s.localAddress, s.localPort])).toEqual([['LISTEN', '127.0.0.1', port]]);
  });
});

describe('live: a server that never closes after the peer does', () => {
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    held.push(c);
    c.on('error', () => {});
    c.resume(); // read the FIN (end event) but never end() or destroy()
  });
  const held: net.Socket[] = [];
  const clients: net.Socket[] = [];
  afterAll(async () => {
    for (const s of [...held, ...clients]) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('CLOSE_WAIT rises wave after wave: the finding names this process and its filter lists exactly those sockets', async () => {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
    const engine = new FindingsEngine(createDefaultRules({ closeWait: { minCount: 5, risingSamples: 3 } }));
    const pipeline = new Pipeline(engine, null);
    const ours = (s: Snapshot['sockets'][number]) =>
      s.state === 'CLOSE_WAIT' && s.localPort === port && s.localAddress === '127.0.0.1' && s.remoteAddress === '127.0.0.1';
    const results: (readonly Finding[])[] = [pipeline.step(collectSnapshot(withOwners)).findings];
    let snapshot: Snapshot | null = null;

    for (let wave = 1; wave <= 3; wave++) {
      for (let i = 0; i < 10; i++) {
        const c = net.connect({ port, host: '127.0.0.1' }, () => c.end()); // send FIN, keep the socket
        c.on('error', () => {});
        clients.push(c);
      }
      await until(() => held.length === wave * 10, `${wave * 10} accepted connections`);
      await until(() => collectSnapshot(withoutOwners).sockets.filter(ours).length === wave * 10, `${wave * 10} CLOSE_WAIT sockets`);
      snapshot = collectSnapshot(withOwners);
      results.push(pipeline.step(snapshot).findings);
    }

    const cw = (fs: readonly Finding[]) => fs.find((f) => f.rule === 'close-wait-rising' && f.subject.port === port);
    expect(cw(results[1]!)).toBeUndefined(); // 10 sockets, but only two samples so far
    const first = cw(results[2]!); // 0 → 10 → 20
    const last = cw(results[3]!); // 10 → 20 → 30
    expect(first).toBeDefined();
    expect(last).toBeDefined();
    expect(last!.sinceMs).toBe(first!.sinceMs);

    const mine = snapshot!.sockets.filter(ours);
    expect(mine.length).toBe(30);
    expect(mine.every((s) => s.owner?.pid === process.pid)).toBe(true);
    expect(last).toMatchObject({
      id: `close-wait-rising:sport ${port}`,
      severity: 'warn',
      subject: { port, pid: process.pid, process: mine[0]!.owner!.command },
      filter: `state close-wait and sport ${port}`,
    });
    expect(last!.title).toContain(`(pid ${process.pid}) is not closing sockets`);
    expect(last!.detail).toMatch(/30 connections on port \d+ are in CLOSE_WAIT \(grew from 10 to 30/);

    const compiled = compileFilter(last!.filter);
    if (!compiled.ok) throw new Error(compiled.error.message);
    expect(
      snapshot!.sockets
        .filter(compiled.filter)
        .map((s) => s.key)
        .sort(),
    ).toEqual(mine.map((s) => s.key).sort());
  });
});
