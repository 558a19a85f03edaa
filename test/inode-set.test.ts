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
