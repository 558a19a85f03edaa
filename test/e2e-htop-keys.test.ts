// End-to-end: htop's hands on the real binary in tmux — F1/h help, F3/F4 filter prompt, F6 sort,
// F10 quit, and the mouse (SGR reports typed into the pane: wheel scrolls, a click selects a row,
// a second click opens it). Against a recorded /proc tree. Build first.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TmuxSession, hasTmux, socketTableRows } from './helpers/tmux.js';

const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'snmp', 'netstat'];

let procRoot = '';
const sessions: TmuxSession[] = [];

beforeAll(() => {
  procRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-htop-proc-'));
  fs.mkdirSync(path.join(procRoot, 'net'));
  for (const f of NET_FILES) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(procRoot, 'net', f));
});
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});
afterAll(() => {
  if (procRoot !== '') fs.rmSync(procRoot, { recursive: true, force: true });
});

/** Wide enough for the view tabs in the panel's border (they are left out when narrow). */
async function start(): Promise<TmuxSession> {
  const s = TmuxSession.start({ width: 200, height: 40, args: ['--proc-root', procRoot, '--no-processes'] });
  sessions.push(s);
  const screen = await s.waitFor((sc) => (/shown \d+/.test(sc) && socketTableRows(sc).length > 0) || /\[exit=\d+\]/.test(sc), 20_000);
  if (/\[exit=\d+\]/.test(screen)) throw new Error(`sockscope exited at start (is dist/ built?):\n${screen}`);
  return s;
}

/** "3/57" of the table's border label: the selected row's position. */
function position(screen: string): number {
  const m = /Sockets .*?(\d+)\/\d+\b/.exec(screen);
  if (m === null) throw new Error(`no position on the screen:\n${screen}`);
  return Number(m[1]);
}

/** An SGR mouse report (1-based cell): button 0 press + release, or 64/65 for the wheel. */
const press = (button: number, x: number, y: number): string => `\x1b[<${button};${x};${y}M`;
const release = (button: number, x: number, y: number): string => `\x1b[<${button};${x};${y}m`;

describe.skipIf(!hasTmux)("htop's keys and mouse", () => {
  it('F1 and h open the help; F3 and F4 the filter prompt; F10 quits with the terminal restored', async () => {
    const s = await start();
    await s.sendKeys('F1');
    await s.waitFor('Help — ? or Esc to close');
    const help = s.capture();
    expect(help).toMatch(/q, Ctrl-C, F10\s+quit/);
    expect(help).toMatch(/\?, F1, h\s+this help/);
    expect(help).toMatch(/\/, F3, F4\s+filter/);
    await s.sendKeys('Escape');
    await s.waitFor((sc) => !sc.includes('Help — ? or Esc to close'));
    await s.sendKeys('h');
    await s.waitFor('Help — ? or Esc to close');
    await s.sendKeys('Escape');
    await s.waitFor((sc) => !sc.includes('Help — ? or Esc to close'));
    for (const key of ['F3', 'F4']) {
      await s.sendKeys(key);
      await s.waitFor(/Filter/);
      await s.sendKeys('tcp', 'Enter');
      await s.waitFor(/filter: tcp|tcp\b.*shown/);
      await s.sendKeys('c');
    }
    await s.sendKeys('F10');
    await s.waitFor('[exit=0]', 10_000);
    expect(s.display('#{alternate_on} #{cursor_flag} #{mouse_any_flag}')).toBe('0 1 0');
  });

  it('F6 sorts by the next column (the marked column moves)', async () => {
    const s = await start();
    const header = (sc: string): string => sc.split('\n').find((l) => /[▲▼]/.test(l)) ?? '';
    const before = header(s.capture());
    expect(before).not.toBe('');
    await s.sendKeys('F6');
    const after = header(await s.waitFor((sc) => header(sc) !== before && header(sc) !== ''));
    expect(after.search(/[▲▼]/)).not.toBe(before.search(/[▲▼]/));
  });

  it('a click on a column header sorts by that column; a second click reverses it', async () => {
    const s = await start();
    const headerRow = (sc: string): number => sc.split('\n').findIndex((l) => /[▲▼]/.test(l) && /Send-Q/.test(l));
    const screen = s.capture();
    const y = headerRow(screen);
    expect(y).toBeGreaterThan(0);
    const x = screen.split('\n')[y]!.indexOf('Send-Q') + 2;
    await s.sendKeys(press(0, x, y + 1), release(0, x, y + 1));
    await s.waitFor(/Send-Q▼/);
    await s.sendKeys(press(0, x, y + 1), release(0, x, y + 1));
    await s.waitFor(/Send-Q▲/);
  });

  it('the wheel scrolls the selection; a click selects that row, a second click opens it', async () => {
    const s = await start();
    expect(position(s.capture())).toBe(1);
    await s.sendKeys(press(65, 10, 20));
    await s.waitFor((sc) => position(sc) === 4);
    await s.sendKeys(press(64, 10, 20));
    await s.waitFor((sc) => position(sc) === 1);

    // Click the third socket row: find its screen line (1-based for the mouse report).
    const lines = s.capture().split('\n');
    const rows = socketTableRows(lines.join('\n'));
    const third = rows[2];
    expect(third).toBeDefined();
    const y = lines.indexOf(third!) + 1;
    expect(y).toBeGreaterThan(0);
    await s.sendKeys(press(0, 20, y), release(0, 20, y));
    await s.waitFor((sc) => position(sc) === 3);
    await s.sendKeys(press(0, 20, y), release(0, 20, y));
    await s.waitFor(/─ Details/);
    await s.sendKeys('Escape');

    // A click on "3:peers" in the panel's border switches to that view.
    const screen = await s.waitFor((sc) => !/─ Details/.test(sc));
    const border = screen.split('\n').findIndex((l) => l.includes('3:peers'));
    const x = screen.split('\n')[border]!.indexOf('3:peers') + 2;
    await s.sendKeys(press(0, x, border + 1), release(0, x, border + 1));
    await s.waitFor(/By peer/);
  });
});
