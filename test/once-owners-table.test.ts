// `--once` with owners makes most of its table while the owner scan runs (prepareSocketTable),
// then joins the owners into the records in place and finishes the table. Its output must be
// the table of a snapshot collected with its owners and formatted after: checked on a synthetic
// tree with many processes, sockets shared between processes, UNIX sockets whose user comes from
// their holder (held and not held), TIME_WAITs without inodes, and processes without sockets.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticProcTree } from '../bench/proc-tree.js';
import { writeSyntheticOwners } from '../bench/proc-tree-owners.js';
import { finishSocketTable, formatSocketTable, prepareSocketTable } from '../src/cli/format-once.js';
import { joinOwnersInPlace } from '../src/cli/run-once.js';
import { main, type OutputStream } from '../src/main.js';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nload:x:1000:1000::/home/load:/bin/sh\n';
const userName = (uid: number): string => (uid === 0 ? 'root' : uid === 1000 ? 'load' : String(uid));

let parent = '';
let root = '';

beforeAll(() => {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-once-owners-'));
  root = writeSyntheticProcTree(parent, { sockets: 6000 }).root;
  writeSyntheticOwners(root, { socketProcesses: 9, idleProcesses: 12, unixSockets: 40 });
});

afterAll(() => {
  if (parent !== '') fs.rmSync(parent, { recursive: true, force: true });
});

function capture(): OutputStream & { text(): string } {
  const chunks: string[] = [];
  return { isTTY: false, write: (c: string) => (chunks.push(c), true), text: () => chunks.join('') };
}

function collectWithOwners(): ReturnType<typeof collectSnapshot> {
  const procFs = createProcFs(root);
  return collectSnapshot({
    procFs,
    owners: createOwnerScanner(procFs),
    userName,
    hostname: () => 'h',
    now: () => 0,
    monotonicMs: () => 0,
  });
}

describe('--once with owners, the table made while the owners are scanned', () => {
  it('prints the table of the snapshot collected with its owners', async () => {
    const stdout = capture();
    const stderr = capture();
    const code = await main(['--once', '--proc-root', root], {
      stdout,
      stderr,
      stdin: new PassThrough(),
      env: {},
      platform: 'linux',
      now: () => 1_700_000_000_000,
      monotonicMs: () => 0,
      hostname: () => 'h',
      readPasswd: () => PASSWD,
    });
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
    const reference = collectWithOwners();
    // What the tree holds, so the comparison covers every kind of row.
    const shared = reference.sockets.filter((s) => s.sharedBy > 0);
    const unixHeld = reference.sockets.filter((s) => s.protocol === 'unix' && s.owner !== null);
    expect(shared.length).toBeGreaterThan(5);
    expect(unixHeld.length).toBe(20);
    expect(new Set(unixHeld.map((s) => s.user))).toEqual(new Set(['root', 'load']));
    expect(reference.sockets.some((s) => s.protocol === 'unix' && s.owner === null && s.user === '')).toBe(true);
    expect(reference.sockets.some((s) => s.inode === 0)).toBe(true);
    expect(stdout.text()).toBe(`${formatSocketTable(reference.sockets)}\n`);
  });

  it('joinOwnersInPlace gives the records and stats that collecting with owners gives', () => {
    const reference = collectWithOwners();
    const procFs = createProcFs(root);
    const deps = { procFs, owners: null, userName, hostname: () => 'h', now: () => 0, monotonicMs: () => 0 };
    const bare = collectSnapshot(deps);
    const table = prepareSocketTable(bare.sockets);
    const scan = createOwnerScanner(procFs).scan(new Set(bare.sockets.map((s) => s.inode).filter((i) => i !== 0)));
    const joined = joinOwnersInPlace(bare, scan, userName);
    expect(joined.owners).toEqual(scan.stats);
    expect(joined.sockets).toEqual(reference.sockets);
    expect(finishSocketTable(table).join('\n')).toBe(formatSocketTable(reference.sockets));
  });
});
