// End-to-end: htop's hands on the real binary in tmux — F1/h help, / and F4 filter prompt, F10
// quit, and the mouse (SGR reports typed into the pane: wheel scrolls, a click selects a row, a
// second click opens it), against a recorded /proc tree; then the F6 sort menu, the F3 search and
// the filter applied as it is typed on real loopback sockets at 80x24 without colour, with ss as
// the oracle. Build first.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
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
  it('F1 and h open the help; / and F4 the filter prompt; F10 quits with the terminal restored', async () => {
    const s = await start();
    await s.sendKeys('F1');
    await s.waitFor('Help — ? or Esc to close');
    const help = s.capture();
    expect(help).toMatch(/q, Ctrl-C, F10\s+quit/);
    expect(help).toMatch(/\?, F1, h\s+this help/);
    expect(help).toMatch(/\/, F4\s+filter as you type/);
    expect(help).toMatch(/F3\s+search/);
    expect(help).toMatch(/F6, < >\s+sort: a menu/);
    await s.sendKeys('Escape');
    await s.waitFor((sc) => !sc.includes('Help — ? or Esc to close'));
    await s.sendKeys('h');
    await s.waitFor('Help — ? or Esc to close');
    await s.sendKeys('Escape');
    await s.waitFor((sc) => !sc.includes('Help — ? or Esc to close'));
    for (const key of ['/', 'F4']) {
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
    const screen = await s.waitFor((sc) => !/─ Details/.test(sc) && sc.includes('3:peers'));
    const border = screen.split('\n').findIndex((l) => l.includes('3:peers'));
    const x = screen.split('\n')[border]!.indexOf('3:peers') + 2;
    await s.sendKeys(press(0, x, border + 1), release(0, x, border + 1));
    await s.waitFor(/By peer/);
  });
});

// ---- on real loopback sockets ----------------------------------------------------------------

const hasSs = spawnSync('ss', ['-V'], { stdio: 'ignore' }).status === 0;

/** "127.0.0.1:40000" → [address, port]; "*:*" → ['*', 0]. */
function endpoint(text: string): [string, number] {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  return [text.slice(0, i), Number.isFinite(port) ? port : 0];
}

/** Local and peer endpoints of a socket table row ("│tcp   ESTAB  0  0 127.0.0.1:1 127.0.0.1:2 …"). */
function endpointsOf(row: string): [string, string] {
  const m = /^[│|]tcp6?\s+\S+\s+\d+\s+\d+ (\S+)\s+(\S+)/.exec(row);
  if (m === null) throw new Error(`not a socket row: ${row}`);
  return [m[1]!, m[2]!];
}

/** The row drawn inverse (the selection) on a capture with escapes, as plain text; null when none. */
function selectedRow(escaped: string): string | null {
  for (const line of escaped.split('\n')) {
    // The selection bar: inverse on from the first cell after the border (the prompt's caret is one inverse blank).
    if (/^│\x1b\[[0-9;]*7[0-9;]*m(tcp|udp|unix|raw)/.test(line)) return line.replace(/\x1b\[[0-9;]*m/g, '');
  }
  return null;
}

/** (local, peer) pairs of the TCP sockets ss lists between ports `a` and `b`, as "127.0.0.1:1 127.0.0.1:2". */
function ssPairs(a: number, b: number): string[] {
  const filter = `( sport = :${a} and dport = :${b} ) or ( sport = :${b} and dport = :${a} )`;
  const out = execFileSync('ss', ['-tanH', filter], { encoding: 'utf8', timeout: 10_000 });
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return `${f[3]} ${f[4]}`;
    });
}

describe.skipIf(!hasTmux || !hasSs || process.platform !== 'linux')(
  'F6 sort menu, F3 search and the live filter on loopback sockets (80x24, NO_COLOR)',
  // This machine's sockets are read: with another large population on it a refresh takes seconds.
  { timeout: 90_000 },
  () => {
    let server: net.Server | null = null;
    const sockets: net.Socket[] = [];
    let port = 0;
    const clientPorts: number[] = [];

    beforeAll(async () => {
      const srv = net.createServer((c) => {
        sockets.push(c);
        c.on('error', () => undefined);
      });
      server = srv;
      port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
      for (let i = 0; i < 3; i++) {
        const c = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
          s.on('error', reject);
        });
        sockets.push(c);
        clientPorts.push(c.localPort ?? 0);
      }
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
    });

    const ownFilter = `pid ${process.pid} and tcp`;

    async function startLive(): Promise<TmuxSession> {
      // Only this process's TCP sockets (on a shared machine other loopback sockets may use the
      // same port numbers as ephemeral ports).
      const s = TmuxSession.start({ width: 80, height: 24, args: ['--filter', ownFilter], env: { NO_COLOR: '1' } });
      sessions.push(s);
      // Our listener and the six ends of the three connections.
      await s.waitFor(
        (sc) => socketTableRows(sc).filter((r) => r.includes(`127.0.0.1:${port} `)).length >= 7 || /\[exit=\d+\]/.test(sc),
        30_000,
      );
      if (/\[exit=\d+\]/.test(s.capture())) throw new Error(`sockscope exited at start (is dist/ built?):\n${s.capture()}`);
      return s;
    }

    const byLocal = (a: string, b: string): number => {
      const [aa, ap] = endpoint(endpointsOf(a)[0]);
      const [ba, bp] = endpoint(endpointsOf(b)[0]);
      return aa < ba ? -1 : aa > ba ? 1 : ap - bp;
    };

    it('F6 → "Local Address:Port" → Enter: the title says so and the rows follow it; F6 Enter again reverses; a click chooses', async () => {
      const s = await startLive();
      await s.sendKeys('F6');
      const menu = await s.waitFor('Sort by');
      // The current sort is marked in text (no colour): "* State ▲".
      expect(menu).toMatch(/│\* State\s+▲\s*│/);
      expect(menu.trimEnd().split('\n').at(-1)).toMatch(/Esc cancel {2}↑↓ move {2}Enter sort {2}r reverse/);
      // State → Recv-Q → Send-Q → Local Address:Port.
      await s.sendKeys('Down', 'j', 'Down', 'Enter');
      let screen = await s.waitFor((sc) => /sort: Local Address:Port ▲/.test(sc) && !sc.includes('Sort by'));
      let rows = socketTableRows(screen);
      expect(rows.length).toBeGreaterThanOrEqual(7);
      expect([...rows].sort(byLocal)).toEqual(rows);
      // The listener, the three accepted ends (local :port) and the three clients are all listed.
      expect(rows.filter((r) => endpointsOf(r)[0] === `127.0.0.1:${port}`)).toHaveLength(4);
      for (const p of clientPorts) expect(rows.some((r) => endpointsOf(r)[0] === `127.0.0.1:${p}`)).toBe(true);

      // The menu opens on the current column: Enter reverses it.
      await s.sendKeys('F6');
      await s.waitFor(/│\* Local Address:Port ▲│/);
      await s.sendKeys('Enter');
      screen = await s.waitFor((sc) => /sort: Local Address:Port ▼/.test(sc) && !sc.includes('Sort by'));
      rows = socketTableRows(screen);
      expect([...rows].sort((a, b) => byLocal(b, a))).toEqual(rows);

      // Esc leaves the menu without sorting.
      await s.sendKeys('F6');
      await s.waitFor('Sort by');
      await s.sendKeys('Down', 'Escape');
      await s.waitFor((sc) => !sc.includes('Sort by') && /sort: Local Address:Port ▼/.test(sc));

      // A click on an item (an SGR mouse report) sorts by it.
      await s.sendKeys('F6');
      const lines = (await s.waitFor('Sort by')).split('\n');
      const y = lines.findIndex((l) => /^│ {2}Peer Address:Port\s*│/.test(l));
      expect(y).toBeGreaterThan(0);
      await s.sendKeys(press(0, 4, y + 1), release(0, 4, y + 1));
      screen = await s.waitFor((sc) => /sort: Peer Address:Port ▲/.test(sc) && !sc.includes('Sort by'));
      expect(socketTableRows(screen).length).toBeGreaterThanOrEqual(7);
    });

    it('F3 + a port: the selection jumps to a socket ss lists with that port, F3 to the other; nothing is hidden', async () => {
      const s = await startLive();
      const target = clientPorts[1]!;
      const pairs = ssPairs(target, port);
      // The client end and the accepted end of that connection.
      expect(pairs).toHaveLength(2);
      const shownBefore = /shown (\d+)/.exec(s.capture())?.[1];
      await s.sendKeys('F3');
      await s.waitFor('Search — F3 next');
      await s.sendKeys(String(target));
      const first = await s.waitFor(() => {
        const row = selectedRow(s.capture({ escapes: true }));
        return row !== null && row.includes(`:${target} `);
      });
      expect(first).toContain('Search — F3 next');
      const firstRow = selectedRow(s.capture({ escapes: true }))!;
      const firstPair = endpointsOf(firstRow).join(' ');
      expect(pairs).toContain(firstPair);
      // Nothing is filtered away by a search.
      expect(/shown (\d+)/.exec(s.capture())?.[1]).toBe(shownBefore);
      await s.sendKeys('F3');
      await s.waitFor(() => {
        const row = selectedRow(s.capture({ escapes: true }));
        return row !== null && endpointsOf(row).join(' ') !== firstPair;
      });
      const secondPair = endpointsOf(selectedRow(s.capture({ escapes: true }))!).join(' ');
      expect(pairs).toContain(secondPair);
      expect([firstPair, secondPair].sort()).toEqual([...pairs].sort());
      // Text no row has: said in words; Enter closes and the selection stays.
      await s.sendKeys('x');
      await s.waitFor('(not found)');
      await s.sendKeys('Enter');
      await s.waitFor((sc) => !sc.includes('Search —'));
      expect(endpointsOf(selectedRow(s.capture({ escapes: true }))!).join(' ')).toBe(secondPair);
    });

    it('/ filters as it is typed: only that port while typing, Esc restores the filter it found', async () => {
      const s = await startLive();
      const target = clientPorts[2]!;
      await s.sendKeys('/');
      await s.waitFor(`│${ownFilter}`);
      await s.sendKeys('C-u', `pid ${process.pid} and port ${target}`);
      // Still typing (the prompt is open): the table already shows only that port's sockets.
      const screen = await s.waitFor((sc) => sc.includes(`filter: pid ${process.pid} and port ${target}`) && sc.includes('Filter — '));
      const rows = socketTableRows(screen);
      expect(rows.map((r) => endpointsOf(r).join(' ')).sort()).toEqual(ssPairs(target, port).sort());
      await s.sendKeys('Escape');
      const restored = await s.waitFor((sc) => sc.includes(`filter: ${ownFilter}`) && !sc.includes('Filter — '));
      const back = socketTableRows(restored);
      expect(back.length).toBeGreaterThanOrEqual(7);
      for (const r of back) expect(endpointsOf(r).join(' ')).toContain(`:${port}`);
    });
  },
);
