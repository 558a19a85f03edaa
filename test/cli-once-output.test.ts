// The headless outputs' composition, on the real binary: counts that follow the filter and totals
// for everything read (--once --json, --json --summary, streaming), ss's short state names in the
// --once table with kernel names kept in JSON, LISTEN rows' backlog in Send-Q compared with
// `ss -ltnH`, the interval default in --help, and serve's options given a value starting with "-".
// Build first: `npx tsc -p tsconfig.json`.

import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { joinDashValues } from '../src/cli/options.js';
import { REPO_ROOT } from './helpers/tmux.js';

const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'snmp', 'netstat'];

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], timeout = 30_000): Promise<Result> {
  const env = { ...process.env };
  for (const v of ['PROC_ROOT', 'NO_COLOR', 'SOCKSCOPE_DEBUG', 'SOCKSCOPE_STATS_FILE']) delete env[v];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/sockscope', ...args],
      { cwd: REPO_ROOT, env, encoding: 'utf8', timeout, maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

type Counts = Readonly<Record<'tcp' | 'udp' | 'raw' | 'unix', Readonly<Record<string, number>>>>;
interface Doc {
  filter: string | null;
  counts: Counts;
  totals: Counts;
  sockets: Record<string, unknown>[];
}
const sumAll = (c: Counts): number => Object.values(c).reduce((n, g) => n + Object.values(g).reduce((a, b) => a + b, 0), 0);

// The oracle: the fixture's lines. TCP state column (hex) → kernel name.
const dataLines = (file: string): string[] =>
  fs
    .readFileSync(path.join(FIXTURE_DIR, file), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
const TCP_LINES = [...dataLines('tcp'), ...dataLines('tcp6')];
const ALL_LINES =
  TCP_LINES.length +
  dataLines('udp').length +
  dataLines('udp6').length +
  dataLines('raw').length +
  dataLines('raw6').length +
  dataLines('unix').length;
/** Lines of tcp/tcp6 with local port 18010 (0x465A). */
const SPORT_18010 = TCP_LINES.filter((l) => /^\s*\d+: [0-9A-F]+:465A /.test(l));
const stateOf = (l: string): string => l.trim().split(/\s+/)[3] as string;

let procRoot = '';
beforeAll(() => {
  expect(fs.existsSync(path.join(REPO_ROOT, 'dist/src/main.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-once-'));
  procRoot = path.join(base, 'proc');
  fs.mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  for (const f of NET_FILES) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(procRoot, 'net', f));
  return () => fs.rmSync(base, { recursive: true, force: true });
});

describe('counts follow the filter, totals cover everything read', () => {
  it('--once --json -f: counts are the filtered sockets by state, totals the whole tree', async () => {
    const r = await run(['--once', '--json', '-n', '--proc-root', procRoot, '-f', 'sport 18010']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.sockets).toHaveLength(SPORT_18010.length);
    const byState: Record<string, number> = {};
    for (const s of doc.sockets) byState[s['state'] as string] = (byState[s['state'] as string] ?? 0) + 1;
    expect(doc.counts.tcp).toEqual(byState);
    expect(sumAll(doc.counts)).toBe(SPORT_18010.length);
    expect(sumAll(doc.totals)).toBe(ALL_LINES);
  });

  it('--once --json --summary -f: the filter is no longer ignored', async () => {
    const r = await run(['--once', '--json', '--summary', '-n', '--proc-root', procRoot, '-f', 'sport 18010']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.filter).toBe('sport 18010');
    expect(doc.sockets).toEqual([]);
    expect(sumAll(doc.counts)).toBe(SPORT_18010.length);
    expect(sumAll(doc.totals)).toBe(ALL_LINES);
  });

  it('streaming --json --summary -f: every line counts the filtered sockets', async () => {
    // Read two documents, then SIGINT (no timing: however slow the machine is to start).
    const env = { ...process.env };
    for (const v of ['PROC_ROOT', 'NO_COLOR', 'SOCKSCOPE_DEBUG', 'SOCKSCOPE_STATS_FILE']) delete env[v];
    const child = spawn(
      process.execPath,
      ['bin/sockscope', '--json', '--summary', '-n', '-i', '0.1', '--proc-root', procRoot, '-f', 'sport 18010'],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.split('\n').length > 2) resolve();
      });
      child.on('close', () => resolve());
    });
    child.kill('SIGINT');
    expect(await code).toBe(0);
    const lines = out.split('\n').slice(0, 2);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const doc = JSON.parse(l) as Doc;
      expect(sumAll(doc.counts)).toBe(SPORT_18010.length);
      expect(sumAll(doc.totals)).toBe(ALL_LINES);
    }
  });

  it('--once --json --summary without a filter (the fast path): totals equal counts', async () => {
    const r = await run(['--once', '--json', '--summary', '--proc-root', procRoot]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(sumAll(doc.counts)).toBe(ALL_LINES);
    expect(doc.totals).toEqual(doc.counts);
  });
});

describe('--once table: ss state names, kernel names in JSON', () => {
  it('every TCP row shows the ss name of its state; JSON keeps the kernel name', async () => {
    const SS_NAME: Record<string, string> = { '01': 'ESTAB', '05': 'FIN-WAIT-2', '06': 'TIME-WAIT', '08': 'CLOSE-WAIT', '0A': 'LISTEN' };
    const KERNEL_NAME: Record<string, string> = {
      '01': 'ESTABLISHED',
      '05': 'FIN_WAIT2',
      '06': 'TIME_WAIT',
      '08': 'CLOSE_WAIT',
      '0A': 'LISTEN',
    };
    const table = await run(['--once', '-n', '--proc-root', procRoot, '-f', 'proto tcp or proto tcp6']);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n').slice(1);
    const tally = (names: string[]) => names.reduce<Record<string, number>>((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {});
    expect(tally(rows.map((r) => r.split(/\s+/)[1] as string))).toEqual(tally(TCP_LINES.map((l) => SS_NAME[stateOf(l)] as string)));
    expect(table.stdout).not.toMatch(/ESTABLISHED|TIME_WAIT|CLOSE_WAIT|FIN_WAIT2/);

    const json = await run(['--once', '--json', '-n', '--proc-root', procRoot, '-f', 'proto tcp or proto tcp6']);
    const doc = JSON.parse(json.stdout) as Doc;
    expect(tally(doc.sockets.map((s) => s['state'] as string))).toEqual(tally(TCP_LINES.map((l) => KERNEL_NAME[stateOf(l)] as string)));
  });

  it('a recorded tree: listeners show "-" in Send-Q and backlog null (ss cannot speak for it)', async () => {
    const tcpListen = 'state listen and (proto tcp or proto tcp6)';
    const table = await run(['--once', '-n', '--proc-root', procRoot, '-f', tcpListen]);
    const rows = table.stdout.trimEnd().split('\n').slice(1);
    expect(rows.length).toBe(TCP_LINES.filter((l) => stateOf(l) === '0A').length);
    for (const r of rows) expect(r).toMatch(/^tcp6?\s+LISTEN\s+\d+\s+- /);
    const doc = JSON.parse((await run(['--once', '--json', '-n', '--proc-root', procRoot, '-f', tcpListen])).stdout) as Doc;
    expect(doc.sockets).toHaveLength(rows.length);
    for (const s of doc.sockets) expect(s['backlog']).toBeNull();
  });
});

const hasSs = spawnSync('ss', ['-V'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasSs)('--once on this machine: a listener backlog as ss shows it', () => {
  const server = net.createServer();
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 7 }, resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  // Reads this machine's tables (owners skipped): slow on a busy machine, hence the timeout.
  it('Send-Q of the LISTEN row and JSON backlog equal ss -ltnH Send-Q (7)', { timeout: 240_000 }, async () => {
    const ss = spawnSync('ss', ['-Hltn', 'sport', `= :${port}`], { encoding: 'utf8' });
    const ssFields = ss.stdout.trim().split(/\s+/);
    expect(ssFields.slice(0, 3)).toEqual(['LISTEN', '0', '7']);
    const filter = `state listen and src 127.0.0.1 and sport ${port}`;
    const table = await run(['--once', '-n', '-f', filter], 120_000);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^Proto\s+State\s+Recv-Q\s+Send-Q\s/);
    expect(rows.slice(1)).toHaveLength(1);
    expect(rows[1]).toMatch(new RegExp(`^tcp\\s+LISTEN\\s+0\\s+7 127\\.0\\.0\\.1:${port}\\s`));
    const doc = JSON.parse((await run(['--once', '--json', '-n', '-f', filter], 120_000)).stdout) as Doc;
    expect(doc.sockets).toHaveLength(1);
    expect(doc.sockets[0]).toMatchObject({ state: 'LISTEN', sendQ: 0, backlog: 7 });
  });
});

describe.skipIf(!hasSs)('--once on this machine: a dual-stack wildcard listener ss prints as *:port', () => {
  const server = net.createServer();
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', backlog: 9 }, resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('its row shows the backlog ss reports for *:port', { timeout: 120_000 }, async () => {
    const ss = spawnSync('ss', ['-Hltn', 'sport', `= :${port}`], { encoding: 'utf8' });
    expect(ss.stdout.trim().split(/\s+/).slice(0, 4)).toEqual(['LISTEN', '0', '9', `*:${port}`]);
    const table = await run(['--once', '-n', '-f', `state listen and sport ${port}`], 120_000);
    const rows = table.stdout.trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`^tcp6\\s+LISTEN\\s+0\\s+9 \\*:${port}\\s`));
  });
});

describe('options', () => {
  it('--help gives the interval default in seconds', async () => {
    const r = await run(['--help']);
    expect(r.stdout).toMatch(/--interval <seconds>\s+refresh interval in seconds \(default:\s+1\)/);
    expect(r.stdout).not.toContain('1000');
  });

  it.each([
    [
      ['serve', '--max-ports', '-1'],
      /^sockscope: option '--max-ports <n>' argument '-1' is invalid\. expected a number of ports between 0 and 100000$/,
    ],
    [['serve', '--listen', '-1'], /^sockscope: option '--listen <addr:port>' argument '-1' is invalid/],
    [['serve', '--max-ports=-1'], /^sockscope: option '--max-ports <n>' argument '-1' is invalid/],
  ])('%j: one usage line naming the value, exit 2', async (args, pattern) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(pattern);
  });

  it('joinDashValues joins only serve options followed by a dash word, and stops at --', () => {
    expect(joinDashValues(['serve', '--max-ports', '-1', '-i', '2'])).toEqual(['serve', '--max-ports=-1', '-i', '2']);
    expect(joinDashValues(['serve', '--max-ports', '5'])).toEqual(['serve', '--max-ports', '5']);
    expect(joinDashValues(['-i', '-1'])).toEqual(['-i', '-1']);
    expect(joinDashValues(['serve', '--', '--max-ports', '-1'])).toEqual(['serve', '--', '--max-ports', '-1']);
  });
});

describe('hostile filters on the command line: usage errors, exit 2', () => {
  it.each([
    ['3,000 parentheses', `${'('.repeat(3000)}tcp${')'.repeat(3000)}`],
    ['5,000 not', `${'not '.repeat(5000)}tcp`],
  ])('%s: "nested too deeply" naming the limit, no internal error', async (_name, filter) => {
    const r = await run(['--once', '-n', '--proc-root', procRoot, '-f', filter]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('sockscope: bad filter');
    expect(lines[3]).toMatch(/^column \d+: filter nested too deeply: at most 100 levels of '\(' and 'not' inside one another$/);
    expect(r.stderr).not.toMatch(/internal error|Maximum call stack|\n\s+at /);
  });

  it('ESC and BEL typed in a filter reach stderr escaped, never raw', async () => {
    const r = await run(['--once', '-n', '--proc-root', procRoot, '-f', 'port a\x1b]0;pwned\x07b']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(r.stderr).toContain("got 'a\\x1b]0;pwned\\x07b'");
  });
});
