// The binary's headless interface: bin/sockscope spawned with execFile (no shell), its exit code,
// stdout and stderr. Live runs read this machine's /proc (with a listener opened by the test);
// PROC_ROOT runs read a tree assembled from test/fixtures/proc-text/recorded, whose lines are the
// oracle. Build first: `npx tsc -p tsconfig.json` (npm test does it in pretest).

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/tmux.js';

const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'snmp', 'netstat'];
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The test runner's environment without what would change what sockscope reads or prints. */
function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const v of ['PROC_ROOT', 'NO_COLOR', 'SOCKSCOPE_DEBUG', 'SOCKSCOPE_STATS_FILE']) delete env[v];
  return { ...env, ...extra };
}

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `node bin/sockscope ARGS`; resolves whatever the exit code. */
function run(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/sockscope', ...args],
      { cwd: REPO_ROOT, env, encoding: 'utf8', maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** No stack trace, ever: no "    at " frames, no Node error dump. */
function expectNoStackTrace(r: Result): void {
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).not.toMatch(/\bnode:internal\b|Error: .*\n\s+at /);
}

/** One clear line on stderr, prefixed with the program name. */
function expectOneLine(r: Result, pattern: RegExp): void {
  expectNoStackTrace(r);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^sockscope: /);
  expect(lines[0]).toMatch(pattern);
}

// ---- Oracle: the recorded fixture text --------------------------------------------------------

const dataLines = (file: string): string[] =>
  fs
    .readFileSync(path.join(FIXTURE_DIR, file), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
const FIXTURE_TOTALS = {
  tcp: dataLines('tcp').length + dataLines('tcp6').length,
  udp: dataLines('udp').length + dataLines('udp6').length,
  unix: dataLines('unix').length,
  raw: dataLines('raw').length + dataLines('raw6').length,
};
/** Sockets whose local port is 18010 (0x465A) in the fixture's tcp and tcp6. */
const FIXTURE_SPORT_18010 = [...dataLines('tcp'), ...dataLines('tcp6')].filter((l) => /^\s*\d+: [0-9A-F]+:465A /.test(l)).length;

type StateCounts = Readonly<Record<string, number>>;
const sum = (c: StateCounts | undefined): number => Object.values(c ?? {}).reduce((a, b) => a + b, 0);

interface JsonDocument {
  takenAt: string;
  host: string;
  filter: string | null;
  counts: { tcp: StateCounts; udp: StateCounts; raw: StateCounts; unix: StateCounts };
  totals: { tcp: StateCounts; udp: StateCounts; raw: StateCounts; unix: StateCounts };
  counters: Readonly<Record<string, number>>;
  warnings: string[];
  sockets: Record<string, unknown>[];
}

/** The backlog of a node listener: listen(511) capped by net.core.somaxconn. */
const NODE_BACKLOG = Math.min(511, Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));

let procRoot = '';
let notProc = '';
let plainFile = '';
let bigProcRoot = '';
let listener: net.Server | null = null;
let listenPort = 0;

beforeAll(async () => {
  expect(fs.existsSync(path.join(REPO_ROOT, 'dist/src/main.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-cli-'));
  // A recorded /proc: net/ with the fixture files.
  procRoot = path.join(base, 'proc');
  fs.mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  for (const f of NET_FILES) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(procRoot, 'net', f));
  // A directory without net/, and a plain file.
  notProc = path.join(base, 'not-proc');
  fs.mkdirSync(notProc);
  plainFile = path.join(base, 'plain-file');
  fs.writeFileSync(plainFile, 'not a directory\n');
  // A tree with 30,000 TCP sockets: several MB of --once output, more than a pipe holds.
  bigProcRoot = path.join(base, 'big');
  fs.mkdirSync(path.join(bigProcRoot, 'net'), { recursive: true });
  const header = fs.readFileSync(path.join(FIXTURE_DIR, 'tcp'), 'utf8').split('\n')[0] ?? '';
  const lines = [header];
  for (let i = 0; i < 30_000; i++) {
    const port = (1024 + i).toString(16).toUpperCase().padStart(4, '0');
    lines.push(
      `${String(i).padStart(4)}: 0100007F:${port} 0200007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 ${100_000 + i} 1 0000000000000000 20 4 30 10 -1`,
    );
  }
  fs.writeFileSync(path.join(bigProcRoot, 'net', 'tcp'), `${lines.join('\n')}\n`);

  // A live listener this test owns, to find in the real /proc.
  listener = net.createServer();
  await new Promise<void>((resolve) => listener?.listen(0, '127.0.0.1', resolve));
  listenPort = (listener.address() as net.AddressInfo).port;
  return () => fs.rmSync(base, { recursive: true, force: true });
});

afterAll(async () => {
  await new Promise<void>((resolve) => (listener === null ? resolve() : listener.close(() => resolve())));
});

describe('help and version', () => {
  it('--help exits 0 and documents --once and --filter', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: sockscope/m);
    expect(r.stdout).toContain('--once');
    expect(r.stdout).toContain('--filter <expr>');
    expect(r.stdout).toContain('Filter language');
    expect(r.stderr).toBe('');
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });
});

describe('--once on this machine', () => {
  it('prints an aligned table under a header line, with the listener the test opened', async () => {
    const r = await run(['--once']);
    expect(r.code).toBe(0);
    expectNoStackTrace(r);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Proto\s+State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port\s+User\s+Process$/);
    const mine = lines.find((l) => l.includes(`127.0.0.1:${listenPort} `));
    // Send-Q of a listener is its backlog, as ss prints it (node listens with 511, capped by somaxconn).
    expect(mine).toMatch(
      new RegExp(`^tcp\\s+LISTEN\\s+0\\s+${NODE_BACKLOG} 127\\.0\\.0\\.1:${listenPort}\\s+\\*:\\*\\s+\\S+\\s+${process.pid}/`),
    );
  });

  it('--once --json: one document with the documented fields; counts and sockets follow the filter, totals cover everything', async () => {
    // Exactly our listener: other programs' clients may have the same port number elsewhere.
    const filter = `state listen and src 127.0.0.1 and sport ${listenPort}`;
    const r = await run(['--once', '--json', '--filter', filter]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as JsonDocument;
    expect(new Date(doc.takenAt).toISOString()).toBe(doc.takenAt);
    expect(doc.host).toBe(os.hostname());
    expect(doc.filter).toBe(filter);
    for (const group of ['tcp', 'udp', 'unix'] as const) expect(typeof doc.counts[group]).toBe('object');
    expect(typeof doc.counters['Tcp.ActiveOpens']).toBe('number');
    // Only our listener matches: counts say so; totals cover every socket on the machine.
    expect(doc.sockets).toHaveLength(1);
    expect(doc.counts).toEqual({ tcp: { LISTEN: 1 }, udp: {}, raw: {}, unix: {} });
    expect(sum(doc.totals.tcp)).toBeGreaterThan(1);
    expect(sum(doc.totals.tcp) + sum(doc.totals.udp) + sum(doc.totals.unix)).toBeGreaterThan(doc.sockets.length);
    expect(doc.sockets[0]).toMatchObject({
      protocol: 'tcp',
      state: 'LISTEN',
      localAddress: '127.0.0.1',
      localPort: listenPort,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      recvQ: 0,
      sendQ: 0,
      backlog: NODE_BACKLOG,
      uid: process.getuid?.() ?? 0,
      pid: process.pid,
      process: fs.readFileSync('/proc/self/comm', 'utf8').trimEnd(),
    });
    const s = doc.sockets[0] ?? {};
    expect(s['inode']).toBeTypeOf('number');
    expect(s['inode']).toBeGreaterThan(0);
    expect(s['user']).toBeTypeOf('string');
  });

  it('--once --json without a filter: every socket has the documented fields with their types', async () => {
    const r = await run(['--once', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as JsonDocument;
    expect(doc.filter).toBeNull();
    expect(doc.sockets.length).toBe(sum(doc.counts.tcp) + sum(doc.counts.udp) + sum(doc.counts.raw) + sum(doc.counts.unix));
    const types: Readonly<Record<string, readonly string[]>> = {
      protocol: ['string'],
      state: ['string'],
      localAddress: ['string'],
      localPort: ['number'],
      remoteAddress: ['string'],
      remotePort: ['number'],
      recvQ: ['number'],
      sendQ: ['number'],
      inode: ['number'],
      uid: ['number'],
      user: ['string'],
      pid: ['number', 'null'],
      process: ['string', 'null'],
    };
    // Collected, not asserted one by one: the machine may hold 100k sockets.
    const wrong: string[] = [];
    for (const s of doc.sockets) {
      for (const [field, allowed] of Object.entries(types)) {
        const type = !(field in s) ? 'missing' : s[field] === null ? 'null' : typeof s[field];
        if (!allowed.includes(type) && wrong.length < 10) wrong.push(`${field}: ${type} in ${JSON.stringify(s)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(doc.sockets.some((s) => s['pid'] === process.pid)).toBe(true);
  });

  it('--once --summary prints counts per protocol and state', async () => {
    const r = await run(['--once', '--summary']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TCP\s+\d+$/m);
    expect(r.stdout).toMatch(/^UDP\s+\d+$/m);
    expect(r.stdout).toMatch(/^UNIX\s+\d+$/m);
    expect(r.stdout).toMatch(/^ {2}LISTEN\s+\d+$/m);
  });
});

describe('PROC_ROOT: a recorded tree', () => {
  it('is honoured from the environment: the fixture sockets come out, and only they', async () => {
    const r = await run(['--once', '--json', '--no-processes'], cleanEnv({ PROC_ROOT: procRoot }));
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as JsonDocument;
    expect(sum(doc.counts.tcp)).toBe(FIXTURE_TOTALS.tcp);
    expect(sum(doc.counts.udp)).toBe(FIXTURE_TOTALS.udp);
    expect(sum(doc.counts.unix)).toBe(FIXTURE_TOTALS.unix);
    expect(sum(doc.counts.raw)).toBe(FIXTURE_TOTALS.raw);
    expect(doc.sockets).toHaveLength(FIXTURE_TOTALS.tcp + FIXTURE_TOTALS.udp + FIXTURE_TOTALS.unix + FIXTURE_TOTALS.raw);
    expect(doc.sockets).toContainEqual(
      expect.objectContaining({ protocol: 'tcp', state: 'LISTEN', localAddress: '127.0.0.1', localPort: 18010 }),
    );
    expect(doc.sockets).toContainEqual(
      expect.objectContaining({ protocol: 'tcp6', state: 'LISTEN', localAddress: '::1', localPort: 18020 }),
    );
    expect(doc.sockets).toContainEqual(expect.objectContaining({ protocol: 'unix', path: '/tmp/sockscope-fixture/with space.sock' }));
    // Counters come from the tree's snmp/netstat.
    expect(typeof doc.counters['Tcp.ActiveOpens']).toBe('number');

    const table = await run(['--once', '--no-processes'], cleanEnv({ PROC_ROOT: procRoot }));
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(1 + doc.sockets.length);
    // A recorded tree: ss cannot tell its listeners' backlogs, so Send-Q says "-".
    expect(table.stdout).toMatch(/^tcp\s+LISTEN\s+0\s+- 127\.0\.0\.1:18010\s/m);
  });

  it('--filter narrows the sockets and the counts; totals cover everything read', async () => {
    expect(FIXTURE_SPORT_18010).toBeGreaterThan(1);
    const r = await run(['--once', '--json', '--no-processes', '-f', 'sport 18010'], cleanEnv({ PROC_ROOT: procRoot }));
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as JsonDocument;
    expect(doc.sockets).toHaveLength(FIXTURE_SPORT_18010);
    for (const s of doc.sockets) expect(s['localPort']).toBe(18010);
    expect(sum(doc.counts.tcp)).toBe(FIXTURE_SPORT_18010);
    expect(sum(doc.counts.unix)).toBe(0);
    expect(sum(doc.totals.tcp)).toBe(FIXTURE_TOTALS.tcp);
    expect(sum(doc.totals.unix)).toBe(FIXTURE_TOTALS.unix);
  });

  it('--once --summary counts the fixture exactly (--proc-root as an option)', async () => {
    const r = await run(['--once', '--summary', '--proc-root', procRoot]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^TCP\\s+${FIXTURE_TOTALS.tcp}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^UDP\\s+${FIXTURE_TOTALS.udp}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^UNIX\\s+${FIXTURE_TOTALS.unix}$`, 'm'));
  });
});

describe('bad input: one clear line, a non-zero exit, no stack trace', () => {
  it('an unknown option', async () => {
    const r = await run(['--bogus']);
    expect(r.code).toBe(2);
    expectOneLine(r, /unknown option '--bogus'/);
    expect(r.stdout).toBe('');
  });

  it('--interval 0 and --interval abc', async () => {
    for (const value of ['0', 'abc']) {
      const r = await run(['--once', '--interval', value]);
      expect(r.code).toBe(2);
      expectOneLine(r, new RegExp(`--interval.*'${value}'.*seconds`));
    }
  });

  it("--filter 'port abc': the expression, a caret under the column, the message", async () => {
    const r = await run(['--once', '--filter', 'port abc']);
    expect(r.code).toBe(2);
    expectNoStackTrace(r);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('sockscope: bad filter');
    expect(lines[1]).toBe('port abc');
    expect(lines[2]).toMatch(/^\s*\^$/);
    expect(lines[2]?.indexOf('^')).toBe('port abc'.indexOf('abc'));
    expect(lines[3]).toMatch(/^column 6: .*'abc'/);
    expect(lines).toHaveLength(4);
    expect(r.stdout).toBe('');
  });

  it('--proc-root that does not exist, is a plain file, or has no net/', async () => {
    const missing = await run(['--once', '--proc-root', '/nonexistent']);
    expect(missing.code).toBe(1);
    expectOneLine(missing, /\/nonexistent does not exist/);

    const file = await run(['--once', '--proc-root', plainFile]);
    expect(file.code).toBe(1);
    expectOneLine(file, /is not a directory/);

    const noNet = await run(['--once', '--proc-root', notProc]);
    expect(noNet.code).toBe(1);
    expectOneLine(noNet, /net.*is this a Linux \/proc\?/);

    const viaEnv = await run(['--once'], cleanEnv({ PROC_ROOT: '/nonexistent' }));
    expect(viaEnv.code).toBe(1);
    expectOneLine(viaEnv, /\/nonexistent does not exist/);
  });

  it('the dashboard without a terminal says what to use instead', async () => {
    const r = await run(['--proc-root', procRoot]);
    expect(r.code).toBe(2);
    expectOneLine(r, /needs a terminal.*--once/);
  });
});

describe('a reader that goes away (--once | head -1)', () => {
  for (const args of [['--once'], ['--once', '--json']]) {
    it(`${args.join(' ')}: stdout closed after the first chunk → quiet exit, no EPIPE trace`, async () => {
      const child = spawn(process.execPath, ['bin/sockscope', ...args, '--proc-root', bigProcRoot], {
        cwd: REPO_ROOT,
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let first = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', (d: Buffer) => {
        first = d.toString();
        child.stdout.destroy();
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('close', (c, s) => resolve([c, s])),
      );
      expect(first.length).toBeGreaterThan(0);
      expect(signal).toBeNull();
      expect(code).toBe(0);
      expect(stderr).not.toContain('EPIPE');
      expect(stderr).not.toContain('    at ');
      expect(stderr).toBe('');
    });
  }
});
