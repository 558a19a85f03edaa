// The history chart as data: which states are plotted, where each sample falls on a time axis,
// the y scale, the axis labels and the legend, already composed into text lines of exactly the
// box's inner size. Pure: the widget only turns spans into blessed tags.
//
// Why not blessed-contrib's line chart: its canvas knows 8 colour names (lightmagenta and
// lightyellow printed "\e[3undefinedm"), its legend box covers the newest points, its tags show
// raw without colour, it spaces points evenly whatever their time, and in monochrome every line
// is the same braille dots. Here: braille lines in colour, one marker per state without colour
// or without UTF-8, samples placed by takenAtMs, and a legend on its own line.

import type { HistorySample } from '../model/state-history.js';
import { STATE_COLOR, TCP_STATES, TCP_STATE_SHORT, type StateColor } from '../model/state-info.js';
import type { TcpState } from '../model/types.js';
import { displayWidth, formatCount, layoutLine, DROP_MARK } from './text.js';

export interface HistoryChartInput {
  /** Oldest first (StateHistory#all). Samples taken after nowMs are left out (paused picture). */
  readonly samples: readonly HistorySample[];
  /** Time of the picture shown: the right edge of the chart. */
  readonly nowMs: number;
  /** Refresh interval now; with the span of history it sets the time per column (cellStepMs). */
  readonly intervalMs: number;
  /** Inner size of the chart's box (without border). */
  readonly width: number;
  readonly height: number;
  readonly color: boolean;
  readonly ascii: boolean;
  /** At most this many states (the busiest now, then the busiest in the window). Default 5. */
  readonly maxSeries?: number;
}

export interface ChartSpan {
  readonly text: string;
  readonly color: StateColor | null;
}

export interface HistorySeriesView {
  readonly state: TcpState;
  readonly title: string;
  readonly color: StateColor;
  /** Drawn in each cell of this state when there is no colour or no braille. */
  readonly marker: string;
  /** Count in the newest sample at or before nowMs. */
  readonly current: number;
  /** Largest count in each slot, oldest first; null where no sample was taken (before start, gaps). */
  readonly slots: readonly (number | null)[];
}

export interface HistoryChartView {
  /** For the box border. */
  readonly label: string;
  /** Exactly `height` lines of exactly `width` cells (sum of span widths). */
  readonly lines: readonly (readonly ChartSpan[])[];
  readonly series: readonly HistorySeriesView[];
  /** Time covered by one slot (a braille dot column, or a cell in marker mode), ms. */
  readonly slotMs: number;
  /** Top of the y scale (log scale: 0 at the bottom). */
  readonly yMax: number;
  /** 'braille': coloured lines; 'markers': one character per state (monochrome or ASCII). */
  readonly mode: 'braille' | 'markers';
}

/** One marker per series, all ASCII so they read the same under LANG=C. */
export const SERIES_MARKERS = ['*', 'o', '+', 'x', '#', '%', '@'] as const;

/** Plotted only when fewer than maxSeries others have sockets: flat or short-lived states. */
const QUIET_STATES: readonly TcpState[] = ['LISTEN', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'LAST_ACK', 'CLOSE'];

/** Time per cell column, chosen from round values so the axis reads well. */
const CELL_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
/** Refreshes per cell column at most: about 10, so a long history shifts once every ~5 refreshes in braille. */
const REFRESHES_PER_CELL = 10;

/** "-30s", "-5m", "-1h30m": a tick label. */
export function formatAgo(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s === 0) return 'now';
  if (s < 60) return `-${s}s`;
  if (s < 3600) return s % 60 === 0 ? `-${s / 60}m` : `-${Math.floor(s / 60)}m${s % 60}s`;
  const m = Math.round(s / 60);
  return m % 60 === 0 ? `-${m / 60}h` : `-${Math.floor(m / 60)}h${m % 60}m`;
}

/**
 * Time per cell column, ms: the finest round step of at least one refresh under which the
 * history collected so far (spanMs) fits in `columns`, so a young history fills the plot
 * instead of its right end; it coarsens along CELL_STEPS_MS (1s, 2s, 5s, 10s...) as history
 * grows, up to about 10 refreshes per column. Slots stay aligned on absolute time, so within
 * one step a finished column never changes.
 */
export function cellStepMs(intervalMs: number, spanMs: number, columns: number): number {
  const last = CELL_STEPS_MS.at(-1) as number;
  const finest = CELL_STEPS_MS.find((s) => s >= Math.max(1, intervalMs)) ?? last;
  const coarsest = CELL_STEPS_MS.find((s) => s >= Math.max(1, intervalMs) * REFRESHES_PER_CELL) ?? last;
  return CELL_STEPS_MS.find((s) => s >= finest && (s >= coarsest || spanMs < s * Math.max(1, columns))) ?? coarsest;
}

/** Log scale: 0 → level 0, max → top level, any count > 0 at least level 1. */
function levelOf(v: number, max: number, levels: number): number {
  if (v <= 0 || max <= 0 || levels <= 1) return 0;
  const l = Math.round(((levels - 1) * Math.log10(1 + v)) / Math.log10(1 + max));
  return Math.max(1, Math.min(levels - 1, l));
}

/** The count a level stands for (inverse of levelOf), for the y labels. */
function valueAt(level: number, max: number, levels: number): number {
  if (level <= 0 || levels <= 1) return 0;
  return Math.round(10 ** ((level / (levels - 1)) * Math.log10(1 + max)) - 1);
}

// Braille dot bits by [x][y] inside a cell (2 columns x 4 rows, y from the top).
const BRAILLE_BITS = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
] as const;

function mergeSpans(cells: readonly ChartSpan[]): ChartSpan[] {
  const out: ChartSpan[] = [];
  for (const c of cells) {
    const last = out.at(-1);
    if (last !== undefined && last.color === c.color) out[out.length - 1] = { text: last.text + c.text, color: c.color };
    else out.push(c);
  }
  return out;
}

const padRight = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - displayWidth(s)));
const padLeft = (s: string, w: number): string => ' '.repeat(Math.max(0, w - displayWidth(s))) + s;

export function buildHistoryChartView(input: HistoryChartInput): HistoryChartView | null {
  const { width, height } = input;
  const mode = input.color && !input.ascii ? 'braille' : 'markers';
  const label = ' TCP states over time (log scale) ';
  // Rows: plot, time axis, legend. Columns: y labels, axis, plot.
  const plotHeight = height - 2;
  if (plotHeight < 2 || width < 20) return null;

  const samples = input.samples.filter((s) => s.atMs <= input.nowMs);
  const latest = samples.at(-1);
  const dotsX = mode === 'braille' ? 2 : 1;
  const dotsY = mode === 'braille' ? 4 : 1;

  // y labels need the scale, the scale needs the slots, the slots need the plot width, which
  // needs the label width: take the label width for the largest count in any sample (≤ 6 cells).
  let anyMax = 0;
  for (const s of samples) for (const v of Object.values(s.counts)) if ((v ?? 0) > anyMax) anyMax = v ?? 0;
  const yLabelWidth = Math.max(1, displayWidth(formatCount(anyMax)));
  const plotWidth = width - yLabelWidth - 1;
  const cellMs = cellStepMs(input.intervalMs, input.nowMs - (samples[0]?.atMs ?? input.nowMs), plotWidth);
  const slotMs = cellMs / dotsX;
  const slotCount = plotWidth * dotsX;
  const lastSlot = Math.floor(input.nowMs / slotMs);
  const firstSlot = lastSlot - slotCount + 1;

  // Largest count per slot, per state; null where no sample fell.
  const slotsOf = (state: TcpState): (number | null)[] => {
    const out = new Array<number | null>(slotCount).fill(null);
    for (const s of samples) {
      const slot = Math.floor(s.atMs / slotMs);
      if (slot < firstSlot) continue;
      const i = slot - firstSlot;
      const v = s.counts[state] ?? 0;
      const prev = out[i];
      out[i] = prev === null || prev === undefined ? v : Math.max(prev, v);
    }
    return out;
  };

  const all = TCP_STATES.map((state) => ({ state, slots: slotsOf(state), current: latest?.counts[state] ?? 0 }));
  const peak = (slots: readonly (number | null)[]): number => Math.max(0, ...slots.map((v) => v ?? 0));
  // The states that tell a story first (traffic, handshakes, closes that pile up), then the
  // steadier ones (listeners, the short closing states), each by count now, then by peak.
  const quiet = (st: TcpState): number => (QUIET_STATES.includes(st) ? 1 : 0);
  const ranked = all
    .filter((s) => s.current > 0 || peak(s.slots) > 0)
    .sort(
      (a, b) =>
        quiet(a.state) - quiet(b.state) ||
        b.current - a.current ||
        peak(b.slots) - peak(a.slots) ||
        TCP_STATES.indexOf(a.state) - TCP_STATES.indexOf(b.state),
    )
    .slice(0, input.maxSeries ?? 5);
  const series: HistorySeriesView[] = ranked.map((s, i) => ({
    state: s.state,
    title: TCP_STATE_SHORT[s.state],
    color: STATE_COLOR[s.state],
    marker: SERIES_MARKERS[i % SERIES_MARKERS.length] as string,
    current: s.current,
    slots: s.slots,
  }));
  const levels = plotHeight * dotsY;
  // The plot: a grid of cells, each with its braille bits or marker and the colour of the last
  // series drawn there. The busiest state is drawn first, so the small ones stay on top; but a
  // dot another series already has (equal counts) keeps the earlier one. A series left with no
  // cell of its own is named in the legend as "(= the one drawn there)".
  const plot = (shown: readonly HistorySeriesView[]) => {
    const yMax = Math.max(1, ...shown.map((s) => peak(s.slots)));
    const bits = Array.from({ length: plotHeight }, () => new Array<number>(plotWidth).fill(0));
    const marks = Array.from({ length: plotHeight }, () => new Array<string>(plotWidth).fill(' '));
    const colors = Array.from({ length: plotHeight }, () => new Array<StateColor | null>(plotWidth).fill(null));
    const owners = Array.from({ length: plotHeight }, () => new Array<number>(plotWidth).fill(-1));
    const cellsOf = shown.map(() => [] as [number, number][]);
    const dotOwner = new Map<number, number>();
    const dotsOf = shown.map(() => [] as number[]);
    const setDot = (x: number, level: number, i: number): void => {
      const s = shown[i] as HistorySeriesView;
      const yDot = levels - 1 - level;
      const row = Math.floor(yDot / dotsY);
      const col = Math.floor(x / dotsX);
      const bitsRow = bits[row];
      const marksRow = marks[row];
      const colorsRow = colors[row];
      const ownersRow = owners[row];
      if (bitsRow === undefined || marksRow === undefined || colorsRow === undefined || ownersRow === undefined) return;
      if (mode === 'braille') bitsRow[col] = (bitsRow[col] ?? 0) | (BRAILLE_BITS[x % 2]?.[yDot % 4] ?? 0);
      cellsOf[i]?.push([row, col]);
      const dot = x * levels + level;
      dotsOf[i]?.push(dot);
      if ((dotOwner.get(dot) ?? i) !== i) return;
      dotOwner.set(dot, i);
      if (mode !== 'braille') marksRow[col] = s.marker;
      colorsRow[col] = input.color ? s.color : null;
      ownersRow[col] = i;
    };
    shown.forEach((s, i) => {
      let prevLevel: number | null = null;
      s.slots.forEach((v, x) => {
        if (v === null) {
          prevLevel = null;
          return;
        }
        const level = levelOf(v, yMax, levels);
        // Braille: join to the previous column with a vertical run so the line reads as one.
        const from = mode === 'braille' && prevLevel !== null ? Math.min(prevLevel, level) : level;
        const to = mode === 'braille' && prevLevel !== null ? Math.max(prevLevel, level) : level;
        for (let l = from; l <= to; l++) setDot(x, l, i);
        prevLevel = level;
      });
    });
    // Hidden: in braille, every dot of the series belongs to an earlier one (the dots are shared,
    // so the line shows; a cell's colour is the last series drawn there); with markers, no cell
    // shows its marker.
    const hiddenBy = shown.map((_, i) => {
      const dots = dotsOf[i] ?? [];
      if (dots.length === 0) return null;
      const ownsDot = dots.some((d) => dotOwner.get(d) === i);
      const ownsCell = (cellsOf[i] ?? []).some(([r, c]) => owners[r]?.[c] === i);
      if (mode === 'braille' ? ownsDot : ownsCell) return null;
      const [r, c] = (cellsOf[i] ?? [])[0] ?? [0, 0];
      const by = mode === 'braille' ? dotOwner.get(dots[0] as number) : owners[r]?.[c];
      return shown[by ?? -1]?.title ?? null;
    });
    return { yMax, bits, marks, colors, hiddenBy };
  };
  // Legend on its own line: "ESTAB 228" in its colour (braille), "* ESTAB 228" with markers.
  // Only the states whose entry fits are plotted: a line or marker the legend does not explain
  // (and which, drawn last, would hide the busier ones) says nothing.
  const entryOf = (s: HistorySeriesView, i: number, hiddenBy: string | null) => ({
    text: `${mode === 'braille' ? '' : `${s.marker} `}${s.title} ${formatCount(s.current)}${hiddenBy === null ? '' : ` (= ${hiddenBy})`}`,
    priority: i,
    color: s.color,
  });
  let legend = layoutLine(
    series.map((s, i) => entryOf(s, i, null)),
    width - 1,
  );
  series.splice(legend.segments.length);
  let drawn = plot(series);
  for (;;) {
    const hidden = drawn.hiddenBy;
    if (hidden.every((h) => h === null)) break;
    legend = layoutLine(
      series.map((s, i) => entryOf(s, i, hidden[i] ?? null)),
      width - 1,
    );
    if (legend.segments.length >= series.length) break;
    series.splice(legend.segments.length);
    drawn = plot(series);
  }
  const { yMax, bits, marks, colors } = drawn;

  // y labels: the top, the bottom (0) and, with room, the middle row.
  const yLabels = new Map<number, string>([
    [0, formatCount(yMax)],
    [plotHeight - 1, '0'],
  ]);
  if (plotHeight >= 5) {
    const mid = Math.floor((plotHeight - 1) / 2);
    yLabels.set(mid, formatCount(valueAt((plotHeight - 1 - mid) * dotsY, yMax, levels)));
  }
  const axis = input.ascii ? '|' : '│';
  const tick = input.ascii ? '+' : '┤';
  const lines: ChartSpan[][] = [];
  for (let row = 0; row < plotHeight; row++) {
    const yl = yLabels.get(row);
    const cells: ChartSpan[] = [{ text: `${padLeft(yl ?? '', yLabelWidth)}${yl === undefined ? axis : tick}`, color: null }];
    for (let col = 0; col < plotWidth; col++) {
      const text =
        mode === 'braille'
          ? (bits[row]?.[col] ?? 0) === 0
            ? ' '
            : String.fromCodePoint(0x2800 + (bits[row]?.[col] ?? 0))
          : (marks[row]?.[col] ?? ' ');
      cells.push({ text, color: text === ' ' ? null : (colors[row]?.[col] ?? null) });
    }
    lines.push(mergeSpans(cells));
  }

  // Time axis: "now" at the right edge, ticks at round times before it, placed where their slot is.
  const axisCells = new Array<string>(plotWidth).fill(' ');
  const put = (col: number, text: string): boolean => {
    if (col < 0 || col + text.length > plotWidth) return false;
    // Keep one blank cell between labels.
    for (let i = Math.max(0, col - 1); i < Math.min(plotWidth, col + text.length + 1); i++) if (axisCells[i] !== ' ') return false;
    for (let i = 0; i < text.length; i++) axisCells[col + i] = text[i] as string;
    return true;
  };
  put(plotWidth - 3, 'now');
  const windowMs = plotWidth * cellMs;
  const tickMs = CELL_STEPS_MS.find((s) => s >= cellMs * 10 && s % cellMs === 0) ?? cellMs * 10;
  for (let ago = tickMs; ago < windowMs; ago += tickMs) {
    const slot = Math.floor((input.nowMs - ago) / slotMs);
    const col = Math.floor((slot - firstSlot) / dotsX);
    const text = formatAgo(ago);
    put(col - Math.floor(text.length / 2), text);
  }
  lines.push([{ text: `${' '.repeat(yLabelWidth)}${input.ascii ? '+' : '└'}${axisCells.join('')}`, color: null }]);

  const legendSpans: ChartSpan[] = [{ text: ' ', color: null }];
  legend.segments.forEach((e, i) => {
    if (i > 0) legendSpans.push({ text: '  ', color: null });
    legendSpans.push({ text: e.text, color: input.color ? e.color : null });
  });
  if (legend.dropped > 0) legendSpans.push({ text: DROP_MARK, color: null });
  if (series.length === 0) legendSpans.push({ text: 'no TCP sockets yet', color: null });
  const used = legendSpans.reduce((n, s) => n + displayWidth(s.text), 0);
  legendSpans.push({ text: ' '.repeat(Math.max(0, width - used)), color: null });
  lines.push(mergeSpans(legendSpans));

  // Every line exactly `width` cells (the plot rows are by construction; pad the axis row).
  const fitted = lines.map((l) => {
    const w = l.reduce((n, s) => n + displayWidth(s.text), 0);
    return w < width ? [...l, { text: padRight('', width - w), color: null }] : l;
  });
  return { label, lines: fitted, series, slotMs, yMax, mode };
}
