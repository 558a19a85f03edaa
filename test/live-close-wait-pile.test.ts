// Live: a CLOSE_WAIT pile that stays. A loopback server (this process) never closes accepted
// sockets after its clients close; all 25 clients end() before the first snapshot, so the count
// never rises while sockscope watches. The findings engine (with steadyMs shortened to 500 ms of
// snapshot time) must still report the pile, name its port and this process, say "pile" in the
// title as in the text, and its filter must list exactly the sockets `ss` lists in CLOSE-WAIT.

import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';

import { compileFilter } from '../src/filter/index.js';
import { FindingsEngine, createDefaultRules, type Finding } from '../src/model/findings.js';
import { buildListenerHealth } from '../src/model/listener-health.js';
import type { Snapshot, SocketRecord } from '../src/model/types.js';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import { readNetSysctls } from '../src/proc/read-sysctl.js';

const procFs = createProcFs('/proc');
const deps = {
  procFs,
  userName: (uid: number) => String(uid),
  hostname: () => os.hostname(),
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  protocols: ['tcp', 'tcp6'] as const,
  owners: createOwnerScanner(procFs),
};

const until = async (check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Local ports of the sockets `ss` lists in CLOSE-WAIT with local port `port`, or null without ss. */
function ssCloseWaitPeers(port: number): number[] | null {
  const r = spawnSync('ss', ['-Htn', 'state', 'close-wait', 'sport', `= :${port}`], { encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined || r.status !== 0) return null;
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Number(/:(\d+)\s*$/.exec(l.trim())?.[1]))
    .sort((a, b) => a - b);
}

describe('live: a CLOSE_WAIT pile that never grows while watched', () => {
  const held: net.Socket[] = [];
  const clients: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    held.push(c);
    c.on('error', () => {});
    c.resume(); // read the FIN, never end() or destroy()
  });
  afterAll(async () => {
    for (const s of [...held, ...clients]) s.destroy();
    await new Promise((r) => server.close(r));
  });

  // Generous timeout: every snapshot reads the whole machine's tables, slow on a busy one.
  it('is reported as a pile that stays, naming port and process, with a filter that matches ss', { timeout: 120_000 }, async () => {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
    const ours = (s: SocketRecord) => s.state === 'CLOSE_WAIT' && s.localPort === port && s.localAddress === '127.0.0.1';
    for (let i = 0; i < 25; i++) {
      const c = net.connect({ port, host: '127.0.0.1' }, () => c.end());
      c.on('error', () => {});
      clients.push(c);
    }
    await until(() => held.length === 25, '25 accepted connections');
    await until(() => collectSnapshot({ ...deps, owners: null }).sockets.filter(ours).length === 25, '25 CLOSE_WAIT sockets');

    const steadyMs = 500;
    const engine = new FindingsEngine(createDefaultRules({ closeWait: { minCount: 20, steadyMs } }));
    const sysctls = readNetSysctls(procFs);
    const step = (snapshot: Snapshot): Finding | undefined =>
      engine
        .update({ snapshot, previous: null, diff: null, rates: {}, sysctls, listeners: buildListenerHealth(snapshot, {}, sysctls, null) })
        .find((f) => f.rule === 'close-wait-rising' && f.subject.port === port);

    // Refreshes without owners (cheap) while the pile is younger than steadyMs: nothing yet.
    const cheap = { ...deps, owners: null };
    const first = collectSnapshot(cheap);
    expect(first.sockets.filter(ours)).toHaveLength(25);
    expect(step(first)).toBeUndefined(); // a pile seen once is not yet a pile that stays
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (Date.now() >= first.takenAtMs + steadyMs) break;
      const young = collectSnapshot(cheap);
      if (young.takenAtMs - first.takenAtMs < steadyMs) expect(step(young)).toBeUndefined();
    }
    // steadyMs of snapshot time later, with owners: the pile that stays, named.
    const last = collectSnapshot(deps);
    expect(last.takenAtMs - first.takenAtMs).toBeGreaterThanOrEqual(steadyMs);
    const finding = step(last);
    expect(finding).toBeDefined();
    const mine = last.sockets.filter(ours);
    expect(mine).toHaveLength(25);
    expect(mine.every((s) => s.owner?.pid === process.pid)).toBe(true);
    expect(finding).toMatchObject({
      id: `close-wait-rising:sport ${port}`,
      severity: 'warn',
      subject: { port, pid: process.pid, process: mine[0]!.owner!.command },
      filter: `state close-wait and sport ${port}`,
    });
    expect(finding!.title).toMatch(
      new RegExp(`^CLOSE_WAIT pile of 25 staying on port ${port} for \\d+s: .* \\(pid ${process.pid}\\) is not closing sockets$`),
    );
    expect(finding!.title).not.toMatch(/rising/);
    expect(finding!.detail).toMatch(
      new RegExp(`^25 connections on port ${port} are in CLOSE_WAIT \\(at least 20 in every refresh for \\d+s, 25 now\\)`),
    );

    const compiled = compileFilter(finding!.filter);
    if (!compiled.ok) throw new Error(compiled.error.message);
    const selected = last.sockets.filter(compiled.filter);
    expect(selected.map((s) => s.key).sort()).toEqual(mine.map((s) => s.key).sort());
    const fromSs = ssCloseWaitPeers(port);
    if (fromSs !== null) expect(selected.map((s) => s.remotePort).sort((a, b) => a - b)).toEqual(fromSs);
  });
});
