// Headless dashboard tests: the real Dashboard and widgets on a blessed screen over injected
// streams (a PassThrough as the keyboard, a Writable as the terminal). Snapshots are built by
// hand and handed over with onSnapshot; keys are written to the input as a terminal sends them;
// the screen is read back from screen.lines, colours from the bytes written. Nothing is timed.

import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TRACKER_OPTIONS } from '../src/model/tracker.js';
import { explainState } from '../src/model/state-info.js';
import { VIEWS, VIEW_TITLE } from '../src/view/ui-state.js';
import { rec } from './helpers/records.js';
import {
  ASCII_THEME,
  COLOR_THEME,
  MONO_THEME,
  cellFg,
  createHeadless,
  inverseRows,
  makeSnapshot,
  manyRowText,
  manySockets,
  settle,
  type Headless,
  type HeadlessOptions,
} from './helpers/snapshots.js';
import { hasColourSgr } from './helpers/tmux.js';

const DOWN = '\x1b[B';
const PGDN = '\x1b[6~';
const ENTER = '\r';
const ESC = '\x1b';
const TAB = '\t';

const open: Headless[] = [];
function headless(options: HeadlessOptions = {}): Headless {
  const h = createHeadless(options);
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open.splice(0)) h.destroy();
});

/** Table rows on screen (inside the table box): "│tcp …", "│unix …". */
const tableRows = (h: Headless): string[] => h.lines().filter((l) => /^[│|](tcp6?|udp6?|raw6?|unix)\s/.test(l));
/** "Sockets … 3/120 · sort: State ▲": the table label's position. */
const position = (h: Headless): string | undefined =>
  /\s(\d+\/\d+|0)(?: · sort: [^─]*)? ─*┐?$/.exec(h.lines().find((l) => /^┌─ (Sockets|By port|By peer|By process)/.test(l)) ?? '')?.[1];

// A small, fixed population: two listeners, three connections, one UDP, two UNIX sockets.
const T0 = 1_700_000_000_000;
const nginx = { pid: 101, command: 'nginx' };
const pg = { pid: 202, command: 'postgres' };
const listener80 = rec({
  state: 'LISTEN',
  localAddress: '0.0.0.0',
  localPort: 80,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  owner: nginx,
  inode: 11,
});
const listener5432 = rec({
  state: 'LISTEN',
  localAddress: '127.0.0.1',
  localPort: 5432,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  owner: pg,
  inode: 12,
});
const estab = rec({ localPort: 80, remoteAddress: '192.0.2.7', remotePort: 51000, owner: nginx, inode: 13 });
const closeWait = rec({
  state: 'CLOSE_WAIT',
  localPort: 80,
  remoteAddress: '192.0.2.8',
  remotePort: 51001,
  owner: nginx,
  inode: 14,
  recvQ: 17,
});
const timeWait = rec({ state: 'TIME_WAIT', localPort: 40001, remoteAddress: '127.0.0.1', remotePort: 5432, inode: 0 });
const dns = rec({
  protocol: 'udp',
  state: 'UNCONN',
  localAddress: '127.0.0.53',
  localPort: 53,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  inode: 15,
});
const unixListen = rec({ protocol: 'unix', state: 'LISTENING', path: '/run/app.sock', inode: 16, owner: pg });
const unixConn = rec({ protocol: 'unix', state: 'CONNECTED', path: null, inode: 17 });
const SMALL = [listener80, listener5432, estab, closeWait, timeWait, dns, unixListen, unixConn];

describe('first snapshot', () => {
  it('shows a loading line, then header totals, state bars and table rows', async () => {
    const h = headless();
    await settle();
    expect(h.text()).toContain('sockscope: reading sockets…');

    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();
    const lines = h.lines();
    expect(lines[0]).toMatch(/^sockscope\s+testhost\s+\d\d:\d\d:\d\d\s+every 1s\s+live/);
    expect(lines[1]).toBe('TCP 5  UDP 1  UNIX 2  shown 8');
    // One bar per TCP state that matters, with its count; a bar only where there are sockets.
    const bar = (label: string): string | undefined => lines.find((l) => l.startsWith(`│${label} `));
    expect(bar('LISTEN')).toMatch(/^│LISTEN\s+2 █+/);
    expect(bar('ESTAB')).toMatch(/^│ESTAB\s+1 █+/);
    expect(bar('CLOSE-WAIT')).toMatch(/^│CLOSE-WAIT\s+1 █+/);
    expect(bar('TIME-WAIT')).toMatch(/^│TIME-WAIT\s+1 █+/);
    expect(bar('SYN-RECV')).toMatch(/^│SYN-RECV\s+0 +\S?│$/);
    // The table: header, then rows sorted by state (listeners first), problems visible.
    expect(h.text()).toMatch(/│Proto State▲\s+Recv-Q Send-Q Local Address:Po.*Peer Address:Port/);
    const rows = tableRows(h);
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatch(/^│tcp\s+LISTEN\s+0\s+0 \*:80\s+\*:\*\s+101\/nginx/);
    expect(rows.find((r) => /CLOSE-WAIT/.test(r))).toMatch(/^│tcp\s+CLOSE-WAIT\s+17\s+0 127\.0\.0\.1:80\s+192\.0\.2\.8:51001\s+101\/nginx/);
    expect(rows.find((r) => /\/run\/app\.sock/.test(r))).toMatch(/^│unix\s+LISTEN\s+0\s+0 \/run\/app\.sock/);
    expect(rows.find((r) => /^│udp/.test(r))).toMatch(/UNCONN\s+0\s+0 127\.0\.0\.53:53/);
    expect(position(h)).toBe('1/8');
    // The sort is named in the panel title.
    expect(h.lines().find((l) => l.startsWith('┌─ Sockets'))).toContain('1/8 · sort: State ▲');
    // The first row is the selection bar.
    expect(inverseRows(h).map((r) => r.text)).toEqual([rows[0]]);
  });
});

describe('100,000 sockets', () => {
  const COUNT = 100_000;
  const sockets = manySockets(COUNT);

  it('hands the table only the visible window; the label shows the position in all of them', async () => {
    const h = headless();
    h.dashboard.onSnapshot(makeSnapshot(sockets));
    await settle();
    expect(h.lines()[1]).toBe('TCP 100k  UDP 0  UNIX 0  shown 100k');
    expect(position(h)).toBe(`1/${COUNT}`);
    const rows = tableRows(h);
    // 24 lines: header 3, bars 8, table 12 (2 borders + column header + 9 rows), footer 1.
    expect(rows).toHaveLength(9);
    expect(rows[0]).toContain(manyRowText(0).local);
    // The widget itself holds the window, not 100,000 lines of content.
    const table = (h.dashboard as unknown as { widgets: { table: { getContent(): string } } }).widgets.table;
    expect(table.getContent().split('\n')).toHaveLength(1 + rows.length);
  });

  it('↓, j, PgDn and G move the selection and keep the selected row on screen', async () => {
    const h = headless();
    h.dashboard.onSnapshot(makeSnapshot(sockets));
    await settle();
    const pageSize = tableRows(h).length;

    /** The selection is on row k (0-based) of all rows, and that row is drawn inverse. */
    const expectSelected = (k: number): void => {
      expect(position(h)).toBe(`${k + 1}/${COUNT}`);
      const bar = inverseRows(h);
      expect(bar).toHaveLength(1);
      const { local, peer } = manyRowText(k);
      expect(bar[0]?.text).toMatch(
        new RegExp(`^│tcp\\s+ESTAB\\s+0\\s+0 ${local.replace(/\./g, '\\.')}\\s+${peer.replace(/\./g, '\\.')}\\s`),
      );
      expect(tableRows(h)).toContain(bar[0]?.text);
    };

    expectSelected(0);
    await h.press(DOWN);
    expectSelected(1);
    await h.press('j');
    expectSelected(2);
    await h.press(PGDN);
    expectSelected(2 + pageSize - 1);
    await h.press(PGDN);
    expectSelected(2 + 2 * (pageSize - 1));
    await h.press('G');
    expectSelected(COUNT - 1);
    // At the end the window is the last page: the last row is the bottom row of the table.
    expect(tableRows(h).at(-1)).toBe(inverseRows(h)[0]?.text);
    await h.press('k');
    expectSelected(COUNT - 2);
    await h.press('g');
    expectSelected(0);
  });
});

describe('selection', () => {
  it('stays on the same socket when a new snapshot reorders the rows', async () => {
    const h = headless();
    const a = rec({ localPort: 3000, inode: 31 });
    const b = rec({ localPort: 4000, inode: 32 });
    const c = rec({ localPort: 5000, inode: 33 });
    h.dashboard.onSnapshot(makeSnapshot([a, b, c], { takenAtMs: T0 }));
    await settle();
    await h.press(DOWN);
    expect(position(h)).toBe('2/3');
    expect(inverseRows(h)[0]?.text).toContain('127.0.0.1:4000');

    // Two new sockets sort before b and a goes to CLOSE_WAIT (sorts after): b moves from 2nd to 3rd.
    const early1 = rec({ localPort: 1000, inode: 34 });
    const early2 = rec({ localPort: 2000, inode: 35 });
    const aClosing = { ...a, state: 'CLOSE_WAIT' as const };
    h.dashboard.onSnapshot(makeSnapshot([c, { ...b }, aClosing, early2, early1], { takenAtMs: T0 + 1000 }));
    await settle();
    expect(position(h)).toBe('3/5');
    const bar = inverseRows(h);
    expect(bar).toHaveLength(1);
    expect(bar[0]?.text).toContain('127.0.0.1:4000');
    expect(tableRows(h).map((r) => /127\.0\.0\.1:(\d+)/.exec(r)?.[1])).toEqual(['1000', '2000', '4000', '5000', '3000']);
  });
});

describe('filter prompt', () => {
  it('/ + text + Enter filters the rows; an invalid filter shows its error and keeps the old one', async () => {
    const h = headless();
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();

    await h.press('/');
    expect(h.text()).toContain('Filter — Enter apply, Esc cancel');
    await h.press('port 5432');
    expect(h.text()).toMatch(/│port 5432 /);
    await h.press(ENTER);
    let text = h.text();
    expect(text).not.toContain('Filter — Enter apply');
    expect(text).not.toContain('Details'); // the Enter that applies does not also open a row
    expect(h.lines()[1]).toBe('TCP 5  UDP 1  UNIX 2  shown 2 of 8  filter: port 5432');
    let rows = tableRows(h);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatch(/:5432\b/);

    // Invalid: the prompt stays, the caret points at the column, the previous filter still applies.
    await h.press('/');
    await h.press(' and sport abc');
    await h.press(ENTER);
    text = h.text();
    const lines = h.lines();
    expect(text).toContain('Filter — Enter apply');
    const textRow = lines.findIndex((l) => /^│port 5432 and sport abc /.test(l));
    expect(textRow).toBeGreaterThan(0);
    expect(lines[textRow + 1]).toMatch(/^│\s*\^\s*│$/);
    expect(lines[textRow + 1]?.indexOf('^')).toBe(lines[textRow]?.indexOf('abc'));
    expect(lines[textRow + 2]).toMatch(/^│column 21: .*'abc'/);
    expect(lines[1]).toContain('filter: port 5432');
    expect(tableRows(h)).toHaveLength(2);

    await h.press(ESC);
    text = h.text();
    expect(text).not.toContain('Filter — Enter apply');
    expect(text).not.toContain('abc');
    expect(h.lines()[1]).toContain('filter: port 5432');
    rows = tableRows(h);
    expect(rows).toHaveLength(2);

    // The filter applies as it is typed: Ctrl-U empties it (every row), Esc puts it back.
    await h.press('/');
    await h.press('\x15');
    expect(h.lines()[1]).toBe('TCP 5  UDP 1  UNIX 2  shown 8');
    expect(position(h)).toBe('1/8');
    await h.press('udp');
    expect(h.lines()[1]).toBe('TCP 5  UDP 1  UNIX 2  shown 1 of 8  filter: udp');
    await h.press(ESC);
    expect(h.lines()[1]).toContain('filter: port 5432');
    expect(tableRows(h)).toHaveLength(2);

    // c clears it.
    await h.press('c');
    expect(h.lines()[1]).toBe('TCP 5  UDP 1  UNIX 2  shown 8');
  });

  it('takes service names from the injected table: p postgresql and / port postgresql filter to 5432; an unknown name errs in place', async () => {
    const services = new Map([['postgresql', 5432]]);
    const h = headless({ servicePort: (name) => services.get(name) });
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();

    await h.press('p');
    await h.press('postgresql');
    await h.press(ENTER);
    expect(h.lines()[1]).toBe('TCP 5  UDP 1  UNIX 2  shown 2 of 8  filter: port postgresql');
    let rows = tableRows(h);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatch(/:5432\b/);

    // The same through the full filter prompt.
    await h.press('c');
    await h.press('/');
    await h.press('port postgresql and state listen');
    await h.press(ENTER);
    rows = tableRows(h);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/:5432\b/);

    // A name the table does not know: the prompt stays with its error; the filter is unchanged.
    await h.press('p');
    await h.press('nosuchservice');
    await h.press(ENTER);
    expect(h.text()).toContain("expected a port number 0-65535 or a service name, got 'nosuchservice'");
    expect(h.lines()[1]).toContain('filter: port postgresql and state listen');
    await h.press(ESC);
    await h.press('/');
    await h.press(' and port nosuchservice');
    await h.press(ENTER);
    expect(h.text()).toContain('Filter — Enter apply');
    expect(h.text()).toMatch(/nosuchservice/);
    expect(h.lines()[1]).toContain('filter: port postgresql and state listen');
  });

  it('without a service table the port prompt still refuses names', async () => {
    const h = headless();
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();
    await h.press('p');
    await h.press('postgresql');
    await h.press(ENTER);
    expect(h.text()).toContain("got 'postgresql'");
    expect(h.lines()[1]).toBe('TCP 5  UDP 1  UNIX 2  shown 8');
  });
});

describe('mouse on the table header', () => {
  /** Screen row and column (0-based) of a header title, found on the line that carries the ▲/▼ mark. */
  const titleAt = (h: Headless, title: string): { x: number; y: number } => {
    const lines = h.lines();
    const y = lines.findIndex((l) => /^│/.test(l) && /[▲▼]/.test(l));
    const x = lines[y]?.indexOf(title) ?? -1;
    if (y < 0 || x < 0) throw new Error(`no '${title}' on the header:\n${lines.join('\n')}`);
    return { x, y };
  };
  const label = (h: Headless): string => h.lines().find((l) => /^┌─ (Sockets|By port)/.test(l)) ?? '';

  it('a click on a column title sorts by it; a second click on it reverses; a click between columns does nothing', async () => {
    const h = headless({ width: 120, height: 30 });
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();
    expect(label(h)).toContain('sort: State ▲');

    let at = titleAt(h, 'Send-Q');
    h.dashboard.clickAt(at.x + 2, at.y);
    await settle();
    expect(h.dashboard.ui.socketSort).toEqual({ key: 'sendq', descending: true });
    expect(label(h)).toContain('sort: Send-Q ▼');
    expect(h.lines()[at.y]).toMatch(/Send-Q▼/);

    at = titleAt(h, 'Send-Q');
    h.dashboard.clickAt(at.x, at.y);
    await settle();
    expect(label(h)).toContain('sort: Send-Q ▲');

    // A left-aligned title: a click anywhere in its column (not only on the word) sorts.
    at = titleAt(h, 'Local Address:Port');
    h.dashboard.clickAt(at.x + 5, at.y);
    await settle();
    expect(h.dashboard.ui.socketSort.key).toBe('local');
    expect(label(h)).toContain('sort: Local Address:Port ▲');

    // The space just left of State (between two columns) belongs to neither column.
    const header = h.lines()[at.y] ?? '';
    const gap = header.indexOf(' State');
    const before = h.dashboard.ui.socketSort;
    h.dashboard.clickAt(gap, at.y);
    expect(h.dashboard.ui.socketSort).toBe(before);
  });

  it('in a grouped view a click on a count column sorts the groups by it', async () => {
    const h = headless({ width: 120, height: 30 });
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();
    await h.press(TAB);
    expect(label(h)).toMatch(/^┌─ By port/);
    const at = titleAt(h, 'Port');
    h.dashboard.clickAt(at.x, at.y);
    await settle();
    expect(h.dashboard.ui.groupSort).toEqual({ key: 'key', descending: false });
    h.dashboard.clickAt(at.x, at.y);
    await settle();
    expect(h.dashboard.ui.groupSort).toEqual({ key: 'key', descending: true });
  });
});

describe('views and details', () => {
  it('Tab switches from sockets to by port, by peer, by process, the state diagram, … and back', async () => {
    const h = headless({ width: 120, height: 40 });
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();
    expect(h.text()).toMatch(/┌─ Sockets /);

    await h.press(TAB);
    let text = h.text();
    expect(text).toMatch(/┌─ By port /);
    expect(text).toMatch(/│\s*Port\s+Proto\s+Listener\s+Total/);
    // Port 80: listener, ESTAB and CLOSE-WAIT (sorted by total, first).
    expect(text).toMatch(/│\s+80 tcp\s+101\/nginx\s+3\s+1\s+·\s+1\s/);

    await h.press(TAB);
    text = h.text();
    expect(text).toMatch(/┌─ By peer /);
    expect(text).toMatch(/│192\.0\.2\.7\s/);

    await h.press(TAB);
    text = h.text();
    expect(text).toMatch(/┌─ By process /);
    expect(text).toMatch(/│\s+101 nginx\s/);

    await h.press(TAB);
    text = h.text();
    expect(text).toMatch(/┌─ TCP states /);
    expect(text).toContain('CLOSE-WAIT');

    // Any further views, in their order, then round to the socket table.
    for (const view of VIEWS.slice(VIEWS.indexOf('states') + 1)) {
      await h.press(TAB);
      expect(h.text()).toContain(`┌─ ${VIEW_TITLE[view]} `);
    }
    await h.press(TAB);
    expect(h.text()).toMatch(/┌─ Sockets /);
  });

  it('Enter opens the details of the selected socket with the explanation of its state; Esc closes', async () => {
    const h = headless({ width: 120, height: 45 });
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();
    // Select the CLOSE-WAIT row.
    const index = tableRows(h).findIndex((r) => /CLOSE-WAIT/.test(r));
    expect(index).toBeGreaterThan(0);
    for (let i = 0; i < index; i++) await h.press(DOWN);
    expect(inverseRows(h)[0]?.text).toContain('CLOSE-WAIT');

    await h.press(ENTER);
    const text = h.text();
    expect(text).toMatch(/┌─ Details /);
    expect(text).toMatch(/│tcp  127\.0\.0\.1:80  →  192\.0\.2\.8:51001   CLOSE-WAIT/);
    expect(text).toMatch(/│  pid \/ command\s+101 \/ nginx/);
    expect(text).toContain('What CLOSE-WAIT means');
    // The explanation itself, as wrapped prose (compare without the line breaks).
    const prose = h
      .lines()
      .map((l) => l.replace(/^│\s*/, '').replace(/\s*[│█]$/, ''))
      .join(' ')
      .replace(/\s+/g, ' ');
    const e = explainState('tcp', 'CLOSE_WAIT');
    expect(prose).toContain(e.meaning.replace(/\s+/g, ' '));
    expect(prose).toContain(`Side: ${e.side}.`);

    await h.press(ESC);
    expect(h.text()).not.toMatch(/┌─ Details /);
    expect(h.text()).toMatch(/┌─ Sockets /);
  });
});

describe('pause and tombstones', () => {
  it('space pauses: a new snapshot does not change the rows until resumed', async () => {
    const h = headless();
    const a = rec({ localPort: 1111, inode: 41 });
    const b = rec({ localPort: 2222, inode: 42 });
    h.dashboard.onSnapshot(makeSnapshot([a, b], { takenAtMs: T0 }));
    await settle();
    const before = tableRows(h);
    expect(before).toHaveLength(2);

    await h.press(' ');
    expect(h.lines()[0]).toMatch(/PAUSED/);
    const c = rec({ localPort: 3333, inode: 43 });
    h.dashboard.onSnapshot(makeSnapshot([a, c], { takenAtMs: T0 + 1000 }));
    await settle();
    expect(tableRows(h)).toEqual(before);
    // Redrawing while paused (a key) still shows the frozen picture.
    await h.press(DOWN);
    expect(tableRows(h)).toEqual(before);
    expect(h.text()).not.toContain(':3333');

    await h.press(' ');
    expect(h.lines()[0]).toMatch(/\blive$/);
    const rows = tableRows(h);
    expect(rows.some((r) => r.includes('127.0.0.1:3333'))).toBe(true);
    // b went away while paused: now a tombstone.
    expect(rows.find((r) => r.includes('127.0.0.1:2222'))).toMatch(/^│tcp\s+CLOSED\s/);
  });

  it('a socket that disappears is shown as CLOSED for a while, then goes', async () => {
    const h = headless({ width: 120, height: 30 }); // wide enough for the Age column
    const a = rec({ localPort: 1111, inode: 51 });
    const b = rec({ localPort: 2222, inode: 52 });
    h.dashboard.onSnapshot(makeSnapshot([a, b], { takenAtMs: T0 }));
    await settle();
    h.dashboard.onSnapshot(makeSnapshot([a], { takenAtMs: T0 + 1000 }));
    await settle();
    let rows = tableRows(h);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.includes(':2222'))).toMatch(/^│tcp\s+CLOSED\s+0\s+0 127\.0\.0\.1:2222\s.*\sgone│$/);
    expect(rows.find((r) => r.includes(':1111'))).toMatch(/^│tcp\s+ESTAB\s/);
    // The header counts only live sockets.
    expect(h.lines()[1]).toMatch(/^TCP 1 /);

    // Still there just before the tombstone time runs out (the snapshot clock, not the wall clock)…
    h.dashboard.onSnapshot(makeSnapshot([a], { takenAtMs: T0 + 1000 + DEFAULT_TRACKER_OPTIONS.tombstoneMs - 1 }));
    await settle();
    expect(tableRows(h).some((r) => /CLOSED.*:2222/.test(r))).toBe(true);
    // …and gone after.
    h.dashboard.onSnapshot(makeSnapshot([a], { takenAtMs: T0 + 1000 + DEFAULT_TRACKER_OPTIONS.tombstoneMs }));
    await settle();
    rows = tableRows(h);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(':1111');
  });
});

describe('resize', () => {
  it('relayouts from 80x24 to 160x45, says when 40x10 is too small, and recovers', async () => {
    const h = headless({ width: 80, height: 24 });
    h.dashboard.onSnapshot(makeSnapshot(manySockets(200), { takenAtMs: T0 }));
    await settle();
    expect(h.lines()).toHaveLength(24);
    expect(tableRows(h)).toHaveLength(9);
    expect(h.text()).not.toMatch(/Process\s+User\s+Age/);

    await h.resize(160, 45);
    let lines = h.lines();
    expect(lines).toHaveLength(45);
    expect(h.cells().every((l) => l.length === 160)).toBe(true);
    expect(h.text()).toContain('TCP states over time'); // the history chart appears on large terminals
    expect(h.text()).toMatch(/Proto State▲\s+Recv-Q Send-Q Local Address:Port\s+Peer Address:Port\s+Process\s+User\s+Age/);
    expect(tableRows(h).length).toBeGreaterThan(9);
    // The table's bottom border is right above the footer.
    expect(lines[43]).toMatch(/^└─+┘$/);
    expect(lines[44]).toMatch(/^q quit  \? help/);
    expect(position(h)).toBe('1/200');

    await h.resize(40, 10);
    lines = h.lines();
    expect(lines).toHaveLength(10);
    expect(h.text()).toContain('Terminal too small: 40x10.');
    expect(h.text()).toContain('sockscope needs at least 60x16.');
    expect(tableRows(h)).toHaveLength(0);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);

    await h.resize(80, 24);
    expect(h.text()).not.toContain('Terminal too small');
    expect(tableRows(h)).toHaveLength(9);
  });
});

describe('themes', () => {
  /** Draw the small population and return only the bytes of that frame. */
  async function frameBytes(h: Headless): Promise<string> {
    await settle();
    const from = h.bytes().length;
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    await settle();
    return h.bytes().subarray(from).toString('utf8');
  }
  const stateCells = (h: Headless): { row: number; attr: number }[] => {
    const out: { row: number; attr: number }[] = [];
    h.cells().forEach((cells, row) => {
      const text = cells.map((c) => c[1]).join('');
      if (/^│(tcp|udp|unix)\s+(LISTEN|ESTAB|CLOSE-WAIT|TIME-WAIT|UNCONN)/.test(text)) {
        const cell = cells[7]; // first letter of the State column
        if (cell !== undefined) out.push({ row, attr: cell[0] });
      }
    });
    return out;
  };

  it('colour theme: state cells are coloured (the detector works)', async () => {
    const h = headless({ theme: COLOR_THEME, width: 160, height: 45 });
    const bytes = await frameBytes(h);
    expect(hasColourSgr(bytes)).toBe(true);
    const cells = stateCells(h).slice(1); // the first row is the (colourless) selection bar
    expect(cells.length).toBeGreaterThan(3);
    expect(cells.some((c) => cellFg(c.attr) !== 0x1ff)).toBe(true);
  });

  it('monochrome theme (color false) writes no colour SGR at all, and state cells have the default colour', async () => {
    const h = headless({ theme: MONO_THEME, width: 160, height: 45 });
    const bytes = await frameBytes(h);
    expect(bytes).toMatch(/CLOSE-WAIT/);
    expect(h.text()).toContain('TCP states over time'); // the history chart and its legend too
    expect(hasColourSgr(h.bytes().toString('utf8'))).toBe(false);
    const cells = stateCells(h);
    expect(cells.length).toBeGreaterThan(3);
    for (const c of cells) expect(cellFg(c.attr)).toBe(0x1ff);
    // Pausing (the status is yellow in colour) and a filter (yellow) stay colourless too.
    await h.press(' ');
    await h.press('/');
    await h.press('port 80\r');
    await h.press(' ');
    expect(hasColourSgr(h.bytes().toString('utf8'))).toBe(false);
  });

  it('ASCII theme draws bars, sparklines and scrollbars without block characters', async () => {
    const h = headless({ theme: ASCII_THEME, width: 100, height: 30 });
    h.dashboard.onSnapshot(makeSnapshot(SMALL, { takenAtMs: T0 }));
    h.dashboard.onSnapshot(makeSnapshot(SMALL.slice(0, 6), { takenAtMs: T0 + 1000 }));
    await settle();
    const BLOCKS = /[\u2580-\u259f]/;
    expect(h.text()).toMatch(/│LISTEN\s+2 #+/);
    expect(h.text()).not.toMatch(BLOCKS);
    await h.press(ENTER); // details: scrollbar and queue sparklines
    expect(h.text()).toMatch(/┌─ Details /);
    expect(h.text()).not.toMatch(BLOCKS);
    expect(h.bytes().toString('utf8')).not.toMatch(BLOCKS);
  });
});

describe('a view switched to at scale (deferFromSockets, as run-dashboard at 100k)', () => {
  it('2, 3, 4 and back to 1 draw "counting…" or the last rows first, then the same screen as a dashboard that counts at once', async () => {
    const sockets = [listener80, listener5432, ...manySockets(600)];
    const at = (deferFromSockets?: number): Headless =>
      headless({ width: 120, height: 30, ...(deferFromSockets === undefined ? {} : { deferFromSockets }) });
    const slow = at(100);
    const plain = at();
    for (const h of [slow, plain]) h.dashboard.onSnapshot(makeSnapshot(sockets, { takenAtMs: T0 }));
    const counting: string[] = [];
    for (const key of ['2', '3', '4', '1']) {
      await plain.press(key);
      const from = slow.bytes().length;
      slow.input.write(key);
      await settle();
      for (let i = 0; i < 50 && slow.text() !== plain.text(); i++) await settle();
      expect(slow.text()).toBe(plain.text());
      // The key's own frame came first, before the slices: nothing counted in one block.
      if (slow.bytes().subarray(from).toString('utf8').includes('counting…')) counting.push(key);
    }
    expect(counting).toEqual(['2', '3', '4']);
    // A new snapshot while by port is shown, then back to the socket table: the rows of the new one.
    await plain.press('2');
    await slow.press('2');
    for (let i = 0; i < 50 && slow.text() !== plain.text(); i++) await settle();
    const next = [listener80, listener5432, ...manySockets(300), ...manySockets(900).slice(700)];
    for (const h of [slow, plain]) h.dashboard.onSnapshot(makeSnapshot(next, { takenAtMs: T0 + 1000 }));
    for (let i = 0; i < 50 && slow.text() !== plain.text(); i++) await settle();
    expect(slow.text()).toBe(plain.text());
    await plain.press('1');
    slow.input.write('1');
    for (let i = 0; i < 50 && slow.text() !== plain.text(); i++) await settle();
    expect(slow.text()).toBe(plain.text());
    expect(tableRows(slow).length).toBeGreaterThan(10);
  });
});

describe('a sliced refresh (onSnapshotSliced, as run-dashboard)', () => {
  it('turns the event loop before the ingest, before the rows and before the draw; a key at any turn is answered from a whole state', async () => {
    const first = [listener80, listener5432, estab];
    const next = [...first, closeWait, timeWait];
    const sliced = headless({ width: 120, height: 30 });
    const plain = headless({ width: 120, height: 30 });
    for (const h of [sliced, plain]) h.dashboard.onSnapshot(makeSnapshot(first, { takenAtMs: T0 }));
    const before = sliced.text();
    const seen: string[] = [];
    // Each pause: what the screen shows (the dashboard's frame for a key pressed now).
    const pause = async (): Promise<void> => {
      sliced.dashboard.render();
      seen.push(sliced.text());
      await settle();
    };
    await sliced.dashboard.onSnapshotSliced(makeSnapshot(next, { takenAtMs: T0 + 1000 }), pause);
    plain.dashboard.onSnapshot(makeSnapshot(next, { takenAtMs: T0 + 1000 }));
    await settle();
    // Small tables need no slice of their own: these are the turns between the stages.
    expect(seen).toHaveLength(3);
    // Before the ingest: the last snapshot, whole.
    expect(seen[0]).toBe(before);
    // Every frame drawn at a turn shows either the old rows or the new ones, never a mix.
    for (const screen of seen) expect(tableRowsOf(screen).length === 3 || tableRowsOf(screen).length === 5).toBe(true);
    expect(sliced.text()).toBe(plain.text());
    expect(tableRows(sliced)).toHaveLength(5);
  });
});

function tableRowsOf(screen: string): string[] {
  return screen.split('\n').filter((l) => /^[│|](tcp6?|udp6?|raw6?|unix)\s/.test(l));
}
