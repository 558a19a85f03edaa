// End-to-end: the real bin/sockscope in tmux against a recorded /proc tree (assembled at test time
// from test/fixtures/proc-text/recorded). Keys go in with send-keys, the screen comes back with
// capture-pane; every wait polls the pane (no sleeps as assertions, nothing asserts a timing).
// Build first: `npx tsc -p tsconfig.json` (npm test does it in pretest).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TmuxSession, hasColourSgr, hasTmux, socketTableRows, type StartOptions } from './helpers/tmux.js';

const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'snmp', 'netstat'];

// The oracle is the fixture text itself: one socket per line after the header.
const dataLines = (file: string): string[] =>
  fs
    .readFileSync(path.join(FIXTURE_DIR, file), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
const EXPECTED = {
  tcp: dataLines('tcp').length + dataLines('tcp6').length,
  udp: dataLines('udp').length + dataLines('udp6').length,
  unix: dataLines('unix').length,
  raw: dataLines('raw').length + dataLines('raw6').length,
};
/** "st" column (4th field) of /proc/net/tcp*, hex → the dashboard's short label. */
const TCP_STATE_BY_HEX: Readonly<Record<string, string>> = {
  '01': 'ESTAB',
  '02': 'SYN-SENT',
  '03': 'SYN-RECV',
  '04': 'FIN-WAIT-1',
  '05': 'FIN-WAIT-2',
  '06': 'TIME-WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE-WAIT',
  '09': 'LAST-ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};
const TCP_STATE_COUNTS = new Map<string, number>();
for (const l of [...dataLines('tcp'), ...dataLines('tcp6')]) {
  const label = TCP_STATE_BY_HEX[l.trim().split(/\s+/)[3] ?? ''] ?? '?';
  TCP_STATE_COUNTS.set(label, (TCP_STATE_COUNTS.get(label) ?? 0) + 1);
}
const ALL_SHOWN = EXPECTED.tcp + EXPECTED.udp + EXPECTED.unix + EXPECTED.raw;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const lineWith = (screen: string, re: RegExp): string | undefined => screen.split('\n').find((l) => re.test(l));

let procRoot = '';
const sessions: TmuxSession[] = [];

beforeAll(() => {
  procRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-e2e-proc-'));
  fs.mkdirSync(path.join(procRoot, 'net'));
  for (const f of NET_FILES) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(procRoot, 'net', f));
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

afterAll(() => {
  if (procRoot !== '') fs.rmSync(procRoot, { recursive: true, force: true });
});

/** Start the dashboard on the recorded tree and wait for the first snapshot on screen. */
async function startDashboard(width: number, height: number, options: Omit<StartOptions, 'width' | 'height'> = {}): Promise<TmuxSession> {
  const session = TmuxSession.start({
    width,
    height,
    ...options,
    args: ['--proc-root', procRoot, '--no-processes', ...(options.args ?? [])],
  });
  sessions.push(session);
  const screen = await session.waitFor((sc) => (/shown \d+/.test(sc) && socketTableRows(sc).length > 0) || /\[exit=\d+\]/.test(sc), 20_000);
  if (/\[exit=\d+\]/.test(screen)) throw new Error(`sockscope exited at start (is dist/ built?):\n${screen}`);
  return session;
}

/** q, then the shell's status line; the normal screen and the cursor are back. */
async function quitCleanly(session: TmuxSession): Promise<void> {
  await session.sendKeys('q');
  await session.waitFor('[exit=0]', 10_000);
  expect(session.display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
}

describe.skipIf(!hasTmux).each([
  { width: 80, height: 24 },
  { width: 160, height: 45 },
])('dashboard on a recorded /proc at $width x $height', ({ width, height }) => {
  it('shows host, live status and totals that match the fixture', async () => {
    const s = await startDashboard(width, height);
    const screen = s.capture();
    expect(screen.split('\n')[0]).toMatch(new RegExp(`^sockscope\\s+${escapeRe(os.hostname().slice(0, 20))}.*\\bevery 1s\\s+live`));
    expect(screen).toContain(`TCP ${EXPECTED.tcp}  UDP ${EXPECTED.udp}  UNIX ${EXPECTED.unix}  RAW ${EXPECTED.raw}  shown ${ALL_SHOWN}`);
    expect(s.display('#{alternate_on}')).toBe('1');
  });

  it('draws a bar per TCP state with the fixture counts', async () => {
    const s = await startDashboard(width, height);
    const screen = s.capture();
    expect(screen).toContain('TCP states');
    for (const [label, count] of TCP_STATE_COUNTS) {
      expect(lineWith(screen, new RegExp(`^[│|]${escapeRe(label)}\\s+${count} [█#]+`)), `${label} bar`).toBeDefined();
    }
    // A state that matters but has no sockets is listed at zero, without a bar.
    expect(screen).toMatch(/^[│|]SYN-RECV\s+0 /m);
    if (width >= 120) expect(screen).toContain('TCP states over time');
  });

  it('lists fixture sockets in the table, with the columns that fit', async () => {
    const s = await startDashboard(width, height);
    const screen = s.capture();
    expect(screen).toMatch(/Sockets .*1\/\d+/);
    expect(screen).toMatch(/Proto\s+State.\s+Recv-Q\s+Send-Q\s+Local Address/);
    const rows = socketTableRows(screen);
    expect(rows.length).toBeGreaterThanOrEqual(8);
    expect(rows.some((r) => /^│tcp\s+LISTEN\s+0\s+0 127\.0\.0\.1:18010\s/.test(r))).toBe(true);
    expect(rows.some((r) => /^│tcp6\s+LISTEN .*\[::1\]:18020\s/.test(r))).toBe(true);
    if (width >= 120) expect(screen).toMatch(/Process\s+User\s+Age/);
    // Every row and border line fits the terminal.
    for (const l of screen.split('\n')) expect([...l].length).toBeLessThanOrEqual(width);
  });

  it('/ applies a filter; an invalid one shows a caret in place and keeps the previous filter', async () => {
    const s = await startDashboard(width, height);
    await s.sendKeys('/');
    await s.waitFor('Filter — Enter apply, Esc cancel');
    await s.sendKeys('port 18010', 'Enter');
    // The filter applies as it is typed: wait for the prompt to close too.
    let screen = await s.waitFor((sc) => sc.includes('filter: port 18010') && !sc.includes('Filter — Enter apply'));
    expect(screen).not.toContain('Details'); // the Enter that applies must not also open a row
    const rows = socketTableRows(screen);
    expect(rows).toHaveLength(8);
    for (const r of rows) expect(r).toMatch(/:18010\b/);
    expect(screen).toContain('shown 8');

    // Invalid: the prompt stays open with the error under the text, the old filter still applies.
    await s.sendKeys('/');
    await s.waitFor('Filter — Enter apply');
    // (The prompt applies what parses as it is typed: text appended to the filter keeps it.)
    await s.sendKeys(' and state bogus', 'Enter');
    screen = await s.waitFor(/unknown state 'bogus'/);
    const lines = screen.split('\n');
    const textRow = lines.findIndex((l) => /^│port 18010 and state bogus/.test(l));
    expect(textRow).toBeGreaterThan(0);
    const caretLine = lines[textRow + 1] ?? '';
    expect(caretLine).toMatch(/^│\s*\^\s*│?$/);
    expect(caretLine.indexOf('^')).toBe((lines[textRow] ?? '').indexOf('bogus'));
    expect(screen).toContain('filter: port 18010');
    expect(socketTableRows(screen).length).toBeGreaterThan(0);

    await s.sendKeys('Escape');
    screen = await s.waitFor((sc) => !sc.includes('Filter — Enter apply'));
    expect(screen).toContain('filter: port 18010');
    expect(screen).not.toContain('bogus');
    expect(socketTableRows(screen)).toHaveLength(8);
  });

  it('p filters by port and s by state', async () => {
    const s = await startDashboard(width, height);
    await s.sendKeys('p');
    await s.waitFor('Port — Enter apply');
    await s.sendKeys('18090', 'Enter');
    let screen = await s.waitFor(/filter: port 18090/);
    let rows = socketTableRows(screen);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toMatch(/:18090\b/);

    await s.sendKeys('s');
    await s.waitFor('State — Enter apply');
    await s.sendKeys('listen', 'Enter');
    screen = await s.waitFor(/filter: state listen/);
    rows = socketTableRows(screen);
    expect(rows.length).toBeGreaterThanOrEqual(TCP_STATE_COUNTS.get('LISTEN') ?? 1);
    for (const r of rows) expect(r).toMatch(/^│\S+\s+LISTEN\s/);

    await s.sendKeys('c');
    screen = await s.waitFor((sc) => !sc.includes('filter:'));
    expect(screen).toContain(`shown ${ALL_SHOWN}`);
  });

  it('Tab and 2 switch to the by-port view; Enter drills into its sockets, Escape goes back', async () => {
    const s = await startDashboard(width, height);
    await s.sendKeys('Tab');
    let screen = await s.waitFor(/By port/);
    expect(screen).toMatch(/Port\s+(Proto\s+)?Listener\s+Total/);
    await s.sendKeys('1');
    await s.waitFor((sc) => /Sockets/.test(sc) && !/By port/.test(sc));
    await s.sendKeys('2');
    screen = await s.waitFor(/By port/);
    // Groups sorted by total: 18010 (listener, 2 ESTAB, 1 CLOSE-WAIT) comes first.
    expect(screen).toMatch(/^│\s*18010 (tcp\s+)?-\s+4\s+2\s+·\s+1\s/m);

    await s.sendKeys('Enter');
    screen = await s.waitFor(/filter: sport 18010/);
    expect(screen).toMatch(/Sockets/);
    const rows = socketTableRows(screen);
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r).toMatch(/^│tcp\s+\S+\s+\d+\s+\d+ 127\.0\.0\.1:18010\s/);

    await s.sendKeys('Escape');
    screen = await s.waitFor(/By port/);
    expect(screen).not.toContain('filter:');
  });

  it('Enter on a socket opens its details with what the state means; Escape closes them', async () => {
    const s = await startDashboard(width, height);
    await s.sendKeys('s');
    await s.waitFor('State — Enter apply');
    await s.sendKeys('cw', 'Enter');
    // The header and the rows come from one frame, but a capture can land while the terminal is
    // still drawing it: wait for the table's rows too (a wrong count times out and fails).
    const closeWaits = TCP_STATE_COUNTS.get('CLOSE-WAIT') ?? 0;
    let screen = await s.waitFor((sc) => /filter: state cw/.test(sc) && socketTableRows(sc).length === closeWaits);
    expect(socketTableRows(screen)).toHaveLength(closeWaits);

    await s.sendKeys('Enter');
    // The whole frame: a capture can land while the terminal is still drawing it.
    screen = await s.waitFor((sc) => sc.includes('Details') && sc.includes('Esc back') && /state\s+CLOSE-WAIT/.test(sc));
    expect(screen).toContain('127.0.0.1:18010  →  127.0.0.1:18012');
    expect(screen).toMatch(/state\s+CLOSE-WAIT/); // ss's names on screen, as in the title
    expect(screen).toContain('Esc back');
    // The explanation is further down: scroll until it shows (a small terminal needs pages).
    for (let i = 0; i < 8 && !/What CLOSE-WAIT means/.test(screen); i++) {
      await s.sendKeys('NPage');
      screen = s.capture();
    }
    screen = await s.waitFor(/What CLOSE-WAIT means/);

    await s.sendKeys('Escape');
    screen = await s.waitFor((sc) => !sc.includes('Details') && socketTableRows(sc).length === closeWaits);
    expect(socketTableRows(screen)).toHaveLength(closeWaits);
  });

  it('? opens the help with the keys; Escape closes it', async () => {
    const s = await startDashboard(width, height);
    await s.sendKeys('?');
    const screen = await s.waitFor('Help — ? or Esc to close');
    expect(screen).toMatch(/^│Keys/m);
    expect(screen).toMatch(/q, Ctrl-C, F10\s+quit/);
    expect(screen).toMatch(/^│\s+p\s+quick filter by port/m);
    expect(screen).toContain('(and, or, not)'); // long descriptions wrap instead of being cut
    await s.sendKeys('Escape');
    await s.waitFor((sc) => !sc.includes('Help —') && socketTableRows(sc).length > 0);
  });

  it('space pauses and resumes; + and - change the interval', async () => {
    const s = await startDashboard(width, height);
    // The header says the interval in effect: the one asked for, or (on a loaded machine) the
    // one the poller slowed to, naming the one asked for.
    const every = (asked: string, status: string): RegExp =>
      new RegExp(`every (${asked}|[\\d.]+s {2}\\(slowed from ${asked}: [^)]*\\)) {2}${status}`);
    await s.sendKeys('Space');
    await s.waitFor(every('1s', 'PAUSED'));
    await s.sendKeys('Space');
    await s.waitFor(every('1s', 'live'));
    await s.sendKeys('+');
    await s.waitFor(every('0\\.5s', 'live'));
    await s.sendKeys('-', '-');
    await s.waitFor(every('2s', 'live'));
  });

  it('q quits with status 0 and restores the normal screen', async () => {
    const s = await startDashboard(width, height);
    await quitCleanly(s);
    const screen = s.capture();
    expect(screen).not.toContain('TCP states');
    expect(screen).not.toContain('sockscope:'); // nothing printed on the way out
  });
});

describe.skipIf(!hasTmux)('dashboard terminals and sizes', () => {
  it('redraws on resize: 80x24 → 60x20 → 50x12 (too small) → 80x24', async () => {
    const s = await startDashboard(80, 24);
    s.resize(60, 20);
    let screen = await s.waitFor((sc) => sc.split('\n').some((l) => /^└─+┘$/.test(l) && l.length === 60));
    for (const l of screen.split('\n')) expect([...l].length).toBeLessThanOrEqual(60);
    expect(screen).toMatch(/^│Proto State.\s+Recv-Q Local Address/m); // the column header survives narrowing
    // Send-Q goes before Recv-Q (the accept queue: 2 waiting on 18090) and Proto.
    expect(screen).toMatch(/^│tcp\s+LISTEN\s+0 127\.0\.0\.1:18010\s/m);
    expect(screen).toMatch(/^│tcp\s+LISTEN\s+2 127\.0\.0\.1:18090\s/m);
    expect(screen).not.toContain('Send-Q');
    expect(screen).toContain(`shown ${ALL_SHOWN}`);

    s.resize(50, 12);
    screen = await s.waitFor('Terminal too small: 50x12');
    expect(screen).toContain('needs at least 60x16');
    expect(socketTableRows(screen)).toHaveLength(0);

    s.resize(80, 24);
    // Wait for the whole frame: tmux can be captured while it is still drawing the table.
    screen = await s.waitFor((sc) => !sc.includes('Terminal too small') && sc.includes('TCP states') && socketTableRows(sc).length > 0);
    expect(screen).toMatch(/^┌─ Sockets .*┐$/m);
    expect(screen).toMatch(/^│Proto\s+State/m);
    expect(socketTableRows(screen).length).toBeGreaterThan(0);
    expect(screen.split('\n').filter((l) => l.length === 80).length).toBeGreaterThan(10);
    await quitCleanly(s);
  });

  it.each<{ name: string; env: Readonly<Record<string, string>> }>([
    { name: 'TERM=screen-256color', env: { TERM: 'screen-256color' } },
    { name: 'TERM=vt100', env: { TERM: 'vt100' } },
    { name: 'TERM=vt100 LANG=C', env: { TERM: 'vt100', LANG: 'C' } },
    { name: 'LANG=C', env: { LANG: 'C' } },
    { name: 'NO_COLOR=1', env: { NO_COLOR: '1' } },
  ])('$name starts, draws the table and quits cleanly', async ({ env }) => {
    const s = await startDashboard(80, 24, { env });
    const screen = s.capture();
    expect(socketTableRows(screen).length).toBeGreaterThan(0);
    expect(screen).toContain(`shown ${ALL_SHOWN}`);
    await quitCleanly(s);
  });

  it('LANG=C falls back to ASCII: no UTF-8 block or line characters anywhere', async () => {
    const s = await startDashboard(80, 24, { env: { LANG: 'C' } });
    await s.sendKeys('2');
    let screen = await s.waitFor(/By port/);
    await s.sendKeys('1');
    screen = await s.waitFor((sc) => /Sockets/.test(sc) && !/By port/.test(sc));
    expect(screen).toMatch(/^\+-+ TCP states -+\+$/m);
    expect(screen).toMatch(/^\|LISTEN\s+\d+ #+/m);
    // Symbols get an ASCII stand-in, not blessed's '?': the sort mark and the truncation mark.
    expect(screen).toMatch(/^\|Proto State\^ /m);
    expect(screen).toMatch(/Local Address:Po~ /);
    expect(screen).not.toMatch(/State\?|Po\?/);
    for (const ch of screen) expect(ch.charCodeAt(0), `character ${JSON.stringify(ch)}`).toBeLessThan(0x80);
    await quitCleanly(s);
  });

  it('NO_COLOR=1 draws state cells without colour (and colour is there without it)', async () => {
    const stateLines = (screen: string): string[] => screen.split('\n').filter((l) => /(LISTEN|ESTAB|CLOSE-WAIT)/.test(l) && /tcp/.test(l));

    const coloured = await startDashboard(80, 24);
    const withColour = stateLines(coloured.capture({ escapes: true }));
    expect(withColour.length).toBeGreaterThan(1);
    expect(withColour.some(hasColourSgr)).toBe(true);
    await quitCleanly(coloured);

    const mono = await startDashboard(80, 24, { env: { NO_COLOR: '1' } });
    const screen = mono.capture({ escapes: true });
    const lines = stateLines(screen);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(hasColourSgr(l), JSON.stringify(l)).toBe(false);
    expect(hasColourSgr(screen)).toBe(false);
    await quitCleanly(mono);
  });
});

describe.skipIf(!hasTmux)('dashboard on a terminal without colours', () => {
  it('TERM=vt100 draws monochrome instead of colours folded to black', async () => {
    const s = await startDashboard(80, 24, { env: { TERM: 'vt100' } });
    const screen = s.capture({ escapes: true });
    expect(socketTableRows(s.capture()).length).toBeGreaterThan(0);
    expect(hasColourSgr(screen)).toBe(false);
    await quitCleanly(s);
  });
});

describe('dashboard without a terminal', () => {
  it('exits 2 and points at --once when stdout is not a terminal', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-e2e-out-'));
    try {
      const out = fs.openSync(path.join(dir, 'out.txt'), 'w');
      const r = spawnSync(process.execPath, ['bin/sockscope'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', out, 'pipe'],
        encoding: 'utf8',
        timeout: 20_000,
      });
      fs.closeSync(out);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--once');
      expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
