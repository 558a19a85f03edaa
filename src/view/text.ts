// Plain-text helpers for views: display width (wide characters take two cells), fitting text
// into columns, compact numbers and durations, sparklines.

import { formatDuration } from '../model/duration.js';

/** True for code points that terminals draw two cells wide (CJK, Hangul, fullwidth, emoji). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Zero-width: combining marks. (Controls never get here: text is made safe first.) */
function isZeroWidth(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f)
  );
}

const ASCII_ONLY = /^[\x20-\x7e]*$/;

export function displayWidth(text: string): number {
  if (ASCII_ONLY.test(text)) return text.length;
  let w = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    w += isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1;
  }
  return w;
}

/** Exactly `width` cells: padded, or cut with "…" (wide characters count as two cells). */
export function fitText(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  let w = displayWidth(text);
  let out = text;
  if (w > width) {
    out = '';
    w = 0;
    for (const ch of text) {
      const cp = ch.codePointAt(0) ?? 0;
      const cw = isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1;
      if (w + cw > width - 1) break;
      out += ch;
      w += cw;
    }
    out += '…';
    w += 1;
  }
  const pad = ' '.repeat(Math.max(0, width - w));
  return align === 'right' ? pad + out : out + pad;
}

/** 999 → "999", 12345 → "12.3k", 1234567 → "1.2M". */
export function formatCount(n: number): string {
  if (n < 10_000) return String(n);
  // Thresholds where rounding carries over: 99_950 would print "100.0k", 999_500 "1000k".
  if (n < 99_950) return `${(n / 1000).toFixed(1)}k`;
  if (n < 999_500) return `${(n / 1000).toFixed(0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** Per-second rate: "0", "0.5", "12", "1.2k". */
export function formatRate(perSec: number): string {
  if (perSec === 0) return '0';
  if (perSec < 10) return perSec.toFixed(1).replace(/\.0$/, '');
  return formatCount(Math.round(perSec));
}

/** Durations as the model writes them in findings ("3m12s"). */
export { formatDuration };

/** Age for table cells: seconds only while young, then minutes, so a row changes at most once a minute. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  return formatDuration(ms);
}

const SPARK_UTF8 = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
const SPARK_ASCII = ['_', '.', '-', '-', '=', '=', '#', '#'] as const;

/** The last `width` values as a sparkline scaled to their own max (empty cells when no data). */
export function sparkline(values: readonly number[], width: number, ascii: boolean): string {
  const glyphs = ascii ? SPARK_ASCII : SPARK_UTF8;
  const tail = values.slice(-width);
  const max = Math.max(0, ...tail);
  let out = ' '.repeat(Math.max(0, width - tail.length));
  for (const v of tail) {
    if (max === 0 || v <= 0) out += v <= 0 && max > 0 ? ' ' : glyphs[0];
    else out += glyphs[Math.min(glyphs.length - 1, Math.floor((v / max) * (glyphs.length - 1) + 0.5))] ?? glyphs[0];
  }
  return out;
}

/**
 * Bar length on a log scale so that 3 and 300,000 are both visible: any non-zero count gets at
 * least one cell; `max` fills `width` cells.
 */
export function logBarLength(n: number, max: number, width: number): number {
  if (n <= 0 || max <= 0 || width <= 0) return 0;
  const len = Math.round((width * Math.log10(1 + n)) / Math.log10(1 + max));
  return Math.max(1, Math.min(width, len));
}

/**
 * At most `width` cells: the text itself, or its start cut with "…" (one cell; blessed prints
 * it as "~" without UTF-8). Never padded.
 */
export function truncateText(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  // fitText pads after "…" only when a wide character did not fit: drop that padding.
  return fitText(text, width).trimEnd();
}

/** One piece of a line laid out by priority: kept whole, cut with "…" down to minWidth, or dropped. */
export interface LineSegment {
  readonly text: string;
  /** Lower numbers are kept longest (0 = must stay). */
  readonly priority: number;
  /** When set, the segment may be cut (with "…") to this many cells before it is dropped. */
  readonly minWidth?: number;
  /** Cut down to minWidth at this priority instead (e.g. a long host name before a badge goes). */
  readonly cutPriority?: number;
  /** Extra information (a cost meter): left out without the " …" mark. */
  readonly quiet?: boolean;
  /** A shorter whole form tried before the segment is cut or dropped (a note without its reason). */
  readonly short?: string;
}

export interface LaidOutLine<S extends LineSegment> {
  /** Kept segments in their original order; `text` is the (maybe cut) text to draw. */
  readonly segments: readonly (S & { readonly cut: boolean })[];
  /** Segments left out for lack of room, quiet ones not counted (the line ends with " …" then). */
  readonly dropped: number;
  /** Cells used by the segments and separators, plus the " …" drop mark when present. */
  readonly width: number;
}

export const DROP_MARK = ' …';

/**
 * Fit segments on one line of `width` cells, separated by `separator`. While they do not fit,
 * the least important segment (highest priority number; the later one on a tie) is cut down to
 * its short form or its minWidth if it has one, else left out, and the line keeps room for a " …" mark saying
 * something was left out. A segment is never split from its number: each is one unit ("opened 10").
 * When even the most important segment alone is too wide it is cut to the width.
 */
export function layoutLine<S extends LineSegment>(segments: readonly S[], width: number, separator = '  '): LaidOutLine<S> {
  const sepWidth = displayWidth(separator);
  const items = segments.map((s, index) => ({ s, index, text: s.text, cut: false, dropped: false }));
  const used = (): number => {
    const kept = items.filter((i) => !i.dropped);
    return kept.reduce((n, i) => n + displayWidth(i.text), 0) + Math.max(0, kept.length - 1) * sepWidth;
  };
  const anyDropped = (): boolean => items.some((i) => i.dropped && i.s.quiet !== true);
  const limit = (): number => width - (anyDropped() ? displayWidth(DROP_MARK) : 0);
  while (used() > limit()) {
    const kept = items.filter((i) => !i.dropped);
    if (kept.length === 0) break;
    // The least important step that can still give room: cutting a segment (at its cutPriority)
    // or leaving one out (at its priority).
    const canShorten = (i: (typeof items)[number]): boolean =>
      i.s.short !== undefined && displayWidth(i.text) > displayWidth(i.s.short) && !i.cut;
    const canCut = (i: (typeof items)[number]): boolean =>
      canShorten(i) || (i.s.minWidth !== undefined && displayWidth(i.text) > i.s.minWidth);
    const rank = (i: (typeof items)[number]): number => (canCut(i) ? (i.s.cutPriority ?? i.s.priority) : i.s.priority);
    const candidate = kept.reduce((worst, i) => (rank(i) >= rank(worst) ? i : worst));
    const over = used() - limit();
    const min = candidate.s.minWidth;
    const current = displayWidth(candidate.text);
    if (kept.length === 1) {
      // Alone and still too wide: cut it to what is left.
      candidate.text = truncateText(candidate.text, Math.max(0, limit()));
      candidate.cut = true;
      if (displayWidth(candidate.text) === 0) candidate.dropped = true;
      break;
    }
    if (canShorten(candidate)) {
      candidate.text = candidate.s.short ?? candidate.text;
      candidate.cut = true;
      continue;
    }
    if (min !== undefined && current > min) {
      // A segment with a short form was shortened first: cut that.
      candidate.text = truncateText(candidate.s.short ?? candidate.s.text, Math.max(min, current - over));
      candidate.cut = true;
      continue;
    }
    candidate.dropped = true;
  }
  const kept = items.filter((i) => !i.dropped);
  const dropped = items.filter((i) => i.dropped && i.s.quiet !== true).length;
  return {
    segments: kept.map((i) => ({ ...i.s, text: i.text, cut: i.cut })),
    dropped,
    width: used() + (dropped > 0 ? displayWidth(DROP_MARK) : 0),
  };
}
