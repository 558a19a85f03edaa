// The single-file build (bin/build-bundle.mjs → dist/sockscope.mjs, made by `npm run build`, which
// npm test runs first): copied ALONE into a fresh directory under os.tmpdir() — no node_modules,
// no package.json anywhere above it — it must answer --version / --help / --once --json, run its
// owner worker on itself, and draw the dashboard in tmux with blessed's terminfo embedded
// (TERM=xterm-256color, vt100, screen-256color), then restore the terminal on q.
// The owner worker's own output (dist/sockscope-owner-worker.cjs): placed beside a bundle, that
// bundle starts the worker from it, and it answers scans by itself.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TmuxSession, hasTmux, shellQuote } from './helpers/tmux.js';

const BUNDLE = path.join(REPO_ROOT, 'dist/sockscope.mjs');
const OWNER_WORKER = path.join(REPO_ROOT, 'dist/sockscope-owner-worker.cjs');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let dir = '';
let copy = '';
let server: net.Server;
let client: net.Socket;
let port = 0;

/** Run the copy with node from its own directory, without variables that would help it find modules. */
function runCopy(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  for (const v of ['NODE_PATH', 'NODE_OPTIONS', 'PROC_ROOT', 'NO_COLOR']) delete env[v];
  const r = spawnSync(process.execPath, [copy, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  expect(fs.existsSync(BUNDLE), 'dist/sockscope.mjs is missing: run npm run build').toBe(true);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-bundle-'));
  copy = path.join(dir, 'sockscope.mjs');
  fs.copyFileSync(BUNDLE, copy);
  fs.chmodSync(copy, 0o755);
  server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
  client = await new Promise<net.Socket>((r) => {
    const c = net.connect(port, '127.0.0.1', () => r(c));
  });
});

afterAll(() => {
  client?.destroy();
  server?.close();
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

describe('single-file bundle, alone in a temp directory', () => {
  it('has nothing to lean on: no node_modules or package.json in any directory above it', () => {
    for (let d = dir; ; d = path.dirname(d)) {
      expect(fs.existsSync(path.join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
      expect(fs.existsSync(path.join(d, 'package.json')), `${d}/package.json`).toBe(false);
      if (path.dirname(d) === d) break;
    }
    expect(fs.readdirSync(dir)).toEqual(['sockscope.mjs']);
    expect(fs.readFileSync(copy, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('--version prints the package version (injected at build time)', () => {
    const r = runCopy(['--version']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('runs as an executable through its shebang', () => {
    const r = spawnSync(copy, ['--version'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('--help', () => {
    const r = runCopy(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: sockscope/);
    expect(r.stdout).toMatch(/--once/);
  });

  it('--once --json finds this process and its loopback sockets', () => {
    const r = runCopy(['--once', '--json', '-f', `port ${port}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      counts: Record<string, Record<string, number>>;
      sockets: { state: string; localPort: number; pid: number | null }[];
    };
    expect(doc.sockets.length).toBeGreaterThanOrEqual(3); // listener and both ends of the connection
    const listener = doc.sockets.find((s) => s.state === 'LISTEN' && s.localPort === port);
    expect(listener?.pid).toBe(process.pid);
    expect(doc.counts['tcp']?.['LISTEN']).toBeGreaterThanOrEqual(1);
  });

  it('--once without a filter: a table with sockets', () => {
    const r = runCopy(['--once', '--summary']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^TCP\s+\d+/m);
  });

  it('started as the owner worker (what the dashboard does with the bundle), it maps sockets to this process', async () => {
    await expectOwnerWorkerFindsUs(copy);
  });
});

describe('the owner worker output, dist/sockscope-owner-worker.cjs', () => {
  it('is small: only the data layer (the build fails if it pulls in more)', () => {
    expect(fs.existsSync(OWNER_WORKER), 'dist/sockscope-owner-worker.cjs is missing: run npm run build').toBe(true);
    expect(fs.statSync(OWNER_WORKER).size).toBeLessThan(100 * 1024);
    expect(fs.readFileSync(OWNER_WORKER, 'utf8')).not.toMatch(/blessed/);
  });

  it('started as the owner worker, it maps sockets to this process', async () => {
    await expectOwnerWorkerFindsUs(OWNER_WORKER);
  });

  it('beside the single-file bundle, the bundle starts the owner worker from it', () => {
    const beside = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-bundle-worker-'));
    try {
      fs.copyFileSync(BUNDLE, path.join(beside, 'sockscope.mjs'));
      fs.copyFileSync(OWNER_WORKER, path.join(beside, 'sockscope-owner-worker.cjs'));
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_DEBUG: 'worker' };
      for (const v of ['NODE_PATH', 'NODE_OPTIONS', 'PROC_ROOT', 'NO_COLOR']) delete env[v];
      const r = spawnSync(process.execPath, [path.join(beside, 'sockscope.mjs'), '--once', '-f', `port ${port}`], {
        cwd: beside,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${process.pid}/`);
      const created = r.stderr.split('\n').filter((l) => /create new worker/.test(l) && l.includes('sockscope-owner-worker'));
      expect(created).toHaveLength(1);
      expect(created[0]).toContain(path.join(beside, 'sockscope-owner-worker.cjs'));
    } finally {
      fs.rmSync(beside, { recursive: true, force: true });
    }
  });
});

/** Start `file` as the owner worker over /proc and check it finds this process's loopback sockets. */
async function expectOwnerWorkerFindsUs(file: string): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`0100007F:${hex}`))
    .map((l) => Number(l.trim().split(/\s+/)[9]))
    .filter((i) => i > 0);
  expect(inodes.length).toBeGreaterThanOrEqual(2);
  const worker = new Worker(file, { workerData: { mark: 'sockscope-owner-worker', procRoot: '/proc' } });
  try {
    const reply = await new Promise<{ id: number; rows: Float64Array; processes: [number, { command: string }][] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}) without answering`)));
      worker.postMessage({ id: 5, inodes: Float64Array.from(inodes) });
    });
    expect(reply.id).toBe(5);
    const pids = new Set<number>();
    for (let i = 0; i + 3 < reply.rows.length; i += 4) pids.add(reply.rows[i + 1] as number);
    expect([...pids]).toEqual([process.pid]);
    expect(reply.processes.map(([pid]) => pid)).toEqual([process.pid]);
  } finally {
    await worker.terminate();
  }
}

describe.skipIf(!hasTmux)('single-file bundle: the dashboard in tmux', () => {
  const sessions: TmuxSession[] = [];
  afterEach(() => {
    for (const s of sessions.splice(0)) s.kill();
  });

  // vt100 has no alternate screen (smcup) in its terminfo: nothing to switch to and back.
  const cases = [
    { term: 'xterm-256color', alternate: true },
    { term: 'vt100', alternate: false },
    { term: 'screen-256color', alternate: true },
  ];
  for (const { term, alternate } of cases) {
    it(`TERM=${term}: draws with owners, quits on q with exit 0, restores the terminal, prints nothing on stderr`, async () => {
      const stderrFile = path.join(dir, `stderr-${term}.txt`);
      const words = ['env', '-u', 'LC_ALL', '-u', 'LC_CTYPE', '-u', 'NO_COLOR', '-u', 'NODE_PATH', '-u', 'NODE_OPTIONS', '-u', 'PROC_ROOT'];
      // NODE_DEBUG=worker: Node logs on stderr which file each worker thread was started on.
      words.push(
        `TERM=${term}`,
        'LANG=C.UTF-8',
        'NCURSES_NO_UTF8_ACS=1',
        'NODE_DEBUG=worker',
        // One case collects in the collect worker (opt-in), which the bundle must start on itself too.
        `SOCKSCOPE_COLLECT_THREAD=${term === 'xterm-256color' ? 'worker' : 'main'}`,
        process.execPath,
        copy,
        '-f',
        `port ${port}`,
      );
      const command = `cd ${shellQuote(dir)} && ${words.map(shellQuote).join(' ')} 2>${shellQuote(stderrFile)}; echo "[exit=$?]"; sleep 60`;
      const session = TmuxSession.start({ command, width: 80, height: 24 });
      sessions.push(session);
      const listenerRow = (s: string): string | undefined => s.split('\n').find((l) => l.includes(`127.0.0.1:${port}`) && /LISTEN/.test(l));
      // The owner column ("pid/command") fills in once the owner worker has answered.
      const screen = await session.waitFor(
        (s) => /TCP states/.test(s) && /Sockets/.test(s) && (listenerRow(s)?.includes(`${process.pid}/`) ?? false),
        20_000,
      );
      expect(screen.split('\n')[0]).toMatch(/^sockscope\b/);
      expect(session.display('#{alternate_on}')).toBe(alternate ? '1' : '0');
      await session.sendKeys('q');
      await session.waitFor(/\[exit=\d+\]/, 15_000);
      expect(session.capture()).toMatch(/\[exit=0\]/);
      expect(session.display('#{alternate_on}')).toBe('0');
      const stderr = fs.readFileSync(stderrFile, 'utf8').split('\n');
      // The owner worker ran on the bundle itself (no owner-worker.js exists beside it).
      expect(
        stderr.some((l) => /^WORKER \d+: .*create new worker/.test(l) && l.includes(copy) && l.includes('sockscope-owner-worker')),
      ).toBe(true);
      // The collect worker too, when asked for (its workerData spreads Node's log line over several lines).
      if (term === 'xterm-256color') expect(stderr.join('\n')).toMatch(/create new worker[^]*mark: 'sockscope-collect-worker'/);
      else expect(stderr.join('\n')).not.toMatch(/sockscope-collect-worker/);
      // Apart from Node's worker log (a WORKER line and its indented or closing continuation
      // lines): nothing (no blessed terminfo junk, no errors).
      const logged = stderr.join('\n').replace(/^WORKER \d+: .*(\n[ }].*)*/gm, '');
      expect(logged.split('\n').filter((l) => l !== '')).toEqual([]);
    }, 60_000);
  }
});
