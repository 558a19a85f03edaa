// Dashboard UI state and the reducer for keyboard actions: (state, action) -> state.
// Pure and terminal-free, so every key's behaviour is testable without a screen.

import { compileFilter, formatFilterError, type ParseOptions } from '../filter/index.js';

export const VIEWS = ['sockets', 'ports', 'peers', 'processes', 'states', 'findings', 'compare'] as const;
export type ViewName = (typeof VIEWS)[number];

/** Views listing groups of sockets (a port, a peer, a process per row). */
export const GROUP_VIEWS = ['ports', 'peers', 'processes'] as const;
export type GroupViewName = (typeof GROUP_VIEWS)[number];

export function isGroupView(view: ViewName): view is GroupViewName {
  return (GROUP_VIEWS as readonly string[]).includes(view);
}

export const VIEW_TITLE = {
  sockets: 'Sockets',
  ports: 'By port',
  peers: 'By peer',
  processes: 'By process',
  states: 'TCP states',
  findings: 'Findings',
  compare: 'Compare',
} as const satisfies Record<ViewName, string>;

/**
 * Sortable columns of the socket table, in the table's column order (left to right); out / in:
 * bytes/s sent and received, rtt: smoothed RTT (from ss; shown only when rates exist).
 */
export const SOCKET_SORT_KEYS = [
  'proto',
  'state',
  'recvq',
  'sendq',
  'local',
  'peer',
  'process',
  'user',
  'age',
  'out',
  'in',
  'rtt',
] as const;
export type SocketSortKey = (typeof SOCKET_SORT_KEYS)[number];

/** Sortable columns of the grouped tables. */
export const GROUP_SORT_KEYS = [
  'key',
  'total',
  'established',
  'timewait',
  'closewait',
  'synrecv',
  'queue',
  'out',
  'in',
  'rtt',
  'rttmax',
] as const;
export type GroupSortKey = (typeof GROUP_SORT_KEYS)[number];

/**
 * 'marker' names a marker (the dashboard records it; the reducer only opens the compare view);
 * 'search' moves the selection to the next row containing the text (htop's F3), hiding nothing.
 */
export type PromptKind = 'filter' | 'port' | 'state' | 'marker' | 'search';

export interface Prompt {
  readonly kind: PromptKind;
  readonly text: string;
  /** Error of the text typed (filter) or of the last submit, shown in place; the last valid filter stays active. */
  readonly error: string | null;
  /** The filter prompt applies as it is typed: what Esc restores (the filter and selection before it opened). */
  readonly before?: { readonly filterText: string; readonly selectedKey: string | null; readonly selectedIndex: number };
  /** Search: no row contains the text. */
  readonly notFound?: boolean;
}

interface Place {
  readonly view: ViewName;
  readonly filterText: string;
  readonly selectedKey: string | null;
}

export interface UiState {
  readonly view: ViewName;
  /** Applied filter expression ('' = everything). Always a valid expression. */
  readonly filterText: string;
  readonly prompt: Prompt | null;
  readonly socketSort: { readonly key: SocketSortKey; readonly descending: boolean };
  readonly groupSort: { readonly key: GroupSortKey; readonly descending: boolean };
  /** Key of the selected row (socket key or group key): the selection follows it when rows move. */
  readonly selectedKey: string | null;
  /** Index of the selection, used when the selected key disappears. */
  readonly selectedIndex: number;
  readonly paused: boolean;
  readonly intervalMs: number;
  /** Socket key whose details are open, or null. */
  readonly detailsKey: string | null;
  readonly help: boolean;
  /** First line shown of the overlay in front (details or help); 0 when one opens. */
  readonly overlayScroll: number;
  /** Where Esc goes back to after a drill-down. */
  readonly back: readonly Place[];
  /** The sort menu (F6), open with its cursor on a column's sort key, or null. */
  readonly sortMenu: { readonly cursor: string } | null;
  readonly quit: boolean;
}

export const INTERVAL_STEPS_MS = [250, 500, 1000, 2000, 5000, 10000] as const;

export function initialUiState(options: { intervalMs: number; filterText?: string }): UiState {
  return {
    view: 'sockets',
    filterText: options.filterText ?? '',
    prompt: null,
    socketSort: { key: 'state', descending: false },
    groupSort: { key: 'total', descending: true },
    selectedKey: null,
    selectedIndex: 0,
    paused: false,
    intervalMs: options.intervalMs,
    detailsKey: null,
    help: false,
    overlayScroll: 0,
    back: [],
    sortMenu: null,
    quit: false,
  };
}

/** The rows currently listed, in display order: movement actions need them. */
export interface RowContext {
  readonly keys: readonly string[];
  /** Visible rows in the table (page size). */
  readonly pageSize: number;
}

/** Rows with their text, for the search: `textAt(i)` is row i's visible text in lower case. */
export interface SearchRows extends RowContext {
  textAt(index: number): string;
}

export type UiAction =
  | { readonly type: 'quit' }
  | { readonly type: 'toggleHelp' }
  | { readonly type: 'escape' }
  | { readonly type: 'togglePause' }
  | { readonly type: 'faster' }
  | { readonly type: 'slower' }
  | { readonly type: 'nextView'; readonly delta: 1 | -1 }
  | { readonly type: 'setView'; readonly view: ViewName }
  | { readonly type: 'move'; readonly delta: number; readonly rows: RowContext }
  | { readonly type: 'page'; readonly delta: 1 | -1; readonly rows: RowContext }
  | { readonly type: 'jump'; readonly to: 'first' | 'last'; readonly rows: RowContext }
  | { readonly type: 'select'; readonly key: string; readonly rows: RowContext }
  /**
   * Sort by the next column to the right (1) or left (-1). `columns`: the sort keys of the columns
   * on screen, left to right (TableView#sortKeys), so a hidden column is never chosen.
   */
  | { readonly type: 'sortNext'; readonly delta: 1 | -1; readonly columns?: readonly string[] }
  | { readonly type: 'sortReverse' }
  /** Sort by this column (a click on its header); the column sorted already: reverse it. */
  | { readonly type: 'sortBy'; readonly key: string }
  /** F6: the sort menu over `columns`, the view's sortable columns in order (none: it does not open). */
  | { readonly type: 'openSortMenu'; readonly columns: readonly string[] }
  /** Move the menu's cursor by `delta` or to the first/last column, wrapping. */
  | { readonly type: 'sortMenuMove'; readonly delta?: number; readonly to?: 'first' | 'last'; readonly columns: readonly string[] }
  /** Sort by `key` (a click) or the column under the cursor, as a click on its header, and close the menu. */
  | { readonly type: 'sortMenuChoose'; readonly key?: string }
  | { readonly type: 'openPrompt'; readonly kind: PromptKind }
  /** `rows`: the listed rows with their text, for the search prompt (the selection jumps as it is typed). */
  | { readonly type: 'promptInput'; readonly text: string; readonly rows?: SearchRows }
  /** Search prompt: the next row after the selection containing the text, wrapping. */
  | { readonly type: 'searchNext'; readonly rows: SearchRows }
  | { readonly type: 'promptSubmit' }
  | { readonly type: 'clearFilter' }
  | { readonly type: 'openDetails'; readonly key: string }
  /** Drill from a group row or a details shortcut into the socket table with a filter. */
  | { readonly type: 'drill'; readonly filterText: string }
  /** Scroll the overlay in front by `delta` lines, or to its first/last line; `maxScroll` from the frame. */
  | { readonly type: 'scrollOverlay'; readonly delta?: number; readonly to?: 'first' | 'last'; readonly maxScroll: number }
  /** Sockets whose key changed for the same connection (→ TIME_WAIT): selection and details follow. */
  | { readonly type: 'rekey'; readonly keys: ReadonlyMap<string, string> }
  /** Show one row of a view (the worst finding): selection on it, overlays closed. */
  | { readonly type: 'jumpTo'; readonly view: ViewName; readonly key: string };

/**
 * The sort key one column right (delta 1) or left (-1) of `current`, wrapping around, among the
 * columns on screen when they are known. From a column not on screen, > starts at the left and
 * < at the right.
 */
/** Counts, queues, ages and rates start largest first; names and states in order. */
function socketSortDescending(key: SocketSortKey): boolean {
  return key === 'recvq' || key === 'sendq' || key === 'age' || key === 'out' || key === 'in' || key === 'rtt';
}

function nextSortKey<K extends string>(all: readonly K[], current: K, delta: 1 | -1, columns: readonly string[] | undefined): K {
  const order =
    columns === undefined ? all : all.filter((k) => columns.includes(k)).sort((a, b) => columns.indexOf(a) - columns.indexOf(b));
  if (order.length === 0) return current;
  const i = order.indexOf(current);
  if (i < 0) return (delta > 0 ? order[0] : order.at(-1)) ?? current;
  return order[(i + delta + order.length) % order.length] ?? current;
}

/** A port as typed in the quick port prompt: "5432", ":5432" or a service name ("postgresql"). */
function portFilter(text: string, filterOptions: ParseOptions): string | { error: string } {
  const t = text.trim().replace(/^:/, '');
  if (/^\d{1,5}$/.test(t) && Number(t) <= 65535) return `port ${t}`;
  if (/^[a-z][a-z0-9._+-]*$/i.test(t) && filterOptions.servicePort?.(t) !== undefined) return `port ${t}`;
  return { error: `expected a port number 0-65535 or a service name, got '${text.trim()}'` };
}

function stateFilter(text: string): string {
  const names = text
    .trim()
    .split(/[\s,]+/)
    .filter((s) => s !== '');
  return names.map((n) => `state ${n}`).join(' or ');
}

function promptToFilter(kind: PromptKind, text: string, filterOptions: ParseOptions): string | { error: string } {
  if (kind === 'port') return portFilter(text, filterOptions);
  const expression = kind === 'state' ? stateFilter(text) : text.trim();
  if (expression === '') return '';
  const compiled = compileFilter(expression, filterOptions);
  if (!compiled.ok) return { error: formatFilterError(expression, compiled.error) };
  return expression;
}

/**
 * Index of the first row from `from` on (wrapping, at most one pass) whose text contains
 * `needle` (lower case), or -1. Each row's text is asked for once at most.
 */
export function findRow(rows: SearchRows, needle: string, from: number): number {
  const n = rows.keys.length;
  if (needle === '' || n === 0) return -1;
  const start = ((from % n) + n) % n;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    if (rows.textAt(i).includes(needle)) return i;
  }
  return -1;
}

/** Move the selection to the next row containing the search text; `skipCurrent`: F3, start after it. */
function searchStep(state: UiState, prompt: Prompt, rows: SearchRows, skipCurrent: boolean): UiState {
  const needle = prompt.text.trim().toLowerCase();
  if (needle === '') return { ...state, prompt: { ...prompt, notFound: false } };
  const i = findRow(rows, needle, indexOfSelection(state, rows) + (skipCurrent ? 1 : 0));
  if (i < 0) return { ...state, prompt: { ...prompt, notFound: true } };
  return { ...selectIndex(state, rows, i), prompt: { ...prompt, notFound: false } };
}

/** Sort by `key` as a click on its header does: a new column in its natural order, the same one reversed. */
function sortBy(state: UiState, key: string): UiState {
  if (state.view === 'sockets') {
    const k = SOCKET_SORT_KEYS.find((x) => x === key);
    if (k === undefined) return state;
    const descending = k === state.socketSort.key ? !state.socketSort.descending : socketSortDescending(k);
    return { ...state, socketSort: { key: k, descending } };
  }
  if (!isGroupView(state.view)) return state;
  const k = GROUP_SORT_KEYS.find((x) => x === key);
  if (k === undefined) return state;
  const descending = k === state.groupSort.key ? !state.groupSort.descending : k !== 'key';
  return { ...state, groupSort: { key: k, descending } };
}

/** The sort key of the current view (the menu opens on it). */
function currentSortKey(state: UiState): string {
  return state.view === 'sockets' ? state.socketSort.key : state.groupSort.key;
}

function clampIndex(i: number, length: number): number {
  return length === 0 ? 0 : Math.max(0, Math.min(length - 1, i));
}

function indexOfSelection(state: UiState, rows: RowContext): number {
  if (state.selectedKey !== null) {
    const i = rows.keys.indexOf(state.selectedKey);
    if (i >= 0) return i;
  }
  return clampIndex(state.selectedIndex, rows.keys.length);
}

function selectIndex(state: UiState, rows: RowContext, index: number): UiState {
  const i = clampIndex(index, rows.keys.length);
  return { ...state, selectedIndex: i, selectedKey: rows.keys[i] ?? null };
}

function leaveFor(state: UiState, view: ViewName, filterText: string): UiState {
  const here: Place = { view: state.view, filterText: state.filterText, selectedKey: state.selectedKey };
  return {
    ...state,
    view,
    filterText,
    back: [...state.back, here].slice(-20),
    selectedKey: null,
    selectedIndex: 0,
    detailsKey: null,
  };
}

/**
 * `filterOptions`: what the filter prompts may look up (service names from /etc/services), the
 * same as --filter is compiled with.
 */
export function reduceUi(state: UiState, action: UiAction, filterOptions: ParseOptions = {}): UiState {
  switch (action.type) {
    case 'quit':
      return { ...state, quit: true };
    case 'toggleHelp':
      return { ...state, help: !state.help, overlayScroll: 0 };
    case 'escape': {
      if (state.prompt !== null) {
        // The filter prompt applied as it was typed: Esc puts back the filter it found.
        const before = state.prompt.before;
        if (before === undefined) return { ...state, prompt: null };
        return { ...state, prompt: null, ...before };
      }
      if (state.sortMenu !== null) return { ...state, sortMenu: null };
      if (state.help) return { ...state, help: false, overlayScroll: 0 };
      if (state.detailsKey !== null) return { ...state, detailsKey: null, overlayScroll: 0 };
      const previous = state.back.at(-1);
      if (previous !== undefined) {
        return {
          ...state,
          view: previous.view,
          filterText: previous.filterText,
          selectedKey: previous.selectedKey,
          back: state.back.slice(0, -1),
        };
      }
      return state;
    }
    case 'togglePause':
      return { ...state, paused: !state.paused };
    case 'faster': {
      const next = [...INTERVAL_STEPS_MS].reverse().find((ms) => ms < state.intervalMs);
      return { ...state, intervalMs: next ?? state.intervalMs };
    }
    case 'slower': {
      const next = INTERVAL_STEPS_MS.find((ms) => ms > state.intervalMs);
      return { ...state, intervalMs: next ?? state.intervalMs };
    }
    case 'nextView': {
      const i = VIEWS.indexOf(state.view);
      const view = VIEWS[(i + action.delta + VIEWS.length) % VIEWS.length] ?? 'sockets';
      return { ...state, view, selectedKey: null, selectedIndex: 0, detailsKey: null };
    }
    case 'setView':
      return action.view === state.view ? state : { ...state, view: action.view, selectedKey: null, selectedIndex: 0, detailsKey: null };
    case 'move':
      return selectIndex(state, action.rows, indexOfSelection(state, action.rows) + action.delta);
    case 'page':
      return selectIndex(state, action.rows, indexOfSelection(state, action.rows) + action.delta * Math.max(1, action.rows.pageSize - 1));
    case 'jump':
      return selectIndex(state, action.rows, action.to === 'first' ? 0 : action.rows.keys.length - 1);
    case 'select': {
      const i = action.rows.keys.indexOf(action.key);
      return i < 0 ? state : selectIndex(state, action.rows, i);
    }
    case 'sortNext': {
      if (state.view === 'sockets') {
        const key = nextSortKey(SOCKET_SORT_KEYS, state.socketSort.key, action.delta, action.columns);
        return key === state.socketSort.key ? state : { ...state, socketSort: { key, descending: socketSortDescending(key) } };
      }
      const key = nextSortKey(GROUP_SORT_KEYS, state.groupSort.key, action.delta, action.columns);
      return key === state.groupSort.key ? state : { ...state, groupSort: { key, descending: key !== 'key' } };
    }
    case 'sortBy':
      return sortBy(state, action.key);
    case 'openSortMenu': {
      if (action.columns.length === 0) return state;
      const current = currentSortKey(state);
      return { ...state, help: false, sortMenu: { cursor: action.columns.includes(current) ? current : (action.columns[0] ?? current) } };
    }
    case 'sortMenuMove': {
      if (state.sortMenu === null || action.columns.length === 0) return state;
      const n = action.columns.length;
      const at = action.columns.indexOf(state.sortMenu.cursor);
      const i = action.to === 'first' ? 0 : action.to === 'last' ? n - 1 : (((at < 0 ? 0 : at + (action.delta ?? 0)) % n) + n) % n;
      return { ...state, sortMenu: { cursor: action.columns[i] ?? state.sortMenu.cursor } };
    }
    case 'sortMenuChoose': {
      if (state.sortMenu === null) return state;
      return { ...sortBy(state, action.key ?? state.sortMenu.cursor), sortMenu: null };
    }
    case 'sortReverse':
      return state.view === 'sockets'
        ? { ...state, socketSort: { ...state.socketSort, descending: !state.socketSort.descending } }
        : { ...state, groupSort: { ...state.groupSort, descending: !state.groupSort.descending } };
    case 'openPrompt': {
      const before = { filterText: state.filterText, selectedKey: state.selectedKey, selectedIndex: state.selectedIndex };
      const prompt: Prompt =
        action.kind === 'filter'
          ? { kind: 'filter', text: state.filterText, error: null, before }
          : action.kind === 'search'
            ? { kind: 'search', text: '', error: null, notFound: false }
            : { kind: action.kind, text: '', error: null };
      return { ...state, help: false, sortMenu: null, prompt };
    }
    case 'promptInput': {
      const prompt = state.prompt;
      if (prompt === null) return state;
      if (prompt.kind === 'search') {
        const typed = { ...prompt, text: action.text };
        return action.rows === undefined ? { ...state, prompt: typed } : searchStep(state, typed, action.rows, false);
      }
      if (prompt.kind !== 'filter') return { ...state, prompt: { ...prompt, text: action.text, error: null } };
      // The filter applies as it is typed (htop's F4) whenever the text parses; meanwhile the
      // last valid one stays and the error shows where the text goes wrong.
      const result = promptToFilter('filter', action.text, filterOptions);
      if (typeof result !== 'string') return { ...state, prompt: { ...prompt, text: action.text, error: result.error } };
      const changed = result !== state.filterText;
      return {
        ...state,
        prompt: { ...prompt, text: action.text, error: null },
        filterText: result,
        selectedIndex: changed ? 0 : state.selectedIndex,
        selectedKey: changed ? null : state.selectedKey,
      };
    }
    case 'searchNext':
      return state.prompt?.kind === 'search' ? searchStep(state, state.prompt, action.rows, true) : state;
    case 'promptSubmit': {
      if (state.prompt === null) return state;
      if (state.prompt.kind === 'marker') return { ...state, prompt: null, view: 'compare', selectedKey: null, selectedIndex: 0 };
      // The search moved the selection as it was typed: Enter keeps it.
      if (state.prompt.kind === 'search') return { ...state, prompt: null };
      const result = promptToFilter(state.prompt.kind, state.prompt.text, filterOptions);
      if (typeof result !== 'string') return { ...state, prompt: { ...state.prompt, error: result.error } };
      // Quick filters (port, state) show matching sockets, so they switch to the socket table.
      const view = state.prompt.kind === 'filter' ? state.view : 'sockets';
      // A new filter lists other rows: the selection starts again at the top.
      const changed = result !== state.filterText || view !== state.view;
      return {
        ...state,
        prompt: null,
        filterText: result,
        view,
        selectedIndex: changed ? 0 : state.selectedIndex,
        selectedKey: changed ? null : state.selectedKey,
      };
    }
    case 'clearFilter':
      return state.filterText === '' ? { ...state, back: [] } : { ...state, filterText: '', back: [], selectedKey: null, selectedIndex: 0 };
    case 'openDetails':
      return { ...state, detailsKey: action.key, help: false, overlayScroll: 0 };
    case 'scrollOverlay': {
      const target = action.to === 'first' ? 0 : action.to === 'last' ? action.maxScroll : state.overlayScroll + (action.delta ?? 0);
      return { ...state, overlayScroll: Math.max(0, Math.min(action.maxScroll, target)) };
    }
    case 'rekey': {
      const selectedKey = state.selectedKey === null ? null : (action.keys.get(state.selectedKey) ?? state.selectedKey);
      const detailsKey = state.detailsKey === null ? null : (action.keys.get(state.detailsKey) ?? state.detailsKey);
      return selectedKey === state.selectedKey && detailsKey === state.detailsKey ? state : { ...state, selectedKey, detailsKey };
    }
    case 'jumpTo':
      return {
        ...state,
        view: action.view,
        selectedKey: action.key,
        selectedIndex: 0,
        detailsKey: null,
        help: false,
        overlayScroll: 0,
        prompt: null,
        sortMenu: null,
      };
    case 'drill':
      return leaveFor(state, 'sockets', action.filterText);
  }
}
