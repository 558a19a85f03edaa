import { PassThrough, Writable } from 'node:stream';
import blessed from 'blessed';
import { afterEach, describe, expect, it } from 'vitest';

import type { HistorySample } from '../src/model/state-history.js';
import { STATE_COLOR, TCP_STATES, TCP_STATE_SHORT } from '../src/model/state-info.js';
import type { TcpState } from '../src/model/types.js';
import { createWidgets, renderHistory } from '../src/ui/widgets.js';
import { buildHistoryChartView, cellStepMs, formatAgo, type HistoryChartView } from '../src/view/history-chart.js';
import { displayWidth } from '../src/view/text.js';

const T0 = 1_700_000_000_000;
const textOf = (line: HistoryChartView['lines'][number]): string => line.map((s) => s.text).join('');
/** One sample a second for `n` seconds ending at `endMs`. */
function samples(n: number, endMs: number, counts: (i: number) => Partial<Record<TcpState, number>>, everyMs = 1000): HistorySample[] {
  return Array.from({ length: n }, (_, i) => ({ atMs: endMs - (n - 1 - i) * everyMs, counts: counts(i) }));
}
const view = (over: Partial<Parameters<typeof buildHistoryChartView>[0]> & { samples: readonly HistorySample[] }): HistoryChartView => {
  const v = buildHistoryChartView({
    nowMs: over.samples.at(-1)?.atMs ?? T0,
    intervalMs: 1000,
    width: 64,
    height: 10,
    color: true,
    ascii: false,
    ...over,
  });
  if (v === null) throw new Error('no chart');
  return v;
};
/** The plot rows only (without the time axis and the legend), y labels cut off. */
const plotColumns = (v: HistoryChartView): string[] => {
  const rows = v.lines.slice(0, -2).map(textOf);
  const axisAt = rows[0]?.search(/[┤+]/) ?? 0;
  return rows.map((r) => [...r].slice(axisAt + 1).join(''));
};

describe('buildHistoryChartView', () => {
  it('every line has exactly the inner width, in every mode and size', () => {
    const s = samples(300, T0, (i) => ({ ESTABLISHED: 1000 + i, SYN_SENT: i % 4, TIME_WAIT: 20_000 }));
    for (const [color, ascii] of [
      [true, false],
      [false, false],
      [true, true],
      [false, true],
    ] as const) {
      for (const [width, height] of [
        [20, 4],
        [64, 10],
        [118, 14],
        [200, 20],
      ] as const) {
        const v = view({ samples: s, width, height, color, ascii });
        expect(v.lines).toHaveLength(height);
        for (const l of v.lines)
          expect([width, height, color, ascii, displayWidth(textOf(l))]).toEqual([width, height, color, ascii, width]);
      }
    }
  });

  it('a young history fills the plot: 45 s at a 1 s interval take most of the width, nothing drawn before the first sample', () => {
    for (const color of [true, false]) {
      const v = view({ samples: samples(45, T0, () => ({ ESTABLISHED: 50 })), width: 80, color });
      const slots = v.series[0]?.slots ?? [];
      const firstFilled = slots.findIndex((x) => x !== null);
      // Blank (not a zero line) before the first sample, and the samples cover over a third of the plot.
      expect(slots.slice(0, firstFilled).every((x) => x === null)).toBe(true);
      expect([color, (slots.length - firstFilled) / slots.length > 0.35]).toEqual([color, true]);
      const cols = plotColumns(v);
      expect(cols.map((r) => r.slice(0, Math.floor(r.length / 3)).trim()).join('')).toBe('');
      expect(cols.map((r) => r.slice(Math.floor(r.length / 2)).trim()).join('')).not.toBe('');
    }
  });

  it('the time per column starts at about one refresh and coarsens in round steps as history grows, up to ~10 refreshes', () => {
    expect(cellStepMs(1000, 0, 60)).toBe(1000);
    expect(cellStepMs(1000, 45_000, 60)).toBe(1000);
    expect(cellStepMs(1000, 100_000, 60)).toBe(2000);
    expect(cellStepMs(1000, 200_000, 60)).toBe(5000);
    expect(cellStepMs(1000, 3_600_000, 60)).toBe(10_000);
    expect(cellStepMs(2000, 10_000, 60)).toBe(2000);
    expect(cellStepMs(500, 10_000, 60)).toBe(1000);
    // Never finer as the span grows (a finished column keeps its place within one step).
    let prev = 0;
    for (let spanMs = 0; spanMs < 2_000_000; spanMs += 7_000) {
      const step = cellStepMs(1000, spanMs, 60);
      expect(step).toBeGreaterThanOrEqual(prev);
      prev = step;
    }
  });

  it('places samples where their time is: a gap in the samples is a gap in the line', () => {
    // 60 s of samples, nothing for 3 minutes (e.g. suspended), 60 s more.
    const s = [...samples(60, T0 - 240_000, () => ({ ESTABLISHED: 5 })), ...samples(60, T0, () => ({ ESTABLISHED: 5 }))];
    const v = view({ samples: s, color: false });
    const slots = v.series[0]?.slots ?? [];
    const filled = slots.map((x) => (x === null ? '.' : '#')).join('');
    // 300 s of history in ~61 columns: 5 s per slot in marker mode: 12 slots, 36 empty, 12 slots
    // (allowing one slot of alignment).
    expect(v.slotMs).toBe(5000);
    expect(filled).toMatch(/#{12,13}\.{35,36}#{12,13}$/);
  });

  it('the time axis is true to the sample times whatever the interval: "+"/"-" do not relabel old points', () => {
    // One spike exactly 4 minutes before now, among small counts (a SYN-SENT burst).
    const s = samples(600, T0, (i) => ({ ESTABLISHED: 10, SYN_SENT: i === 600 - 1 - 240 ? 99 : 0 }));
    for (const intervalMs of [500, 1000, 2000]) {
      const v = view({ samples: s, intervalMs, width: 100, height: 10, color: false });
      const axis = textOf(v.lines.at(-2) ?? []);
      // Columns of "now" (right-aligned at the last plot column) and of the first tick (centred).
      const nowCol = axis.indexOf('now') + 2;
      const tick = /-(\d+)([sm])/.exec(axis);
      expect(tick).not.toBeNull();
      const tickAgoMs = Number(tick?.[1]) * (tick?.[2] === 'm' ? 60_000 : 1000);
      const tickCol = (tick?.index ?? 0) + Math.floor((tick?.[0].length ?? 0) / 2);
      const marker = v.series.find((x) => x.state === 'SYN_SENT')?.marker ?? '?';
      const spikeCol = textOf(v.lines[0] ?? []).indexOf(marker);
      const expected = nowCol - ((nowCol - tickCol) * 240_000) / tickAgoMs;
      expect([intervalMs, Math.abs(spikeCol - expected) <= 1.5]).toEqual([intervalMs, true]);
    }
  });

  it('slots are aligned on absolute time: a finished slot never changes, the chart shifts once per slot', () => {
    const counts = (i: number): Partial<Record<TcpState, number>> => ({ ESTABLISHED: 100 + ((i * 37) % 50) });
    const start = 1_700_000_000_000; // a multiple of 10 s
    const at = (n: number): HistoryChartView =>
      view({ samples: samples(n, start + (n - 1) * 1000, counts).map((x, i) => ({ ...x, counts: counts(i) })), color: false });
    const a = at(200); // newest sample at +199 s: slot [190 s, 200 s) not finished
    const b = at(201); // +200 s opens a new slot: everything shifts by one slot
    const c = at(205); // +204 s: same slot as b, only the last slot grows
    const sa = a.series[0]?.slots ?? [];
    const sb = b.series[0]?.slots ?? [];
    const sc = c.series[0]?.slots ?? [];
    expect(sb.slice(0, -2)).toEqual(sa.slice(1, -1));
    expect(sc.slice(0, -1)).toEqual(sb.slice(0, -1));
    expect(textOf(c.lines.at(-2) ?? [])).toBe(textOf(b.lines.at(-2) ?? []));
  });

  it('the legend is a line of its own under the axis: the plot rows hold no text', () => {
    const v = view({ samples: samples(120, T0, () => ({ ESTABLISHED: 300, TIME_WAIT: 40 })) });
    for (const row of plotColumns(v)) expect(row).not.toMatch(/[A-Za-z]/);
    expect(textOf(v.lines.at(-1) ?? [])).toMatch(/^ ESTAB 300 {2}TIME-WAIT 40 +$/);
    expect(textOf(v.lines.at(-2) ?? [])).toMatch(/└.*-1m.*now$/);
  });

  it('monochrome and ASCII: one distinct marker per state, named in the legend', () => {
    const s = samples(120, T0, () => ({ ESTABLISHED: 300, TIME_WAIT: 40, SYN_SENT: 3 }));
    for (const ascii of [false, true]) {
      const v = view({ samples: s, color: false, ascii });
      expect(v.mode).toBe('markers');
      const markers = v.series.map((x) => x.marker);
      expect(new Set(markers).size).toBe(3);
      const legend = textOf(v.lines.at(-1) ?? []);
      for (const x of v.series) expect(legend).toContain(`${x.marker} ${x.title} `);
      const plot = plotColumns(v).join('\n');
      for (const m of markers) expect(plot).toContain(m);
      if (ascii) expect(v.lines.map(textOf).join('\n')).toMatch(/^[\x20-\x7e\n]*$/);
      for (const l of v.lines) for (const span of l) expect(span.color).toBeNull();
    }
  });

  it('a state left out of a cut legend is not plotted: every marker on the plot is explained', () => {
    // The 120x36 troubled screen: TIME-WAIT 360 and CLOSE-WAIT 320 share the top row, SYN-SENT 4
    // and LISTEN 4 a lower one; the legend of a 60-column chart has no room for LISTEN ("#").
    const s = samples(60, T0, () => ({ TIME_WAIT: 360, CLOSE_WAIT: 320, ESTABLISHED: 84, SYN_SENT: 4, LISTEN: 4 }));
    for (const color of [false, true]) {
      const v = view({ samples: s, width: 60, height: 9, color, ascii: true });
      const legend = textOf(v.lines.at(-1) ?? []);
      expect(legend).not.toContain('LISTEN');
      expect(v.series.map((x) => x.title)).not.toContain('LISTEN');
      for (const x of v.series) expect([color, legend]).toEqual([color, expect.stringContaining(`${x.title} ${x.current}`)]);
      if (!color) {
        const drawn = new Set(plotColumns(v).join('').replace(/ /g, ''));
        for (const m of drawn) expect(v.series.map((x) => x.marker)).toContain(m);
        expect(drawn.has('#')).toBe(false);
      }
    }
    // With room for all five, all five are plotted.
    expect(view({ samples: s, width: 120, height: 9, color: false, ascii: true }).series).toHaveLength(5);
  });

  it('a log scale: 3 SYN-SENT next to 20k ESTAB is off the zero row', () => {
    const v = view({ samples: samples(60, T0, () => ({ ESTABLISHED: 20_000, SYN_SENT: 3 })), color: false });
    const rows = plotColumns(v);
    const marker = v.series.find((x) => x.state === 'SYN_SENT')?.marker ?? '?';
    const row = rows.findIndex((r) => r.includes(marker));
    expect(row).toBeGreaterThan(0);
    expect(row).toBeLessThan(rows.length - 1);
    expect(textOf(v.lines[0] ?? [])).toMatch(/^20\.0k┤/);
  });

  it('equal counts: the earlier series is drawn and the legend says which one the hidden one is under', () => {
    const s = samples(120, T0, (i) => ({ ESTABLISHED: 684, CLOSE_WAIT: 360, FIN_WAIT2: 360, SYN_SENT: 4 + (i % 2) }));
    for (const color of [false, true]) {
      const v = view({ samples: s, width: 100, color });
      const legend = textOf(v.lines.at(-1) ?? []);
      expect(legend).toContain('FIN-WAIT-2 360 (= CLOSE-WAIT)');
      expect(legend).not.toMatch(/CLOSE-WAIT 360 \(=/);
      if (!color) {
        const cw = v.series.find((x) => x.state === 'CLOSE_WAIT')?.marker ?? '?';
        const fw = v.series.find((x) => x.state === 'FIN_WAIT2')?.marker ?? '?';
        const plot = plotColumns(v).join('');
        expect([plot.includes(cw), plot.includes(fw)]).toEqual([true, false]);
      }
    }
    // Distinct counts: no "(=".
    expect(
      textOf(
        view({ samples: samples(60, T0, () => ({ ESTABLISHED: 684, CLOSE_WAIT: 360, FIN_WAIT2: 12 })), width: 100 }).lines.at(-1) ?? [],
      ),
    ).not.toContain('(=');
  });

  it('handshake and pile-up states are plotted before listeners and short closing states, whatever their count', () => {
    const v = view({
      samples: samples(60, T0, () => ({
        LISTEN: 40,
        FIN_WAIT2: 30,
        LAST_ACK: 20,
        ESTABLISHED: 300,
        TIME_WAIT: 50,
        SYN_SENT: 2,
        CLOSE_WAIT: 1,
      })),
    });
    expect(v.series.map((x) => x.state)).toEqual(['ESTABLISHED', 'TIME_WAIT', 'SYN_SENT', 'CLOSE_WAIT', 'LISTEN']);
  });

  it('samples taken after the picture shown (paused) are left out', () => {
    const s = samples(100, T0, (i) => ({ ESTABLISHED: i < 50 ? 10 : 999 }));
    const v = view({ samples: s, nowMs: T0 - 50_000 });
    expect(v.series[0]?.current).toBe(10);
    expect(v.yMax).toBe(10);
  });

  it('too small for a plot: null', () => {
    expect(buildHistoryChartView({ samples: [], nowMs: T0, intervalMs: 1000, width: 40, height: 3, color: true, ascii: false })).toBeNull();
  });

  it('formatAgo', () => {
    expect([0, 30_000, 120_000, 90_000, 3_600_000, 5_400_000].map(formatAgo)).toEqual(['now', '-30s', '-2m', '-1m30s', '-1h', '-1h30m']);
  });
});

describe('renderHistory on a headless blessed screen: every state colour, in colour and monochrome', () => {
  let screen: blessed.Widgets.Screen | null = null;
  afterEach(() => {
    screen?.destroy();
    screen = null;
  });

  const open = (): { screen: blessed.Widgets.Screen; written: string[] } => {
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode() {} });
    const written: string[] = [];
    const output = Object.assign(
      new Writable({
        write(chunk, _enc, cb) {
          written.push(String(chunk));
          cb();
        },
      }),
      { columns: 80, rows: 16, isTTY: true },
    );
    const s = blessed.screen({
      input: input as never,
      output: output as never,
      terminal: 'xterm-256color',
      warnings: false,
      fullUnicode: true,
      smartCSR: true,
    });
    return { screen: s, written };
  };

  it.each([
    [true, false],
    [false, false],
    [true, true],
    [false, true],
  ])('colour %s, ascii %s: no "undefined", no raw tags, nothing beyond the border, every state named', async (color, ascii) => {
    const opened = open();
    screen = opened.screen;
    const theme = { color, ascii, colors256: true };
    const widgets = createWidgets(screen, theme);
    // Only the chart: the other panels have no place yet and would sit at the top left.
    for (const el of [widgets.header, widgets.bars, widgets.table, widgets.footer]) el.hide();
    const rect = { top: 0, left: 0, width: 70, height: 14 };
    // Every TCP state, a few at a time (the chart shows at most 5).
    for (let i = 0; i < TCP_STATES.length; i += 4) {
      const states = TCP_STATES.slice(i, i + 4);
      const s = samples(200, T0, (k) => Object.fromEntries(states.map((st, j) => [st, ((k + j * 7) % 20) + j * 100 + 1])));
      const chart = buildHistoryChartView({
        samples: s,
        nowMs: T0,
        intervalMs: 1000,
        width: rect.width - 2,
        height: rect.height - 2,
        color,
        ascii,
      });
      renderHistory(widgets.history, rect, chart, theme);
      screen.render();
      await new Promise((r) => setImmediate(r));
      const rows = (screen as unknown as { lines: [number, string][][] }).lines.map((l) => l.map((c) => c[1]).join(''));
      const text = rows.join('\n');
      expect(text).not.toContain('undefined');
      expect(text).not.toMatch(/\{[a-z/-]*\}/);
      expect(text).toContain('TCP states over time');
      for (const st of states) expect([st, text.includes(TCP_STATE_SHORT[st])]).toEqual([st, true]);
      // Inside the border: columns 1..68 of rows 1..12; the border cells are line or ASCII glyphs.
      for (let y = 1; y < rect.height - 1; y++) {
        const row = rows[y] ?? '';
        expect([y, row[0], row[rect.width - 1]]).toEqual([
          y,
          ascii ? expect.stringMatching(/[|│]/) : '│',
          ascii ? expect.stringMatching(/[|│]/) : '│',
        ]);
        expect(row.slice(rect.width).trim()).toBe('');
      }
      expect(rows[rect.height]?.trim() ?? '').toBe('');
      const bytes = opened.written.join('');
      expect(bytes).not.toContain('undefined');
      // Only well-formed escape sequences: none is left once CSI and charset/keypad ones are removed.
      expect(bytes.replace(/\x1b\[[?0-9;]*[A-Za-z]/g, '').replace(/\x1b[=>78]|\x1b[()][0-9A-Z]/g, '')).not.toContain('\x1b');
      opened.written.length = 0;
      if (color) {
        // Each state's legend entry is drawn in its colour (blessed's fg index in the cell attr).
        const cells = (screen as unknown as { lines: [number, string][][] }).lines[rect.height - 2] ?? [];
        const legend = cells.map((c) => c[1]).join('');
        for (const st of states) {
          const at = legend.indexOf(TCP_STATE_SHORT[st]);
          if (at < 0) continue;
          const fg = ((cells[at]?.[0] ?? 0) >> 9) & 0x1ff;
          expect([st, fg]).toEqual([st, blessedColorIndex(STATE_COLOR[st])]);
        }
      }
    }
  });
});

const BASE = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
function blessedColorIndex(name: string): number {
  return name.startsWith('light') ? BASE.indexOf(name.slice(5)) + 8 : BASE.indexOf(name);
}
