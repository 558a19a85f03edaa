// A live screen's first refresh of large tables (issue 15 at 100k sockets): the collector hands
// over a partial snapshot first — exact counts of every socket, the first lines of each large
// table as rows — then the full snapshot of the same read; the frame built from the partial one
// shows the exact counts and says it is loading, and the next frame is complete. Synthetic trees
// in the kernel's formats (bench/proc-tree.ts), a headless screen. No times are asserted.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { writeSyntheticProcTree } from '../bench/proc-tree.js';
import { countByState, totalOf, type CountsByGroup } from '../src/model/aggregate.js';
import type { Snapshot } from '../src/model/types.js';
import {
  PARTIAL_FIRST_LINES,
  PARTIAL_FIRST_SNAPSHOT_BYTES,
  collectFirstSnapshotAsync,
  collectSnapshotAsync,
  createLiveCollector,
  type AsyncCollectDeps,
} from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { formatExactCount } from '../src/view/dashboard-view.js';
import { formatCount } from '../src/view/text.js';
import { createHeadless, settle, type Headless } from './helpers/snapshots.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** A synthetic tree of `sockets` TCP sockets (90% tcp, 10% tcp6; ~150 bytes a line). */
function tree(sockets: number): string {
  const t = writeSyntheticProcTree(os.tmpdir(), { sockets });
  roots.push(t.root);
  return t.root;
}

function deps(root: string): AsyncCollectDeps {
  return {
    procFs: createProcFs(root),
    owners: null,
    ownersPending: true,
    userName: (uid) => `u${uid}`,
    hostname: () => 'testhost',
    now: () => 1_700_000_000_000,
    monotonicMs: () => performance.now(),
  };
}

/** Counts without zero entries, for comparing tallies made two ways. */
function nonZero(counts: CountsByGroup): CountsByGroup {
  const out: CountsByGroup = { tcp: {}, udp: {}, raw: {}, unix: {} };
  for (const [g, states] of Object.entries(counts) as [keyof CountsByGroup, CountsByGroup['tcp']][])
    for (const [s, n] of Object.entries(states)) if (n !== undefined && n > 0) out[g][s as keyof typeof states] = n;
  return out;
}

/** Collect the first snapshot of `root` with a partial one handed over first (when the tables are large). */
async function collectFirst(root: string): Promise<{ partials: Snapshot[]; full: Snapshot; ranBetween: boolean }> {
  const partials: Snapshot[] = [];
  let ranBetween = false;
  const full = await collectFirstSnapshotAsync(deps(root), (p) => {
    partials.push(p);
    // The event loop runs between the partial snapshot and the full one (keys, the frame's write).
    setImmediate(() => {
      ranBetween = true;
    });
  });
  return { partials, full, ranBetween };
}

describe('the first refresh of large tables: a partial snapshot, then the full one', () => {
  it('the partial snapshot has the exact counts of every socket and the first lines as rows; the full one follows', async () => {
    const root = tree(20_000);
    const tableBytes = fs.statSync(path.join(root, 'net/tcp')).size + fs.statSync(path.join(root, 'net/tcp6')).size;
    expect(tableBytes).toBeGreaterThan(PARTIAL_FIRST_SNAPSHOT_BYTES);
    const { partials, full, ranBetween } = await collectFirst(root);
    expect(partials).toHaveLength(1);
    const partial = partials[0]!;
    const read = partial.partial!;
    // The oracle: every line of a separate whole parse (collectSnapshotAsync on a fresh opener).
    const whole = await collectSnapshotAsync({ ...deps(root), procFs: createProcFs(root) });
    expect(whole.sockets).toHaveLength(20_000);
    expect(nonZero(read.counts as CountsByGroup)).toEqual(nonZero(countByState(whole.sockets)));
    expect(read.socketsTotal).toBe(20_000);
    expect(read.pendingGroups).toEqual([]);
    // Rows: the first lines of tcp and tcp6, about PARTIAL_FIRST_LINES of them, in table order.
    expect(partial.sockets.length).toBe(read.socketsRead);
    expect(partial.sockets.length).toBeGreaterThan(PARTIAL_FIRST_LINES - 10);
    expect(partial.sockets.length).toBeLessThan(PARTIAL_FIRST_LINES + 10);
    const wholeKeys = whole.sockets.map((s) => s.key);
    const tcpRows = partial.sockets.filter((s) => s.protocol === 'tcp').map((s) => s.key);
    const tcp6Rows = partial.sockets.filter((s) => s.protocol === 'tcp6').map((s) => s.key);
    expect(tcp6Rows.length).toBeGreaterThan(0);
    expect(tcpRows).toEqual(wholeKeys.filter((_, i) => whole.sockets[i]!.protocol === 'tcp').slice(0, tcpRows.length));
    expect(tcp6Rows).toEqual(wholeKeys.filter((_, i) => whole.sockets[i]!.protocol === 'tcp6').slice(0, tcp6Rows.length));
    expect(partial.owners.pending).toBe(true);
    expect(partial.sockets.every((s) => s.owner === null && s.sharedBy === 0)).toBe(true);
    // The full snapshot of the same read: every socket, the same as a whole parse, not partial.
    expect(full.partial).toBeUndefined();
    expect(full.takenAtMs).toBe(partial.takenAtMs);
    expect(full.sockets.map((s) => s.key)).toEqual(wholeKeys);
    expect(full.sockets.map((s) => s.state)).toEqual(whole.sockets.map((s) => s.state));
    expect(full.sockets.map((s) => s.user)).toEqual(whole.sockets.map((s) => s.user));
    expect(full.issues.skippedLines).toBe(0);
    expect(ranBetween).toBe(true);
  });

  it('small tables: no partial snapshot, exactly what collectSnapshotAsync gives', async () => {
    const root = tree(1_000);
    const { partials, full } = await collectFirst(root);
    expect(partials).toEqual([]);
    const whole = await collectSnapshotAsync({ ...deps(root), procFs: createProcFs(root) });
    expect(full.sockets.map((s) => s.key)).toEqual(whole.sockets.map((s) => s.key));
    expect(full.partial).toBeUndefined();
  });

  it('a large UNIX table is pending in the partial snapshot (its counts are not known yet), then counted in full', async () => {
    const root = tree(15_000);
    // ~1.4 MB of /proc/net/unix (over the 1 MB parsed whole for a partial snapshot).
    const lines = ['Num       RefCount Protocol Flags    Type St Inode Path'];
    for (let i = 0; i < 20_000; i++)
      lines.push(`0000000000000000: 00000002 00000000 00000000 0001 03 ${String(5_000_000 + i).padStart(5)} /run/test/socket-${i}`);
    fs.writeFileSync(path.join(root, 'net/unix'), `${lines.join('\n')}\n`);
    expect(fs.statSync(path.join(root, 'net/unix')).size).toBeGreaterThan(1_000_000);
    const { partials, full } = await collectFirst(root);
    const read = partials[0]!.partial!;
    expect(read.pendingGroups).toEqual(['unix']);
    expect(read.socketsTotal).toBeNull();
    expect(totalOf(read.counts.tcp)).toBe(15_000);
    expect(totalOf(read.counts.unix)).toBeLessThan(20_000);
    expect(full.sockets.filter((s) => s.protocol === 'unix')).toHaveLength(20_000);
    // On screen: no total for UNIX yet, and no "of N" (N is not known).
    const h = createHeadless({ width: 160, height: 45 });
    try {
      h.dashboard.onSnapshot(partials[0]!);
      await settle();
      expect(h.text()).toContain('UNIX …');
      expect(h.text()).toContain(`loading: ${formatExactCount(read.socketsRead)} sockets read so far`);
    } finally {
      h.destroy();
    }
  });

  it('createLiveCollector hands over a partial snapshot on the first collection only', async () => {
    const root = tree(20_000);
    const collector = createLiveCollector({ ...deps(root), ownersPending: false });
    const partials: Snapshot[] = [];
    const first = await collector.collect((p) => partials.push(p));
    expect(partials).toHaveLength(1);
    expect(first.partial).toBeUndefined();
    const second = await collector.collect((p) => partials.push(p));
    expect(partials).toHaveLength(1);
    expect(second.sockets).toHaveLength(20_000);
    // Records of unchanged lines are reused from the first snapshot (its lines kept from the second on).
    const third = await collector.collect();
    expect(third.cost.reusedRows).toBe(20_000);
  });

  it('stop() during the rest of the first refresh ends it (the screen is gone: nothing left to parse for)', async () => {
    const collector = createLiveCollector(deps(tree(20_000)));
    const partials: Snapshot[] = [];
    const first = collector.collect((p) => {
      partials.push(p);
      collector.stop();
    });
    await expect(first).rejects.toThrow('collection stopped');
    expect(partials).toHaveLength(1);
  });
});

describe('the partial first frame (headless screen)', () => {
  let h: Headless | null = null;
  afterEach(() => {
    h?.destroy();
    h = null;
  });

  it('shows the exact counts and the loading marker; the next frame is complete', async () => {
    const root = tree(20_000);
    const { partials, full } = await collectFirst(root);
    const partial = partials[0]!;
    const counts = partial.partial!.counts.tcp;
    h = createHeadless({ width: 160, height: 45 });
    h.dashboard.onSnapshot(partial);
    await settle();
    const screen = h.text();
    // Exact counts: the header's totals and every state bar, from the partial snapshot's tally,
    // not from its ~2,048 rows.
    expect(screen).toContain(`TCP ${formatCount(20_000)}`);
    for (const [label, state] of [
      ['ESTAB', 'ESTABLISHED'],
      ['TIME-WAIT', 'TIME_WAIT'],
      ['CLOSE-WAIT', 'CLOSE_WAIT'],
      ['LISTEN', 'LISTEN'],
    ] as const) {
      const n = counts[state] ?? 0;
      expect(n).toBeGreaterThan(0);
      expect(screen).toMatch(new RegExp(`${label}\\s+${formatCount(n).replace('.', '\\.')}\\s`));
    }
    const marker = `loading: ${formatExactCount(partial.sockets.length)} of ${formatExactCount(20_000)} sockets read`;
    expect(screen).toContain(marker);
    expect(screen).toContain('sorted among those');
    expect(h.dashboard.currentFrame().counts).toEqual({ matched: 20_000, total: 20_000 });
    // The rows are there (a window of them), and keys work on them.
    expect(screen).toMatch(/│tcp6?\s+[A-Z]/);
    await h.press('j');
    expect(h.dashboard.ui.selectedIndex).toBe(1);
    // Per-port numbers of a part of the sockets are not shown as the machine's.
    await h.press('2');
    expect(h.text()).toContain('loading…');
    expect(h.text()).toContain(marker);
    await h.press('1');

    h.dashboard.onSnapshot(full);
    await settle();
    const after = h.text();
    expect(after).not.toContain('loading');
    expect(after).toContain('[1:sockets]');
    expect(after).toMatch(/\d+\/20000/);
    await h.press('2');
    expect(h.text()).not.toContain('loading…');
  });

  it('under a filter the partial frame says loading for what the filter matches', async () => {
    const root = tree(20_000);
    const { partials } = await collectFirst(root);
    h = createHeadless({ width: 160, height: 45, filterText: 'state established' });
    h.dashboard.onSnapshot(partials[0]!);
    await settle();
    const screen = h.text();
    expect(screen).toContain('shown: loading…');
    expect(screen).toMatch(/ESTAB\s+…/);
    expect(screen).toContain('loading: ');
  });

  it('at 80x24 the marker still fits the table title', async () => {
    const root = tree(20_000);
    const { partials } = await collectFirst(root);
    h = createHeadless({ width: 80, height: 24 });
    h.dashboard.onSnapshot(partials[0]!);
    await settle();
    expect(h.text()).toMatch(/Sockets · loading: [\d,]+ of 20,000 read/);
  });
});
