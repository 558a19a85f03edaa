// A snapshot collected without record keys (CollectDeps.keys false, what `--once` collects) against
// the same tables collected with them: the same records in the same order, de-duplicated the same
// way (a socket listed twice by inode, a TIME_WAIT socket listed twice by its key), with key ''
// only where a socket has an inode. A keyless snapshot leaves nothing a later keyed one reuses.
// And the `--once` outputs (table, JSON, filtered) of a recorded tree against the same documents
// made from a keyed snapshot.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { formatJsonDocument, formatSocketTable } from '../src/cli/format-once.js';
import { countByState } from '../src/model/aggregate.js';
import type { Snapshot } from '../src/model/types.js';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createUserNames } from '../src/proc/read-users.js';
import { writeSyntheticProcTree } from '../bench/proc-tree.js';
import { RECORDED_NET, procRoots } from './helpers/proc-roots.js';
import { REPO_ROOT } from './helpers/tmux.js';

const roots = procRoots('sockscope-once-keys-');

/** A tree of the recorded tables, with net/tcp's listener and TIME_WAIT lines listed a second time at its end. */
function recordedTreeWithDuplicates(): string {
  const root = roots.recorded();
  const tcp = fs.readFileSync(path.join(RECORDED_NET, 'tcp'), 'utf8').trimEnd().split('\n');
  const again = tcp.filter((l) => / 0A | 06 /.test(l));
  fs.writeFileSync(path.join(root, 'net', 'tcp'), `${[...tcp, ...again].join('\n')}\n`);
  return root;
}

const deps = (root: string) => ({
  procFs: createProcFs(root),
  owners: null,
  userName: (uid: number) => (uid === 0 ? 'root' : String(uid)),
  hostname: () => 'h',
  now: () => 1_000,
  monotonicMs: () => 0,
});

/** The records without their keys, and the keys of inode 0 sockets. */
const withoutKeys = (s: Snapshot): unknown[] => s.sockets.map((r) => ({ ...r, key: r.inode === 0 ? r.key : '' }));

describe('a snapshot collected without keys', () => {
  it('has the keyed snapshot records, order and de-duplication, key "" only where there is an inode', () => {
    const root = recordedTreeWithDuplicates();
    const keyed = collectSnapshot(deps(root));
    const keyless = collectSnapshot({ ...deps(root), keys: false });
    expect(keyless.sockets.length).toBe(keyed.sockets.length);
    expect(keyed.sockets.some((s) => s.inode === 0 && s.protocol === 'tcp')).toBe(true);
    expect(withoutKeys(keyless)).toEqual(withoutKeys(keyed));
    expect(keyless.sockets.filter((s) => s.protocol !== 'unix' && s.inode !== 0).every((s) => s.key === '')).toBe(true);
    expect(keyless.issues).toEqual(keyed.issues);
  });

  it('leaves no keyless record for the next snapshot of the same ProcFs', () => {
    const root = recordedTreeWithDuplicates();
    const d = deps(root);
    collectSnapshot({ ...d, keys: false });
    const next = collectSnapshot(d);
    expect(next.sockets.every((s) => s.key !== '')).toBe(true);
    expect(next.sockets.map((s) => s.key)).toEqual(collectSnapshot(deps(root)).sockets.map((s) => s.key));
  });

  it('a synthetic 20k tree: the table and the JSON document are those of the keyed snapshot', () => {
    const tree = writeSyntheticProcTree(roots.empty(), { sockets: 20_000 });
    const keyed = collectSnapshot(deps(tree.root));
    const keyless = collectSnapshot({ ...deps(tree.root), keys: false });
    expect(formatSocketTable(keyless.sockets)).toBe(formatSocketTable(keyed.sockets));
    const doc = (s: Snapshot): string =>
      formatJsonDocument({ snapshot: s, counts: countByState(s.sockets), sockets: s.sockets, filter: null, warnings: [] });
    expect(doc({ ...keyless, cost: keyed.cost })).toBe(doc(keyed));
  });
});

/** The built program's exit code and output. */
function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  const env = { ...process.env };
  for (const v of ['PROC_ROOT', 'NO_COLOR', 'SOCKSCOPE_DEBUG', 'SOCKSCOPE_STATS_FILE']) delete env[v];
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/sockscope', ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 30_000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout });
    });
  });
}

describe('--once on a recorded tree with duplicated lines', () => {
  const root = recordedTreeWithDuplicates();
  // User names as the program finds them.
  const users = createUserNames(() => fs.readFileSync('/etc/passwd', 'utf8'));
  const d = { ...deps(root), userName: (uid: number) => users.nameOf(uid) };

  it('prints the table of the keyed snapshot', async () => {
    const r = await runCli(['--once', '-n', '--proc-root', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${formatSocketTable(collectSnapshot({ ...d, procFs: createProcFs(root) }).sockets)}\n`);
  });

  it('a filter on TIME_WAIT shows each TIME_WAIT socket once', async () => {
    const r = await runCli(['--once', '-n', '--proc-root', root, '-f', 'state time-wait']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').slice(1);
    const keyed = collectSnapshot({ ...d, procFs: createProcFs(root) }).sockets.filter((s) => s.state === 'TIME_WAIT');
    expect(rows).toHaveLength(keyed.length);
    expect(new Set(rows).size).toBe(rows.length);
  });
});
