// render*: blessed widgets that draw view models. They never fetch data, read /proc or look at
// the clock. Every piece of text is escaped for blessed tags before it is placed.

import blessed from 'blessed';
import type { DetailLine } from '../view/details-view.js';
import type { DiagramLine } from '../view/state-diagram.js';
import { layoutHeaderView, type HeaderPart, type HeaderView, type StateBarView, type TableView } from '../view/dashboard-view.js';
import type { HistoryChartView } from '../view/history-chart.js';
import type { Frame } from '../view/frame.js';
import type { Rect } from '../view/layout.js';
import type { SortMenuView } from '../view/sort-menu.js';
import type { StateColor } from '../model/state-info.js';
import { displayWidth } from '../view/text.js';

export interface Theme {
  readonly color: boolean;
  readonly ascii: boolean;
  /** 256 colours: gray exists. On 8 colours blessed maps gray to black, invisible on black. */
  readonly colors256: boolean;
}

/** Secondary text (tombstones, the cost meter, hints): gray where it exists, plain otherwise. */
export function muted(text: string, theme: Theme): string {
  const t = escapeTags(text);
  return theme.color && theme.colors256 ? `{gray-fg}${t}{/gray-fg}` : t;
}

const blessedCharWidth = (blessed as unknown as { unicode: { charWidth(s: string, i?: number): number } }).unicode.charWidth;

/**
 * Characters the views (and terminals) count two cells wide but blessed 0.1.81 draws in one
 * (emoji, U+1F300 and up): blessed then misplaces everything after them on the line, so a
 * process name with an emoji hides the next characters and leaves stale ones on screen. Each
 * becomes "??": the two cells the views already reserved for it.
 */
function replaceMismeasured(text: string): string {
  if (/^[\x00-\u10ff]*$/.test(text)) return text;
  let out = '';
  for (const ch of text) out += displayWidth(ch) === 2 && blessedCharWidth(ch) !== 2 ? '??' : ch;
  return out;
}

/**
 * Text from anywhere becomes literal for blessed: "{" and "}" can no longer open tags, and
 * characters blessed measures wrongly are replaced (see replaceMismeasured).
 */
export function escapeTags(text: string): string {
  return replaceMismeasured(text).replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}

/** blessed's tag for a colour name: "lightred" is written "light-red" in tags. */
export function colorTag(color: StateColor): string {
  return color.startsWith('light') ? `light-${color.slice(5)}` : color;
}

export function colored(text: string, color: StateColor | null, theme: Theme): string {
  const t = escapeTags(text);
  if (color === null || !theme.color) return t;
  const tag = colorTag(color);
  return `{${tag}-fg}${t}{/${tag}-fg}`;
}

/** Show an overlay at `r`, or hide it when `r` is null; true when shown. */
function showAt(el: blessed.Widgets.BoxElement, r: Rect | null): r is Rect {
  if (r === null) {
    el.hide();
    return false;
  }
  el.show();
  place(el, r);
  return true;
}

function place(el: blessed.Widgets.BoxElement, r: Rect): void {
  // Never drawn yet (no lpos): blessed's setters would clear the box's cells on the screen
  // buffer (nothing of it is there) and re-parse its content at each size on the way; its own
  // draw parses the content at the final size. ~6 ms of a cold first frame at 160x45.
  if ((el as { lpos?: unknown }).lpos === undefined) {
    const pos = el.position as { top?: number | string; left?: number | string; width?: number | string; height?: number | string };
    pos.top = r.top;
    pos.left = r.left;
    pos.width = r.width;
    pos.height = r.height;
    return;
  }
  el.top = r.top;
  el.left = r.left;
  el.width = r.width;
  el.height = r.height;
}

// wrap: false everywhere: views fit their text to the width already, and blessed's wrapper
// breaks lines that exactly fill a box and end in a colour tag.
function boxStyle(theme: Theme): blessed.Widgets.BoxOptions {
  return {
    tags: true,
    wrap: false,
    border: { type: 'line' },
    style: theme.color ? { border: { fg: 'blue' }, label: { fg: 'white', bold: true } } : {},
  };
}

export interface Widgets {
  readonly header: blessed.Widgets.BoxElement;
  readonly bars: blessed.Widgets.BoxElement;
  readonly table: blessed.Widgets.BoxElement;
  readonly footer: blessed.Widgets.BoxElement;
  readonly prompt: blessed.Widgets.BoxElement;
  readonly details: blessed.Widgets.BoxElement;
  readonly help: blessed.Widgets.BoxElement;
  readonly message: blessed.Widgets.BoxElement;
  readonly sortMenu: blessed.Widgets.BoxElement;
  /** The history chart's box (history-chart.ts composes its text). */
  readonly history: blessed.Widgets.BoxElement;
}

/**
 * Set a box's border label without blessed's label "reposition": for every labelled element,
 * each 'resize' (any change of its position or size) queues a whole screen.render() on
 * setImmediate, to move the label with scrolled content. Our boxes never scroll their content
 * (the frame gives them only the lines that fit) and every change is drawn by the dashboard
 * anyway, so those renders only cost: on the first frame four of them (~100 ms at 160x45 on a
 * busy 2-core machine) ran before blessed's flush and held the frame back. blessed's 'scroll'
 * listener is kept.
 */
function setStillLabel(el: blessed.Widgets.BoxElement, text: string): void {
  el.setLabel(text);
  const own = el as unknown as { _labelResize?: (...args: unknown[]) => void; _labelStill?: boolean };
  if (own._labelResize === undefined || own._labelStill === true) return;
  el.removeListener('resize', own._labelResize);
  own._labelStill = true;
}

export function createWidgets(screen: blessed.Widgets.Screen, theme: Theme): Widgets {
  const header = blessed.box({ parent: screen, tags: true, wrap: false, top: 0, left: 0, width: '100%', height: 3 });
  const bars = blessed.box({ parent: screen, ...boxStyle(theme) });
  setStillLabel(bars, ' TCP states ');
  const table = blessed.box({ parent: screen, ...boxStyle(theme) });
  const history = blessed.box({ parent: screen, ...boxStyle(theme), hidden: true });
  setStillLabel(history, ' TCP states over time ');
  const footer = blessed.box({
    parent: screen,
    tags: true,
    wrap: false,
    height: 1,
    style: theme.color ? { fg: 'black', bg: 'cyan' } : { inverse: true },
  });
  const prompt = blessed.box({
    parent: screen,
    tags: true,
    hidden: true,
    height: 3,
    border: { type: 'line' },
    style: theme.color ? { border: { fg: 'yellow' } } : {},
  });
  const details = blessed.box({ parent: screen, ...boxStyle(theme), hidden: true });
  setStillLabel(details, ' Details ');
  const help = blessed.box({ parent: screen, ...boxStyle(theme), hidden: true });
  setStillLabel(help, ' Help — ? or Esc to close ');
  const sortMenu = blessed.box({
    parent: screen,
    tags: true,
    wrap: false,
    hidden: true,
    border: { type: 'line' },
    style: theme.color ? { border: { fg: 'yellow' }, label: { fg: 'white', bold: true } } : {},
  });
  const message = blessed.box({ parent: screen, tags: false, hidden: true, top: 0, left: 0, width: '100%', height: '100%' });
  return { header, bars, table, footer, prompt, details, help, message, history, sortMenu };
}

/** One header part as blessed tags: colours only with a colour theme, emphasis in both. */
function headerPart(p: HeaderPart, theme: Theme): string {
  switch (p.style) {
    case 'bold':
      return `{bold}${colored(p.text, p.color, theme)}{/bold}`;
    case 'muted':
      return muted(p.text, theme);
    case 'paused':
      return theme.color ? `{black-fg}{yellow-bg}${escapeTags(p.text)}{/yellow-bg}{/black-fg}` : `{inverse}${escapeTags(p.text)}{/inverse}`;
    case 'filter':
      return theme.color ? `{yellow-fg}${escapeTags(p.text)}{/yellow-fg}` : `{underline}${escapeTags(p.text)}{/underline}`;
    case 'badge': {
      const tag = p.color === null || !theme.color ? '' : colorTag(p.color);
      return tag === '' ? `{inverse}${escapeTags(p.text)}{/inverse}` : `{black-fg}{${tag}-bg}${escapeTags(p.text)}{/${tag}-bg}{/black-fg}`;
    }
    case 'plain':
      return colored(p.text, p.color, theme);
  }
}

/** The header's three lines, laid out by priority for this width (layoutHeaderView). */
export function renderHeader(el: blessed.Widgets.BoxElement, r: Rect, view: HeaderView, theme: Theme): void {
  place(el, r);
  el.setContent(
    layoutHeaderView(view, r.width)
      .map((line) => line.map((p) => headerPart(p, theme)).join(''))
      .join('\n'),
  );
}

export function renderBars(el: blessed.Widgets.BoxElement, r: Rect | null, bars: readonly StateBarView[], theme: Theme): void {
  if (!showAt(el, r)) return;
  el.setContent(
    bars
      .map(
        (b) =>
          `${colored(b.label, b.color, theme)} ${escapeTags(b.count)} ${colored(b.bar, b.color, theme)}${b.trend === '' ? '' : ` ${colored(b.trend, b.color, theme)}`}`,
      )
      .join('\n'),
  );
}

/** `notes`: plain lines drawn under the rows (the selected finding's text), after a blank line. */
export function renderTable(
  el: blessed.Widgets.BoxElement,
  r: Rect,
  title: string,
  view: TableView,
  theme: Theme,
  notes: readonly string[] = [],
  closedRows = 0,
): void {
  place(el, r);
  // Closed rows (tombstones) are listed, muted, but not counted as sockets: the label says so.
  const position = `${view.total === 0 ? '0' : `${view.selectedIndex + 1}/${view.total}`}${closedRows > 0 ? `, ${closedRows} closed` : ''}`;
  // The sort goes in the label when it fits on the border (blessed wraps a longer label).
  const sort = view.sortLabel ?? '';
  const withSort = ` ${title} ${position} · ${sort} `;
  setStillLabel(el, sort !== '' && displayWidth(withSort) <= r.width - 4 ? escapeTags(withSort) : ` ${escapeTags(title)} ${position} `);
  const lines = [theme.color ? `{bold}{cyan-fg}${escapeTags(view.header)}{/cyan-fg}{/bold}` : `{bold}${escapeTags(view.header)}{/bold}`];
  if (view.rows.length === 0) lines.push(escapeTags(view.emptyText));
  for (const row of view.rows) {
    let text: string;
    if (row.selected) {
      // Selected: one inverse bar, colours dropped so it stays readable everywhere.
      text = `{inverse}${escapeTags(row.cells.map((c) => c.text).join(' '))}{/inverse}`;
    } else if (row.closed) {
      text = muted(row.cells.map((c) => c.text).join(' '), theme);
    } else {
      text = row.cells.map((c) => colored(c.text, c.color, theme)).join(' ');
      if (row.isNew)
        text = theme.color
          ? `{bold}{green-bg}{black-fg}${escapeTags(row.cells.map((c) => c.text).join(' '))}{/black-fg}{/green-bg}{/bold}`
          : `{bold}${text}{/bold}`;
    }
    lines.push(text);
  }
  if (notes.length > 0) {
    const room = Math.max(0, r.height - 2 - lines.length - 1);
    if (room > 0) lines.push('', ...notes.slice(0, room).map((n) => escapeTags(n)));
  }
  el.setContent(lines.join('\n'));
}

/** The TCP state diagram in the table panel; the selected state's box inverse, its story below. */
export function renderDiagram(
  el: blessed.Widgets.BoxElement,
  r: Rect,
  title: string,
  lines: readonly DiagramLine[],
  selected: string,
  explanation: readonly string[],
  theme: Theme,
): void {
  place(el, r);
  setStillLabel(el, ` ${escapeTags(title)} `);
  const drawn = lines.map((segments) =>
    segments
      .map((s) => {
        if (s.state === null) return escapeTags(s.text);
        if (s.state === selected) return `{inverse}${escapeTags(s.text)}{/inverse}`;
        return colored(s.text, s.color, theme);
      })
      .join(''),
  );
  const room = Math.max(0, r.height - 2 - drawn.length - 1);
  el.setContent([...drawn, '', ...explanation.slice(0, room).map((l) => escapeTags(l))].join('\n'));
}

export function renderFooter(el: blessed.Widgets.BoxElement, r: Rect, keys: readonly (readonly [string, string])[]): void {
  place(el, r);
  let text = '';
  for (const [k, what] of keys) {
    const piece = `{bold}${escapeTags(k)}{/bold} ${escapeTags(what)}  `;
    if (text.length > 0 && (text + piece).replace(/\{[^}]*\}/g, '').length > r.width) break;
    text += piece;
  }
  el.setContent(text);
}

/** The prompt the frame describes (Frame#prompt), or hidden when null. */
export function renderPrompt(el: blessed.Widgets.BoxElement, prompt: Frame['prompt'], theme: Theme): void {
  if (!showAt(el, prompt?.rect ?? null) || prompt === null) return;
  const { rect: r, text, error } = prompt;
  setStillLabel(el, ` ${escapeTags(prompt.title)} — ${escapeTags(prompt.hint)} `);
  // The error's first line repeats the expression; the prompt already shows it, so the caret
  // line lines up with the text above it.
  const parts = error === null ? [] : error.split('\n');
  if (parts[0] === text) parts.shift();
  const errorLines = parts.map((l) => (theme.color ? `{red-fg}${escapeTags(l)}{/red-fg}` : escapeTags(l)));
  el.height = 3 + errorLines.length;
  el.top = r.top - errorLines.length;
  // "not found" after the caret, in words: readable without colour.
  const status =
    prompt.status === '' ? '' : `  ${theme.color ? `{red-fg}(${escapeTags(prompt.status)}){/red-fg}` : `(${escapeTags(prompt.status)})`}`;
  el.setContent([`${escapeTags(text)}{inverse} {/inverse}${status}`, ...errorLines].join('\n'));
  el.setFront();
}

/**
 * The sort menu (F6): its items, the cursor inverse and the current sort bold (its "*" and
 * ▲▼ say it without colour or bold). Hidden when `menu` is null.
 */
export function renderSortMenu(el: blessed.Widgets.BoxElement, menu: SortMenuView | null, theme: Theme): void {
  if (!showAt(el, menu?.rect ?? null) || menu === null) return;
  const position = menu.items.length < menu.total ? ` ${menu.offset + 1}-${menu.offset + menu.items.length}/${menu.total}` : '';
  setStillLabel(el, ` ${escapeTags(menu.title)}${position} `);
  el.setContent(
    menu.items
      .map((item) => {
        const text = escapeTags(item.text);
        if (item.cursor) return `{inverse}${text}{/inverse}`;
        if (item.current) return theme.color ? `{bold}{yellow-fg}${text}{/yellow-fg}{/bold}` : `{bold}${text}{/bold}`;
        return text;
      })
      .join('\n'),
  );
  el.setFront();
}

/**
 * The overlays get only the lines that fit (the frame scrolls them): a blessed scrollable box
 * moves its border label with the content, drawing " Details " over the text.
 */
export function renderDetails(
  el: blessed.Widgets.BoxElement,
  r: Rect | null,
  lines: readonly DetailLine[],
  theme: Theme,
  title = 'Details',
): void {
  if (!showAt(el, r)) return;
  setStillLabel(el, ` ${escapeTags(title)} `);
  el.setContent(
    lines
      .map((l) => {
        if (l.style === 'title') return `{bold}${colored(l.text, l.color, theme)}{/bold}`;
        if (l.style === 'heading')
          return theme.color
            ? `{bold}{cyan-fg}${escapeTags(l.text)}{/cyan-fg}{/bold}`
            : `{bold}{underline}${escapeTags(l.text)}{/underline}{/bold}`;
        if (l.style === 'muted') return muted(l.text, theme);
        return colored(l.text, l.color, theme);
      })
      .join('\n'),
  );
  el.setFront();
}

export function renderHelp(
  el: blessed.Widgets.BoxElement,
  r: Rect | null,
  lines: readonly string[],
  title = 'Help — ? or Esc to close',
): void {
  if (!showAt(el, r)) return;
  setStillLabel(el, ` ${escapeTags(title)} `);
  el.setContent(lines.map((l) => (l.startsWith('#') ? `{bold}${escapeTags(l.slice(1).trim())}{/bold}` : escapeTags(l))).join('\n'));
  el.setFront();
}

/**
 * The history chart: a plain box drawing the lines its view composed (history-chart.ts), each
 * span in its state's colour. Hidden when there is no room (r or chart null).
 */
export function renderHistory(el: blessed.Widgets.BoxElement, r: Rect | null, chart: HistoryChartView | null, theme: Theme): void {
  if (chart === null || !showAt(el, r)) {
    el.hide();
    return;
  }
  setStillLabel(el, escapeTags(chart.label));
  el.setContent(chart.lines.map((spans) => spans.map((s) => colored(s.text, s.color, theme)).join('')).join('\n'));
}
