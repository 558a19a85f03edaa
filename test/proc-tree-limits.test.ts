// The real binary over hostile proc trees (--proc-root): a FIFO or /dev/zero as a table, a
// directory where a table should be. Each is refused at once with one warning line on stderr
// (no hang, no memory growth: a read is bounded by the file's type and a size cap), and the
// other tables are still shown.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { procRoots } from './helpers/proc-roots.js';
import { REPO_ROOT } from './helpers/tmux.js';

const BIN = path.join(REPO_ROOT, 'bin', 'sockscope');
const roots = procRoots('sockscope-hostile-');

function hostileTree(): string {
  const root = roots.recorded(['tcp6']);
  execFileSync('mkfifo', [path.join(root, 'net', 'tcp')]);
  fs.symlinkSync('/dev/zero', path.join(root, 'net', 'udp'));
  fs.mkdirSync(path.join(root, 'net', 'raw'));
  return root;
}

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000, env: { ...process.env, PROC_ROOT: '' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

describe('tables that are not regular files', () => {
  it.each([
    ['--once --summary', ['--once', '--summary'], /^TCP\s+5$/m],
    ['--once -n', ['--once', '-n'], /18020/],
    ['--once --json -n', ['--once', '--json', '-n'], /18020/],
  ])('%s: one warning per table, the readable tables shown, exit 0', async (_what, args, shown) => {
    const r = await run([...args, '--proc-root', hostileTree()]);
    expect(r.code).toBe(0);
    const warnings = r.stderr.trimEnd().split('\n');
    expect(warnings).toEqual(
      expect.arrayContaining([
        'sockscope: cannot read net/tcp: not a regular file',
        'sockscope: cannot read net/udp: not a regular file',
        'sockscope: cannot read net/raw: not a regular file',
      ]),
    );
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(r.stdout).toMatch(shown); // the 5 sockets of the recorded tcp6 (listener on port 18020)
  });
});
