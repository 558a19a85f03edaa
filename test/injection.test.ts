// Terminal injection. Process names, command lines and UNIX socket paths are chosen by any local
// user, and sockscope runs as root: none of them may reach the terminal as a control sequence or
// be read by blessed as a tag. Two levels:
//  - unit: hand-built records with hostile strings, drawn by the headless dashboard (table and
//    details) and formatted by the --once table and JSON presenters; the bytes are inspected;
//  - live: a real process whose comm/cmdline is hostile, holding a real TCP listener and UNIX
//    sockets with hostile paths, seen by the real binary (--once, and the dashboard in tmux).
// Build first (`npx tsc -p tsconfig.json`): the live part runs bin/sockscope.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatJsonDocument, formatSocketTable } from '../src/cli/format-once.js';
import { countByState } from '../src/model/aggregate.js';
import { safeText } from '../src/model/safe-text.js';
import type { SocketRecord } from '../src/model/types.js';
import { rec } from './helpers/records.js';
import { COLOR_THEME, MONO_THEME, createHeadless, makeSnapshot, settle, terminalColumns, type Headless } from './helpers/snapshots.js';
import { REPO_ROOT, TmuxSession, hasColourSgr, hasTmux } from './helpers/tmux.js';

const execFileAsync = promisify(execFile);

const HOSTILE: Readonly<Record<string, string>> = {
  csiClear: 'a\x1b[2Jb',
  sgrRed: '\x1b[31mred',
  oscTitleBel: '\x1b]0;pwned\x07',
  oscTitleSt: '\x1b]2;pwned\x1b\\',
  bel: 'ding\x07\x07',
  c1Csi: '\x9b2Jc1',
  c1Osc: '\x9d0;pwned\x9c',
  del: 'del\x7f\x7f',
  bidi: 'invoice\u202Etxt.exe',
  tags: '{red-fg}evil{/}{bold}B{open}',
  long: `${'L'.repeat(50_000)}\x1b]0;pwned\x07${'M'.repeat(50_000)}`,
  // What the proc reader makes of invalid UTF-8 (bytes ff fe): replacement characters.
  invalidUtf8: Buffer.from([0x61, 0xff, 0xfe, 0x62]).toString('utf8'),
  wide: '漢字🙂wide',
};

/** Raw characters a terminal would act on: C0 (but newline), DEL, C1, bidi/format controls. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/**
 * Every escape sequence in `text` must be one blessed writes itself: CSI cursor movement, erase,
 * scroll region, modes and SGR; ESC 7/8 (save/restore cursor), ESC ( B/0 (charsets), ESC = / >.
 * Returns the ones that are not.
 */
function foreignEscapes(text: string): string[] {
  const bad: string[] = [];
  for (let i = text.indexOf('\x1b'); i >= 0; i = text.indexOf('\x1b', i + 1)) {
    const rest = text.slice(i, i + 40);
    const ok = /^\x1b\[\??[0-9;]*[ABCDGHJKLMPSTXdfhlmr@]/.test(rest) || /^\x1b[78=>]/.test(rest) || /^\x1b\([B0]/.test(rest);
    if (!ok) bad.push(JSON.stringify(rest.slice(0, 12)));
  }
  return bad;
}

/** The terminal bytes contain nothing from the hostile strings that a terminal would obey. */
function expectInertTerminalOutput(bytes: string): void {
  expect(bytes).not.toContain('\x1b]'); // no OSC at all (title, clipboard, hyperlinks)
  expect(bytes).not.toMatch(/\x1b\]\d;pwned/);
  expect(bytes).not.toContain('\x07');
  expect(bytes).not.toMatch(/[\x7f-\x9f]/); // DEL and raw C1 (U+009B is CSI, U+009D OSC)
  expect(bytes).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  expect(foreignEscapes(bytes)).toEqual([]);
}

/**
 * The dashboard's text for a string already through safeText: an emoji that got that far (blessed
 * measures it one cell wide, terminals two) is drawn as "??" by the widgets.
 */
const onScreen = (text: string): string => text.replace(/\u{1f642}/gu, '??');

let nextPid = 4000;
function hostileRecords(): SocketRecord[] {
  const out: SocketRecord[] = [];
  let port = 20000;
  for (const [name, s] of Object.entries(HOSTILE)) {
    const pid = nextPid++;
    out.push(
      rec({
        state: 'LISTEN',
        localPort: port++,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        user: name === 'tags' ? '{bold}mallory' : 'mallory',
        owner: { pid, command: s, commandLine: `/usr/bin/${name} --title ${s} --end`, uid: 1000, fd: 3 },
      }),
    );
    out.push(
      rec({ protocol: 'unix', state: 'LISTENING', path: `/tmp/${s}.sock`, owner: { pid, command: s, commandLine: s, uid: 1000, fd: 4 } }),
    );
  }
  out.push(rec({ protocol: 'unix', state: 'LISTENING', path: `@${HOSTILE['oscTitleBel']}{red-fg}abstract`, inode: 999 }));
  return out;
}

describe('hostile strings, unit level', () => {
  const records = hostileRecords();
  const open: Headless[] = [];
  afterEach(() => {
    for (const h of open.splice(0)) h.destroy();
  });

  /** A tall, wide headless dashboard showing every hostile record; returns it and the frame's bytes. */
  async function showHostile(theme = COLOR_THEME): Promise<{ h: Headless; frame: string }> {
    const h = createHeadless({ width: 200, height: 60, theme });
    open.push(h);
    await settle();
    const from = h.bytes().length;
    h.dashboard.onSnapshot(makeSnapshot(records));
    await settle();
    return { h, frame: h.bytes().subarray(from).toString('utf8') };
  }

  it('the dashboard table writes no control sequence from them and shows tags literally', async () => {
    const { h, frame } = await showHostile();
    expect(frame.length).toBeGreaterThan(1000);
    expectInertTerminalOutput(h.bytes().toString('utf8'));
    expect(frame).not.toContain('\x1b[2J'); // the frame itself never clears the screen
    const text = h.text();
    expect(text).toContain(`TCP ${Object.keys(HOSTILE).length}`);
    // Inert, visible forms.
    expect(text).toContain('/\\x1b]0;pwned\\x07');
    expect(text).toContain('/\\x1b[31mred');
    expect(text).toContain('/a\\x1b[2Jb');
    expect(text).toContain('/\\x9b2Jc1');
    expect(text).toContain('/del\\x7f\\x7f');
    expect(text).toContain('/invoice\\u{202e}txt.exe');
    expect(text).toContain('/{red-fg}evil{/}{bold}B{open}');
    expect(text).toContain('/tmp/{red-fg}evil{/}{bold}B{open}.sock');
    expect(text).toContain('{bold}m…'); // the User column is narrow
    expect(text).toContain('@\\x1b]0;pwned\\x07{red-fg}abstract');
    expect(text).toContain('a\ufffd\ufffdb');
    // CJK is drawn; an emoji (one cell to blessed, two to terminals) is shown inert: as its code
    // point (safeText) or, failing that, as the two cells "??" (the widgets' last resort).
    expect(text).toMatch(/\/漢字(\\u\{1f642\}|\?\?)wide/);
    // The long name is cut in its column ("…"), and the screen keeps its size.
    expect(text).toMatch(/\/L{5,}…/);
    expect(h.cells()).toHaveLength(60);
    // What a terminal draws of each row is exactly as wide as the screen: nothing shifts.
    for (const l of h.cells()) expect(terminalColumns(l)).toBe(200);
  });

  it('monochrome: no colour appears, so no hostile SGR (\\x1b[31m) got through either', async () => {
    const { h } = await showHostile(MONO_THEME);
    expectInertTerminalOutput(h.bytes().toString('utf8'));
    expect(hasColourSgr(h.bytes().toString('utf8'))).toBe(false);
  });

  it('the details pane of each hostile socket shows the escaped command, command line and path', async () => {
    const { h } = await showHostile();
    for (const r of records) {
      const from = h.bytes().length;
      h.dashboard.dispatch({ type: 'openDetails', key: r.key });
      await settle();
      const frame = h.bytes().subarray(from).toString('utf8');
      expectInertTerminalOutput(frame);
      const text = h.text();
      expect(text).toMatch(/┌─ Details /);
      const owner = r.owner;
      if (owner !== null && !owner.command.startsWith('L')) {
        expect(text).toContain(`${owner.pid} / ${onScreen(safeText(owner.command, 64))}`);
        if (r.protocol === 'tcp') expect(text).toContain(onScreen(safeText(owner.commandLine, 2000)));
      }
      if (r.protocol === 'unix' && r.path !== null && !r.path.includes('LLLL')) expect(text).toContain(onScreen(safeText(r.path, 300)));
      for (const l of h.cells()) expect(terminalColumns(l)).toBe(200);
      h.dashboard.dispatch({ type: 'escape' });
      await settle();
    }
    expectInertTerminalOutput(h.bytes().toString('utf8'));
    const text = h.text();
    expect(text).not.toMatch(/┌─ Details /);
  });

  it('the --once table is plain text with every hostile string escaped', () => {
    const out = formatSocketTable(records);
    expect(out).not.toMatch(RAW_CONTROL);
    const lines = out.split('\n');
    expect(lines).toHaveLength(records.length + 1);
    expect(out).toContain('/\\x1b]0;pwned\\x07');
    expect(out).toContain('/\\x1b]2;pwned\\x1b\\');
    expect(out).toContain('/\\x9d0;pwned\\x9c');
    expect(out).toContain('/{red-fg}evil{/}{bold}B{open}');
    expect(out).toContain('/tmp/a\\x1b[2Jb.sock');
    expect(out).toContain('invoice\\u{202e}txt.exe');
    // Bounded: the 100k-character name and path are cut.
    for (const l of lines) expect(l.length).toBeLessThan(2000);
  });

  it('--once --json has no raw control characters and parses back to the exact strings', () => {
    const snapshot = makeSnapshot(records);
    const out = formatJsonDocument({ snapshot, counts: countByState(records), sockets: records, filter: null, warnings: [] });
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).not.toContain('\x1b');
    const doc = JSON.parse(out) as {
      sockets: { pid: number | null; process: string | null; commandLine: string | null; path: string | null; user: string }[];
    };
    expect(doc.sockets).toHaveLength(records.length);
    records.forEach((r, i) => {
      const s = doc.sockets[i];
      expect(s?.process).toBe(r.owner?.command ?? null);
      expect(s?.commandLine).toBe(r.owner?.commandLine ?? null);
      expect(s?.path).toBe(r.path);
      expect(s?.user).toBe(r.user);
    });
    expect(doc.sockets.some((s) => s.process === HOSTILE['long'] && s.process.length > 100_000)).toBe(true);
  });
});

// ---- Live: a real hostile process ---------------------------------------------------------------

const TITLE = '\x1b]0;pwned\x07{red-fg}evil';
const UNIX_NAME = '\x1b[2J{bold}.sock';
/** Abstract UNIX name (the child adds the leading NUL: argv cannot carry one). */
const ABSTRACT_NAME = `\x1b]0;pwned\x07{red-fg}abs-${process.pid}`;

// Runs in the child (node -e): sets its own title (comm and cmdline), listens, reports.
const CHILD = `
const net = require('node:net');
const [title, dir, unixName, abstractName] = process.argv.slice(1);
process.title = title;
const tcp = net.createServer().listen(0, '127.0.0.1', () => {
  const unixPath = dir + '/' + unixName;
  net.createServer().listen(unixPath, () => {
    net.createServer().listen('\\0' + abstractName, () => {
      process.stdout.write(JSON.stringify({ pid: process.pid, port: tcp.address().port, unixPath }) + '\\n');
    });
  });
});
setInterval(() => {}, 60000);
`;

describe('a live process with a hostile name', () => {
  let child: ChildProcess | null = null;
  let dir = '';
  let pid = 0;
  let port = 0;
  const sessions: TmuxSession[] = [];
  const env = { ...process.env };
  delete env['PROC_ROOT'];
  delete env['NO_COLOR'];

  beforeAll(async () => {
    expect(fs.existsSync(path.join(REPO_ROOT, 'dist/src/main.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-inj-'));
    // The script is long on purpose: process.title can only use the space of the original argv.
    child = spawn(process.execPath, ['-e', CHILD, TITLE, dir, UNIX_NAME, ABSTRACT_NAME], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child?.stdout?.on('data', (d: Buffer) => {
        buffered += d.toString();
        if (buffered.includes('\n')) resolve(buffered.split('\n')[0] ?? '');
      });
      child?.once('exit', (code) => reject(new Error(`hostile child exited early (${code})`)));
    });
    const info = JSON.parse(line) as { pid: number; port: number };
    pid = info.pid;
    port = info.port;
  });

  afterAll(() => {
    for (const s of sessions.splice(0)) s.kill();
    child?.kill();
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('really has a hostile comm and cmdline', () => {
    // comm holds 15 bytes of the title: ESC ] 0 ; p w n e d BEL { r e d -
    expect(fs.readFileSync(`/proc/${pid}/comm`, 'utf8')).toBe(`${TITLE.slice(0, 15)}\n`);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(TITLE)).toBe(true);
  });

  it('--once prints it escaped, with no control character', async () => {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['bin/sockscope', '--once', '-f', `pid ${pid}`], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
    });
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stderr).not.toMatch(RAW_CONTROL);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Proto\s+State\s+Recv-Q/);
    const comm = '\\x1b]0;pwned\\x07{red-';
    expect(lines.find((l) => l.includes(`127.0.0.1:${port}`))).toMatch(
      new RegExp(`^tcp\\s+LISTEN\\s.*\\s${pid}/${comm.replace(/[\\[\]{}]/g, '\\$&')}$`),
    );
    expect(stdout).toContain(`${dir}/\\x1b[2J{bold}.sock`);
    expect(stdout).toContain('@\\x1b]0;pwned\\x07{red-fg}abs');
  });

  it('--once --json carries the exact strings, escaped as JSON', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['bin/sockscope', '--once', '--json', '-f', `pid ${pid}`], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(stdout).not.toMatch(RAW_CONTROL);
    const doc = JSON.parse(stdout) as {
      sockets: { protocol: string; localPort: number; pid: number; process: string; commandLine: string; path: string | null }[];
    };
    const tcp = doc.sockets.find((s) => s.protocol === 'tcp' && s.localPort === port);
    expect(tcp?.pid).toBe(pid);
    expect(tcp?.process).toBe(TITLE.slice(0, 15));
    expect(tcp?.commandLine.startsWith(TITLE)).toBe(true);
    expect(doc.sockets.some((s) => s.path === `${dir}/${UNIX_NAME}`)).toBe(true);
    expect(doc.sockets.some((s) => s.path?.startsWith(`@${ABSTRACT_NAME}`))).toBe(true);
  });

  describe.skipIf(!hasTmux)('the dashboard in tmux', () => {
    it('tmux obeys an OSC title from a pane (so the check below can fail)', async () => {
      const s = TmuxSession.start({ width: 60, height: 10, command: "printf '\\033]2;pwned\\007'; sleep 30" });
      sessions.push(s);
      const deadline = Date.now() + 10_000;
      while (s.display('#{pane_title}') !== 'pwned' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(s.display('#{pane_title}')).toBe('pwned');
      s.kill();
    });

    it('shows the inert escaped form in the table and the details, and never sets the title', async () => {
      const s = TmuxSession.start({ width: 120, height: 30, args: ['-f', `pid ${pid}`] });
      sessions.push(s);
      // The TCP row, with its owner (owners arrive from a worker, maybe a refresh later).
      const tcpRow = new RegExp(`^│tcp\\s+LISTEN\\s.*127\\.0\\.0\\.1:${port}\\s.*\\s${pid}/\\\\x1b\\]`, 'm');
      let screen = await s.waitFor(tcpRow, 20_000);
      expect(screen).toMatch(/^│unix\s+LISTEN\s+0\s+0 @\\x1b\]0;pwned\\x07\{red-fg\}/m);
      expect(s.display('#{pane_title}')).not.toContain('pwned');

      await s.sendKeys('Enter');
      screen = await s.waitFor(/┌─ Details [\s\S]*command line/, 10_000);
      expect(screen).toContain(`pid / command       ${pid} / \\x1b]0;pwned\\x07{red-`);
      expect(screen).toContain('\\x1b]0;pwned\\x07{red-fg}evil');
      expect(s.display('#{pane_title}')).not.toContain('pwned');
      // The literal "{red-fg}" text is not drawn red, and nothing cleared the screen.
      const coloured = s.capture({ escapes: true });
      expect(coloured).toContain('{red-fg}evil');
      expect(coloured).not.toMatch(/\x1b\[[\d;]*31m[^\x1b]*evil/);
      expect(screen.split('\n')[0]).toMatch(/^sockscope /);

      await s.sendKeys('Escape');
      await s.waitFor((sc) => !sc.includes('┌─ Details'));
      await s.sendKeys('q');
      await s.waitFor('[exit=0]', 10_000);
      expect(s.display('#{alternate_on}')).toBe('0');
      expect(s.display('#{pane_title}')).not.toContain('pwned');
    });
  });
});
