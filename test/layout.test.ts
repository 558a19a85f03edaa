import { describe, expect, it } from 'vitest';

import { HEADER_HEIGHT, MIN_HEIGHT, MIN_WIDTH, computeLayout, type Layout, type Rect } from '../src/view/layout.js';

const r = (top: number, left: number, width: number, height: number): Rect => ({ top, left, width, height });

function panels(l: Layout): [string, Rect][] {
  const out: [string, Rect][] = [
    ['header', l.header],
    ['table', l.table],
    ['footer', l.footer],
  ];
  if (l.bars !== null) out.push(['bars', l.bars]);
  if (l.history !== null) out.push(['history', l.history]);
  return out;
}

const overlaps = (a: Rect, b: Rect): boolean =>
  a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

/** Every panel inside the screen, none overlapping, none empty. Returns the problems found. */
function problems(l: Layout, width: number, height: number): string[] {
  const found: string[] = [];
  const ps = panels(l);
  for (const [name, p] of ps) {
    if (p.width <= 0 || p.height <= 0) found.push(`${name} is empty`);
    if (p.top < 0 || p.left < 0 || p.top + p.height > height || p.left + p.width > width) found.push(`${name} outside ${width}x${height}`);
  }
  for (let i = 0; i < ps.length; i++) {
    for (let j = i + 1; j < ps.length; j++) {
      const [an, a] = ps[i] ?? ['', r(0, 0, 0, 0)];
      const [bn, b] = ps[j] ?? ['', r(0, 0, 0, 0)];
      if (overlaps(a, b)) found.push(`${an} overlaps ${bn}`);
    }
  }
  return found;
}

describe('computeLayout at common sizes', () => {
  it.each<{ size: [number, number]; barRows: number; expected: Layout }>([
    {
      size: [80, 24],
      barRows: 5,
      expected: {
        tooSmall: false,
        header: r(0, 0, 80, 3),
        bars: r(3, 0, 80, 7),
        history: null,
        table: r(10, 0, 80, 13),
        footer: r(23, 0, 80, 1),
      },
    },
    {
      size: [160, 45],
      barRows: 5,
      expected: {
        tooSmall: false,
        header: r(0, 0, 160, 3),
        bars: r(3, 0, 72, 14),
        history: r(3, 72, 88, 14),
        table: r(17, 0, 160, 27),
        footer: r(44, 0, 160, 1),
      },
    },
    {
      size: [120, 40],
      barRows: 5,
      expected: {
        tooSmall: false,
        header: r(0, 0, 120, 3),
        bars: r(3, 0, 54, 12),
        history: r(3, 54, 66, 12),
        table: r(15, 0, 120, 24),
        footer: r(39, 0, 120, 1),
      },
    },
    {
      // Many bar rows on a small terminal: the bars are capped so the table keeps most of the body.
      size: [80, 24],
      barRows: 12,
      expected: {
        tooSmall: false,
        header: r(0, 0, 80, 3),
        bars: r(3, 0, 80, 8),
        history: null,
        table: r(11, 0, 80, 12),
        footer: r(23, 0, 80, 1),
      },
    },
    {
      // Short terminal: no bars, the table takes the whole body.
      size: [100, 20],
      barRows: 5,
      expected: {
        tooSmall: false,
        header: r(0, 0, 100, 3),
        bars: null,
        history: null,
        table: r(3, 0, 100, 16),
        footer: r(19, 0, 100, 1),
      },
    },
  ])('$size.0 x $size.1 with $barRows bar rows', ({ size: [width, height], barRows, expected }) => {
    const l = computeLayout(width, height, barRows);
    expect(l).toEqual(expected);
    expect(problems(l, width, height)).toEqual([]);
  });
});

describe('too small', () => {
  it.each([
    [59, 20],
    [200, 15],
    [MIN_WIDTH - 1, MIN_HEIGHT],
    [MIN_WIDTH, MIN_HEIGHT - 1],
    [20, 5],
  ])('%d x %d is too small and draws no bars or history', (width, height) => {
    const l = computeLayout(width, height, 5);
    expect(l.tooSmall).toBe(true);
    expect(l.bars).toBeNull();
    expect(l.history).toBeNull();
  });

  it.each([
    [59, 20],
    [200, 15],
  ])('%d x %d still places header, table and footer inside the screen', (width, height) => {
    expect(problems(computeLayout(width, height, 5), width, height)).toEqual([]);
  });

  it('the minimum size itself is usable', () => {
    const l = computeLayout(MIN_WIDTH, MIN_HEIGHT, 5);
    expect(l.tooSmall).toBe(false);
    expect(problems(l, MIN_WIDTH, MIN_HEIGHT)).toEqual([]);
  });
});

describe('invariants over every usable size', () => {
  it('panels stay inside the screen, never overlap, and the table keeps at least half the body', () => {
    const bad: string[] = [];
    for (let width = MIN_WIDTH; width <= 260; width += 7) {
      for (let height = MIN_HEIGHT; height <= 90; height++) {
        for (const barRows of [0, 3, 5, 9, 12, 30]) {
          const l = computeLayout(width, height, barRows);
          const body = height - HEADER_HEIGHT - 1;
          const found = problems(l, width, height);
          if (l.table.height < Math.floor(body / 2)) found.push(`table ${l.table.height} < half of ${body}`);
          // The table reaches the footer: no dead rows.
          if (l.table.top + l.table.height !== l.footer.top) found.push('gap above footer');
          if (l.history !== null && l.bars !== null && l.bars.width + l.history.width !== width)
            found.push('bars + history do not fill the width');
          for (const f of found) bad.push(`${width}x${height} rows=${barRows}: ${f}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
