// The CLI in process: main(argv, services) with injected stdout/stderr/env/clock and a /proc tree
// assembled from test/fixtures/proc-text/recorded, whose lines are the oracle. test/cli.test.ts
// runs the same paths through the built binary; this file needs no build and no child process,
// and covers what a spawned binary cannot choose (the platform).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type OutputStream, type Services } from '../src/main.js';
import { REPO_ROOT } from './helpers/tmux.js';

const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'snmp', 'netstat'];

const dataLines = (file: string): string[] =>
  fs
    .readFileSync(path.join(FIXTURE_DIR, file), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
const FIXTURE_SOCKETS = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix'].reduce((n, f) => n + dataLines(f).length, 0);

let base = '';
let procRoot = '';

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-main-'));
  procRoot = path.join(base, 'proc');
  fs.mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  for (const f of NET_FILES) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(procRoot, 'net', f));
});

afterAll(() => {
  if (base !== '') fs.rmSync(base, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function capture(isTTY: boolean): OutputStream & { text(): string } {
  const chunks: string[] = [];
  return {
    isTTY,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(''),
  };
}

async function runMain(argv: readonly string[], overrides: Partial<Services> = {}): Promise<Run> {
  const stdout = capture(false);
  const stderr = capture(false);
  const code = await main(argv, {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { PROC_ROOT: procRoot },
    platform: 'linux',
    now: () => 1_700_000_000_000,
    monotonicMs: () => 0,
    hostname: () => 'fixture-host',
    readPasswd: () => 'root:x:0:0:root:/root:/bin/sh\n',
    ...overrides,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

function expectOneLine(r: Run, pattern: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^sockscope: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stdout).toBe('');
}

describe('main() in process', () => {
  it('--once prints one row per fixture socket under a header', async () => {
    const r = await runMain(['--once', '--no-processes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1 + FIXTURE_SOCKETS);
    expect(r.stdout).toMatch(/^tcp\s+LISTEN\s+0\s+- 127\.0\.0\.1:18010\s/m);
  });

  it('--once --json: one document whose sockets and counts are the fixture, stamped by the injected clock and host', async () => {
    const r = await runMain(['--once', '--json', '--no-processes']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      sockets: { protocol: string; localPort?: number }[];
      counts: Record<string, Record<string, number>>;
    };
    expect(doc.sockets).toHaveLength(FIXTURE_SOCKETS);
    const counted = Object.values(doc.counts).reduce((n, byState) => n + Object.values(byState).reduce((a, b) => a + b, 0), 0);
    expect(counted).toBe(FIXTURE_SOCKETS);
    expect(doc.sockets).toContainEqual(expect.objectContaining({ protocol: 'tcp6', localPort: 18020 }));
    expect(r.stdout).toContain('fixture-host');
    expect(r.stdout).toContain(new Date(1_700_000_000_000).toISOString());
  });

  it('--proc-root given as an option wins over PROC_ROOT', async () => {
    const r = await runMain(['--once', '--summary', '--proc-root', procRoot], { env: { PROC_ROOT: path.join(base, 'missing') } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^UNIX\\s+${dataLines('unix').length}$`, 'm'));
  });

  it('a bad filter: exit 2, the message and a caret under the column, nothing on stdout', async () => {
    const r = await runMain(['--once', '-f', 'port abc']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('sockscope: bad filter');
    expect(r.stderr).toContain('port abc');
    expect(r.stderr).toMatch(/^\s*\^/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown option: exit 2, one line', async () => {
    expectOneLine(await runMain(['--bogus']), /unknown option '--bogus'/);
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const r = await runMain(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: sockscope/m);
    expect(r.stdout).toContain('--once');
  });

  it('a proc root that does not exist: exit 1, one line', async () => {
    expectOneLine(await runMain(['--once'], { env: { PROC_ROOT: path.join(base, 'missing') } }), /does not exist/);
  });

  it('not Linux and no recorded tree: exit 1, one line naming the platform', async () => {
    expectOneLine(await runMain(['--once'], { env: {}, platform: 'darwin' }), /needs Linux \/proc \(this is darwin\)/);
  });

  it('the dashboard without a terminal says what to use instead (exit 2)', async () => {
    expectOneLine(await runMain([]), /needs a terminal/);
  });
});
