// The table reader reads /proc/net tables in a thread of its own and hands the buffers back
// without a copy. What it hands back must be exactly the file's bytes (as a direct read gives),
// refresh after refresh with the buffers passed back and forth, and it must refuse what the
// bounded reads of src/proc/proc-fs.ts refuse. A live collection with it gives the same
// snapshots as one without it.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticProcTree } from '../bench/proc-tree.js';
import type { Snapshot } from '../src/model/types.js';
import { collectSnapshot, collectSnapshotSlicedAsync } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createTableReader, type TableReader } from '../src/proc/table-reader.js';

const dirs: string[] = [];
const readers: TableReader[] = [];
afterAll(async () => {
  for (const r of readers) await r.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-reader-'));
  dirs.push(d);
  return d;
}

function reader(root: string, maxBytes?: number): TableReader {
  const r = createTableReader(root, maxBytes);
  readers.push(r);
  return r;
}

const content = (r: { bytes: Buffer | null; length: number }): Buffer => (r.bytes as Buffer).subarray(0, r.length);

describe('createTableReader', () => {
  it('gives the bytes of a direct read of a synthetic tree, round after round, reading into the buffers it gave back', async () => {
    const parent = tempDir();
    const tree = writeSyntheticProcTree(parent, { sockets: 20_000 });
    const r = reader(tree.root);
    const files = ['net/tcp', 'net/tcp6', 'net/udp'];
    let spares: (Buffer | null)[] = files.map(() => null);
    let previous: (Buffer | null)[] = files.map(() => null);
    for (let round = 0; round < 5; round++) {
      // The tables change size between rounds: grow, shrink, and an empty one.
      if (round === 2) fs.appendFileSync(path.join(tree.root, 'net/tcp'), 'x'.repeat(300_000));
      if (round === 3) fs.writeFileSync(path.join(tree.root, 'net/tcp6'), 'short\n');
      if (round === 4) fs.writeFileSync(path.join(tree.root, 'net/udp'), '');
      const got = await r.read(files.map((f, i) => ({ relPath: f, into: spares[i] ?? null })));
      got.forEach((g, i) => {
        expect(g.error).toBeNull();
        expect(content(g).equals(fs.readFileSync(path.join(tree.root, files[i]!)))).toBe(true);
      });
      // As the collector does: the buffer of the round before this one is the next read's target.
      spares = previous;
      previous = got.map((g) => g.bytes);
    }
    expect(fs.statSync(path.join(tree.root, 'net/tcp')).size).toBeGreaterThan(2_000_000);
  });

  it('refuses what a bounded read refuses: missing, a directory, a FIFO, a file over the cap', async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'net'));
    fs.mkdirSync(path.join(root, 'net', 'dir'));
    execFileSync('mkfifo', [path.join(root, 'net', 'fifo')]);
    fs.writeFileSync(path.join(root, 'net', 'big'), 'y'.repeat(5000));
    fs.writeFileSync(path.join(root, 'net', 'ok'), 'fine\n');
    const got = await reader(root, 4096).read(
      ['net/missing', 'net/dir', 'net/fifo', 'net/big', 'net/ok'].map((relPath) => ({ relPath, into: null })),
    );
    expect(got.map((g) => g.error)).toEqual(['ENOENT', 'ENOTREG', 'ENOTREG', 'EFBIG', null]);
    expect(content(got[4]!).toString()).toBe('fine\n');
  });

  it('reads a file procfs says is empty (size 0) into a 64 KiB buffer, not a 1 MiB one: the collector keeps two per table', async () => {
    // The real /proc: its files report st_size 0 whatever they hold (udp and raw tables are a header line).
    const r = reader('/proc');
    const [got] = await r.read([{ relPath: 'self/net/udp', into: null }]);
    expect(got!.error).toBeNull();
    expect(content(got!).toString('latin1')).toMatch(/^\s*sl\s+local_address/);
    expect(got!.bytes!.buffer.byteLength).toBe(65_536);
    // A second read into that buffer reuses it.
    const [again] = await r.read([{ relPath: 'self/net/udp', into: got!.bytes }]);
    expect(again!.bytes!.buffer.byteLength).toBe(65_536);
    expect(content(again!).toString('latin1')).toMatch(/^\s*sl\s+local_address/);
  });

  it('rejects once closed (the collector then reads through libuv pool)', async () => {
    const root = tempDir();
    const r = reader(root);
    await r.close();
    await expect(r.read([{ relPath: 'x', into: null }])).rejects.toThrow(/closed/);
  });
});

describe('a live collection with the table reader', () => {
  it('hands back the same snapshots as one without it, with records reused the same way', async () => {
    const parent = tempDir();
    const tree = writeSyntheticProcTree(parent, { sockets: 30_000 });
    const tcp = path.join(tree.root, 'net/tcp');
    const original = fs.readFileSync(tcp, 'latin1');
    const lines = original.split('\n');
    const deps = (tableReader: TableReader | null) => ({
      procFs: createProcFs(tree.root),
      owners: null,
      userName: (uid: number) => `u${uid}`,
      hostname: () => 'h',
      now: () => 1_000,
      monotonicMs: () => 0,
      tableReader,
    });
    // Counts the reads the reader answered (a rejected one would fall back to the pool).
    const real = reader(tree.root);
    let answered = 0;
    const counting: TableReader = {
      read: (requests) =>
        real.read(requests).then((results) => {
          answered++;
          return results;
        }),
      close: () => real.close(),
    };
    const withReader = deps(counting);
    const closedReader = createTableReader(tree.root);
    await closedReader.close();
    const withClosed = deps(closedReader);
    const plain = deps(null);
    const reusedFrom = (previous: Snapshot | null, snap: Snapshot): number[] => {
      const at = new Map(previous?.sockets.map((r, i) => [r, i]));
      return snap.sockets.map((r) => at.get(r) ?? -1);
    };
    let last: (Snapshot | null)[] = [null, null, null];
    let reused = 0;
    for (let round = 0; round < 5; round++) {
      // Changes: a line's queue, lines gone, the table back as it was.
      if (round === 1)
        fs.writeFileSync(tcp, lines.map((l, i) => (i % 50 === 7 ? l.replace(/ 00000000:00000000 /, ' 00000001:00000002 ') : l)).join('\n'));
      if (round === 2) fs.writeFileSync(tcp, lines.filter((_, i) => i % 9 !== 4).join('\n'));
      if (round === 4) fs.writeFileSync(tcp, original);
      const a = collectSnapshot(plain);
      const b = await collectSnapshotSlicedAsync(withReader);
      const c = await collectSnapshotSlicedAsync(withClosed);
      expect(a.sockets.length).toBeGreaterThan(20_000);
      expect(b.sockets).toEqual(a.sockets);
      expect(c.sockets).toEqual(a.sockets);
      expect(reusedFrom(last[1]!, b)).toEqual(reusedFrom(last[0]!, a));
      expect(b.cost.reusedRows).toBe(a.cost.reusedRows);
      expect(b.issues).toEqual(a.issues);
      reused += b.cost.reusedRows ?? 0;
      last = [a, b, c];
    }
    expect(reused).toBeGreaterThan(50_000);
    expect(answered).toBe(5);
  });
});
