import { describe, expect, it } from 'vitest';

import { compileFilter } from '../src/filter/index.js';
import { rec } from './helpers/records.js';
import {
  GROUP_SORT_KEYS,
  INTERVAL_STEPS_MS,
  SOCKET_SORT_KEYS,
  VIEWS,
  initialUiState,
  reduceUi,
  type RowContext,
  type UiAction,
  type UiState,
} from '../src/view/ui-state.js';

const start = (over: Partial<UiState> = {}): UiState => ({ ...initialUiState({ intervalMs: 1000 }), ...over });
const run = (state: UiState, ...actions: UiAction[]): UiState => actions.reduce((s, a) => reduceUi(s, a), state);
const rows = (keys: string, pageSize = 5): RowContext => ({ keys: keys === '' ? [] : keys.split(''), pageSize });
const TEN = rows('abcdefghij', 5);

describe('initial state', () => {
  it('starts on the socket table, live, nothing selected or open', () => {
    expect(initialUiState({ intervalMs: 2000, filterText: 'tcp' })).toEqual({
      view: 'sockets',
      filterText: 'tcp',
      prompt: null,
      socketSort: { key: 'state', descending: false },
      groupSort: { key: 'total', descending: true },
      selectedKey: null,
      selectedIndex: 0,
      paused: false,
      intervalMs: 2000,
      detailsKey: null,
      help: false,
      overlayScroll: 0,
      back: [],
      sortMenu: null,
      quit: false,
    });
    expect(initialUiState({ intervalMs: 1000 }).filterText).toBe('');
  });
});

describe('toggles', () => {
  it.each<[UiAction['type'], keyof UiState]>([
    ['togglePause', 'paused'],
    ['toggleHelp', 'help'],
  ])('%s flips %s and back', (type, field) => {
    const once = reduceUi(start(), { type } as UiAction);
    expect(once[field]).toBe(true);
    expect(reduceUi(once, { type } as UiAction)[field]).toBe(false);
  });

  it('quit sets quit and nothing else', () => {
    const s = start();
    expect(reduceUi(s, { type: 'quit' })).toEqual({ ...s, quit: true });
  });

  it('does not mutate the state it is given', () => {
    const s = Object.freeze(start());
    expect(() =>
      run(s, { type: 'togglePause' }, { type: 'move', delta: 2, rows: TEN }, { type: 'drill', filterText: 'pid 1' }),
    ).not.toThrow();
    expect(s).toEqual(start());
  });
});

describe('refresh interval', () => {
  it.each([
    ['faster', 1000, [500, 250, 250]],
    ['slower', 1000, [2000, 5000, 10000, 10000]],
    ['faster', 10000, [5000, 2000, 1000, 500, 250, 250]],
    ['slower', 250, [500, 1000, 2000, 5000, 10000, 10000]],
    ['faster', 1500, [1000]], // off-step values join the ladder at the next step
    ['slower', 1500, [2000]],
    ['faster', 100, [100]], // already below the fastest step: stays
    ['slower', 60000, [60000]],
  ] as const)('%s from %d ms → %j', (type, from, expected) => {
    let s = start({ intervalMs: from });
    const seen: number[] = [];
    for (let i = 0; i < expected.length; i++) {
      s = reduceUi(s, { type });
      seen.push(s.intervalMs);
    }
    expect(seen).toEqual(expected);
  });

  it('every step is reachable and the steps ascend', () => {
    expect([...INTERVAL_STEPS_MS]).toEqual([...INTERVAL_STEPS_MS].sort((a, b) => a - b));
  });
});

describe('views', () => {
  it('nextView cycles through every view in both directions and clears selection and details', () => {
    let s = start({ selectedKey: 'x', selectedIndex: 4, detailsKey: 'x' });
    const forward: string[] = [];
    for (let i = 0; i < VIEWS.length; i++) {
      s = reduceUi(s, { type: 'nextView', delta: 1 });
      forward.push(s.view);
      expect([s.selectedKey, s.selectedIndex, s.detailsKey]).toEqual([null, 0, null]);
    }
    // Every view once, in VIEWS order, ending back on the socket table.
    expect(forward).toEqual([...VIEWS.slice(1), 'sockets']);
    expect(forward.slice(0, 3)).toEqual(['ports', 'peers', 'processes']);
    expect(reduceUi(start(), { type: 'nextView', delta: -1 }).view).toBe(VIEWS.at(-1));
    expect(run(start(), { type: 'nextView', delta: 1 }, { type: 'nextView', delta: -1 }).view).toBe('sockets');
  });

  it('setView to another view resets the selection; to the same view changes nothing', () => {
    const s = start({ selectedKey: 'k', selectedIndex: 3 });
    expect(reduceUi(s, { type: 'setView', view: 'sockets' })).toBe(s);
    expect(reduceUi(s, { type: 'setView', view: 'peers' })).toMatchObject({ view: 'peers', selectedKey: null, selectedIndex: 0 });
  });
});

describe('movement', () => {
  it.each<[string, UiAction[], string | null, number]>([
    ['down one from the top', [{ type: 'move', delta: 1, rows: TEN }], 'b', 1],
    ['down three', [{ type: 'move', delta: 3, rows: TEN }], 'd', 3],
    ['up from the top clamps', [{ type: 'move', delta: -1, rows: TEN }], 'a', 0],
    ['far past the end clamps to the last row', [{ type: 'move', delta: 100, rows: TEN }], 'j', 9],
    [
      'down then up',
      [
        { type: 'move', delta: 5, rows: TEN },
        { type: 'move', delta: -2, rows: TEN },
      ],
      'd',
      3,
    ],
    ['page down moves pageSize-1 rows (one row of overlap)', [{ type: 'page', delta: 1, rows: TEN }], 'e', 4],
    [
      'page down twice',
      [
        { type: 'page', delta: 1, rows: TEN },
        { type: 'page', delta: 1, rows: TEN },
      ],
      'i',
      8,
    ],
    [
      'page down past the end clamps',
      [
        { type: 'page', delta: 1, rows: TEN },
        { type: 'page', delta: 1, rows: TEN },
        { type: 'page', delta: 1, rows: TEN },
      ],
      'j',
      9,
    ],
    [
      'page up from the middle',
      [
        { type: 'move', delta: 6, rows: TEN },
        { type: 'page', delta: -1, rows: TEN },
      ],
      'c',
      2,
    ],
    ['page with pageSize 1 still moves one row', [{ type: 'page', delta: 1, rows: rows('abc', 1) }], 'b', 1],
    ['jump to last', [{ type: 'jump', to: 'last', rows: TEN }], 'j', 9],
    [
      'jump to first',
      [
        { type: 'jump', to: 'last', rows: TEN },
        { type: 'jump', to: 'first', rows: TEN },
      ],
      'a',
      0,
    ],
    ['select by key', [{ type: 'select', key: 'g', rows: TEN }], 'g', 6],
    ['move on an empty table selects nothing', [{ type: 'move', delta: 1, rows: rows('') }], null, 0],
    ['jump last on an empty table selects nothing', [{ type: 'jump', to: 'last', rows: rows('') }], null, 0],
  ])('%s', (_name, actions, key, index) => {
    const s = run(start(), ...actions);
    expect([s.selectedKey, s.selectedIndex]).toEqual([key, index]);
  });

  it('select with a key that is not listed changes nothing', () => {
    const s = run(start(), { type: 'move', delta: 2, rows: TEN });
    expect(reduceUi(s, { type: 'select', key: 'zz', rows: TEN })).toBe(s);
  });

  it('the selection follows its key when the rows are reordered', () => {
    const s = run(start(), { type: 'select', key: 'c', rows: rows('abcd') });
    expect([s.selectedKey, s.selectedIndex]).toEqual(['c', 2]);
    const after = reduceUi(s, { type: 'move', delta: 0, rows: rows('dcba') });
    expect([after.selectedKey, after.selectedIndex]).toEqual(['c', 1]);
    // And moving continues from the key's new place, not the old index.
    const down = reduceUi(s, { type: 'move', delta: 1, rows: rows('xcyz') });
    expect(down.selectedKey).toBe('y');
    const paged = reduceUi(s, { type: 'page', delta: 1, rows: rows('cabdefgh', 3) });
    expect(paged.selectedKey).toBe('b');
  });

  it('when the selected key disappears, the old index is kept (clamped to the new length)', () => {
    const s = run(start(), { type: 'select', key: 'c', rows: rows('abcdef') });
    expect(reduceUi(s, { type: 'move', delta: 0, rows: rows('abxyz') }).selectedKey).toBe('x');
    expect(reduceUi(s, { type: 'move', delta: 0, rows: rows('ab') })).toMatchObject({ selectedKey: 'b', selectedIndex: 1 });
  });
});

describe('sorting', () => {
  it('sortNext cycles through every socket sort key; queues and age sort descending first', () => {
    let s = start();
    const seen: [string, boolean][] = [];
    for (let i = 0; i < SOCKET_SORT_KEYS.length; i++) {
      s = reduceUi(s, { type: 'sortNext', delta: 1 });
      seen.push([s.socketSort.key, s.socketSort.descending]);
    }
    // Left to right in the table's column order.
    expect(seen).toEqual([
      ['recvq', true],
      ['sendq', true],
      ['local', false],
      ['peer', false],
      ['process', false],
      ['user', false],
      ['age', true],
      ['out', true],
      ['in', true],
      ['rtt', true],
      ['proto', false],
      ['state', false],
    ]);
    expect(reduceUi(start(), { type: 'sortNext', delta: -1 }).socketSort.key).toBe('proto');
    expect(s.groupSort).toEqual(start().groupSort);
  });

  it('with the columns on screen, < and > step left to right through those only (80x24 hides User and Age)', () => {
    const columns = ['proto', 'state', 'recvq', 'sendq', 'local', 'peer', 'process'];
    let s = start();
    const seen: string[] = [];
    for (let i = 0; i < columns.length; i++) {
      s = reduceUi(s, { type: 'sortNext', delta: 1, columns });
      seen.push(s.socketSort.key);
    }
    expect(seen).toEqual(['recvq', 'sendq', 'local', 'peer', 'process', 'proto', 'state']);
    expect(reduceUi(start(), { type: 'sortNext', delta: -1, columns }).socketSort.key).toBe('proto');
    expect(
      reduceUi(reduceUi(start(), { type: 'sortNext', delta: -1, columns }), { type: 'sortNext', delta: -1, columns }).socketSort.key,
    ).toBe('process');
    // Sorted by a column that is no longer on screen: > starts at the left, < at the right.
    const byUser = start({ socketSort: { key: 'user', descending: false } });
    expect(reduceUi(byUser, { type: 'sortNext', delta: 1, columns }).socketSort.key).toBe('proto');
    expect(reduceUi(byUser, { type: 'sortNext', delta: -1, columns }).socketSort.key).toBe('process');
    // Grouped views: the same, over their columns.
    const ports = start({ view: 'ports' });
    expect(
      reduceUi(ports, { type: 'sortNext', delta: 1, columns: ['key', 'total', 'established', 'closewait', 'queue'] }).groupSort.key,
    ).toBe('established');
    expect(reduceUi(ports, { type: 'sortNext', delta: 1, columns: [] })).toBe(ports);
  });

  it('in grouped views sortNext cycles the group keys; only the key sorts ascending', () => {
    let s = start({ view: 'ports' });
    const seen: [string, boolean][] = [];
    for (let i = 0; i < GROUP_SORT_KEYS.length; i++) {
      s = reduceUi(s, { type: 'sortNext', delta: 1 });
      seen.push([s.groupSort.key, s.groupSort.descending]);
    }
    expect(seen).toEqual([
      ['established', true],
      ['timewait', true],
      ['closewait', true],
      ['synrecv', true],
      ['queue', true],
      ['out', true],
      ['in', true],
      ['rtt', true],
      ['rttmax', true],
      ['key', false],
      ['total', true],
    ]);
    expect(s.socketSort).toEqual(start().socketSort);
  });

  it('sortReverse flips the direction of the current view only', () => {
    expect(reduceUi(start(), { type: 'sortReverse' }).socketSort).toEqual({ key: 'state', descending: true });
    const g = reduceUi(start({ view: 'peers' }), { type: 'sortReverse' });
    expect(g.groupSort).toEqual({ key: 'total', descending: false });
    expect(g.socketSort).toEqual(start().socketSort);
  });
});

describe('prompts', () => {
  const submit = (s: UiState, kind: 'filter' | 'port' | 'state', text: string): UiState =>
    run(s, { type: 'openPrompt', kind }, { type: 'promptInput', text }, { type: 'promptSubmit' });

  it('the filter prompt opens with the current filter; quick prompts open empty; help closes', () => {
    const s = start({ filterText: 'tcp', help: true });
    expect(reduceUi(s, { type: 'openPrompt', kind: 'filter' })).toMatchObject({
      help: false,
      prompt: { kind: 'filter', text: 'tcp', error: null },
    });
    expect(reduceUi(s, { type: 'openPrompt', kind: 'port' }).prompt).toEqual({ kind: 'port', text: '', error: null });
    expect(reduceUi(s, { type: 'openPrompt', kind: 'state' }).prompt).toEqual({ kind: 'state', text: '', error: null });
  });

  it('input without an open prompt is ignored; submit without one too', () => {
    const s = start();
    expect(reduceUi(s, { type: 'promptInput', text: 'x' })).toBe(s);
    expect(reduceUi(s, { type: 'promptSubmit' })).toBe(s);
  });

  it('a valid filter is applied, the prompt closes, the view stays and the selection goes to the top', () => {
    const s = submit(start({ view: 'ports', selectedIndex: 7 }), 'filter', '  state established  ');
    expect(s).toMatchObject({ prompt: null, filterText: 'state established', view: 'ports', selectedIndex: 0 });
  });

  it('an invalid filter keeps the previous filter and shows the error in the prompt', () => {
    const s = submit(start({ filterText: 'tcp' }), 'filter', 'port abc');
    expect(s.filterText).toBe('tcp');
    expect(s.prompt?.text).toBe('port abc');
    expect(s.prompt?.error).toContain("expected a port number after 'port', got 'abc'");
    // The caret points at the offending column.
    expect(s.prompt?.error?.split('\n').slice(0, 2)).toEqual(['port abc', '     ^']);
    // Typing clears the error; a fixed filter then applies.
    const typed = reduceUi(s, { type: 'promptInput', text: 'port 443' });
    expect(typed.prompt?.error).toBeNull();
    expect(reduceUi(typed, { type: 'promptSubmit' }).filterText).toBe('port 443');
  });

  it('an empty filter clears the filter', () => {
    expect(submit(start({ filterText: 'tcp' }), 'filter', '   ')).toMatchObject({ filterText: '', prompt: null });
  });

  it.each([
    ['5432', 'port 5432'],
    [':5432', 'port 5432'],
    ['  :443 ', 'port 443'],
    ['65535', 'port 65535'],
    ['1', 'port 1'],
  ])('port prompt accepts %j → %s and shows the socket table', (text, filter) => {
    const s = submit(start({ view: 'processes' }), 'port', text);
    expect(s).toMatchObject({ filterText: filter, prompt: null, view: 'sockets' });
    expect(compileFilter(s.filterText).ok).toBe(true);
  });

  it.each(['abc', '70000', '65536', '-1', '123456', '', ':', '80 443', '5432x'])('port prompt rejects %j and keeps the filter', (text) => {
    const s = submit(start({ filterText: 'udp', view: 'peers' }), 'port', text);
    expect(s.filterText).toBe('udp');
    expect(s.view).toBe('peers');
    expect(s.prompt?.error).toMatch(/expected a port number 0-65535/);
  });

  it('with a service table, the port and filter prompts take service names; an unknown one errs in the prompt', () => {
    const table = new Map([['postgresql', 5432]]);
    const options = { servicePort: (name: string) => table.get(name) };
    const open = (kind: 'port' | 'filter', text: string): UiState =>
      [{ type: 'openPrompt', kind } as const, { type: 'promptInput', text } as const, { type: 'promptSubmit' } as const].reduce(
        (acc, action) => reduceUi(acc, action, options),
        start({ filterText: 'udp' }),
      );
    const byName = open('port', 'postgresql');
    expect(byName).toMatchObject({ filterText: 'port postgresql', prompt: null, view: 'sockets' });
    const compiled = compileFilter(byName.filterText, options);
    expect(compiled.ok && compiled.filter(rec({ localPort: 5432 }))).toBe(true);
    expect(compiled.ok && compiled.filter(rec({ localPort: 5433 }))).toBe(false);
    expect(open('filter', 'port postgresql')).toMatchObject({ filterText: 'port postgresql', prompt: null });
    const unknown = open('port', 'mysql');
    expect(unknown.filterText).toBe('udp');
    expect(unknown.prompt?.error).toBe("expected a port number 0-65535 or a service name, got 'mysql'");
    expect(open('filter', 'port mysql').prompt?.error).toContain('mysql');
  });

  it.each([
    ['cw tw', 'state cw or state tw'],
    ['cw, tw', 'state cw or state tw'],
    ['established', 'state established'],
    ['  syn-sent  ', 'state syn-sent'],
  ])('state prompt %j → %s', (text, filter) => {
    const s = submit(start({ view: 'ports' }), 'state', text);
    expect(s).toMatchObject({ filterText: filter, prompt: null, view: 'sockets' });
    expect(compileFilter(filter).ok).toBe(true);
  });

  it('state prompt with an unknown state keeps the filter and shows the error', () => {
    const s = submit(start({ filterText: 'tcp' }), 'state', 'cw bogus');
    expect(s.filterText).toBe('tcp');
    expect(s.prompt?.error).toContain("unknown state 'bogus'");
  });
});

describe('escape, details and drill-down', () => {
  it('closes the prompt, then help, then details, then pops the back stack, then does nothing', () => {
    let s = run(
      start({ view: 'ports', filterText: 'tcp' }),
      { type: 'select', key: '443', rows: { keys: ['80', '443'], pageSize: 5 } },
      { type: 'drill', filterText: 'sport 443' },
      { type: 'openDetails', key: 'sock-1' },
      { type: 'toggleHelp' },
      { type: 'openPrompt', kind: 'port' },
    );
    expect(s).toMatchObject({ view: 'sockets', filterText: 'sport 443', detailsKey: 'sock-1', help: false, prompt: { kind: 'port' } });
    s = reduceUi(s, { type: 'toggleHelp' });
    const steps: [string | null, boolean, string | null, string, string][] = [];
    for (let i = 0; i < 5; i++) {
      s = reduceUi(s, { type: 'escape' });
      steps.push([s.prompt?.kind ?? null, s.help, s.detailsKey, s.view, s.filterText]);
    }
    expect(steps).toEqual([
      [null, true, 'sock-1', 'sockets', 'sport 443'], // prompt closed
      [null, false, 'sock-1', 'sockets', 'sport 443'], // help closed
      [null, false, null, 'sockets', 'sport 443'], // details closed
      [null, false, null, 'ports', 'tcp'], // back to where the drill started
      [null, false, null, 'ports', 'tcp'], // nothing left
    ]);
    expect(s.selectedKey).toBe('443');
    expect(s.back).toEqual([]);
  });

  it('escape with nothing open returns the same state', () => {
    const s = start();
    expect(reduceUi(s, { type: 'escape' })).toBe(s);
  });

  it('drill records where it came from and starts with a fresh selection; nested drills unwind in order', () => {
    const s = run(
      start({ view: 'processes' }),
      { type: 'select', key: '42', rows: { keys: ['7', '42'], pageSize: 5 } },
      { type: 'drill', filterText: 'pid 42' },
      { type: 'move', delta: 1, rows: TEN },
      { type: 'drill', filterText: 'dst 10.0.0.7' },
    );
    expect(s).toMatchObject({ view: 'sockets', filterText: 'dst 10.0.0.7', selectedKey: null, selectedIndex: 0 });
    expect(s.back).toEqual([
      { view: 'processes', filterText: '', selectedKey: '42' },
      { view: 'sockets', filterText: 'pid 42', selectedKey: 'b' },
    ]);
    const once = reduceUi(s, { type: 'escape' });
    expect([once.view, once.filterText, once.selectedKey]).toEqual(['sockets', 'pid 42', 'b']);
    const twice = reduceUi(once, { type: 'escape' });
    expect([twice.view, twice.filterText, twice.selectedKey]).toEqual(['processes', '', '42']);
  });

  it('the back stack is bounded', () => {
    let s = start();
    for (let i = 0; i < 100; i++) s = reduceUi(s, { type: 'drill', filterText: `pid ${i}` });
    expect(s.back.length).toBeLessThanOrEqual(20);
    expect(s.back.at(-1)?.filterText).toBe('pid 98');
  });

  it('clearFilter clears the filter and forgets the back stack', () => {
    const s = run(start(), { type: 'drill', filterText: 'pid 1' }, { type: 'clearFilter' });
    expect([s.filterText, s.back]).toEqual(['', []]);
  });

  it('openDetails opens the pane and closes help', () => {
    expect(reduceUi(start({ help: true }), { type: 'openDetails', key: 'k' })).toMatchObject({ detailsKey: 'k', help: false });
  });
});

describe('overlays, rekeys and jumps', () => {
  it('scrollOverlay stays within 0..maxScroll; details and help open at the top, Esc resets', () => {
    let s = run(start(), { type: 'openDetails', key: 'k' }, { type: 'scrollOverlay', delta: 50, maxScroll: 12 });
    expect(s.overlayScroll).toBe(12);
    expect(run(s, { type: 'scrollOverlay', delta: -100, maxScroll: 12 }).overlayScroll).toBe(0);
    expect(run(s, { type: 'scrollOverlay', to: 'first', maxScroll: 12 }).overlayScroll).toBe(0);
    s = run(s, { type: 'escape' });
    expect(s.overlayScroll).toBe(0);
    expect(run(start({ overlayScroll: 9 }), { type: 'openDetails', key: 'x' }).overlayScroll).toBe(0);
    expect(run(start({ overlayScroll: 9 }), { type: 'toggleHelp' }).overlayScroll).toBe(0);
  });

  it('rekey moves the selection and the details to the new key; other keys are left alone', () => {
    const keys = new Map([['old', 'new']]);
    expect(run(start({ selectedKey: 'old', detailsKey: 'old' }), { type: 'rekey', keys })).toMatchObject({
      selectedKey: 'new',
      detailsKey: 'new',
    });
    const other = start({ selectedKey: 'b' });
    expect(run(other, { type: 'rekey', keys })).toBe(other);
  });

  it('a submitted filter that changes what is listed drops the old selection key', () => {
    const s = run(
      start({ selectedKey: 'tcp-listener', selectedIndex: 4 }),
      { type: 'openPrompt', kind: 'filter' },
      { type: 'promptInput', text: 'udp' },
      { type: 'promptSubmit' },
    );
    expect(s).toMatchObject({ filterText: 'udp', selectedKey: null, selectedIndex: 0 });
  });

  it('jumpTo shows a view with one row selected, overlays closed', () => {
    expect(run(start({ detailsKey: 'k', help: true }), { type: 'jumpTo', view: 'findings', key: 'accept-queue-full:x' })).toMatchObject({
      view: 'findings',
      selectedKey: 'accept-queue-full:x',
      detailsKey: null,
      help: false,
    });
  });
});
