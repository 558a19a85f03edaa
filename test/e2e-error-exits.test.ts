// Every error path exits cleanly, through the real binary: a damaged recording, a --record file
// that cannot be created or would be overwritten, a --pid process that exits, replay of what is
// not a regular file. The dashboard cases run in tmux: exit status 1, the message visible after
// the alternate screen is left, the terminal restored (#{alternate_on} 0). Nothing asserts a time.

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecording } from '../src/cli/recording-file.js';
import { REPO_ROOT, TmuxSession, hasTmux } from './helpers/tmux.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const isLinux = process.platform === 'linux';

/** A recording built by hand: the magic line, then [length][gzip] records. */
function handmadeRecording(records: readonly string[]): Buffer {
  const parts = [Buffer.from('SOCKSCOPE-REC1\n')];
  for (const body of records) {
    const gz = zlib.gzipSync(body);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(gz.length);
    parts.push(len, gz);
  }
  return Buffer.concat(parts);
}
const HEADER = JSON.stringify({ sockscope: 'recording', version: 1, host: 'h', startedAtMs: 0 });

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const v of ['PROC_ROOT', 'NO_COLOR', 'SOCKSCOPE_DEBUG', 'SOCKSCOPE_STATS_FILE']) delete env[v];
  return env;
}

function run(args: readonly string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/sockscope', ...args],
      { cwd: REPO_ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

let dir = '';
let tree = '';
/** Short-lived target processes for --pid, killed at the end even when a test timed out. */
const targets: ChildProcess[] = [];
afterAll(() => {
  for (const t of targets) t.kill('SIGKILL');
});
/** As root with util-linux, the target gets a network namespace of its own: a few sockets to read. */
const hasUnshare = isLinux && spawnSync('unshare', ['-n', '--', 'true'], { stdio: 'ignore' }).status === 0;
const startTarget = (): ChildProcess => {
  // unshare execs sleep: one pid all along. Else the target shares this machine's namespace.
  const t = hasUnshare ? spawn('unshare', ['-n', '--', 'sleep', '300'], { stdio: 'ignore' }) : spawn('sleep', ['300'], { stdio: 'ignore' });
  targets.push(t);
  return t;
};
beforeAll(() => {
  expect(fs.existsSync(path.join(REPO_ROOT, 'dist/src/main.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-exits-'));
  tree = path.join(dir, 'proc');
  fs.mkdirSync(path.join(tree, 'net'), { recursive: true });
  for (const name of ['tcp', 'tcp6', 'udp', 'udp6', 'unix', 'snmp', 'netstat'])
    fs.copyFileSync(path.join(FIXTURES, name), path.join(tree, 'net', name));
  return () => fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!isLinux)('replay of what is not a regular file: one line, exit 1 (no read without end)', () => {
  it('replay /dev/zero', async () => {
    const r = await run(['replay', '/dev/zero']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sockscope: cannot read recording /dev/zero: not a regular file\n');
  });

  it('replay of a FIFO nobody writes to', async () => {
    const fifo = path.join(dir, 'fifo.rec');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await run(['replay', fifo]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sockscope: cannot read recording ${fifo}: not a regular file\n`);
  });

  it('--force without --record is a usage error', async () => {
    const r = await run(['--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sockscope: --force goes with --record/);
  });
});

describe.skipIf(!isLinux)('--pid whose process exits, headless', () => {
  it('--json says the process is gone on stderr and exits 1 instead of printing zeros', async () => {
    const target = startTarget();
    const pid = target.pid ?? 0;
    // The target shares this machine's namespace (maybe 100k sockets here): a filter that matches
    // nothing keeps each document small; the counts still cover every socket read.
    const args = ['bin/sockscope', '--pid', String(pid), '--json', '-n', '-i', '0.2', '-f', 'sport 1 and dport 1'];
    const sockscope = spawn(process.execPath, args, { cwd: REPO_ROOT, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    sockscope.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => sockscope.on('close', (code) => resolve(code)));
    try {
      // A first document while the process lives, then it exits (and is reaped by this process).
      await new Promise<void>((resolve) =>
        sockscope.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('\n')) resolve();
        }),
      );
      target.kill('SIGKILL');
      const code = await exited;
      expect(code).toBe(1);
      expect(stderr).toBe(`sockscope: process ${pid} is gone: its network namespace cannot be read any more\n`);
      // Every line printed is a real document (none after the process went away is all zeros).
      for (const line of stdout.trimEnd().split('\n')) expect(JSON.parse(line)).toHaveProperty('counts');
    } finally {
      target.kill('SIGKILL');
      sockscope.kill('SIGKILL');
    }
  }, 90_000);
});

describe.skipIf(!hasTmux || !isLinux)('dashboard error paths in tmux: exit 1, message visible, terminal restored', () => {
  const sessions: TmuxSession[] = [];
  afterAll(() => {
    for (const s of sessions) s.kill();
  });
  const start = (args: readonly string[]): TmuxSession => {
    const s = TmuxSession.start({ args, width: 100, height: 30 });
    sessions.push(s);
    return s;
  };
  const expectExitedWith = async (s: TmuxSession, message: string): Promise<void> => {
    const screen = await s.waitFor(/\[exit=\d+\]/, 40_000);
    expect(screen).toContain('[exit=1]');
    expect(screen.replace(/\n/g, '')).toContain(message);
    expect(s.display('#{alternate_on}')).toBe('0');
  };

  it('replay of a recording whose first frame is damaged', async () => {
    const file = path.join(dir, 'damaged-first.rec');
    fs.writeFileSync(file, handmadeRecording([HEADER, '{"t": 0, "k": tru']));
    expect(openRecording(file).frames).toBe(1); // the header is fine: the frame is what fails
    const s = start(['replay', file]);
    await expectExitedWith(s, `sockscope: ${file}: damaged frame 1 (not JSON)`);
  });

  it('replay of a recording whose third frame is damaged, met while stepping', async () => {
    const frame = (t: number): string => JSON.stringify({ t, k: t === 0, u: [], r: [], c: {}, host: 'h' });
    const file = path.join(dir, 'damaged-third.rec');
    fs.writeFileSync(
      file,
      handmadeRecording([HEADER, frame(0), frame(1000), '{"t": 2000, "k": false, "u": 5, "r": [], "c": {}, "host": "h"}']),
    );
    const s = start(['replay', file]);
    // The label reads the last frame's time: the damage is found at once or at the first step.
    await s.sendKeys(' ');
    await s.sendKeys('.', '.');
    await expectExitedWith(s, `sockscope: ${file}: damaged frame 3`);
  });

  it('--record into a directory that does not exist exits 1 at once (no owner worker left running)', async () => {
    const s = start(['--record', '/nonexistent/x.rec', '--proc-root', tree]);
    await expectExitedWith(s, 'sockscope: cannot write recording /nonexistent/x.rec: ENOENT');
  });

  it('--record over an existing file is refused; --force replaces it', async () => {
    const file = path.join(dir, 'existing.rec');
    fs.writeFileSync(file, 'precious');
    const refused = start(['--record', file, '--proc-root', tree, '-n']);
    await expectExitedWith(refused, `sockscope: --record ${file} exists: not overwriting it (--force replaces it)`);
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');
    const forced = start(['--record', file, '--force', '--proc-root', tree, '-n']);
    await forced.waitFor(/TCP states|Sockets/, 20_000);
    await forced.sendKeys('q');
    expect(await forced.waitFor(/\[exit=\d+\]/, 20_000)).toContain('[exit=0]');
    expect(openRecording(file).frames).toBeGreaterThanOrEqual(1);
  });

  it('--pid whose process exits: the dashboard leaves the screen and says so', async () => {
    const target = startTarget();
    const pid = target.pid ?? 0;
    const s = start(['--pid', String(pid), '-n', '-i', '0.2']);
    await s.waitFor(`via pid ${pid}`, 60_000);
    target.kill('SIGKILL');
    await expectExitedWith(s, `sockscope: process ${pid} is gone: its network namespace cannot be read any more`);
  }, 120_000);
});
