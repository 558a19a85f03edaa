// A small driver for end-to-end tests: runs the real bin/sockscope in a detached tmux session on
// its own server (-L, -f /dev/null: no user config), sends keys, captures the pane and polls it.
// tmux is spawned without a shell on our side (execFileSync); tmux runs the command string itself.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** True when a working tmux is on PATH (the e2e files skip themselves otherwise). */
export const hasTmux: boolean = (() => {
  try {
    return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
})();

/** Quote one word for the POSIX shell tmux runs the pane command with. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** tmux key names sent as keys; anything else is typed literally (send-keys -l). */
const KEY_NAME = /^(Escape|Enter|Tab|BTab|Space|BSpace|Up|Down|Left|Right|PageUp|PageDown|PPage|NPage|Home|End|DC|IC|F\d{1,2}|[CM]-.)$/;

export interface StartOptions {
  /** Arguments after `node bin/sockscope`. */
  readonly args?: readonly string[];
  readonly width?: number;
  readonly height?: number;
  /** Environment for sockscope; TERM=xterm-256color, LANG=C.UTF-8 and NCURSES_NO_UTF8_ACS=1 by default. */
  readonly env?: Readonly<Record<string, string>>;
  /** Replace the whole pane command (a shell string); `args`/`env` are then ignored. */
  readonly command?: string;
}

export type ScreenPredicate = RegExp | string | ((screen: string) => boolean);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let sessions = 0;

export class TmuxSession {
  /** The -L socket name: unique per session so parallel test files never meet. */
  readonly socket: string;
  private killed = false;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** The pane command for sockscope: env, the binary, then the exit status line and a pause. */
  static sockscopeCommand(args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): string {
    const vars = { TERM: 'xterm-256color', LANG: 'C.UTF-8', NCURSES_NO_UTF8_ACS: '1', ...env };
    // -u: variables of the test runner that would change what is tested (LC_ALL overrides LANG).
    const unset = ['LC_ALL', 'LC_CTYPE', 'NO_COLOR', 'COLUMNS', 'LINES', 'PROC_ROOT'].filter((v) => !(v in env)).flatMap((v) => ['-u', v]);
    const words = ['env', ...unset, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), 'node', 'bin/sockscope', ...args];
    return `${words.map(shellQuote).join(' ')}; echo "[exit=$?]"; sleep 60`;
  }

  static start(options: StartOptions = {}): TmuxSession {
    const socket = `sockscope-e2e-${process.pid}-${++sessions}-${Math.random().toString(36).slice(2, 8)}`;
    const session = new TmuxSession(socket);
    const command = options.command ?? TmuxSession.sockscopeCommand(options.args, options.env);
    session.tmux('new-session', '-d', '-x', String(options.width ?? 80), '-y', String(options.height ?? 24), '-c', REPO_ROOT, command);
    return session;
  }

  /** Run one tmux command on this session's server; returns its stdout. */
  tmux(...args: string[]): string {
    const env = { ...process.env };
    delete env['TMUX']; // a test run from inside tmux must not talk to the user's server
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /**
   * Send keys one by one: tmux key names (Escape, Enter, Tab, Up, C-u, …) as keys, other strings
   * typed literally. A pause follows every key so that Escape and the next character arrive in
   * separate reads (else the terminal parser sees ESC+char as Alt-char).
   */
  async sendKeys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      if (KEY_NAME.test(key)) this.tmux('send-keys', '-t', '=0:', key);
      else this.tmux('send-keys', '-t', '=0:', '-l', key);
      await sleep(key === 'Escape' ? 120 : 40);
    }
  }

  /** The visible pane as text, one line per row, trailing spaces trimmed. */
  capture(options: { escapes?: boolean } = {}): string {
    return this.tmux('capture-pane', '-p', '-t', '=0:', ...(options.escapes === true ? ['-e'] : []));
  }

  /** tmux format of the pane, e.g. '#{alternate_on} #{cursor_flag}'. */
  display(format: string): string {
    return this.tmux('display-message', '-p', '-t', '=0:', format).trimEnd();
  }

  /**
   * Poll the pane every 100 ms until the predicate holds; returns that screen. Throws with the
   * last screen on timeout. The timeout only bounds the wait: nothing asserts how fast.
   */
  async waitFor(predicate: ScreenPredicate, timeoutMs = 15_000, options: { escapes?: boolean } = {}): Promise<string> {
    const test =
      typeof predicate === 'function'
        ? predicate
        : typeof predicate === 'string'
          ? (s: string) => s.includes(predicate)
          : (s: string) => predicate.test(s);
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = this.capture(options);
      if (test(screen)) return screen;
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(predicate)}; the screen was:\n${screen}`);
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', '=0:', '-x', String(width), '-y', String(height));
  }

  /** pid of the pane's shell (sh -c "<command>"). */
  panePid(): number {
    return Number(this.display('#{pane_pid}'));
  }

  /** pid of the node process running sockscope: the child of the pane's shell. */
  sockscopePid(): number | null {
    const shell = this.panePid();
    let children: string[] = [];
    try {
      children = fs
        .readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter((p) => p !== '');
    } catch {
      const r = spawnSync('pgrep', ['-P', String(shell)], { encoding: 'utf8' });
      children = (r.stdout ?? '')
        .trim()
        .split(/\s+/)
        .filter((p) => p !== '');
    }
    for (const pid of children) {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (cmdline.some((a) => a.endsWith('bin/sockscope'))) return Number(pid);
      } catch {
        // gone meanwhile
      }
    }
    return null;
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    // tmux leaves its socket file behind: one per session would pile up in /tmp/tmux-UID.
    const dir = path.join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    fs.rmSync(path.join(dir, this.socket), { force: true });
  }
}

/** Rows of the socket table on a captured screen (box-drawing or ASCII borders). */
export function socketTableRows(screen: string): string[] {
  return screen.split('\n').filter((l) => /^[│|](tcp6?|udp6?|raw6?|unix)\s/.test(l));
}

/** SGR parameters that set a foreground or background colour (not resets like 39/49). */
export function hasColourSgr(text: string): boolean {
  for (const m of text.matchAll(/\x1b\[([0-9;]*)m/g)) {
    const params = (m[1] ?? '').split(';').map(Number);
    for (let i = 0; i < params.length; i++) {
      const p = params[i] ?? 0;
      if ((p >= 30 && p <= 37) || (p >= 40 && p <= 47) || (p >= 90 && p <= 97) || (p >= 100 && p <= 107)) return true;
      if (p === 38 || p === 48) return true;
    }
  }
  return false;
}
