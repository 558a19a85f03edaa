// bin/sockscope's choice of build and its V8 code cache, on a copy of the launcher in a temp
// directory (nothing of the repository's build is touched): on Node without
// module.enableCompileCache (20) it runs dist/sockscope.cjs through vm.Script with a code cache
// under $TMPDIR/sockscope-compile-cache-<uid>/, when that bundle is not older than the tsc build;
// else, or with SOCKSCOPE_LAUNCH=tsc, the tsc build (here a stand-in dist/src/main.js that says so).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/tmux.js';

const BUNDLE = path.join(REPO_ROOT, 'dist/sockscope.cjs');
const OWNER_WORKER = path.join(REPO_ROOT, 'dist/sockscope-owner-worker.cjs');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
/** This Node has the built-in compile cache: the launcher then never takes the bundle. */
const nodeHasCompileCache = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

let dir = '';
let tmp = '';
let procRoot = '';
/** An install whose tsc build is a program that reports its young generation (see beforeAll). */
let heapProbe = '';

function run(
  args: readonly string[],
  env: Record<string, string> = {},
  root = dir,
): { status: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  for (const v of ['NODE_OPTIONS', 'PROC_ROOT', 'SOCKSCOPE_LAUNCH']) delete base[v];
  const r = spawnSync(process.execPath, [path.join(root, 'bin/sockscope'), ...args], {
    cwd: root,
    env: { ...base, TMPDIR: tmp, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cacheDir = (): string => path.join(tmp, `sockscope-compile-cache-${process.getuid?.() ?? 'user'}`);
const cacheFiles = (): string[] => (fs.existsSync(cacheDir()) ? fs.readdirSync(cacheDir()).filter((f) => f.endsWith('.bin')) : []);

/** Make the stand-in tsc build newer (true) or older (false) than the bundle. */
function tscNewer(newer: boolean): void {
  const bundle = path.join(dir, 'dist/sockscope.cjs');
  const main = path.join(dir, 'dist/src/main.js');
  const t = fs.statSync(bundle).mtime.getTime() / 1000;
  fs.utimesSync(main, t + (newer ? 60 : -60), t + (newer ? 60 : -60));
}

beforeAll(() => {
  expect(fs.existsSync(BUNDLE), 'dist/sockscope.cjs is missing: run npm run build').toBe(true);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-launcher-'));
  tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'dist/src'), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'bin/sockscope'), path.join(dir, 'bin/sockscope'));
  fs.copyFileSync(path.join(REPO_ROOT, 'bin/package.json'), path.join(dir, 'bin/package.json'));
  fs.copyFileSync(BUNDLE, path.join(dir, 'dist/sockscope.cjs'));
  expect(fs.existsSync(OWNER_WORKER), 'dist/sockscope-owner-worker.cjs is missing: run npm run build').toBe(true);
  fs.copyFileSync(OWNER_WORKER, path.join(dir, 'dist/sockscope-owner-worker.cjs'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.writeFileSync(
    path.join(dir, 'dist/src/main.js'),
    "export async function main(argv) { process.stdout.write(`tsc build ${argv.join(' ')}\\n`); return 0; }\n",
  );
  // A stand-in program that reports the young generation it got: ~64 MB of short-lived garbage,
  // then the new space's committed size (MB) in this thread and in a worker thread started after.
  heapProbe = path.join(dir, 'heap-probe');
  fs.mkdirSync(path.join(heapProbe, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(heapProbe, 'dist/src'), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'bin/sockscope'), path.join(heapProbe, 'bin/sockscope'));
  fs.copyFileSync(path.join(REPO_ROOT, 'bin/package.json'), path.join(heapProbe, 'bin/package.json'));
  fs.writeFileSync(path.join(heapProbe, 'package.json'), JSON.stringify({ type: 'module' }));
  const churnAndMeasure = [
    "const v8 = await import('node:v8');",
    'let keep = [];',
    'for (let i = 0; i < 2_000_000; i++) { keep.push({ i }); if (keep.length > 50_000) keep = []; }',
    "const newSpaceMb = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;",
  ].join('\n');
  fs.writeFileSync(
    path.join(heapProbe, 'dist/src/main.js'),
    [
      "import { Worker } from 'node:worker_threads';",
      'export async function main() {',
      churnAndMeasure,
      `const worker = new Worker(${JSON.stringify(`(async () => { ${churnAndMeasure}\nrequire('node:worker_threads').parentPort.postMessage(newSpaceMb); })();`)}, { eval: true });`,
      "const workerMb = await new Promise((resolve) => worker.once('message', resolve));",
      'process.stdout.write(JSON.stringify({ mainMb: newSpaceMb, workerMb, execArgv: process.execArgv, tunables: process.env.GLIBC_TUNABLES ?? null }));',
      'return 0;',
      '}',
    ].join('\n'),
  );
  procRoot = path.join(dir, 'proc');
  fs.mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  for (const f of ['tcp', 'tcp6', 'unix', 'snmp']) fs.copyFileSync(path.join(FIXTURES, f), path.join(procRoot, 'net', f));
});

afterAll(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

describe('bin/sockscope', () => {
  it.skipIf(nodeHasCompileCache)('runs the bundle, which starts the owner worker from its own small output beside it', () => {
    tscNewer(false);
    const r = run(['--once', '--proc-root', procRoot], { NODE_DEBUG: 'worker' });
    expect(r.status, r.stderr).toBe(0);
    const created = r.stderr.split('\n').filter((l) => /create new worker/.test(l) && l.includes('sockscope-owner-worker'));
    expect(created).toHaveLength(1);
    expect(created[0]).toContain(path.join(dir, 'dist/sockscope-owner-worker.cjs'));
    fs.rmSync(cacheDir(), { recursive: true, force: true });
  });

  it('SOCKSCOPE_LAUNCH=tsc runs the tsc build whatever the bundle', () => {
    tscNewer(false);
    const r = run(['--version'], { SOCKSCOPE_LAUNCH: 'tsc' });
    expect(r.stdout).toBe('tsc build --version\n');
    expect(cacheFiles()).toEqual([]);
  });

  it('a bundle older than the tsc build (tsc run alone after a build) is never run', () => {
    tscNewer(true);
    expect(run(['--version']).stdout).toBe('tsc build --version\n');
  });

  it.skipIf(nodeHasCompileCache)(
    'runs the bundle with a code cache: written by the first run, used by the next, only this user may write it',
    () => {
      tscNewer(false);
      fs.rmSync(cacheDir(), { recursive: true, force: true });
      const args = ['--once', '--json', '-n', '--proc-root', procRoot];
      const first = run(args);
      expect(first.status, first.stderr).toBe(0);
      const files = cacheFiles();
      expect(files).toHaveLength(1);
      expect(fs.statSync(cacheDir()).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(cacheDir(), files[0]!)).mode & 0o777).toBe(0o600);
      const writtenAt = fs.statSync(path.join(cacheDir(), files[0]!)).mtimeMs;
      const second = run(args);
      expect(second.status, second.stderr).toBe(0);
      // The same program: the same sockets from the same tree.
      const sockets = (out: string): unknown => (JSON.parse(out) as { sockets: { key: string }[] }).sockets.map((s) => s.key);
      expect(sockets(second.stdout)).toEqual(sockets(first.stdout));
      // Accepted by V8 and not rewritten (a rejected cache is replaced at exit).
      expect(cacheFiles()).toEqual(files);
      expect(fs.statSync(path.join(cacheDir(), files[0]!)).mtimeMs).toBe(writtenAt);
      expect(run(['--version']).stdout).toBe(`${VERSION}\n`);
    },
  );

  it.skipIf(nodeHasCompileCache)('two installs share the cache directory without replacing each other’s cache', () => {
    tscNewer(false);
    fs.rmSync(cacheDir(), { recursive: true, force: true });
    // A second install: the same files at another path.
    const other = path.join(dir, 'other-install');
    fs.rmSync(other, { recursive: true, force: true });
    fs.mkdirSync(path.join(other, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(other, 'dist/src'), { recursive: true });
    for (const f of ['bin/sockscope', 'bin/package.json', 'package.json', 'dist/sockscope.cjs', 'dist/src/main.js'])
      fs.copyFileSync(path.join(dir, f), path.join(other, f));
    const t = fs.statSync(path.join(dir, 'dist/sockscope.cjs')).mtime;
    fs.utimesSync(path.join(other, 'dist/sockscope.cjs'), t, t);
    fs.utimesSync(path.join(other, 'dist/src/main.js'), t.getTime() / 1000 - 60, t.getTime() / 1000 - 60);
    expect(run(['--version']).status).toBe(0);
    const [mine] = cacheFiles();
    expect(mine).toBeDefined();
    const writtenAt = fs.statSync(path.join(cacheDir(), mine!)).mtimeMs;
    expect(run(['--version'], {}, other).stdout).toBe(`${VERSION}\n`);
    expect(cacheFiles()).toHaveLength(2);
    expect(cacheFiles()).toContain(mine);
    // The first install's cache is still there and still accepted: not rewritten.
    expect(run(['--version']).stdout).toBe(`${VERSION}\n`);
    expect(fs.statSync(path.join(cacheDir(), mine!)).mtimeMs).toBe(writtenAt);
  });

  it('run as a program, it starts node with 4 MB semi-spaces; under `node bin/sockscope` its workers still get them', () => {
    const young = (r: { status: number | null; stdout: string; stderr: string }) => {
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { mainMb: number; workerMb: number; execArgv: string[]; tunables: string | null };
    };
    const env = { SOCKSCOPE_LAUNCH: 'tsc', PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
    const base = { ...process.env };
    for (const v of ['NODE_OPTIONS', 'PROC_ROOT', 'SOCKSCOPE_LAUNCH']) delete base[v];
    const direct = spawnSync(path.join(heapProbe, 'bin/sockscope'), [], {
      cwd: heapProbe,
      env: { ...base, TMPDIR: tmp, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const asProgram = young({ status: direct.status, stdout: direct.stdout, stderr: direct.stderr });
    expect(asProgram.execArgv).toEqual(['--max-semi-space-size=4']);
    // malloc's mmap threshold fixed (not raised by each large block freed), unless the user set tunables.
    expect(asProgram.tunables).toBe('glibc.malloc.mmap_threshold=131072');
    const ownTunables = spawnSync(path.join(heapProbe, 'bin/sockscope'), [], {
      cwd: heapProbe,
      env: { ...base, TMPDIR: tmp, ...env, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(young({ status: ownTunables.status, stdout: ownTunables.stdout, stderr: ownTunables.stderr }).tunables).toBe(
      'glibc.malloc.arena_max=2',
    );
    // Two semi-spaces of at most 4 MB each (V8's default on this machine: 16 MB each).
    expect(asProgram.mainMb).toBeLessThanOrEqual(8);
    expect(asProgram.workerMb).toBeLessThanOrEqual(8);
    const viaNode = young(run([], env, heapProbe));
    expect(viaNode.execArgv).toEqual([]);
    expect(viaNode.workerMb).toBeLessThanOrEqual(8);
    expect(viaNode.mainMb).toBeGreaterThan(8);
    // A size the user gives wins, in every thread.
    const given = young(run([], { ...env, NODE_OPTIONS: '--max-semi-space-size=32' }, heapProbe));
    expect(given.mainMb).toBeGreaterThan(8);
    expect(given.workerMb).toBeGreaterThan(8);
  });

  it('a one-shot run (--once, -1, -1s) keeps V8 defaults; a dashboard whose words only contain a 1 does not', () => {
    const base = { ...process.env };
    for (const v of ['NODE_OPTIONS', 'PROC_ROOT', 'SOCKSCOPE_LAUNCH']) delete base[v];
    const probe = (args: readonly string[]) => {
      const r = spawnSync(path.join(heapProbe, 'bin/sockscope'), args, {
        cwd: heapProbe,
        env: { ...base, TMPDIR: tmp, SOCKSCOPE_LAUNCH: 'tsc', PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { mainMb: number; workerMb: number; execArgv: string[]; tunables: string | null };
    };
    for (const args of [['--once', '--summary'], ['-n', '-1'], ['-1s']]) {
      const r = probe(args);
      expect(r.execArgv, args.join(' ')).toEqual([]);
      expect(r.mainMb, args.join(' ')).toBeGreaterThan(8);
      expect(r.workerMb, args.join(' ')).toBeGreaterThan(8);
    }
    for (const args of [['-i', '1'], ['-f', 'port 1'], ['-i1']]) {
      const r = probe(args);
      expect(r.execArgv, args.join(' ')).toEqual(['--max-semi-space-size=4']);
      expect(r.workerMb, args.join(' ')).toBeLessThanOrEqual(8);
    }
  });

  it.skipIf(nodeHasCompileCache)('a cache directory others could write is not used, and the program still runs', () => {
    tscNewer(false);
    fs.rmSync(cacheDir(), { recursive: true, force: true });
    fs.mkdirSync(cacheDir());
    fs.chmodSync(cacheDir(), 0o777);
    const r = run(['--version']);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(cacheFiles()).toEqual([]);
  });

  it.skipIf(nodeHasCompileCache)('a damaged cache file is rejected by V8 and replaced; the output is unchanged', () => {
    tscNewer(false);
    fs.rmSync(cacheDir(), { recursive: true, force: true });
    expect(run(['--version']).status).toBe(0);
    const [file] = cacheFiles();
    expect(file).toBeDefined();
    const full = path.join(cacheDir(), file!);
    fs.writeFileSync(full, Buffer.alloc(4096, 7));
    const r = run(['--version']);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(fs.readFileSync(full).equals(Buffer.alloc(4096, 7))).toBe(false);
  });
});
