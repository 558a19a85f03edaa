import { PassThrough, Writable } from 'node:stream';
import blessed from 'blessed';
import { afterEach, describe, expect, it } from 'vitest';

import type { Finding } from '../src/model/findings.js';
import { renderHeader } from '../src/ui/widgets.js';
import { buildHeaderView, formatInterval, layoutHeaderView, withSsStateNames, type HeaderInput } from '../src/view/dashboard-view.js';
import { displayWidth } from '../src/view/text.js';

const input = (over: Partial<HeaderInput> = {}): HeaderInput => ({
  host: 'web-01.example.internal',
  takenAtMs: Date.UTC(2026, 0, 5, 14, 3, 9),
  intervalMs: 1000,
  paused: false,
  totals: { tcp: 12_345, udp: 12, unix: 301, raw: 0 },
  shown: 12_345,
  rates: {
    'Tcp.PassiveOpens': 120,
    'Tcp.ActiveOpens': 88,
    'Tcp.EstabResets': 3,
    'Tcp.RetransSegs': 12.5,
    'TcpExt.ListenOverflows': 0,
    'TcpExt.ListenDrops': 0,
  },
  openedPerSec: 10,
  closedPerSec: 9,
  filterText: '',
  notice: '',
  cost: null,
  timeZoneOffsetMin: 0,
  ...over,
});
const lines = (i: HeaderInput, width: number): string[] =>
  layoutHeaderView(buildHeaderView(i), width).map((l) => l.map((p) => p.text).join(''));

const finding = (over: Partial<Finding>): Finding => ({
  key: 'sport 8080',
  severity: 'warn',
  title: 'CLOSE-WAIT pile on :8080 (app)',
  detail: '',
  subject: {},
  filter: 'sport 8080',
  id: `close-wait-rising:${over.key ?? 'sport 8080'}`,
  rule: 'close-wait-rising',
  state: 'CLOSE_WAIT',
  sinceMs: 0,
  lastHeldMs: 0,
  holding: true,
  ...over,
});

const LABELS = ['in', 'out', 'reset', 'retrans', 'overflow', 'drop', 'opened', 'closed', 'TCP', 'UDP', 'UNIX', 'shown'];

describe('header layout by priority', () => {
  it('at every width from 60 to 250, no line overflows and no label loses its number', () => {
    const i = input({
      filterText: 'sport 8080 and state close-wait',
      notice: 'owners of 3 processes unreadable: run as root',
      transitions: [
        ['ESTABLISHED→CLOSE_WAIT', 3.2],
        ['SYN_SENT→ESTABLISHED', 1],
      ],
      findingsList: [finding({ severity: 'crit', title: 'Accept queue full on :8080 (nginx)', key: 'a' }), finding({})],
      cost: { readMs: 12, parseMs: 30, ownersMs: 80, drawMs: 9, rows: 12_345, backedOffToMs: 1750 },
    });
    for (let width = 60; width <= 250; width++) {
      for (const line of lines(i, width)) {
        expect([width, displayWidth(line) <= width]).toEqual([width, true]);
        const words = line.split(/\s+/).filter((w) => w !== '');
        words.forEach((w, k) => {
          if (!LABELS.includes(w)) return;
          // The next word is the number (or "…" never comes between a label and its number).
          expect([width, line, w, words[k + 1]]).toEqual([width, line, w, expect.stringMatching(/^[\d.]+[kM]?$/)]);
        });
      }
    }
  });

  it('80 columns: what does not fit is left out whole and the line ends with …', () => {
    const [, , rates] = lines(input({ transitions: [['ESTABLISHED→CLOSE_WAIT', 3.2]] }), 80);
    expect(rates).toBe('per s:  out 88  in 120  reset 3  retrans 13  overflow 0  opened 10  closed 9 …');
    const [, , wide] = lines(input({ transitions: [['ESTABLISHED→CLOSE_WAIT', 3.2]] }), 120);
    expect(wide).toBe('per s:  out 88  in 120  reset 3  retrans 13  overflow 0  drop 0  opened 10  closed 9  ESTAB→CLOSE-WAIT 3.2');
  });

  it('the rates line starts with its label, never a bare "/s", at every width', () => {
    for (const width of [60, 80, 120, 200]) {
      const [, , rates = ''] = lines(input({}), width);
      expect([width, rates.split(/\s+/)[0]]).toEqual([width, 'per']);
      expect([width, rates.startsWith('/s')]).toEqual([width, false]);
    }
  });

  it('self transitions (a flow reused with the same state) are not shown', () => {
    const i = input({
      transitions: [
        ['ESTABLISHED→ESTABLISHED', 228],
        ['ESTABLISHED→TIME_WAIT', 4],
      ],
    });
    const [, , rates] = lines(i, 200);
    expect(rates).not.toContain('ESTAB→ESTAB');
    expect(rates).toContain('ESTAB→TIME-WAIT 4');
    expect(buildHeaderView(i).rates).not.toContain('ESTAB→ESTAB');
  });

  it('the effective interval is said once: the backed-off one, with why', () => {
    const i = input({ cost: { readMs: 12, parseMs: 300, ownersMs: 100, drawMs: 20, rows: 120_000, backedOffToMs: 1750 } });
    const [first] = lines(i, 200);
    expect(first).toMatch(/ every 1\.75s {2}\(slowed from 1s: refresh costs 420 ms\) {2}live /);
    expect(first).not.toMatch(/every 1s/);
    expect(lines(i, 200).join('\n').match(/every/g)).toHaveLength(1);
    // Narrow: the reason is left out whole ("(slowed from 1s)"), then the note; never cut mid-word,
    // never the interval.
    for (let width = 60; width <= 120; width++) {
      const [l1] = lines(i, width);
      expect([width, l1]).toEqual([width, expect.stringContaining('every 1.75s')]);
      expect(l1).not.toMatch(/slowed to eve|every 1s/);
      const note = /\(slowed[^)]*\)?/.exec(l1 ?? '')?.[0];
      expect([width, note === undefined || note === '(slowed from 1s: refresh costs 420 ms)' || note === '(slowed from 1s)']).toEqual([
        width,
        true,
      ]);
    }
    expect(lines(input({ host: 'vm', cost: i.cost }), 80)[0]).toMatch(/every 1\.75s {2}\(slowed from 1s\) {2}live/);
    const reason = input({
      cost: {
        readMs: 1,
        parseMs: 1,
        ownersMs: 1,
        drawMs: 1,
        rows: 1,
        backedOffToMs: 1250,
        backoffReason: 'a refresh costs 0.62 s cpu (max 50% of a core)',
      },
    });
    expect(lines(reason, 200)[0]).toContain('every 1.25s  (slowed from 1s: a refresh costs 0.62 s cpu (max 50% of a core))  live');
    expect(formatInterval(1000)).toBe('1s');
    expect(formatInterval(500)).toBe('0.5s');
  });

  it('a long filter is cut with …, never dropped; the host too', () => {
    const i = input({
      host: 'a-very-long-hostname-that-goes-on.example.internal',
      filterText: 'sport 8080 and state close-wait and not dst 10.0.0.0/8',
    });
    for (const width of [60, 80, 100]) {
      const [l1, l2] = lines(i, width);
      expect(l2).toMatch(/filter: sport 8080/);
      expect(displayWidth(l2 ?? '')).toBeLessThanOrEqual(width);
      if (width < 90) expect(l2).toMatch(/…$/);
      expect(l1).toMatch(/^sockscope {2}a-very/);
    }
  });

  it('"shown N of M" when a filter hides sockets', () => {
    const i = input({ filterText: 'state close-wait', matchedTotals: { tcp: 300, udp: 0, unix: 0, raw: 0 }, shown: 300 });
    expect(lines(i, 120)[1]).toBe('TCP 12.3k  UDP 12  UNIX 301  shown 300 of 12.7k  filter: state close-wait');
    // The number and its "of M" stay together; the filter is cut before they go.
    for (let width = 60; width <= 120; width++)
      expect([width, lines(i, width)[1]]).toEqual([width, expect.stringContaining('shown 300 of 12.7k')]);
    expect(lines(input({ matchedTotals: null }), 120)[1]).toBe('TCP 12.3k  UDP 12  UNIX 301  shown 12.3k');
  });
});

describe('findings badge', () => {
  // Worst first, as the session store lists them.
  const findings = [
    finding({ severity: 'crit', key: 'c1', title: 'Accept queue full on :9000 (nginx)', sinceMs: 5 }),
    finding({ severity: 'crit', key: 'c2', holding: false, title: 'kept by the hold-down' }),
    finding({ severity: 'warn', key: 'w1', title: 'CLOSE-WAIT pile on :8080 (app)' }),
    finding({ severity: 'warn', key: 'w2' }),
    finding({ severity: 'info', key: 'i1', title: 'info one' }),
  ];

  it('counts the findings by severity and names the worst when there is room', () => {
    const [l1] = lines(input({ findingsList: findings }), 160);
    expect(l1).toMatch(/ 2 crit 2 warn 1 info +Accept queue full on :9000 \(nginx\)/);
    // At 80 columns the badge stays; the worst line is cut with … or left out.
    const [narrow] = lines(input({ findingsList: findings }), 80);
    expect(narrow).toContain(' 2 crit 2 warn 1 info ');
    expect(displayWidth(narrow ?? '')).toBeLessThanOrEqual(80);
    const view = buildHeaderView(input({ findingsList: findings }));
    expect(view.findings).toBe('2 crit 2 warn 1 info');
    expect(view.worstFinding).toBe('Accept queue full on :9000 (nginx)');
    expect(view.findingsColor).toBe('red');
  });

  it('the worst line is cut to no less than 16 cells or left out quietly: never a lone … after the badge', () => {
    const i = input({ findingsList: findings });
    let seenCut = false;
    for (let width = 60; width <= 200; width++) {
      const [l1] = lines(i, width);
      const after = (l1 ?? '').split(' 2 crit 2 warn 1 info ')[1] ?? '';
      const worst = after.trim();
      // Whole, cut with at least 16 cells, or absent (the cost meter may follow, right-aligned).
      if (worst.startsWith('Accept')) {
        const cut = /^Accept[^…]*…/.exec(worst)?.[0];
        if (cut !== undefined) seenCut = true;
        expect([width, cut === undefined || displayWidth(cut) >= 16]).toEqual([width, true]);
      } else expect([width, worst.startsWith('…')]).toEqual([width, false]);
    }
    expect(seenCut).toBe(true);
    expect(lines(i, 80)[0]).toMatch(/ 2 crit 2 warn 1 info $/);
  });

  it('the worst line writes states the way ss does (one naming on screen)', () => {
    const [l1] = lines(input({ findingsList: [finding({ title: 'CLOSE_WAIT rising on :8080: app is not closing sockets' })] }), 200);
    expect(l1).toContain('CLOSE-WAIT rising on :8080');
    expect(withSsStateNames('5 TIME_WAIT, SYN_RECV and FIN_WAIT2; NEW_SYN_RECV')).toBe('5 TIME-WAIT, SYN-RECV and FIN-WAIT-2; NEWSYNRECV');
  });

  it('no findings: no badge', () => {
    expect(lines(input({ findingsList: [] }), 160)[0]).toBe(lines(input(), 160)[0]);
    expect(buildHeaderView(input({ findingsList: [] })).findings).toBe('');
  });

  it('finding titles are untrusted text: control characters are made inert', () => {
    const [l1] = lines(input({ findingsList: [finding({ title: 'pile on :80 (\x1b[2Jevil)' })] }), 200);
    expect(l1).not.toContain('\x1b');
  });

  describe('drawn by renderHeader', () => {
    let screen: blessed.Widgets.Screen | null = null;
    afterEach(() => {
      screen?.destroy();
      screen = null;
    });

    it.each([true, false])('colour %s: every part reaches the screen, severities coloured, no raw tags', (color) => {
      const inputStream = Object.assign(new PassThrough(), { isTTY: true, setRawMode() {} });
      const output = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { columns: 200, rows: 5, isTTY: true });
      screen = blessed.screen({
        input: inputStream as never,
        output: output as never,
        terminal: 'xterm-256color',
        warnings: false,
        fullUnicode: true,
      });
      const el = blessed.box({ parent: screen, tags: true, wrap: false });
      const i = input({
        findingsList: findings,
        filterText: '{red-fg}x',
        paused: true,
        cost: { readMs: 1, parseMs: 2, ownersMs: 3, drawMs: 4, rows: 5, backedOffToMs: null },
      });
      renderHeader(el, { top: 0, left: 0, width: 200, height: 3 }, buildHeaderView(i), { color, ascii: false, colors256: true });
      screen.render();
      const cells = (screen as unknown as { lines: [number, string][][] }).lines;
      const text = cells.slice(0, 3).map((l) =>
        l
          .map((c) => c[1])
          .join('')
          .trimEnd(),
      );
      expect(text).toEqual(lines(i, 200).map((l) => l.trimEnd()));
      expect(text.join('\n')).toContain('filter: {red-fg}x');
      // The badge: black on red in colour, inverse without.
      const at = text[0]?.indexOf('2 crit') ?? -1;
      const attr = cells[0]?.[at]?.[0] ?? 0;
      if (color) expect([(attr >> 9) & 0x1ff, attr & 0x1ff]).toEqual([0, 1]);
      else expect((attr >> 18) & 8).toBe(8); // blessed's inverse flag
    });
  });
});
