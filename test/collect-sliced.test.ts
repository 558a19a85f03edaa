// The live dashboard's refresh parses the tables in slices with the event loop let run between
// them (collectSnapshotSlicedAsync). It must hand back exactly what the one-step parse does
// (collectSnapshot) over a sequence of refreshes: the same rows in the same order, the same
// records reused from the previous snapshot, the same de-duplication, including duplicates that
// fall in different slices.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectSnapshot, collectSnapshotSlicedAsync } from '../src/proc/collect-snapshot.js';
import { PARSE_STEP_LINES } from '../src/proc/parse-inet.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import type { Snapshot, SocketRecord } from '../src/model/types.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ';
const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/** A socket as one tcp line describes it; inode 0 prints a short TIME_WAIT line. */
interface Sock {
  readonly port: number;
  readonly peerPort: number;
  readonly inode: number;
  readonly recvQ: number;
}

function tcpLine(sl: number, s: Sock): string {
  const head = `${String(sl).padStart(4)}: 0100007F:${hex(s.port, 4)} 0100007F:${hex(s.peerPort, 4)}`;
  if (s.inode === 0) return `${head} 06 00000000:00000000 03:00001713 00000000     0        0 0 3 0000000006954ff1`.padEnd(150);
  return `${head} 01 00000000:${hex(s.recvQ, 8)} 00:00000000 00000000  1000        0 ${s.inode} 1 00000000efeb5f05 20 4 30 10 -1`.padEnd(
    150,
  );
}

function writeTcp(root: string, socks: readonly Sock[]): void {
  const lines = [HEADER, ...socks.map((s, i) => tcpLine(i, s))];
  fs.writeFileSync(path.join(root, 'net', 'tcp'), `${lines.join('\n')}\n`);
}

function newRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-sliced-'));
  roots.push(root);
  fs.mkdirSync(path.join(root, 'net'));
  fs.writeFileSync(path.join(root, 'net', 'udp'), '');
  return root;
}

/** A clock that advances 1 ms per reading: a slice of PARSE_SLICE_MS readings, whatever the machine's speed. */
function steppingClock(): { readonly monotonicMs: () => number; readings: () => number } {
  let t = 0;
  return { monotonicMs: () => ++t, readings: () => t };
}

const deps = (root: string, monotonicMs: () => number) => ({
  procFs: createProcFs(root),
  owners: null,
  userName: (uid: number) => `u${uid}`,
  hostname: () => 'h',
  now: () => 1_000,
  monotonicMs,
  protocols: ['tcp', 'udp'] as const,
});

/** For each row, the row of the previous snapshot holding the very same object (-1: a new object). */
function reusedFrom(previous: Snapshot | null, snap: Snapshot): number[] {
  const at = new Map<SocketRecord, number>();
  previous?.sockets.forEach((r, i) => at.set(r, i));
  return snap.sockets.map((r) => at.get(r) ?? -1);
}

/** The refreshes: 20 slices' worth of lines, then changes, arrivals, departures and duplicates. */
function refreshes(): Sock[][] {
  const n = PARSE_STEP_LINES * 20;
  const base: Sock[] = Array.from({ length: n }, (_, i) => ({
    port: 1024 + (i % 60_000),
    peerPort: 80 + Math.floor(i / 60_000),
    inode: i % 97 === 0 ? 0 : 10_000 + i,
    recvQ: 0,
  }));
  const changed = base.map((s, i) => (i % 13 === 0 ? { ...s, recvQ: i } : s));
  // Departures (every 7th line), arrivals (a run in the middle and lines at the end).
  const moved = changed.filter((_, i) => i % 7 !== 3);
  moved.splice(5_000, 0, ...Array.from({ length: 300 }, (_, k) => ({ port: 2000 + k, peerPort: 9000, inode: 900_000 + k, recvQ: 1 })));
  moved.push(...Array.from({ length: 50 }, (_, k) => ({ port: 3000 + k, peerPort: 9001, inode: 0, recvQ: 0 })));
  // Duplicates many slices apart: a socket listed again later (by inode, and by key for inode 0),
  // the later line winning, as when the kernel's walk of the hash resumes under churn.
  const duplicated = [...moved];
  duplicated.splice(PARSE_STEP_LINES * 15, 0, { ...moved[10]!, recvQ: 77 }, moved[0]!, { ...moved[PARSE_STEP_LINES * 3]! });
  duplicated.push({ ...moved[PARSE_STEP_LINES + 5]!, recvQ: 5 });
  // And back to the first table, nearly whole.
  return [base, changed, moved, duplicated, duplicated, base.slice(0, n - 1000)];
}

describe('the live refresh parsed in slices', () => {
  it('hands back the same snapshots as the one-step parse, refresh after refresh', async () => {
    const root = newRoot();
    const clock = steppingClock();
    const sync = deps(root, () => 0);
    const sliced = deps(root, clock.monotonicMs);
    let lastSync: Snapshot | null = null;
    let lastSliced: Snapshot | null = null;
    let duplicatesSeen = 0;
    for (const table of refreshes()) {
      writeTcp(root, table);
      const a = collectSnapshot(sync);
      const b = await collectSnapshotSlicedAsync(sliced);
      expect(b.sockets).toHaveLength(a.sockets.length);
      expect(b.sockets).toEqual(a.sockets);
      expect(reusedFrom(lastSliced, b)).toEqual(reusedFrom(lastSync, a));
      expect(b.cost.reusedRows).toBe(a.cost.reusedRows);
      expect(b.cost.duplicateRows).toBe(a.cost.duplicateRows);
      expect(b.issues).toEqual(a.issues);
      duplicatesSeen += a.cost.duplicateRows ?? 0;
      lastSync = a;
      lastSliced = b;
    }
    // The sequence did exercise reuse and duplicates (else the comparison proves little).
    expect(duplicatesSeen).toBeGreaterThanOrEqual(8);
    expect(lastSync!.sockets.length).toBe(PARSE_STEP_LINES * 20 - 1000);
  });

  it('lets the event loop run while a large table is parsed, not only during the reads', async () => {
    const root = newRoot();
    writeTcp(root, refreshes()[0]!);
    const clock = steppingClock();
    let done = false;
    // Each turn of the event loop notes how far the collection's clock readings went: the
    // readings after the reads (t0, t1) are the parse's; a turn seen between the first of
    // them and the end is a pause in the parse.
    const seen: number[] = [];
    const tick = (): void => {
      seen.push(clock.readings());
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    for (let refresh = 0; refresh < 2; refresh++) {
      seen.length = 0;
      await collectSnapshotSlicedAsync(deps(root, clock.monotonicMs)).then((snap) => {
        expect(snap.sockets).toHaveLength(PARSE_STEP_LINES * 20);
      });
      const readingsAtStart = seen[0] ?? 0;
      const last = clock.readings();
      expect(seen.some((r) => r > readingsAtStart + 2 && r < last)).toBe(true);
    }
    done = true;
  });
});
