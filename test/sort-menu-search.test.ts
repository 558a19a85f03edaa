// htop's F6 sort menu, F3 incremental search and the filter applied as it is typed (issue 14):
// the reducer and the sort menu's view model (pure), the frame (what the menu lists, the rows'
// search text), the key map (the menu and prompts take the keyboard; help and footer list their
// keys), and a headless blessed screen that shows the menu and the search prompt.

import { afterEach, describe, expect, it } from 'vitest';
import { compileFilter } from '../src/filter/index.js';
import type { ConnRate } from '../src/model/conn-rates.js';
import { SessionStore } from '../src/model/session-store.js';
import type { SocketRecord } from '../src/model/types.js';
import { buildFrame, type Frame, type FrameContext } from '../src/view/frame.js';
import { helpLines } from '../src/view/help.js';
import { footerKeyRows, resolveKey } from '../src/view/key-map.js';
import { buildSortMenuView, sortMenuItemAt } from '../src/view/sort-menu.js';
import { findRow, initialUiState, reduceUi, type SearchRows, type UiAction, type UiState } from '../src/view/ui-state.js';
import { rec } from './helpers/records.js';
import {
  COLOR_THEME,
  MONO_THEME,
  createHeadless,
  inverseRows,
  makeSnapshot,
  manyRowText,
  manySockets,
  type Headless,
  type HeadlessOptions,
} from './helpers/snapshots.js';

const start = (over: Partial<UiState> = {}): UiState => ({ ...initialUiState({ intervalMs: 1000 }), ...over });
const run = (state: UiState, ...actions: UiAction[]): UiState => actions.reduce((s, a) => reduceUi(s, a), state);
const SOCKET_COLUMNS = ['proto', 'state', 'recvq', 'sendq', 'local', 'peer', 'process', 'user', 'age', 'out', 'in', 'rtt'];

/** Rows a..e with texts; `asked` records which rows' text the search read. */
function searchRows(texts: readonly string[], asked: number[] = []): SearchRows {
  return {
    keys: texts.map((_, i) => String.fromCharCode(97 + i)),
    pageSize: 3,
    textAt: (i) => {
      asked.push(i);
      return texts[i] ?? '';
    },
  };
}

describe('sort menu: reducer', () => {
  it('opens on the current sort column; does not open in a view without sortable columns', () => {
    expect(
      reduceUi(start({ socketSort: { key: 'recvq', descending: true } }), { type: 'openSortMenu', columns: SOCKET_COLUMNS }).sortMenu,
    ).toEqual({
      cursor: 'recvq',
    });
    const findings = start({ view: 'findings' });
    expect(reduceUi(findings, { type: 'openSortMenu', columns: [] })).toBe(findings);
    // The current column is not listed (hidden rate column): the cursor starts on the first one.
    expect(
      reduceUi(start({ socketSort: { key: 'rtt', descending: true } }), { type: 'openSortMenu', columns: ['proto', 'state'] }).sortMenu,
    ).toEqual({
      cursor: 'proto',
    });
  });

  it('moves with wrapping, to the first and last; Enter sorts by the cursor column in its natural order and closes', () => {
    let s = run(start(), { type: 'openSortMenu', columns: SOCKET_COLUMNS });
    s = run(s, { type: 'sortMenuMove', delta: 1, columns: SOCKET_COLUMNS }, { type: 'sortMenuMove', delta: 1, columns: SOCKET_COLUMNS });
    expect(s.sortMenu).toEqual({ cursor: 'sendq' });
    expect(run(s, { type: 'sortMenuMove', to: 'last', columns: SOCKET_COLUMNS }).sortMenu).toEqual({ cursor: 'rtt' });
    expect(
      run(s, { type: 'sortMenuMove', to: 'first', columns: SOCKET_COLUMNS }, { type: 'sortMenuMove', delta: -1, columns: SOCKET_COLUMNS })
        .sortMenu,
    ).toEqual({
      cursor: 'rtt',
    });
    const chosen = run(s, { type: 'sortMenuChoose' });
    expect(chosen.sortMenu).toBeNull();
    // Queues start largest first.
    expect(chosen.socketSort).toEqual({ key: 'sendq', descending: true });
  });

  it('choosing the current column again reverses it; a click chooses its item; r reverses and keeps the menu', () => {
    const s = start({ socketSort: { key: 'state', descending: false } });
    const again = run(s, { type: 'openSortMenu', columns: SOCKET_COLUMNS }, { type: 'sortMenuChoose' });
    expect(again.socketSort).toEqual({ key: 'state', descending: true });
    const clicked = run(s, { type: 'openSortMenu', columns: SOCKET_COLUMNS }, { type: 'sortMenuChoose', key: 'out' });
    expect(clicked.socketSort).toEqual({ key: 'out', descending: true });
    const reversed = run(s, { type: 'openSortMenu', columns: SOCKET_COLUMNS }, { type: 'sortReverse' });
    expect(reversed.socketSort.descending).toBe(true);
    expect(reversed.sortMenu).not.toBeNull();
  });

  it('grouped views sort their own columns; Esc closes the menu and changes nothing', () => {
    const cols = ['key', 'total', 'established', 'timewait', 'closewait', 'synrecv', 'queue', 'out', 'in'];
    const s = run(start({ view: 'ports' }), { type: 'openSortMenu', columns: cols }, { type: 'sortMenuMove', delta: 3, columns: cols });
    expect(s.sortMenu).toEqual({ cursor: 'closewait' });
    expect(run(s, { type: 'sortMenuChoose' }).groupSort).toEqual({ key: 'closewait', descending: true });
    const closed = run(s, { type: 'escape' });
    expect(closed.sortMenu).toBeNull();
    expect(closed.groupSort).toEqual(start().groupSort);
    expect(closed.view).toBe('ports');
  });

  it('a prompt or a jump closes the menu', () => {
    const s = run(start(), { type: 'openSortMenu', columns: SOCKET_COLUMNS });
    expect(run(s, { type: 'openPrompt', kind: 'search' }).sortMenu).toBeNull();
    expect(run(s, { type: 'jumpTo', view: 'findings', key: 'x' }).sortMenu).toBeNull();
  });
});

describe('search: reducer', () => {
  const texts = [
    'tcp listen 127.0.0.1:80',
    'tcp estab 127.0.0.1:5432 10.0.0.1:40000',
    'udp 0.0.0.0:53',
    'tcp estab 127.0.0.1:5432 10.0.0.2:40001',
  ];

  it('findRow: the first row from `from` on containing the text, wrapping once; -1 when none', () => {
    expect(findRow(searchRows(texts), '5432', 0)).toBe(1);
    expect(findRow(searchRows(texts), '5432', 2)).toBe(3);
    expect(findRow(searchRows(texts), '5432', 4)).toBe(1);
    const asked: number[] = [];
    expect(findRow(searchRows(texts, asked), 'nothing', 2)).toBe(-1);
    // One pass: each row read once, starting at `from`.
    expect(asked).toEqual([2, 3, 0, 1]);
    expect(findRow(searchRows(texts), '', 0)).toBe(-1);
  });

  it('each key moves the selection to the first match from the selected row; F3 goes to the next; nothing hides', () => {
    let s = run(start(), { type: 'openPrompt', kind: 'search' });
    expect(s.prompt).toMatchObject({ kind: 'search', text: '', notFound: false });
    s = reduceUi(s, { type: 'promptInput', text: '5', rows: searchRows(texts) });
    // "5" is in row b (5432) before row c (53).
    expect(s).toMatchObject({ selectedKey: 'b', selectedIndex: 1 });
    s = reduceUi(s, { type: 'promptInput', text: '53', rows: searchRows(texts) });
    expect(s).toMatchObject({ selectedKey: 'c', selectedIndex: 2 });
    s = reduceUi(s, { type: 'promptInput', text: '5', rows: searchRows(texts) });
    // From the selected row on: c still contains "5".
    expect(s.selectedKey).toBe('c');
    s = reduceUi(s, { type: 'searchNext', rows: searchRows(texts) });
    expect(s.selectedKey).toBe('d');
    s = reduceUi(s, { type: 'searchNext', rows: searchRows(texts) });
    expect(s.selectedKey).toBe('b');
    expect(s.filterText).toBe('');
  });

  it('is case-insensitive; says "not found" and keeps the selection; Enter and Esc close with the selection kept', () => {
    let s = run(start(), { type: 'openPrompt', kind: 'search' });
    s = reduceUi(s, { type: 'promptInput', text: 'UDP', rows: searchRows(texts) });
    expect(s.selectedKey).toBe('c');
    s = reduceUi(s, { type: 'promptInput', text: 'UDPx', rows: searchRows(texts) });
    expect(s.prompt?.notFound).toBe(true);
    expect(s.selectedKey).toBe('c');
    expect(reduceUi(s, { type: 'promptSubmit' })).toMatchObject({ prompt: null, selectedKey: 'c', filterText: '' });
    expect(reduceUi(s, { type: 'escape' })).toMatchObject({ prompt: null, selectedKey: 'c', filterText: '' });
  });

  it('searchNext outside the search prompt does nothing', () => {
    const s = start();
    expect(reduceUi(s, { type: 'searchNext', rows: searchRows(texts) })).toBe(s);
  });
});

describe('filter prompt applied as it is typed', () => {
  it('each text that parses becomes the filter; a partial one keeps the last valid filter and shows its error', () => {
    let s = run(start({ filterText: 'tcp', selectedKey: 'k', selectedIndex: 5 }), { type: 'openPrompt', kind: 'filter' });
    s = reduceUi(s, { type: 'promptInput', text: 'port 5432' });
    expect(s).toMatchObject({ filterText: 'port 5432', selectedKey: null, selectedIndex: 0 });
    expect(s.prompt?.error).toBeNull();
    s = reduceUi(s, { type: 'promptInput', text: 'port 5432 and' });
    expect(s.filterText).toBe('port 5432');
    expect(s.prompt?.error).toMatch(/\^/);
    s = reduceUi(s, { type: 'promptInput', text: 'port 5432 and state listen' });
    expect(s.filterText).toBe('port 5432 and state listen');
    // Enter keeps it.
    expect(reduceUi(s, { type: 'promptSubmit' })).toMatchObject({ prompt: null, filterText: 'port 5432 and state listen' });
  });

  it('Esc restores the filter and the selection from before the prompt opened', () => {
    const before = start({ filterText: 'tcp', selectedKey: 'k', selectedIndex: 5 });
    const s = run(before, { type: 'openPrompt', kind: 'filter' }, { type: 'promptInput', text: '' }, { type: 'promptInput', text: 'udp' });
    expect(s.filterText).toBe('udp');
    expect(reduceUi(s, { type: 'escape' })).toMatchObject({ prompt: null, filterText: 'tcp', selectedKey: 'k', selectedIndex: 5 });
  });

  it('the quick port prompt still applies on Enter only', () => {
    const s = run(start(), { type: 'openPrompt', kind: 'port' }, { type: 'promptInput', text: '5432' });
    expect(s.filterText).toBe('');
    expect(reduceUi(s, { type: 'promptSubmit' }).filterText).toBe('port 5432');
  });
});

describe('sort menu: view model', () => {
  const options = [
    { key: 'proto', title: 'Proto' },
    { key: 'state', title: 'State' },
    { key: 'local', title: 'Local Address:Port' },
    { key: 'out', title: 'Out/s' },
  ];
  const area = { top: 3, left: 0, width: 80, height: 20 };
  const anchor = { top: 11, left: 0, width: 80, height: 12 };

  it('marks the current column with * and its direction, the cursor on one item; fits the titles', () => {
    const menu = buildSortMenuView({ options, sort: { key: 'state', descending: true }, cursor: 'out', anchor, area });
    // "* " marker, the title in the widest title's width, " ▼".
    expect(menu.items.map((i) => i.text)).toEqual([
      `  ${'Proto'.padEnd(18)}  `,
      `* ${'State'.padEnd(18)} ▼`,
      `  ${'Local Address:Port'}  `,
      `  ${'Out/s'.padEnd(18)}  `,
    ]);
    expect(menu.items.filter((i) => i.current).map((i) => i.key)).toEqual(['state']);
    expect(menu.items.filter((i) => i.cursor).map((i) => i.key)).toEqual(['out']);
    expect(menu.rect).toEqual({ top: 11, left: 0, width: 24, height: 6 });
  });

  it('moves up to stay above the bottom; scrolls with the cursor when the list is taller than the room', () => {
    const low = buildSortMenuView({
      options,
      sort: { key: 'state', descending: false },
      cursor: 'state',
      anchor: { ...anchor, top: 20 },
      area,
    });
    expect(low.rect.top + low.rect.height).toBeLessThanOrEqual(area.top + area.height);
    const many = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, title: `Column ${i}` }));
    const small = buildSortMenuView({
      options: many,
      sort: { key: 'k0', descending: false },
      cursor: 'k11',
      anchor,
      area: { ...area, height: 7 },
    });
    expect(small.items).toHaveLength(5);
    expect(small.items.at(-1)?.key).toBe('k11');
    expect(small.offset).toBe(7);
    expect(small.total).toBe(12);
  });

  it('sortMenuItemAt: the item under a cell; the border and outside are none', () => {
    const menu = buildSortMenuView({ options, sort: { key: 'state', descending: false }, cursor: 'state', anchor, area });
    expect(sortMenuItemAt(menu, 5, 12)?.key).toBe('proto');
    expect(sortMenuItemAt(menu, 5, 15)?.key).toBe('out');
    expect(sortMenuItemAt(menu, 5, 11)).toBeUndefined();
    expect(sortMenuItemAt(menu, 0, 12)).toBeUndefined();
    expect(sortMenuItemAt(menu, 40, 12)).toBeUndefined();
  });
});

// ---- frames --------------------------------------------------------------------------------

const T0 = 1_700_000_000_000;
const CONTEXT: FrameContext = {
  modeLabel: null,
  cost: null,
  scopeLabel: null,
  timeZoneOffsetMin: 0,
  replay: false,
  tcpInfo: null,
  details: null,
};
const nginx = { pid: 101, command: 'nginx' };
const listener = rec({
  state: 'LISTEN',
  localAddress: '0.0.0.0',
  localPort: 80,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  owner: nginx,
  inode: 11,
});
const conns = [0, 1, 2].map((i) =>
  rec({ localPort: 80, remoteAddress: `192.0.2.${7 + i}`, remotePort: 51000 + i, owner: nginx, inode: 20 + i }),
);
const pgClient = rec({ localPort: 43000, remotePort: 5432, owner: { pid: 300, command: 'psql' }, inode: 30 });
const SCENE: SocketRecord[] = [listener, ...conns, pgClient];

function storeOf(sockets: readonly SocketRecord[], rates: ReadonlyMap<string, ConnRate> | null = null): SessionStore {
  const store = new SessionStore();
  store.ingest(makeSnapshot(sockets, { takenAtMs: T0 }));
  if (rates !== null) {
    store.setConnRates({
      ok: true,
      rates,
      total: { connections: rates.size, withRate: rates.size, sendBytesPerSec: 0, recvBytesPerSec: 0, retransPerSec: 0 },
      asOfMs: T0,
    });
  }
  return store;
}

function frameOf(store: SessionStore, ui: UiState, size = { width: 80, height: 24 }): Frame {
  const c = ui.filterText === '' ? null : compileFilter(ui.filterText);
  return buildFrame({
    session: store.state,
    ui,
    size,
    theme: { ascii: false },
    filter: c !== null && c.ok ? c.filter : null,
    context: CONTEXT,
  });
}

const rate = (send: number): ConnRate => ({
  sendBytesPerSec: send,
  recvBytesPerSec: 10,
  retransPerSec: 0,
  rttMs: 1,
  rttVarMs: 0,
  bytesAcked: 0,
  bytesReceived: 0,
  retransTotal: 0,
});

describe('sort menu and search in the frame', () => {
  it('the socket table lists every sortable column, the rate columns too when rates exist (even where 80 columns leave them out)', () => {
    expect(frameOf(storeOf(SCENE), start()).sortOptions).toEqual(SOCKET_COLUMNS.slice(0, 9));
    const withRates = storeOf(SCENE, new Map(conns.map((c, i) => [c.key, rate(1000 * (i + 1))])));
    const f = frameOf(withRates, start());
    expect(f.sortOptions).toEqual(SOCKET_COLUMNS);
    const menuFrame = frameOf(withRates, run(start(), { type: 'openSortMenu', columns: f.sortOptions }));
    expect(menuFrame.sortMenu?.items.map((i) => i.text.slice(2).trim())).toEqual([
      'Proto',
      'State              ▲',
      'Recv-Q',
      'Send-Q',
      'Local Address:Port',
      'Peer Address:Port',
      'Process',
      'User',
      'Age',
      'Out/s',
      'In/s',
      'RTT',
    ]);
    // Inside the screen between the header and the footer, at 80x24.
    const r = menuFrame.sortMenu?.rect;
    expect(r).toBeDefined();
    expect(r!.top).toBeGreaterThanOrEqual(3);
    expect(r!.top + r!.height).toBeLessThanOrEqual(23);
    // The footer lists the menu's keys, leaving first.
    expect(menuFrame.footer.keys.slice(0, 4)).toEqual([
      ['Esc', 'cancel'],
      ['↑↓', 'move'],
      ['Enter', 'sort'],
      ['r', 'reverse'],
    ]);
    // Chosen through the menu: the title names it, the rows follow it.
    const byOut = frameOf(
      withRates,
      run(start(), { type: 'openSortMenu', columns: f.sortOptions }, { type: 'sortMenuChoose', key: 'out' }),
    );
    expect(byOut.main?.kind === 'table' && byOut.main.table.sortLabel).toBe('sort: Out/s ▼');
    expect(byOut.rowKeys().slice(0, 3)).toEqual([conns[2]!.key, conns[1]!.key, conns[0]!.key]);
  });

  it('grouped views list their own columns; the state diagram, findings and compare none (F6 does nothing there)', () => {
    const store = storeOf(SCENE);
    expect(frameOf(store, start({ view: 'ports' })).sortOptions).toEqual([
      'key',
      'total',
      'established',
      'timewait',
      'closewait',
      'synrecv',
      'queue',
    ]);
    expect(frameOf(store, start({ view: 'peers' })).sortOptions).toContain('key');
    for (const view of ['states', 'findings', 'compare'] as const) expect(frameOf(store, start({ view })).sortOptions, view).toEqual([]);
    const ports = frameOf(store, start({ view: 'ports', sortMenu: { cursor: 'closewait' } }));
    expect(ports.sortMenu?.items.find((i) => i.cursor)?.text).toContain('CLOSE-W');
    expect(ports.sortMenu?.items.find((i) => i.current)?.text).toMatch(/^\* Total\s+▼$/);
  });

  it("each row's search text holds what its columns show (process, addresses, ports, state, user), lower case", () => {
    const f = frameOf(storeOf(SCENE), start());
    const i = f.rowKeys().indexOf(pgClient.key);
    expect(f.rowSearchText(i)).toContain('127.0.0.1:43000');
    expect(f.rowSearchText(i)).toContain('127.0.0.1:5432');
    expect(f.rowSearchText(i)).toContain('300/psql');
    expect(f.rowSearchText(i)).toContain('estab');
    expect(f.rowSearchText(i)).toContain('alice');
    // The search over the frame's rows selects that socket.
    const rows: SearchRows = { keys: f.rowKeys(), pageSize: f.pageSize, textAt: (n) => f.rowSearchText(n) };
    const s = run(start(), { type: 'openPrompt', kind: 'search' }, { type: 'promptInput', text: ':5432', rows });
    expect(s.selectedKey).toBe(pgClient.key);
    expect(frameOf(storeOf(SCENE), s).selectedKey).toBe(pgClient.key);
    // Grouped rows and the diagram's states are searchable too.
    const ports = frameOf(storeOf(SCENE), start({ view: 'ports' }));
    expect(ports.rowSearchText(ports.rowKeys().indexOf('80'))).toContain('101/nginx');
    const states = frameOf(storeOf(SCENE), start({ view: 'states' }));
    expect(states.rowSearchText(states.rowKeys().indexOf('CLOSE_WAIT'))).toContain('close-wait');
  });

  it('the search prompt says "not found" in the frame; its footer offers F3 next', () => {
    const store = storeOf(SCENE);
    const s = run(start(), { type: 'openPrompt', kind: 'search' });
    const f = frameOf(store, s);
    const rows: SearchRows = { keys: f.rowKeys(), pageSize: f.pageSize, textAt: (n) => f.rowSearchText(n) };
    const missing = frameOf(store, reduceUi(s, { type: 'promptInput', text: 'nosuchthing', rows }));
    expect(missing.prompt).toMatchObject({ title: 'Search', text: 'nosuchthing', status: 'not found' });
    expect(missing.footer.keys).toEqual([
      ['Esc', 'close'],
      ['Enter', 'done'],
      ['F3', 'next'],
    ]);
  });
});

describe('key map', () => {
  const live = { detailsOpen: false, helpOpen: false, replay: false };

  it('F6 opens the menu, F3 the search, / and F4 the filter', () => {
    expect(resolveKey({ full: 'f6' }, live)?.action).toBe('sortMenu');
    expect(resolveKey({ full: 'f3' }, live)?.action).toBe('search');
    expect(resolveKey({ ch: '/' }, live)?.action).toBe('filter');
    expect(resolveKey({ full: 'f4' }, live)?.action).toBe('filter');
  });

  it('the open menu takes the keyboard: its keys only, q and F6 close it', () => {
    const menu = { ...live, sortMenuOpen: true };
    expect(resolveKey({ full: 'down' }, menu)?.action).toBe('down');
    expect(resolveKey({ ch: 'k' }, menu)?.action).toBe('up');
    expect(resolveKey({ full: 'enter' }, menu)?.action).toBe('enter');
    expect(resolveKey({ ch: 'r' }, menu)?.action).toBe('sortReverse');
    for (const press of [{ full: 'escape' }, { full: 'f6' }, { ch: 'q' }]) expect(resolveKey(press, menu)?.action).toBe('back');
    // Keys of the screen do nothing meanwhile.
    expect(resolveKey({ ch: '/' }, menu)).toBeNull();
    expect(resolveKey({ full: 'tab' }, menu)).toBeNull();
    expect(resolveKey({ ch: ' ' }, menu)).toBeNull();
  });

  it('in a prompt only its keys are bound (the rest is typed): F3 is next match only in the search', () => {
    expect(resolveKey({ full: 'f3' }, { ...live, prompt: 'search' })?.action).toBe('searchNext');
    expect(resolveKey({ full: 'f3' }, { ...live, prompt: 'filter' })).toBeNull();
    expect(resolveKey({ full: 'enter' }, { ...live, prompt: 'filter' })?.action).toBe('promptSubmit');
    expect(resolveKey({ full: 'escape' }, { ...live, prompt: 'search' })?.action).toBe('back');
    expect(resolveKey({ ch: 'q' }, { ...live, prompt: 'search' })).toBeNull();
    expect(resolveKey({ ch: 'j' }, { ...live, prompt: 'filter' })).toBeNull();
  });

  it('help lists F3, F4, F6 and the menu and prompt keys; the footer of the table offers F6', () => {
    const help = helpLines(120).join('\n');
    expect(help).toMatch(/\/, F4\s+filter as you type/);
    expect(help).toMatch(/F3\s+search/);
    expect(help).toMatch(/F6, < >\s+sort: a menu of the columns/);
    expect(help).toMatch(/F3 \(in search\)\s+next match/);
    expect(help).toMatch(/Enter \(sort menu\)\s+sort by that column/);
    expect(help).toMatch(/Esc \(in a prompt\)\s+cancel; the filter returns/);
    const footer = footerKeyRows({ ...live, paused: false, view: 'sockets', hasFindings: false });
    expect(footer).toContainEqual(['F6', 'sort']);
    expect(footer.map(([k]) => k)).not.toContain('<>');
  });
});

// ---- on a headless screen ------------------------------------------------------------------

const F3 = '\x1bOR';
const F6 = '\x1b[17~';
const DOWN = '\x1b[B';
const ENTER = '\r';
const ESC = '\x1b';

const open: Headless[] = [];
function headless(options: HeadlessOptions = {}): Headless {
  const h = createHeadless(options);
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open.splice(0)) h.destroy();
});

describe('on screen (80x24)', () => {
  it('F6 draws the menu without colour: the current column marked * ▲, the cursor inverse; Enter sorts, the title says so', async () => {
    const h = headless({ theme: MONO_THEME });
    h.dashboard.onSnapshot(makeSnapshot(SCENE, { takenAtMs: T0 }));
    await h.press(F6);
    const lines = h.lines();
    const top = lines.findIndex((l) => l.includes('┌─ Sort by'));
    expect(top).toBeGreaterThan(2);
    expect(lines[top + 2]).toMatch(/^│\* State\s+▲\s*│/);
    // The cursor starts on the current column, drawn inverse.
    expect(inverseRows(h).some((r) => r.row === top + 2 && /\* State/.test(r.text))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Esc cancel {2}↑↓ move {2}Enter sort {2}r reverse/);
    // Down twice: Send-Q, chosen.
    await h.press(DOWN);
    await h.press(DOWN);
    expect(inverseRows(h).some((r) => /Send-Q/.test(r.text) && r.row > top && r.row < top + 12)).toBe(true);
    await h.press(ENTER);
    const after = h.lines();
    expect(after.some((l) => l.includes('Sort by'))).toBe(false);
    expect(after.find((l) => /^┌─ Sockets/.test(l))).toContain('sort: Send-Q ▼');
  });

  it('a click on an item sorts by it; Esc closes without sorting', async () => {
    const h = headless({ theme: COLOR_THEME });
    h.dashboard.onSnapshot(makeSnapshot(SCENE, { takenAtMs: T0 }));
    await h.press(F6);
    await h.press(ESC);
    expect(h.lines().some((l) => l.includes('Sort by'))).toBe(false);
    expect(h.lines().find((l) => /^┌─ Sockets/.test(l))).toContain('sort: State ▲');
    await h.press(F6);
    const lines = h.lines();
    const y = lines.findIndex((l) => /^│  Process\s+│/.test(l));
    expect(y).toBeGreaterThan(0);
    h.dashboard.clickAt(4, y);
    await h.press('');
    expect(h.lines().find((l) => /^┌─ Sockets/.test(l))).toContain('sort: Process ▲');
  });

  it('F3 draws the search prompt; typing moves the selection to the matching row; "(not found)" when none', async () => {
    const h = headless({ theme: MONO_THEME });
    h.dashboard.onSnapshot(makeSnapshot(SCENE, { takenAtMs: T0 }));
    await h.press(F3);
    expect(h.text()).toContain('Search — F3 next, Enter/Esc close');
    await h.press('psql');
    const selected = inverseRows(h).filter((r) => /^│tcp/.test(r.text));
    expect(selected).toHaveLength(1);
    expect(selected[0]?.text).toContain('300/psql');
    await h.press('zz');
    // The caret (an inverse blank), then the status in words.
    expect(h.text()).toMatch(/│psqlzz {3}\(not found\)/);
    await h.press(ENTER);
    expect(h.text()).not.toContain('Search —');
    expect(inverseRows(h).filter((r) => /^│tcp/.test(r.text))[0]?.text).toContain('300/psql');
  });

  it('the row a search selects is drawn above the prompt, even the last one of the list', async () => {
    const h = headless({ theme: MONO_THEME });
    h.dashboard.onSnapshot(makeSnapshot(manySockets(40), { takenAtMs: T0 }));
    await h.press(F3);
    const last = manyRowText(39);
    await h.press(`${last.local} ${last.peer}`);
    const lines = h.lines();
    const promptTop = lines.findIndex((l) => l.includes('Search —'));
    const selected = inverseRows(h).filter((r) => /^│tcp/.test(r.text));
    expect(selected).toHaveLength(1);
    expect(selected[0]?.text).toContain(last.local);
    expect(selected[0]!.row).toBeLessThan(promptTop);
    expect(lines.find((l) => /^┌─ Sockets/.test(l))).toContain('40/40');
  });
});
