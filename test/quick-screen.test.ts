// quick-screen.ts: with compileTerminfoLazily every terminfo capability of each terminal the
// dashboard asks blessed for (chooseTerminal's answers) gives the same value, or the same string
// for the same parameters, as blessed's eager compiler, and is compiled only when called;
// createQuickScreen inside tmux gives blessed the version from the environment instead of `tmux -V`.

import { PassThrough, Writable } from 'node:stream';
import blessed from 'blessed';
import { describe, expect, it } from 'vitest';
import { compileTerminfoLazily, createQuickScreen, measureAsciiQuickly, tmuxVersionFromEnv } from '../src/ui/quick-screen.js';

interface Tput {
  readonly methods: Record<string, unknown>;
  readonly bools: Record<string, unknown>;
  readonly numbers: Record<string, unknown>;
  readonly terminal: string;
}
const Tput = (blessed as unknown as { tput: new (options: object) => Tput }).tput;
const tputPrototype = (blessed as unknown as { tput: { prototype: { _compile: (...args: unknown[]) => unknown } } }).tput.prototype;

type CharWidth = (str: string | number, i?: number) => number;
const unicode = (blessed as unknown as { unicode: { charWidth: CharWidth } }).unicode;
/** blessed's own measure, taken before anything here replaces it. */
const blessedCharWidth = unicode.charWidth;

const TERMINALS = ['xterm-256color', 'xterm', 'linux', 'vt100', 'vt220', 'screen'];
/** Parameter lists covering no, one, two and four parameters (cursor moves, colours, regions). */
const PARAMS: unknown[][] = [[], [0], [1], [7], [200], [3, 7], [24, 80], [1, 2, 3, 4]];

function outputs(t: Tput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, m] of Object.entries(t.methods)) {
    if (typeof m !== 'function') {
      out[key] = m;
      continue;
    }
    out[key] = PARAMS.map((params) => {
      try {
        return (m as (p: unknown[]) => unknown).call(t, [...params]); // a copy: %i increments its parameters in place
      } catch (err) {
        return `threw ${String(err)}`;
      }
    });
  }
  return out;
}

describe('compileTerminfoLazily', () => {
  // blessed's compiler, counted: the lazy one calls it on first use.
  let compiles = 0;
  const blessedCompile = tputPrototype._compile;
  tputPrototype._compile = function counted(this: unknown, ...args: unknown[]) {
    compiles++;
    return blessedCompile.apply(this, args);
  };
  // Eager first (before the prototype is patched), then lazy: the same capabilities, the same strings.
  const eager = new Map(TERMINALS.map((term) => [term, new Tput({ terminal: term })]));
  const eagerCompiles = compiles;
  compileTerminfoLazily();
  compiles = 0;
  const lazy = new Map(TERMINALS.map((term) => [term, new Tput({ terminal: term })]));
  const lazyCompiles = compiles;

  it.each(TERMINALS)('%s: every capability answers as blessed compiles it', (term) => {
    const e = eager.get(term)!;
    const l = lazy.get(term)!;
    expect(l.terminal).toBe(e.terminal);
    expect(Object.keys(l.methods).sort()).toEqual(Object.keys(e.methods).sort());
    expect(l.bools).toEqual(e.bools);
    expect(l.numbers).toEqual(e.numbers);
    const eo = outputs(e);
    expect(Object.values(eo).some((v) => Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '')).toBe(true);
    expect(outputs(l)).toEqual(eo);
  });

  it('a screen’s set-up compiles no string capability; each is compiled once, on its first call', () => {
    // Setting up (before outputs() above called everything): only booleans, numbers and empty strings went through the compiler.
    expect(lazyCompiles).toBeLessThan(eagerCompiles / 2);
    const xterm = new Tput({ terminal: 'xterm-256color' });
    const cup = xterm.methods['cursor_address'] as (p: unknown[]) => unknown;
    const before = compiles;
    expect(cup.call(xterm, [2, 5])).toBe('\x1b[3;6H');
    expect(compiles).toBe(before + 1);
    expect(cup.call(xterm, [0, 0])).toBe('\x1b[1;1H');
    expect(compiles).toBe(before + 1);
  });

  it('is idempotent', () => {
    const once = tputPrototype._compile;
    compileTerminfoLazily();
    expect(tputPrototype._compile).toBe(once);
  });
});

describe('createQuickScreen inside tmux', () => {
  const KEYS = ['TMUX', 'TERM_PROGRAM', 'TERM_PROGRAM_VERSION', 'PATH'] as const;

  function screenWith(env: Partial<Record<(typeof KEYS)[number], string>>): {
    tmux: boolean;
    tmuxVersion: number;
    envTmux: string | undefined;
  } {
    const saved = KEYS.map((k) => [k, process.env[k]] as const);
    for (const k of KEYS) delete process.env[k];
    Object.assign(process.env, env);
    const chunks: string[] = [];
    const output = Object.assign(
      new Writable({
        write(c: Buffer, _e, cb) {
          chunks.push(c.toString());
          cb();
        },
      }),
      { columns: 80, rows: 24, isTTY: true },
    );
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
    try {
      const screen = createQuickScreen({ input: input as never, output: output as never, terminal: 'xterm-256color', warnings: false });
      const program = screen.program as unknown as { tmux: boolean; tmuxVersion: number };
      const result = { tmux: program.tmux, tmuxVersion: program.tmuxVersion, envTmux: process.env['TMUX'] };
      screen.destroy();
      return result;
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  // No tmux on PATH: blessed's own `tmux -V` fails and it assumes version 2; a version of 3.3
  // can only come from TERM_PROGRAM_VERSION.
  it('takes the version tmux gives its panes and leaves TMUX as it was', () => {
    expect(
      screenWith({ TMUX: '/tmp/tmux-1/default,1,0', TERM_PROGRAM: 'tmux', TERM_PROGRAM_VERSION: '3.3a', PATH: '/nonexistent' }),
    ).toEqual({
      tmux: true,
      tmuxVersion: 3.3,
      envTmux: '/tmp/tmux-1/default,1,0',
    });
  });

  it('without a version in the environment, blessed asks tmux itself', () => {
    expect(screenWith({ TMUX: '/tmp/tmux-1/default,1,0', PATH: '/nonexistent' })).toEqual({
      tmux: true,
      tmuxVersion: 2,
      envTmux: '/tmp/tmux-1/default,1,0',
    });
  });

  it('outside tmux nothing changes', () => {
    expect(screenWith({ TERM_PROGRAM: 'tmux', TERM_PROGRAM_VERSION: '3.3a' })).toEqual({ tmux: false, tmuxVersion: 2, envTmux: undefined });
  });

  it.each([
    [{ TMUX: 'x', TERM_PROGRAM: 'tmux', TERM_PROGRAM_VERSION: '3.3a' }, 3.3],
    [{ TMUX: 'x', TERM_PROGRAM: 'tmux', TERM_PROGRAM_VERSION: '3.2' }, 3.2],
    [{ TMUX: 'x', TERM_PROGRAM: 'tmux', TERM_PROGRAM_VERSION: 'next-3.5' }, null],
    [{ TMUX: 'x', TERM_PROGRAM: 'iTerm.app', TERM_PROGRAM_VERSION: '3.4' }, null],
    [{ TERM_PROGRAM: 'tmux', TERM_PROGRAM_VERSION: '3.3a' }, null],
  ])('tmuxVersionFromEnv(%j) = %s', (env, version) => {
    expect(tmuxVersionFromEnv(env)).toBe(version);
  });
});

describe('measureAsciiQuickly', () => {
  it.each([
    ['without NCURSES_CJK_WIDTH', undefined],
    ['with NCURSES_CJK_WIDTH=1', '1'],
  ])('%s: every code point (as a string, at an index, and as a number) measures as blessed measures it', (_what, cjk) => {
    const saved = process.env['NCURSES_CJK_WIDTH'];
    if (cjk === undefined) delete process.env['NCURSES_CJK_WIDTH'];
    else process.env['NCURSES_CJK_WIDTH'] = cjk;
    try {
      measureAsciiQuickly();
      const quick = unicode.charWidth;
      expect(quick).not.toBe(blessedCharWidth);
      const differing: number[] = [];
      for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x3000 ? 1 : 7) {
        const ch = String.fromCodePoint(cp);
        if (
          quick(ch) !== blessedCharWidth(ch) ||
          quick(`x${ch}`, 1) !== blessedCharWidth(`x${ch}`, 1) ||
          quick(cp) !== blessedCharWidth(cp)
        )
          differing.push(cp);
      }
      expect(differing).toEqual([]);
      // Printable ASCII is 1, control characters 0, CJK ideographs 2: the measure is not trivial.
      expect([quick('a'), quick('\x07'), quick('漢'), quick('')]).toEqual([1, 0, 2, blessedCharWidth('')]);
    } finally {
      if (saved === undefined) delete process.env['NCURSES_CJK_WIDTH'];
      else process.env['NCURSES_CJK_WIDTH'] = saved;
    }
  });
});
