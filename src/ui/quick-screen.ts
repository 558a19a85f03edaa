// A blessed screen without the set-up work sockscope never uses, for a quicker first frame
// (measured with `node --cpu-prof` on a cold start at 160x45, this machine):
//  - blessed's Tput compiles every string capability of the terminfo it loads into a JavaScript
//    function (`new Function`, after parsing the capability's %-language): ~400 for
//    xterm-256color, ~20 ms, of which the dashboard calls a few dozen. Each is compiled by the
//    same code on its first call instead; what it returns is unchanged.
//  - blessed measures every cell it draws (unicode.charWidth, with fullUnicode in a UTF-8
//    locale): for printable ASCII a dictionary lookup, ~60 range comparisons and a read of
//    process.env.NCURSES_CJK_WIDTH (a getenv) before answering 1. ASCII is answered 1 at once.
//  - Inside tmux, blessed's Program runs `tmux -V` (a blocking spawn, 5-12 ms) to learn the
//    version, which only decides how all-motion mouse tracking is turned on. tmux >= 3.2 tells its
//    panes (TERM_PROGRAM=tmux, TERM_PROGRAM_VERSION): then blessed is given that version.

import blessed from 'blessed';

type CompiledCap = (...args: unknown[]) => unknown;

interface TputPrototype {
  _compile(this: TputInstance, info: unknown, key: string, str: unknown): unknown;
  /** Set once the prototype is patched (the patch is process-wide and idempotent). */
  _sockscopeLazy?: true;
}

interface TputInstance {
  readonly options?: { readonly stringify?: boolean };
}

const tputPrototype = (blessed as unknown as { tput: { prototype: TputPrototype } }).tput.prototype;

/**
 * From now on, blessed screens compile each terminfo string capability when it is first used
 * (blessed's own compiler, called lazily). Capabilities blessed answers without compiling
 * (booleans, numbers, empty strings, init_file/reset_file, `stringify`) are left to it as they were.
 */
export function compileTerminfoLazily(): void {
  if (tputPrototype._sockscopeLazy === true) return;
  const compileNow = tputPrototype._compile;
  tputPrototype._compile = function compileOnFirstCall(info, key, str) {
    if (typeof str !== 'string' || str === '' || key === 'init_file' || key === 'reset_file' || this.options?.stringify === true)
      return compileNow.call(this, info, key, str);
    let compiled: CompiledCap | null = null;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- blessed calls capabilities with its Tput as `this`; the compiler needs the one that loaded them
    const tput = this;
    return function capability(this: unknown, ...args: unknown[]): unknown {
      compiled ??= compileNow.call(tput, info, key, str) as CompiledCap;
      return compiled.apply(this, args);
    };
  };
  tputPrototype._sockscopeLazy = true;
}

type CharWidth = (str: string | number, i?: number) => number;
const blessedUnicode = (blessed as unknown as { unicode: { charWidth: CharWidth & { sockscopeAscii?: true } } }).unicode;

/**
 * blessed's unicode.charWidth answers 1 for printable ASCII (U+0020-U+007E) at once; every
 * other character (and every other argument) goes to blessed's own measure as before.
 */
export function measureAsciiQuickly(): void {
  const measure = blessedUnicode.charWidth;
  if (measure.sockscopeAscii === true) return;
  const quick = function charWidth(this: unknown, str: string | number, i?: number): number {
    const code = typeof str === 'string' ? str.charCodeAt(i ?? 0) : str;
    if (code >= 0x20 && code < 0x7f) return 1;
    return measure.call(this, str, i);
  };
  blessedUnicode.charWidth = Object.assign(quick, { sockscopeAscii: true as const });
}

/** blessed's Program, as far as its tmux handling goes. */
interface TmuxAware {
  tmux: boolean;
  tmuxVersion: number;
}

/**
 * The version tmux gives its panes (TERM_PROGRAM_VERSION, tmux >= 3.2), read as blessed reads
 * `tmux -V` ("3.3a" → 3.3); null outside tmux or when it does not say.
 */
export function tmuxVersionFromEnv(env: NodeJS.ProcessEnv): number | null {
  if (env['TMUX'] === undefined || env['TERM_PROGRAM'] !== 'tmux') return null;
  const m = /^([\d.]+)/.exec(env['TERM_PROGRAM_VERSION'] ?? '');
  const version = m === null ? Number.NaN : Number(m[1]);
  return Number.isFinite(version) ? version : null;
}

/**
 * blessed.screen(options) with string capabilities compiled on first use, ASCII measured at
 * once and, inside a tmux
 * that says its version, no `tmux -V`. blessed reads TMUX from `processEnv` (process.env) while
 * the screen is built: it is hidden for that moment and the Program told what it would have found.
 */
export function createQuickScreen(
  options: blessed.Widgets.IScreenOptions,
  processEnv: NodeJS.ProcessEnv = process.env,
): blessed.Widgets.Screen {
  compileTerminfoLazily();
  measureAsciiQuickly();
  const version = tmuxVersionFromEnv(processEnv);
  const tmux = processEnv['TMUX'];
  if (version === null || tmux === undefined) return blessed.screen(options);
  delete processEnv['TMUX'];
  let screen: blessed.Widgets.Screen;
  try {
    screen = blessed.screen(options);
  } finally {
    processEnv['TMUX'] = tmux;
  }
  const program = screen.program as unknown as TmuxAware;
  program.tmux = true;
  program.tmuxVersion = version;
  return screen;
}
