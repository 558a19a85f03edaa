// InodeSet (src/proc/inode-index.ts): the wanted socket inodes handed to the owner scan as typed
// arrays must answer exactly as the Set<number> they replace, whatever the input.

import { describe, expect, it } from 'vitest';
import { InodeSet, WantedInodes, inodeArrayOf } from '../src/proc/inode-index.js';
import { wantedInodes } from '../src/proc/collect-snapshot.js';
import { parseInetTable } from '../src/proc/parse-inet.js';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './helpers/tmux.js';

/** What the former wantedInodes returned. */
function referenceSet(inodes: readonly number[]): Set<number> {
  const set = new Set<number>();
  for (const inode of inodes) if (inode !== 0) set.add(inode);
  return set;
}

/** A deterministic pseudo-random sequence (xorshift32). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function expectSameSet(actual: InodeSet, expected: Set<number>, probes: readonly number[]): void {
  expect(actual.size).toBe(expected.size);
  expect([...actual]).toEqual([...expected]);
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  expect([...actual.entries()]).toEqual([...expected.entries()]);
  const seen: number[] = [];
  actual.forEach((value, key, set) => {
    expect(key).toBe(value);
    expect(set).toBe(actual);
    seen.push(value);
  });
  expect(seen).toEqual([...expected]);
  for (const p of probes) expect(actual.has(p), `has(${p})`).toBe(expected.has(p));
  expect([...inodeArrayOf(actual)]).toEqual([...expected]);
}

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');

describe('InodeSet', () => {
  it('the wanted inodes of recorded tables: the same members, order and answers as a Set', () => {
    for (const protocol of ['tcp', 'tcp6'] as const) {
      const { sockets } = parseInetTable(fs.readFileSync(path.join(FIXTURES, protocol), 'utf8'), protocol);
      expect(sockets.some((s) => s.inode === 0)).toBe(protocol === 'tcp'); // TIME_WAIT lines: inode 0
      const inodes = sockets.map((s) => s.inode);
      const expected = referenceSet(inodes);
      expect(expected.size).toBeGreaterThan(3);
      expectSameSet(wantedInodes(sockets), expected, [...inodes, 0, 1, 123456789, -1, 0.5]);
    }
  });

  it('random lists with zeros, duplicates and inodes beyond 32 bits, from entries and from an array', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const n = Math.floor(next() * 3000);
      const inodes: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = next();
        // zeros, small repeated values, large ones, and values above 2^32 (inodes are unsigned longs)
        inodes.push(
          r < 0.1
            ? 0
            : r < 0.4
              ? 1 + Math.floor(next() * 50)
              : r < 0.9
                ? Math.floor(next() * 2 ** 32)
                : 2 ** 32 + Math.floor(next() * 2 ** 20),
        );
      }
      const expected = referenceSet(inodes);
      const probes = [...inodes.slice(0, 200), 0, 51, 2 ** 32 + 2 ** 21, 7.5];
      expectSameSet(InodeSet.ofEntries(inodes.map((inode) => ({ inode }))), expected, probes);
      expectSameSet(InodeSet.of(Float64Array.from(inodes)), expected, probes);
    }
  });

  it('of() keeps an array without zeros or duplicates, and copies one with them (the input is not changed)', () => {
    const clean = Float64Array.of(5, 3, 2 ** 40, 9);
    expect(InodeSet.of(clean).inodes).toBe(clean);
    const dirty = Float64Array.of(5, 0, 3, 5, 9, 3);
    const set = InodeSet.of(dirty);
    expect([...set]).toEqual([5, 3, 9]);
    expect([...dirty]).toEqual([5, 0, 3, 5, 9, 3]);
    expect(InodeSet.of(new Float64Array(0)).size).toBe(0);
  });

  it('inodeArrayOf copies (the copy is posted and transferred; the set stays usable) and accepts any set', () => {
    const set = InodeSet.ofEntries([{ inode: 7 }, { inode: 8 }]);
    const copy = inodeArrayOf(set);
    expect(copy).not.toBe(set.inodes);
    expect(copy.buffer).not.toBe(set.inodes.buffer);
    expect([...copy]).toEqual([7, 8]);
    expect([...inodeArrayOf(new Set([4, 2]))]).toEqual([4, 2]);
  });
});

describe('WantedInodes: added and removed between two lists, as two Sets would say', () => {
  /** The answer two Sets give. */
  function setDiff(before: Set<number>, after: Set<number>): { added: number[]; removed: number[] } {
    return { added: [...after].filter((i) => !before.has(i)), removed: [...before].filter((i) => !after.has(i)) };
  }
  const sorted = (a: readonly number[]): number[] => [...a].sort((x, y) => x - y);

  it('a refresh that keeps the order: insertions, removals (also in runs longer than the look-ahead), a few moves', () => {
    const next = random(11);
    const wanted = new WantedInodes();
    let list: number[] = [];
    let nextInode = 1;
    let before = new Set<number>();
    for (let round = 0; round < 60; round++) {
      const out: number[] = [];
      for (const inode of list) {
        const r = next();
        if (r < 0.05) continue; // closed
        if (round % 7 === 3 && r < 0.5) continue; // a long run of removals
        out.push(inode);
        if (r > 0.97) out.push(nextInode++); // opened next to it
      }
      if (round % 5 === 0) for (let k = 0; k < 200; k++) out.push(nextInode++); // a burst at the end
      if (round % 4 === 1 && out.length > 10) {
        // a few sockets moved elsewhere in the list
        for (let k = 0; k < 5; k++) {
          const from = Math.floor(next() * out.length);
          const [moved] = out.splice(from, 1);
          out.splice(Math.floor(next() * out.length), 0, moved!);
        }
      }
      if (round === 40) out.reverse(); // the order lost entirely
      const arr = Float64Array.from(out);
      const after = new Set(out);
      const got = wanted.update(arr);
      const want = setDiff(before, after);
      expect(sorted(got.added)).toEqual(sorted(want.added));
      expect(sorted(got.removed)).toEqual(sorted(want.removed));
      expect(wanted.size).toBe(after.size);
      for (let k = 0; k < 50; k++) {
        const probe = 1 + Math.floor(next() * nextInode);
        expect(wanted.has(probe)).toBe(after.has(probe));
      }
      list = out;
      before = after;
    }
  });

  it('inodes wanted again after a pause are added again; clear() makes every inode new; 0 is skipped', () => {
    const wanted = new WantedInodes();
    expect(wanted.update(Float64Array.from([5, 0, 6, 7]))).toEqual({ added: [5, 6, 7], removed: [] });
    expect(wanted.update(Float64Array.from([5, 7]))).toEqual({ added: [], removed: [6] });
    expect(wanted.has(6)).toBe(false);
    expect(wanted.has(0)).toBe(false);
    expect(wanted.update(Float64Array.from([6, 5, 7]))).toEqual({ added: [6], removed: [] });
    wanted.clear();
    expect(wanted.has(5)).toBe(false);
    expect(wanted.update(Float64Array.from([5, 8]))).toEqual({ added: [5, 8], removed: [] });
    // Large inodes (unsigned long) are kept exactly.
    const big = 2 ** 40 + 3;
    expect(wanted.update(Float64Array.from([big, 5]))).toEqual({ added: [big], removed: [8] });
    expect(wanted.has(big)).toBe(true);
    expect(wanted.has(big + 1)).toBe(false);
  });
});

describe('WantedInodes marks: unknown (fresh or older) and ownerless, as a plain Map of the wanted inodes says', () => {
  it('random refreshes: marks set by update and markUnknown, cleared by a holder or by leaving, aged by the next scan, given up in bulk', () => {
    const next = random(23);
    const wanted = new WantedInodes();
    /** Model: wanted inode → its mark and the scan it was marked unknown in. */
    let model = new Map<number, { mark: 'none' | 'unknown' | 'ownerless'; since: number }>();
    const held = new Set<number>();
    let list: number[] = [];
    let nextInode = 1;
    for (let scan = 1; scan <= 80; scan++) {
      // The next list: some closed, some opened (enough of them to rebuild the table now and then).
      const out = list.filter(() => next() > 0.08);
      const opened = scan % 9 === 0 ? 3000 : Math.floor(next() * 40);
      for (let k = 0; k < opened; k++) out.splice(Math.floor(next() * (out.length + 1)), 0, nextInode++);
      for (let k = 0; k < 20; k++) {
        // holders come and go, wanted or not
        const inode = 1 + Math.floor(next() * nextInode);
        if (next() < 0.5) held.add(inode);
        else held.delete(inode);
      }
      const { added, removed } = wanted.update(Float64Array.from(out), { scan, held: (inode) => held.has(inode) });
      const after = new Map<number, { mark: 'none' | 'unknown' | 'ownerless'; since: number }>();
      for (const inode of out) after.set(inode, model.get(inode) ?? { mark: held.has(inode) ? 'none' : 'unknown', since: scan });
      expect(added.length).toBe(out.filter((i) => !model.has(i)).length);
      expect(removed.length).toBe([...model.keys()].filter((i) => !after.has(i)).length);
      model = after;
      // A few inodes gain a holder (the mark goes) or lose it (marked again, unless marked already).
      for (let k = 0; k < 10 && out.length > 0; k++) {
        const inode = out[Math.floor(next() * out.length)]!;
        const m = model.get(inode)!;
        if (next() < 0.5) {
          wanted.clearMark(inode);
          m.mark = 'none';
        } else {
          expect(wanted.markUnknown(inode, scan)).toBe(m.mark === 'none');
          if (m.mark === 'none') model.set(inode, { mark: 'unknown', since: scan });
        }
      }
      if (scan % 13 === 0 && out.length > 0) {
        const inode = out[0]!;
        wanted.markOwnerless(inode);
        model.set(inode, { mark: 'ownerless', since: 0 });
      }
      if (scan % 10 === 0) {
        wanted.unknownToOwnerless();
        for (const m of model.values()) if (m.mark === 'unknown') m.mark = 'ownerless';
      }
      const marks = [...model.values()];
      expect(wanted.unknownCount).toBe(marks.filter((m) => m.mark === 'unknown').length);
      expect(wanted.ownerlessCount).toBe(marks.filter((m) => m.mark === 'ownerless').length);
      expect(wanted.unknownBefore(scan)).toBe(marks.filter((m) => m.mark === 'unknown' && m.since < scan).length);
      const markedSorted = [...model].filter(([, m]) => m.mark !== 'none').map(([i]) => i);
      expect(wanted.marked().sort((a, b) => a - b)).toEqual(markedSorted.sort((a, b) => a - b));
      for (let k = 0; k < 30; k++) {
        const probe = 1 + Math.floor(next() * nextInode);
        const m = model.get(probe);
        expect(wanted.isUnknown(probe)).toBe(m?.mark === 'unknown');
        expect(wanted.isOwnerless(probe)).toBe(m?.mark === 'ownerless');
      }
      list = out;
    }
  });

  it('a fresh mark is older from the next scan on; an inode that leaves and comes back starts unmarked', () => {
    const wanted = new WantedInodes();
    const none = { scan: 1, held: (): boolean => false };
    wanted.update(Float64Array.from([1, 2, 3]), none);
    expect(wanted.unknownCount).toBe(3);
    expect(wanted.unknownBefore(1)).toBe(0); // all marked in this scan
    wanted.update(Float64Array.from([1, 2, 3, 4]), { scan: 2, held: () => false });
    expect(wanted.unknownBefore(2)).toBe(3); // 1, 2, 3 from scan 1; 4 is fresh
    wanted.clearMark(2); // a holder found
    expect(wanted.unknownBefore(2)).toBe(2);
    wanted.unknownToOwnerless();
    expect([wanted.unknownCount, wanted.ownerlessCount]).toEqual([0, 3]);
    expect(wanted.markUnknown(1, 3)).toBe(false); // ownerless stays so
    wanted.update(Float64Array.from([2, 3, 4]), { scan: 3, held: () => false }); // 1 leaves
    expect(wanted.ownerlessCount).toBe(2);
    wanted.update(Float64Array.from([1, 2, 3, 4]), { scan: 4, held: () => true }); // back, held
    expect(wanted.isOwnerless(1)).toBe(false);
    expect(wanted.isUnknown(1)).toBe(false);
    wanted.clear();
    expect([wanted.unknownCount, wanted.ownerlessCount, wanted.marked().length]).toEqual([0, 0, 0]);
  });
});
