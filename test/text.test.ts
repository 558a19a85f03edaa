import { describe, expect, it } from 'vitest';

import {
  displayWidth,
  fitText,
  formatAge,
  formatCount,
  formatDuration,
  formatRate,
  logBarLength,
  sparkline,
  layoutLine,
  truncateText,
} from '../src/view/text.js';

describe('displayWidth', () => {
  it.each([
    ['', 0],
    ['nginx', 5],
    ['127.0.0.1:8080', 14],
    ['café', 4],
    ['e\u0301', 1], // e + combining acute
    ['数据库', 6], // CJK ideographs: 2 cells each
    ['한글', 4], // Hangul syllables
    ['ひらがな', 8],
    ['Ａ', 2], // fullwidth Latin
    ['ｱ', 1], // halfwidth katakana
    ['🚀', 2], // emoji outside the BMP (a surrogate pair, one code point)
    ['a🔥b', 4],
    ['…', 1],
    ['▁█', 2],
  ])('%j → %d', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });
});

describe('fitText', () => {
  it.each<[string, string, number, 'left' | 'right' | undefined, string]>([
    ['pads short text on the right', 'abc', 6, undefined, 'abc   '],
    ['right alignment pads on the left', 'abc', 6, 'right', '   abc'],
    ['exact fit untouched', 'abcdef', 6, undefined, 'abcdef'],
    ['one too long: cut with …', 'abcdefg', 6, undefined, 'abcde…'],
    ['much too long', 'nginx: worker process', 8, undefined, 'nginx: …'],
    ['right-aligned cut', '123456789', 5, 'right', '1234…'],
    ['width 1 of long text is just …', 'abc', 1, undefined, '…'],
    ['width 0 is empty', 'abc', 0, undefined, ''],
    ['negative width is empty', 'abc', -3, undefined, ''],
    ['empty text is all padding', '', 3, undefined, '   '],
    ['wide chars padded by cells, not code units', '数据', 6, undefined, '数据  '],
    ['a wide char that would cross the edge is left out and padded', '数据库', 4, undefined, '数… '],
    ['wide chars cut at an even boundary', '数据库服务', 5, undefined, '数据…'],
    ['emoji cut', '🚀🚀🚀', 4, undefined, '🚀… '],
    ['combining marks stay with their letter', 'e\u0301e\u0301e\u0301e\u0301', 3, undefined, 'e\u0301e\u0301…'],
  ])('%s', (_name, text, width, align, expected) => {
    expect(fitText(text, width, align)).toBe(expected);
  });

  it('always exactly `width` cells, for every text, width and alignment', () => {
    const texts = ['', 'a', 'abc', 'nginx: worker process', '数据库服务', 'a数b据c', '🚀x🔥y', 'e\u0301\u0301x', '[::ffff:10.0.0.1]:443'];
    for (const text of texts) {
      for (let width = 1; width <= 24; width++) {
        for (const align of ['left', 'right'] as const) {
          const out = fitText(text, width, align);
          expect([text, width, align, displayWidth(out)]).toEqual([text, width, align, width]);
          if (displayWidth(text) > width) expect(out.trimEnd().endsWith('…')).toBe(true);
          else expect(out.trim()).toBe(text.trim());
        }
      }
    }
  });
});

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [9999, '9999'],
    [10_000, '10.0k'],
    [12_345, '12.3k'],
    [99_949, '99.9k'],
    [99_999, '100k'], // not "100.0k"
    [100_000, '100k'],
    [123_456, '123k'],
    [999_499, '999k'],
    [999_999, '1.0M'], // not "1000k"
    [1_000_000, '1.0M'],
    [1_234_567, '1.2M'],
    [300_000_000, '300.0M'],
  ])('%d → %s', (n, text) => {
    expect(formatCount(n)).toBe(text);
  });
});

describe('formatRate', () => {
  it.each([
    [0, '0'],
    [0.5, '0.5'],
    [1, '1'],
    [2.25, '2.3'],
    [9.94, '9.9'],
    [9.96, '10'],
    [12.4, '12'],
    [999.6, '1000'],
    [12_345.6, '12.3k'],
    [2_500_000, '2.5M'],
  ])('%d/s → %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [-5000, '0s'],
    [0, '0s'],
    [999, '0s'],
    [4200, '4s'],
    [59_999, '59s'],
    [60_000, '1m00s'],
    [192_000, '3m12s'],
    [3_599_999, '59m59s'],
    [3_600_000, '1h00m'],
    [7_500_000, '2h05m'],
    [86_399_999, '23h59m'],
    [86_400_000, '1d00h'],
    [(3 * 24 + 4) * 3_600_000, '3d04h'],
    [400 * 86_400_000, '400d00h'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('sparkline', () => {
  it.each<[string, number[], number, boolean, string]>([
    ['no data: blank cells', [], 5, false, '     '],
    ['all zero: baseline', [0, 0, 0], 3, false, '▁▁▁'],
    ['zero next to data is blank, max is full', [0, 5, 10], 3, false, ' ▅█'],
    ['ascii glyphs', [0, 5, 10], 3, true, ' =#'],
    ['left-padded when there are fewer values than cells', [10], 4, false, '   █'],
    ['only the last `width` values set the scale', [100, 100, 1, 2, 4], 3, false, '▃▅█'],
    ['all equal: full', [7, 7], 2, true, '##'],
    ['rising, utf8', [1, 2, 3, 4, 5, 6, 7, 8], 8, false, '▂▃▄▅▅▆▇█'],
  ])('%s', (_name, values, width, ascii, expected) => {
    expect(sparkline(values, width, ascii)).toBe(expected);
  });

  it('is always `width` cells, and ascii mode emits only ASCII', () => {
    const series = [[], [0], [1, 0, 1], [5, 300000, 3, 0, 12], Array.from({ length: 100 }, (_, i) => i % 13)];
    for (const values of series) {
      for (const width of [1, 5, 30]) {
        expect(displayWidth(sparkline(values, width, false))).toBe(width);
        const ascii = sparkline(values, width, true);
        expect(ascii).toHaveLength(width);
        expect(ascii).toMatch(/^[\x20-\x7e]*$/);
      }
    }
  });
});

describe('logBarLength', () => {
  it.each([
    ['3 next to 300000 is still visible', 3, 300_000, 40, 4],
    ['1 next to 1e9 in 10 cells rounds to 0 but still gets one cell', 1, 1e9, 10, 1],
    ['the max fills the width', 300_000, 300_000, 40, 40],
    ['max of 1 fills', 1, 1, 10, 10],
    ['zero is empty', 0, 300_000, 40, 0],
    ['negative is empty', -1, 10, 40, 0],
    ['no max is empty', 5, 0, 40, 0],
    ['no width is empty', 5, 10, 0, 0],
    ['above max is clamped to the width', 500, 10, 20, 20],
  ])('%s', (_name, n, max, width, expected) => {
    expect(logBarLength(n, max, width)).toBe(expected);
  });

  it('3 and 300000 both get bars, the bigger one longer; never more than width', () => {
    const small = logBarLength(3, 300_000, 30);
    const big = logBarLength(300_000, 300_000, 30);
    expect(small).toBeGreaterThanOrEqual(1);
    expect(big).toBe(30);
    expect(small).toBeLessThan(big);
  });

  it('is monotonic in n', () => {
    let previous = 0;
    for (const n of [0, 1, 2, 3, 10, 99, 1000, 12_345, 99_999, 300_000]) {
      const len = logBarLength(n, 300_000, 50);
      expect(len).toBeGreaterThanOrEqual(previous);
      expect(len).toBeLessThanOrEqual(50);
      previous = len;
    }
  });
});

describe('formatAge (table cells change at most once a minute after the first)', () => {
  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [3_599_999, '59m'],
    [3_600_000, '1h00m'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('truncateText', () => {
  it.each<[string, number, string]>([
    ['opened 10', 20, 'opened 10'],
    ['opened 10', 9, 'opened 10'],
    ['opened 10', 8, 'opened …'],
    ['slowed to every 1.75s', 10, 'slowed to…'],
    ['日本語テキスト', 6, '日本…'],
    ['abc', 1, '…'],
    ['abc', 0, ''],
  ])('%j in %d cells → %j', (text, width, out) => {
    expect(truncateText(text, width)).toBe(out);
    expect(displayWidth(truncateText(text, width))).toBeLessThanOrEqual(width);
  });
});

describe('layoutLine (priority layout of header segments)', () => {
  const seg = (text: string, priority: number, minWidth?: number) =>
    minWidth === undefined ? { text, priority } : { text, priority, minWidth };
  const line = (l: ReturnType<typeof layoutLine>): string => l.segments.map((s) => s.text).join('  ') + (l.dropped > 0 ? ' …' : '');

  it('keeps everything when it fits', () => {
    const l = layoutLine([seg('in 10', 1), seg('opened 10', 1), seg('closed 3', 2)], 40);
    expect(line(l)).toBe('in 10  opened 10  closed 3');
    expect(l.dropped).toBe(0);
    expect(l.width).toBe(26);
  });

  it('drops whole segments, least important first, and marks the drop: a number never loses its label', () => {
    const segments = [seg('in 10', 1), seg('opened 10', 2), seg('closed 3', 3), seg('ESTAB→CLOSE-WAIT 2', 4)];
    // From 7 cells ("in 10 …") up; below that the last segment itself is cut (next test).
    for (let width = 7; width <= 50; width++) {
      const l = layoutLine(segments, width);
      const text = line(l);
      expect(displayWidth(text)).toBeLessThanOrEqual(width);
      expect(l.width).toBe(displayWidth(text));
      // Every kept segment is whole (none has a minWidth).
      for (const s of l.segments) expect(segments.map((x) => x.text)).toContain(s.text);
    }
    expect(line(layoutLine(segments, 30))).toBe('in 10  opened 10  closed 3 …');
    expect(line(layoutLine(segments, 27))).toBe('in 10  opened 10 …');
  });

  it('on a tie the later segment goes first', () => {
    expect(line(layoutLine([seg('aaaa', 1), seg('bbbb', 1), seg('cccc', 1)], 13))).toBe('aaaa  bbbb …');
  });

  it('cuts a segment with minWidth (with …) before dropping it', () => {
    const segments = [seg('every 1.75s', 0), seg('(slowed: refresh costs 120 ms)', 3, 10), seg('live', 0)];
    expect(line(layoutLine(segments, 60))).toBe('every 1.75s  (slowed: refresh costs 120 ms)  live');
    const cut = layoutLine(segments, 40);
    expect(line(cut)).toBe('every 1.75s  (slowed: refresh cos…  live');
    expect(cut.segments[1]?.cut).toBe(true);
    expect(line(layoutLine(segments, 25))).toBe('every 1.75s  live …');
  });

  it('cuts the last segment to the width when even it does not fit', () => {
    const l = layoutLine([seg('filter: sport 8080 and state estab', 0, 12)], 20);
    expect(line(l)).toBe('filter: sport 8080 …');
    expect(displayWidth(line(l))).toBe(20);
  });
});

describe('layoutLine quiet segments', () => {
  it('a quiet segment goes without the drop mark', () => {
    const l = layoutLine(
      [
        { text: 'every 1s', priority: 0 },
        { text: 'live', priority: 0 },
        { text: '12 rows read 3ms', priority: 9, quiet: true },
      ],
      20,
    );
    expect(l.segments.map((s) => s.text)).toEqual(['every 1s', 'live']);
    expect(l.dropped).toBe(0);
    expect(l.width).toBe(14);
  });
});
