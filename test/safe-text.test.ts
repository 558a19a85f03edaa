import { describe, expect, it } from 'vitest';

import { safeText } from '../src/model/safe-text.js';

/** Anything a terminal could interpret: C0, DEL, C1, bidi/format controls, line separators. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('safeText: controls become visible inert text', () => {
  it.each([
    ['ESC', 'a\x1bb', 'a\\x1bb'],
    ['CSI clear screen', 'x\x1b[2Jy', 'x\\x1b[2Jy'],
    ['CSI colour', '\x1b[31mred\x1b[0m', '\\x1b[31mred\\x1b[0m'],
    ['OSC window title ended by BEL', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['OSC ended by ST', '\x1b]2;t\x1b\\', '\\x1b]2;t\\x1b\\'],
    ['BEL', 'ding\x07', 'ding\\x07'],
    ['NUL', 'a\x00b', 'a\\x00b'],
    ['newline, CR, tab', 'a\nb\rc\td', 'a\\x0ab\\x0dc\\x09d'],
    ['backspace (overwrites what was drawn)', 'safe\x08\x08\x08\x08evil', 'safe\\x08\\x08\\x08\\x08evil'],
    ['DEL', 'a\x7fb', 'a\\x7fb'],
    ['C1 CSI (single-byte)', 'a\x9b2Jb', 'a\\x9b2Jb'],
    ['C1 OSC and NEL', '\x9d0;t\x9c\x85', '\\x9d0;t\\x9c\\x85'],
    ['bidi override RLO (U+202E)', 'invoice\u202etxt.exe', 'invoice\\u{202e}txt.exe'],
    ['bidi isolates U+2066..U+2069', '\u2066a\u2069', '\\u{2066}a\\u{2069}'],
    ['LRM / RLM', '\u200ea\u200f', '\\u{200e}a\\u{200f}'],
    ['zero-width space and BOM', 'a\u200bb\ufeff', 'a\\u{200b}b\\u{feff}'],
    ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u{2028}b\\u{2029}'],
  ])('%s', (_name, input, expected) => {
    const out = safeText(input);
    expect(out).toBe(expected);
    expect(out).not.toMatch(RAW_CONTROL);
  });

  it('no raw control is left for any code point 0x00–0x9f', () => {
    let all = '';
    for (let c = 0; c <= 0x9f; c++) all += String.fromCharCode(c);
    const out = safeText(all);
    expect(out).not.toMatch(RAW_CONTROL);
    // Printable ASCII passes through in order.
    expect(out).toContain(' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~');
  });
});

describe('safeText: ordinary text unchanged', () => {
  it.each([
    ['empty', ''],
    ['process name', 'nginx: worker process'],
    ['path', '/run/user/1000/bus'],
    ['abstract unix name', '@/tmp/.X11-unix/X0'],
    ['blessed tag syntax is not its business', '{red-fg}x{/red-fg}'],
    ['Latin-1 letters (above the C1 range)', 'café ñ ß ÿ'],
    ['CJK', '数据库服务'],
    ['combining accent', 'e\u0301'],
    ['backslash sequences typed literally', 'C:\\x1b\\n'],
  ])('%s', (_name, input) => {
    expect(safeText(input)).toBe(input);
  });
});

describe('safeText: length bound', () => {
  it.each([
    ['short text untouched', 'abc', 10, 'abc'],
    ['exactly the bound untouched', 'abcdefghij', 10, 'abcdefghij'],
    ['one over: cut with …', 'abcdefghijk', 10, 'abcdefghi…'],
    ['default bound is 4096', 'x'.repeat(5000), undefined, `${'x'.repeat(4095)}…`],
    ['bound applies after escaping', '\x1b\x1b\x1b', 8, '\\x1b\\x1…'],
  ])('%s', (_name, input, max, expected) => {
    const out = max === undefined ? safeText(input) : safeText(input, max);
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max ?? 4096);
  });

  it('shows characters outside the BMP (emoji: two cells to terminals, one to blessed) as escapes', () => {
    expect(safeText('web 🚀 server 🔥')).toBe('web \\u{1f680} server \\u{1f525}');
    expect(safeText('lone \ud800 surrogate')).toBe('lone \\u{d800} surrogate');
  });

  it('never cuts an emoji in half (no lone surrogate)', () => {
    for (let max = 2; max <= 12; max++) {
      const out = safeText('🚀🚀🚀🚀🚀🚀🚀🚀', max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out.endsWith('…')).toBe(true);
      expect([max, LONE_SURROGATE.test(out)]).toEqual([max, false]);
    }
  });
});
