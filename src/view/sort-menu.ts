// The sort menu (htop's F6 "Sort by"): the view's sortable columns as a small list over the
// table, the current sort marked "*" with its direction (readable without colour), the cursor
// on one item. Pure: the reducer moves the cursor (ui-state.ts), src/ui draws the view.

import type { Rect } from './layout.js';
import { displayWidth, fitText } from './text.js';

export interface SortMenuItemView {
  readonly key: string;
  /** "* State      ▲": the marker, the column's title and, for the current sort, its direction. */
  readonly text: string;
  /** The table is sorted by this column now. */
  readonly current: boolean;
  /** The cursor is on it (drawn inverse). */
  readonly cursor: boolean;
}

export interface SortMenuView {
  /** The box, border included. */
  readonly rect: Rect;
  readonly title: string;
  /** Only the items that fit, from `offset` on. */
  readonly items: readonly SortMenuItemView[];
  /** Index of the first item shown in the whole list. */
  readonly offset: number;
  readonly total: number;
}

export interface SortMenuInput {
  /** The view's sortable columns in column order (TableView#sortOptions). */
  readonly options: readonly { readonly key: string; readonly title: string }[];
  readonly sort: { readonly key: string; readonly descending: boolean };
  readonly cursor: string;
  /** Where the menu may go: it opens at `anchor`'s top-left corner, moved up when it would not fit above `area`'s bottom. */
  readonly anchor: Rect;
  readonly area: Rect;
}

const TITLE = 'Sort by';

export function buildSortMenuView(input: SortMenuInput): SortMenuView {
  const { options, sort, area } = input;
  const titleWidth = Math.max(0, ...options.map((o) => displayWidth(o.title)));
  // "* " marker, title, " ▲"; then a border cell on each side.
  const innerWidth = Math.min(Math.max(titleWidth + 4, TITLE.length + 2), Math.max(1, area.width - 2));
  const room = Math.max(1, area.height - 2);
  const shown = Math.min(options.length, room);
  const height = shown + 2;
  const bottom = area.top + area.height;
  const top = Math.max(area.top, Math.min(input.anchor.top, bottom - height));
  const left = Math.max(area.left, Math.min(input.anchor.left, area.left + area.width - (innerWidth + 2)));
  const at = Math.max(
    0,
    options.findIndex((o) => o.key === input.cursor),
  );
  // Keep the cursor in the window when the list is longer than the room.
  const offset = Math.max(0, Math.min(at - Math.floor(shown / 2), options.length - shown));
  const items = options.slice(offset, offset + shown).map((o): SortMenuItemView => {
    const current = o.key === sort.key;
    const mark = current ? (sort.descending ? '▼' : '▲') : ' ';
    const text = `${current ? '*' : ' '} ${fitText(o.title, innerWidth - 4)} ${mark}`;
    return { key: o.key, text: fitText(text, innerWidth), current, cursor: o.key === input.cursor };
  });
  return { rect: { top, left, width: innerWidth + 2, height }, title: TITLE, items, offset, total: options.length };
}

/** The item under screen cell row `y` of a menu drawn at its rect, or undefined (border, outside). */
export function sortMenuItemAt(menu: SortMenuView, x: number, y: number): SortMenuItemView | undefined {
  const { rect } = menu;
  if (x <= rect.left || x >= rect.left + rect.width - 1) return undefined;
  return menu.items[y - rect.top - 1];
}
