import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { FD_BUDGET, assignConnections, planPopulation, startPopulation, type ListenerInfo, type Population } from '../bench/loadgen.js';

const execFileAsync = promisify(execFile);

async function hasSs(): Promise<boolean> {
  try {
    await execFileAsync('ss', ['-V']);
    return true;
  } catch {
    return false;
  }
}

async function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '::1', port: 0 }, () => srv.close(() => resolve(true)));
  });
}

const SS = await hasSs();
const IPV6 = await ipv6Loopback();

function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `ss -tan` state counts of the sockets whose local or peer endpoint is one of the listeners. */
async function ssStates(listeners: readonly ListenerInfo[]): Promise<Record<string, number>> {
  const eps = new Set(listeners.map((l) => endpoint(l.host, l.port)));
  // Other processes may hold 100k+ sockets: the output can be many MB.
  const { stdout } = await execFileAsync('ss', ['-tanH'], { maxBuffer: 256 * 1024 * 1024 });
  const counts: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    if (eps.has(f[3]!) || eps.has(f[4]!)) counts[f[0]!] = (counts[f[0]!] ?? 0) + 1;
  }
  return counts;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const LIMITS = { ephemeralPorts: 28_232, somaxconn: 4096 };

describe('planPopulation', () => {
  it('spreads 100k sockets over client and server processes under the fd budget', () => {
    const plan = planPopulation({ established: 45_000, closeWait: 2_000, timeWait: 5_000 }, LIMITS);
    const servers = plan.workers.filter((w) => w.role === 'server');
    const clients = plan.workers.filter((w) => w.role === 'client');
    expect(servers.length).toBeGreaterThanOrEqual(3);
    expect(clients.length).toBeGreaterThanOrEqual(3);
    for (const w of plan.workers) expect(w.heldSockets).toBeLessThanOrEqual(FD_BUDGET);
    expect(clients.reduce((n, w) => n + w.established, 0)).toBe(45_000);
    expect(clients.reduce((n, w) => n + w.finWait2, 0)).toBe(2_000);
    expect(clients.reduce((n, w) => n + w.timeWait, 0)).toBe(5_000);
    const listeners = servers.flatMap((w) => w.listeners);
    for (const l of listeners) expect(l.capacity).toBeLessThanOrEqual(plan.perListener);
    expect(listeners.filter((l) => l.kind === 'established').reduce((n, l) => n + l.capacity, 0)).toBe(45_000);
    // ~1,500 client sockets per source address keeps bind() cheap.
    expect(plan.addresses.length).toBeGreaterThanOrEqual(Math.ceil(52_000 / 1_500));
    expect(plan.spec.finWait2).toBe(2_000);
  });

  it('rejects impossible specs', () => {
    expect(() => planPopulation({ closeWait: 1, finWait2: 2 }, LIMITS)).toThrow(RangeError);
    expect(() => planPopulation({ established: -1 }, LIMITS)).toThrow(RangeError);
    expect(() => planPopulation({ established: 100_000, workers: 2 }, LIMITS)).toThrow(/per process/);
  });

  it('assignConnections never exceeds a listener capacity and spreads every client', () => {
    const listeners = [
      { host: 'a', port: 1, capacity: 5 },
      { host: 'b', port: 2, capacity: 5 },
      { host: 'c', port: 3, capacity: 2 },
    ];
    const out = assignConnections([6, 6], listeners);
    const per = new Map<string, number>();
    for (const client of out) for (const a of client) per.set(a.host, (per.get(a.host) ?? 0) + a.count);
    expect([...per.values()].reduce((x, y) => x + y, 0)).toBe(12);
    expect(per.get('a')).toBe(5);
    expect(per.get('c')).toBe(2);
    for (const client of out) expect(client.length).toBeGreaterThan(1);
  });
});

describe.skipIf(!SS)('startPopulation (live, loopback)', () => {
  let pop: Population | undefined;
  afterEach(async () => {
    await pop?.stop();
    pop = undefined;
  });

  it('builds the requested states, visible in ss, and stop() leaves no workers or held sockets', async () => {
    pop = await startPopulation({ established: 200, closeWait: 20, finWait2: 20, timeWait: 20 });
    expect(pop.pids.length).toBeGreaterThanOrEqual(2);
    expect(pop.ports.length).toBeGreaterThan(0);
    const t = pop.stats().totals;
    expect(t).toMatchObject({ established: 200, closeWait: 20, finWait2: 20, timeWait: 20 });

    const states = await ssStates(pop.listeners);
    expect(states).toEqual({
      LISTEN: pop.listeners.length,
      ESTAB: 400, // both ends of every pair
      'CLOSE-WAIT': 20,
      'FIN-WAIT-2': 20,
      'TIME-WAIT': 20,
    });

    const { pids, listeners } = pop;
    await pop.stop();
    pop = undefined;
    for (const pid of pids) expect(alive(pid)).toBe(false);
    // Held sockets were reset (RST), so only the TIME_WAITs made on purpose remain.
    expect(await ssStates(listeners)).toEqual({ 'TIME-WAIT': 20 });
  });

  it('keeps leaked CLOSE_WAITs beyond FIN_WAIT2 pairs, and churns without losing held sockets', async () => {
    pop = await startPopulation({ established: 50, closeWait: 10, finWait2: 4, timeWait: 0, churnPerSec: 100 });
    const states = await ssStates(pop.listeners);
    expect(states['CLOSE-WAIT']).toBe(10);
    // 4 held FIN_WAIT2 + 6 orphaned ones (those vanish after tcp_fin_timeout).
    expect(states['FIN-WAIT-2']).toBe(10);
    await new Promise((r) => setTimeout(r, 1500));
    const t = pop.stats().totals;
    expect(t.churnClosed).toBeGreaterThan(50);
    expect(t.churnFailed).toBe(0);
    expect(t.lost).toBe(0);
    expect(t.established).toBe(50);
    // rst churn leaves no TIME_WAIT behind.
    expect((await ssStates(pop.listeners))['TIME-WAIT'] ?? 0).toBe(0);
  });

  it.skipIf(!IPV6)('works on ::1', async () => {
    pop = await startPopulation({ host: '::1', established: 100, closeWait: 5, timeWait: 5 });
    expect(pop.addresses).toEqual(['::1']);
    expect(await ssStates(pop.listeners)).toEqual({
      LISTEN: pop.listeners.length,
      ESTAB: 200,
      'CLOSE-WAIT': 5,
      'FIN-WAIT-2': 5,
      'TIME-WAIT': 5,
    });
  });
});
