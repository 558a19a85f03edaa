// What `--once` loads, on the real binary: a resolve hook (node --import) logs every module
// resolved, and process.moduleLoadList at exit names the built-ins, so the test sees that the
// --ssh protocol (child_process + crypto) stays unloaded while option checks for --ssh still run.
// Build first: `npx tsc -p tsconfig.json`.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT } from './helpers/tmux.js';

const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');

/** Runs in the hooks thread: appends each resolved URL to $SOCKSCOPE_IMPORT_LOG. */
const RESOLVE_HOOK = `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  fs.appendFileSync(process.env.SOCKSCOPE_IMPORT_LOG, r.url + '\\n');
  return r;
}`;

/** Runs in the main thread before bin/sockscope: registers the hook, logs built-ins at exit. */
const PRELOAD = `import { register } from 'node:module';
import fs from 'node:fs';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`)});
process.on('exit', () => fs.appendFileSync(process.env.SOCKSCOPE_IMPORT_LOG, process.moduleLoadList.join('\\n') + '\\n'));`;

let base = '';
let procRoot = '';
beforeAll(() => {
  expect(fs.existsSync(path.join(REPO_ROOT, 'dist/src/main.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-imports-'));
  procRoot = path.join(base, 'proc');
  fs.mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  for (const f of ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix'])
    fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(procRoot, 'net', f));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** Run the binary; resolves to the exit code and the list of modules it loaded. */
function loadedBy(args: readonly string[], name: string): Promise<{ code: number | null; stderr: string; loaded: string[] }> {
  const log = path.join(base, `${name}.log`);
  // The tsc build (dist/src), whose modules the hook sees; not the compile-cached bundle bin/sockscope prefers on Node 20.
  const env: NodeJS.ProcessEnv = { ...process.env, SOCKSCOPE_IMPORT_LOG: log, SOCKSCOPE_LAUNCH: 'tsc' };
  for (const v of ['PROC_ROOT', 'SOCKSCOPE_STATS_FILE']) delete env[v];
  const argv = ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, 'bin/sockscope', ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 30_000 }, (err, _stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stderr, loaded: fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n') : [] });
    });
  });
}

const ownModule = (loaded: readonly string[], rel: string): boolean => loaded.some((u) => u.endsWith(`/dist/src/${rel}`));

describe('--once loads only what it uses', () => {
  it('--once --json: the ssh argument checks load, the ssh protocol, its ProcFs and crypto do not', async () => {
    // -i 1: a line the quick parser leaves to commander (whose option checks load args.js).
    const r = await loadedBy(['--once', '--json', '-n', '-i', '1', '--proc-root', procRoot], 'once');
    expect(r.code, r.stderr).toBe(0);
    expect(ownModule(r.loaded, 'main.js')).toBe(true); // the hook saw the binary's own modules
    expect(ownModule(r.loaded, 'proc/ssh/args.js')).toBe(true);
    expect(ownModule(r.loaded, 'proc/ssh/protocol.js')).toBe(false);
    expect(ownModule(r.loaded, 'proc/ssh/proc-fs.js')).toBe(false);
    expect(r.loaded).not.toContain('NativeModule crypto');
  });

  it('--once --summary: neither commander nor the table, owner, ss or JSON formatting modules', async () => {
    const r = await loadedBy(['--once', '--summary', '--proc-root', procRoot], 'summary');
    expect(r.code, r.stderr).toBe(0);
    expect(ownModule(r.loaded, 'cli/run-summary.js')).toBe(true);
    expect(r.loaded.some((u) => u.includes('/node_modules/commander/'))).toBe(false);
    for (const rel of ['cli/options.js', 'cli/run-once.js', 'cli/format-once.js', 'proc/owner-source.js', 'proc/read-ss-info.js']) {
      expect(ownModule(r.loaded, rel), rel).toBe(false);
    }
    expect(r.loaded).not.toContain('NativeModule child_process');
  });

  it('--ssh with a bad target is refused while parsing options, before the protocol loads', async () => {
    const r = await loadedBy(['--once', '--ssh', 'bad host;id'], 'bad-ssh');
    expect(r.code).not.toBe(0);
    expect(ownModule(r.loaded, 'proc/ssh/args.js')).toBe(true);
    expect(ownModule(r.loaded, 'proc/ssh/protocol.js')).toBe(false);
  });
});
