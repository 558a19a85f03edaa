import { PassThrough, Writable } from 'node:stream';
import blessed from 'blessed';
import { afterEach, describe, expect, it } from 'vitest';

import { compileFilter } from '../src/filter/index.js';
import { countByLocalPort, countByProcess, countByRemoteHost, countByRemotePort, type GroupRow } from '../src/model/aggregate.js';
import { StateHistory } from '../src/model/state-history.js';
import { TCP_STATES } from '../src/model/state-info.js';
import { escapeTags, renderTable } from '../src/ui/widgets.js';
import {
  buildGroupTableView,
  buildSocketTableView,
  buildStateBarsView,
  groupDrillFilter,
  layoutColumns,
  sortGroups,
  type TableView,
} from '../src/view/dashboard-view.js';
import type { SocketRow } from '../src/view/socket-rows.js';
import { displayWidth } from '../src/view/text.js';
import { initialUiState, type UiState } from '../src/view/ui-state.js';
import type { SocketRecord } from '../src/model/types.js';
import { rec } from './helpers/records.js';

const ESC = '\x1b';
/** @types/blessed does not declare the screen's cell buffer: rows of [attr, char]. */
const cellsOf = (screen: blessed.Widgets.Screen): [number, string][][] => (screen as unknown as { lines: [number, string][][] }).lines;
const ui = (over: Partial<UiState> = {}): UiState => ({ ...initialUiState({ intervalMs: 1000 }), ...over });
const row = (record: SocketRecord, over: Partial<SocketRow> = {}): SocketRow => ({
  key: record.key,
  record,
  closedAtMs: null,
  ageMs: 5000,
  isNew: false,
  ageAtLeast: false,
  backlog: null,
  ...over,
});
const lineOf = (r: TableView['rows'][number]): string => r.cells.map((c) => c.text).join(' ');

describe('layoutColumns', () => {
  const spec = (id: string, width: number, flex: number, priority: number) => ({
    id,
    title: id,
    width,
    flex,
    priority,
    align: 'left' as const,
    cell: () => ({ text: id, color: null }),
  });
  const specs = [spec('a', 10, 0, 0), spec('b', 10, 1, 2), spec('c', 5, 0, 3), spec('d', 10, 2, 1)];

  it.each<[number, string[], number[]]>([
    [100, ['a', 'b', 'c', 'd'], [10, 30, 5, 52]], // spare 62: b gets floor(62/3); the last flex column takes the rest
    [38, ['a', 'b', 'c', 'd'], [10, 10, 5, 10]],
    [37, ['a', 'b', 'd'], [10, 11, 14]], // c (priority 3) goes first; 5 spare cells split 1:2
    [32, ['a', 'b', 'd'], [10, 10, 10]],
    [31, ['a', 'd'], [10, 20]], // then b; its space goes to d
    [21, ['a', 'd'], [10, 10]],
    [20, ['a'], [10]],
    [3, ['a'], [10]], // the last column is never dropped
  ])('width %d → columns %j', (width, ids, widths) => {
    const out = layoutColumns(specs, width);
    expect(out.map((c) => c.spec.id)).toEqual(ids);
    expect(out.map((c) => c.width)).toEqual(widths);
  });

  it('with a flexible column, columns plus separators fill the width exactly', () => {
    for (let width = 21; width <= 300; width++) {
      const out = layoutColumns(specs, width);
      const used = out.reduce((n, c) => n + c.width, 0) + out.length - 1;
      expect([width, used]).toEqual([width, width]);
    }
  });
});

describe('buildSocketTableView', () => {
  const records = [
    rec({
      state: 'LISTEN',
      localPort: 80,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      owner: { pid: 10, command: 'nginx' },
      user: 'www-data',
    }),
    rec({ localPort: 80, remoteAddress: '10.0.0.7', remotePort: 51234, recvQ: 12_345, owner: { pid: 10, command: 'nginx' } }),
    rec({ protocol: 'tcp6', localAddress: '::1', localPort: 5432, remoteAddress: '::1', remotePort: 40000, state: 'CLOSE_WAIT' }),
    rec({ protocol: 'unix', path: '/run/postgresql/.s.PGSQL.5432', state: 'LISTENING' }),
  ];
  const rows = records.map((r) => row(r));

  it.each<[number, string[], string[]]>([
    [200, ['Proto', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'Process', 'User', 'Age'], []],
    [92, ['Proto', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'Process', 'User', 'Age'], []],
    [91, ['Proto', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'Process', 'Age'], ['User']],
    // 80 columns: everything but User and Age.
    [78, ['Proto', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'Process'], ['User', 'Age']],
    // Send-Q goes before Recv-Q (a listener's accept queue) and Proto.
    [70, ['Proto', 'State', 'Recv-Q', 'Local Address:Port', 'Peer Address:Port', 'Process'], ['Send-Q', 'User', 'Age']],
    // The narrowest dashboard (60 columns): Process goes before them too.
    [58, ['Proto', 'State', 'Recv-Q', 'Local Address:Port', 'Peer Address:Port'], ['Send-Q', 'Process', 'User', 'Age']],
    [40, ['State', 'Local Address:Port'], ['Peer Address:Port', 'Recv-Q', 'Proto']],
  ])('width %d: low-priority columns are dropped first', (width, shown, dropped) => {
    const view = buildSocketTableView(rows, ui(), { width, height: 10 });
    // Titles are matched by their first 9 characters: at minimum width the 16-cell address
    // columns cut their 18-character titles ("Local Address:P…").
    const has = (title: string): boolean => view.header.includes(title.slice(0, 9));
    for (const title of shown) expect([width, title, has(title)]).toEqual([width, title, true]);
    for (const title of dropped) expect([width, title, has(title)]).toEqual([width, title, false]);
  });

  it('the sorted column is visible: its title whole with ▲/▼, the sort named for the panel title, kept when narrow', () => {
    for (const width of [58, 78, 120, 248]) {
      for (const [key, title] of [
        ['recvq', 'Recv-Q'],
        ['proto', 'Proto'],
        ['sendq', 'Send-Q'],
        ['user', 'User'],
        ['age', 'Age'],
      ] as const) {
        const view = buildSocketTableView(rows, ui({ socketSort: { key, descending: true } }), { width, height: 10 });
        expect([width, key, view.header.includes(`${title}▼`)]).toEqual([width, key, true]);
        expect(view.sortLabel).toBe(`sort: ${title} ▼`);
        expect(view.sortKeys).toContain(key);
        expect(displayWidth(view.header)).toBe(width);
      }
    }
    // The columns on screen at 80x24, left to right: what < and > step through.
    expect(buildSocketTableView(rows, ui(), { width: 78, height: 10 }).sortKeys).toEqual([
      'proto',
      'state',
      'recvq',
      'sendq',
      'local',
      'peer',
      'process',
    ]);
  });

  it('the header and every row are exactly the table width, at every width', () => {
    for (let width = 30; width <= 220; width++) {
      const view = buildSocketTableView(rows, ui(), { width, height: 10 });
      expect([width, displayWidth(view.header)]).toEqual([width, width]);
      for (const r of view.rows) expect([width, displayWidth(lineOf(r))]).toEqual([width, width]);
    }
  });

  it('cells show what ss shows', () => {
    const view = buildSocketTableView(rows, ui(), { width: 200, height: 10 });
    const [listen, est, cw, unix] = view.rows.map((r) => r.cells.map((c) => c.text.trim()));
    expect(listen).toEqual(['tcp', 'LISTEN', '0', '0', '127.0.0.1:80', '*:*', '10/nginx', 'www-data', '5s']);
    expect(est).toEqual(['tcp', 'ESTAB', '12.3k', '0', '127.0.0.1:80', '10.0.0.7:51234', '10/nginx', 'alice', '5s']);
    expect(cw?.slice(1, 6)).toEqual(['CLOSE-WAIT', '0', '0', '[::1]:5432', '[::1]:40000']);
    expect(unix?.slice(0, 5)).toEqual(['unix', 'LISTEN', '0', '0', '/run/postgresql/.s.PGSQL.5432']);
    expect(view.rows[1]?.cells[1]?.color).toBe('green');
    expect(view.header).toContain('State▲');
  });

  it('closed rows, new rows and age marks', () => {
    const view = buildSocketTableView(
      [
        row(records[1]!, { closedAtMs: 1000 }),
        row(records[2]!, { isNew: true, ageMs: 1000 }),
        row(records[0]!, { ageMs: 192_000, ageAtLeast: true }),
      ],
      ui({ socketSort: { key: 'age', descending: true } }),
      { width: 200, height: 10 },
    );
    expect(view.rows.map((r) => [r.closed, r.isNew, r.cells[1]?.text.trim(), r.cells.at(-1)?.text.trim()])).toEqual([
      [true, false, 'CLOSED', 'gone'],
      [false, true, 'CLOSE-WAIT', '1s'],
      [false, false, 'LISTEN', '>3m'],
    ]);
    expect(view.header).toContain('Age▼');
  });

  it('empty table: no rows, selection -1, and the empty text names the filter', () => {
    expect(buildSocketTableView([], ui(), { width: 80, height: 5 })).toMatchObject({
      rows: [],
      total: 0,
      selectedIndex: -1,
      emptyText: 'no sockets',
    });
    expect(buildSocketTableView([], ui({ filterText: 'port 5' }), { width: 80, height: 5 }).emptyText).toBe('no sockets match: port 5');
  });

  describe('virtualisation over 100,000 rows', () => {
    const many = Array.from({ length: 100_000 }, (_, i) =>
      row(rec({ localPort: i % 65536, remotePort: 1 + Math.floor(i / 65536), inode: i + 1 })),
    );
    const height = 20;

    it.each<[string, Partial<UiState>, number, number]>([
      ['no selection: the top', {}, 0, 0],
      ['selected by index near the start: no scrolling yet', { selectedIndex: 5 }, 5, 0],
      ['selected by key in the middle: centred', { selectedKey: many[50_000]!.key, selectedIndex: 0 }, 50_000, 50_000 - height / 2],
      ['selected index in the middle', { selectedIndex: 73_210 }, 73_210, 73_200],
      ['the last row: the window ends at the end', { selectedIndex: 99_999 }, 99_999, 100_000 - height],
      ['an index past the end is clamped to the last row', { selectedIndex: 250_000 }, 99_999, 100_000 - height],
      ['a key that is gone falls back to the index', { selectedKey: 'gone', selectedIndex: 42 }, 42, 32],
    ])('%s', (_name, over, selected, offset) => {
      const view = buildSocketTableView(many, ui(over), { width: 120, height });
      expect(view.rows).toHaveLength(height);
      expect(view.total).toBe(100_000);
      expect(view.selectedIndex).toBe(selected);
      expect(view.offset).toBe(offset);
      // The rows are the window [offset, offset + height) and the selection is inside it.
      expect(view.rows.map((r) => r.key)).toEqual(many.slice(offset, offset + height).map((r) => r.key));
      expect(view.rows.filter((r) => r.selected).map((r) => r.key)).toEqual([many[selected]!.key]);
    });

    it('only the visible rows are formatted (cells are built for `height` rows, not 100,000)', () => {
      let built = 0;
      const touched = new Set<number>();
      const counting = many.map((r, i) => ({
        ...r,
        get record() {
          built++;
          touched.add(i);
          return r.record;
        },
      }));
      buildSocketTableView(counting, ui({ selectedIndex: 60_000 }), { width: 200, height });
      // Only the visible window's records are read, whatever the total.
      expect(built).toBeGreaterThan(0);
      expect(touched.size).toBe(height);
      expect(Math.min(...touched)).toBe(60_000 - height / 2);
    });

    it('fewer rows than the height: all of them, offset 0', () => {
      const view = buildSocketTableView(many.slice(0, 7), ui({ selectedIndex: 6 }), { width: 120, height });
      expect([view.rows.length, view.offset, view.selectedIndex]).toEqual([7, 0, 6]);
    });
  });

  describe('untrusted text from the system stays inert', () => {
    const evil = rec({
      protocol: 'unix',
      path: '/tmp/\x1b]0;pwned\x07{bold}sock',
      owner: { pid: 666, command: '{red-fg}evil\x1b[2J\u202e' },
      user: 'm\x1b[31mallory',
    });
    const view = buildSocketTableView([row(evil), row(rec())], ui({ selectedIndex: 1 }), { width: 220, height: 5 });
    const evilLine = lineOf(view.rows[0]!);

    it('no ESC, BEL or bidi override survives into a cell; they are shown as text', () => {
      expect(evilLine).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
      expect(evilLine).toContain('666/{red-fg}evil\\x1b[2J\\u{202e}');
      expect(evilLine).toContain('/tmp/\\x1b]0;pwned\\x07{bold}sock');
      // The user column is narrow: the escaped text is cut, but still inert.
      expect(view.rows[0]?.cells[7]?.text).toMatch(/^m\\x1b\[/);
    });

    it('escapeTags makes blessed tag syntax literal', () => {
      expect.soft(escapeTags('{red-fg}x{/red-fg}')).toBe('{open}red-fg{close}x{open}/red-fg{close}');
      expect(escapeTags('a{b')).toBe('a{open}b');
      expect(escapeTags('plain')).toBe('plain');
    });

    describe('drawn by renderTable on a headless blessed screen', () => {
      let screen: blessed.Widgets.Screen | null = null;
      afterEach(() => {
        screen?.destroy();
        screen = null;
      });

      it('the tag text appears literally and no raw control reaches the screen cells', () => {
        const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode() {} });
        const written: string[] = [];
        const output = Object.assign(
          new Writable({
            write(chunk, _enc, cb) {
              written.push(String(chunk));
              cb();
            },
          }),
          { columns: 240, rows: 10, isTTY: true },
        );
        screen = blessed.screen({
          input: input as never,
          output: output as never,
          terminal: 'xterm-256color',
          warnings: false,
          fullUnicode: true,
        });
        const box = blessed.box({ parent: screen, tags: true, border: { type: 'line' } });
        for (const color of [true, false]) {
          for (const selectedIndex of [0, 1]) {
            const v = buildSocketTableView([row(evil), row(rec())], ui({ selectedIndex }), { width: 236, height: 5 });
            renderTable(box, { top: 0, left: 0, width: 240, height: 8 }, 'Sockets {red-fg}', v, { color, ascii: false, colors256: true });
            screen.render();
            const text = cellsOf(screen)
              .map((l) => l.map((c) => c[1]).join(''))
              .join('\n');
            expect(text).toContain('666/{red-fg}evil\\x1b[2J');
            expect(text).toContain('{bold}sock');
            expect(text).toContain('Sockets {red-fg}');
            expect(text).not.toContain(ESC);
            // The evil row is not drawn red: the literal tag did not become a colour.
            const evilRow = cellsOf(screen).findIndex((l) =>
              l
                .map((c) => c[1])
                .join('')
                .includes('evil'),
            );
            const cells = cellsOf(screen)[evilRow] ?? [];
            const start = cells
              .map((c) => c[1])
              .join('')
              .indexOf('evil');
            const attr = cells[start]?.[0] ?? 0;
            const fg = (attr >> 9) & 0x1ff;
            expect([color, selectedIndex, fg]).not.toEqual([color, selectedIndex, 1]); // 1 = red
          }
        }
      });
    });
  });
});

describe('buildGroupTableView and sortGroups', () => {
  const sockets: SocketRecord[] = [
    rec({ state: 'LISTEN', localPort: 80, remoteAddress: '0.0.0.0', remotePort: 0, recvQ: 3, owner: { pid: 10, command: 'nginx' } }),
    ...Array.from({ length: 12 }, (_, i) => rec({ localPort: 80, remoteAddress: '10.0.0.7', remotePort: 50_000 + i })),
    rec({ localPort: 80, remoteAddress: '10.0.0.8', remotePort: 50_100, state: 'TIME_WAIT', inode: 0 }),
    rec({ state: 'LISTEN', localPort: 5432, remoteAddress: '0.0.0.0', remotePort: 0, owner: { pid: 20, command: '{red-fg}pg\x1b[2J' } }),
    rec({
      localPort: 5432,
      remoteAddress: '10.0.0.8',
      remotePort: 40_000,
      state: 'CLOSE_WAIT',
      owner: { pid: 20, command: '{red-fg}pg\x1b[2J' },
    }),
    rec({ localPort: 44_000, remoteAddress: '10.0.0.9', remotePort: 443, state: 'SYN_SENT' }),
  ];

  it('ports view: one row per service port with counts, listener and accept queue', () => {
    const view = buildGroupTableView('ports', sortGroups(countByLocalPort(sockets), ui().groupSort), ui(), { width: 120, height: 10 });
    expect(view.header).toMatch(/Port.*Proto.*Listener.*Total▼.*ESTAB.*TIME-W.*CLOSE-W.*SYN-RCV.*FIN-W.*Accept-Q/);
    expect(view.rows.map((r) => r.cells.map((c) => c.text.trim()))).toEqual([
      ['80', 'tcp', '10/nginx', '14', '12', '1', '·', '·', '·', '3'],
      ['5432', 'tcp', '20/{red-fg}pg\\x1b[2J', '2', '·', '·', '1', '·', '·', '0'],
    ]);
    expect(view.rows[0]?.cells.at(-1)?.color).toBe('yellow'); // a non-empty accept queue stands out
    for (const r of view.rows) expect(displayWidth(lineOf(r))).toBe(120);
  });

  it('peers and processes views', () => {
    const peers = buildGroupTableView('peers', sortGroups(countByRemoteHost(sockets), ui().groupSort), ui(), { width: 100, height: 10 });
    expect(peers.rows.map((r) => [r.key, r.cells[1]?.text.trim()])).toEqual([
      ['10.0.0.7', '12'],
      ['10.0.0.8', '2'],
      ['10.0.0.9', '1'],
    ]);
    const procs = buildGroupTableView('processes', sortGroups(countByProcess(sockets), ui().groupSort), ui(), { width: 100, height: 10 });
    expect(procs.rows.map((r) => [r.key, r.cells[1]?.text.trim()])).toEqual([
      ['-', '(unknown owner)'],
      ['20', '{red-fg}pg\\x1b[2J'],
      ['10', 'nginx'],
    ]);
    expect(procs.rows.map(lineOf).join('\n')).not.toContain(ESC);
  });

  it.each<[UiState['groupSort'], string[]]>([
    [{ key: 'total', descending: true }, ['80', '5432', '22']],
    [{ key: 'total', descending: false }, ['22', '5432', '80']],
    [{ key: 'key', descending: false }, ['22', '80', '5432']], // numeric, not text order
    [{ key: 'key', descending: true }, ['5432', '80', '22']],
    [{ key: 'closewait', descending: true }, ['5432', '22', '80']], // ties by key text
    [{ key: 'queue', descending: true }, ['80', '22', '5432']],
  ])('sortGroups %j', (sort, keys) => {
    const groups = countByLocalPort([...sockets, rec({ state: 'LISTEN', localPort: 22, remoteAddress: '0.0.0.0', remotePort: 0 })]);
    expect(sortGroups(groups, sort).map((g) => g.key)).toEqual(keys);
  });

  it('the selection follows the group key', () => {
    const groups: GroupRow[] = sortGroups(countByRemoteHost(sockets), ui().groupSort);
    const view = buildGroupTableView('peers', groups, ui({ selectedKey: '10.0.0.9', selectedIndex: 0 }), { width: 100, height: 10 });
    expect(view.selectedIndex).toBe(2);
    expect(view.rows.find((r) => r.selected)?.key).toBe('10.0.0.9');
  });

  it.each([
    ['ports', 'no listening ports'],
    ['peers', 'no connected peers'],
    ['processes', 'no sockets'],
  ] as const)('empty %s view says %j', (view, text) => {
    expect(buildGroupTableView(view, [], ui(), { width: 80, height: 5 }).emptyText).toBe(text);
  });
});

describe('groupDrillFilter', () => {
  const sockets: SocketRecord[] = [
    rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, owner: { pid: 10, command: 'web' } }),
    rec({ localPort: 8080, remoteAddress: '10.0.0.7', remotePort: 50_000, owner: { pid: 10, command: 'web' } }),
    rec({ localPort: 40_000, remoteAddress: '10.0.0.7', remotePort: 8080, owner: { pid: 11, command: 'client' } }),
    rec({ localPort: 40_001, remoteAddress: '10.0.0.8', remotePort: 443, state: 'TIME_WAIT', inode: 0 }),
    rec({ protocol: 'unix', owner: null }),
  ];

  it.each<['ports' | 'peers' | 'processes', string, string]>([
    ['ports', '8080', 'sport 8080'],
    ['peers', '10.0.0.7', 'dst 10.0.0.7'],
    ['processes', '10', 'pid 10'],
  ])('%s row %s → %s', (view, key, filter) => {
    expect(groupDrillFilter(view, key)).toBe(filter);
  });

  it('by port, a remote-port row drills into dport; the CLIENT SIDE heading into nothing', () => {
    expect(groupDrillFilter('ports', 'to:5432')).toBe('dport 5432');
    expect(groupDrillFilter('ports', 'to:')).toBeNull();
    for (const g of countByRemotePort(sockets)) {
      const compiled = compileFilter(groupDrillFilter('ports', g.key) ?? '');
      if (!compiled.ok) throw new Error('not a filter');
      expect([g.key, sockets.filter(compiled.filter).length]).toEqual([g.key, g.total]);
    }
  });

  it.each([
    ['ports', countByLocalPort],
    ['peers', countByRemoteHost],
    ['processes', countByProcess],
  ] as const)("every %s row drills into a valid filter that lists exactly that group's sockets", (view, count) => {
    for (const g of count(sockets)) {
      const text = groupDrillFilter(view, g.key);
      const compiled = compileFilter(text ?? '');
      expect([g.key, text, compiled.ok]).toEqual([g.key, text, true]);
      if (!compiled.ok) continue;
      // The drill-down shows at least the group's sockets; for peers and processes exactly them.
      const matched = sockets.filter(compiled.filter).length;
      if (view === 'ports') expect(matched).toBeGreaterThanOrEqual(g.total);
      else expect([g.key, matched]).toEqual([g.key, g.total]);
    }
  });
});

describe('buildStateBarsView', () => {
  const empty = new StateHistory();

  it('log scale: 300000 ESTABLISHED and 3 SYN_RECV both get a bar; the max fills the bar width', () => {
    const bars = buildStateBarsView({ ESTABLISHED: 300_000, SYN_RECV: 3 }, empty, { width: 80, height: 20 }, false);
    const est = bars.find((b) => b.state === 'ESTABLISHED');
    const syn = bars.find((b) => b.state === 'SYN_RECV');
    const fullWidth = est?.bar.length ?? 0;
    expect(est?.bar.replace(/ /g, '')).toBe('█'.repeat(fullWidth));
    expect(syn?.bar.trim().length).toBeGreaterThanOrEqual(1);
    expect(syn?.bar.trim().length).toBeLessThan(fullWidth);
    expect(est?.count.trim()).toBe('300k');
    expect(syn?.count.trim()).toBe('3');
    // States with no sockets have empty bars.
    expect(bars.find((b) => b.state === 'LISTEN')?.bar.trim()).toBe('');
  });

  it('every row fits the width (label, count, bar, trend)', () => {
    const history = new StateHistory();
    for (let i = 0; i < 50; i++) history.push({ atMs: i * 1000, counts: { ESTABLISHED: 100 + i, TIME_WAIT: i % 7 } });
    for (const width of [30, 59, 60, 80, 120, 200]) {
      for (const ascii of [false, true]) {
        const bars = buildStateBarsView({ ESTABLISHED: 150, TIME_WAIT: 3, CLOSE_WAIT: 1 }, history, { width, height: 12 }, ascii);
        for (const b of bars) {
          const line = `${b.label} ${b.count} ${b.bar}${b.trend === '' ? '' : ` ${b.trend}`}`;
          expect([width, ascii, b.state, displayWidth(line)]).toEqual([width, ascii, b.state, width]);
          if (ascii) expect(line).toMatch(/^[\x20-\x7e]*$/);
        }
      }
    }
  });

  it('at most `height` rows, keeping the states that have sockets', () => {
    const bars = buildStateBarsView({ ESTABLISHED: 10, TIME_WAIT: 5, SYN_SENT: 1 }, empty, { width: 80, height: 3 }, true);
    expect(bars.map((b) => b.state)).toEqual(['SYN_SENT', 'ESTABLISHED', 'TIME_WAIT']);
  });

  it('rows are in lifecycle order and the important states are shown even at zero', () => {
    const bars = buildStateBarsView({}, empty, { width: 80, height: 5 }, true);
    expect(bars.map((b) => b.state)).toEqual(['LISTEN', 'SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'TIME_WAIT']);
    const order = bars.map((b) => TCP_STATES.indexOf(b.state));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
