// buildFrame: everything one screen shows, from (session state, UI state, size, theme). Pure:
// no blessed, no clock, no /proc. The widgets draw a Frame and nothing else, so a value is on
// screen only if it is in the frame, and a test of the frame is a test of the screen.
//
// One filter, compiled once by the caller, is applied here to everything drawn: bars, chart,
// table or grouped view, diagram, counts and transitions. The header says "shown N of M".

import { formatBytesPerSec, formatPerSec, formatRttMs } from './rate-text.js';
import type { CompiledFilter } from '../filter/index.js';
import {
  groupByLocalPortSteps,
  groupByProcessSteps,
  groupByRemoteHostSteps,
  groupByRemotePortSteps,
  ListeningEndpoints,
  countByState,
  totalOf,
  type CountsByGroup,
  type GroupRow,
} from '../model/aggregate.js';
import { sumRatesByLocalPort, sumRatesByPeer, sumRatesByProcess, sumRatesByRemotePort, type RateGroup } from '../model/conn-rates.js';
import type { Finding } from '../model/findings.js';
import type { ListenerHealth } from '../model/listener-health.js';
import { compareWithMarker } from '../model/markers.js';
import { shownPicture, type SessionPicture, type SessionState } from '../model/session-store.js';
import { StateHistory } from '../model/state-history.js';
import { TCP_STATE_SHORT, explainState } from '../model/state-info.js';
import type { TcpInfo } from '../model/tcp-info.js';
import type { RateTrend } from '../model/rate-history.js';
import { countUnixPeersByProcess, type UnixPeer, type UnixPeerProcess } from '../model/unix-peers.js';
import { countTransitions } from '../model/transitions.js';
import type { ProtocolGroup, Snapshot, SocketRecord, TcpState } from '../model/types.js';
import {
  buildGroupTableView,
  buildHeaderView,
  buildSocketTableView,
  buildStateBarsView,
  loadingText,
  portKeyWidth,
  portSections,
  sortGroupsSteps,
  unixPeersNote,
  type HeaderView,
  type RefreshCost,
  type StateBarView,
  type TableView,
} from './dashboard-view.js';
import { buildDetailsView, wrap, type DetailLine } from './details-view.js';
import { footerKeys, helpLines } from './help.js';
import { buildCompareView, buildFindingsView } from './insight-views.js';
import { MIN_HEIGHT, MIN_WIDTH, computeLayout, type Layout, type Rect } from './layout.js';
import { buildSocketRowList, buildSocketRowListSteps, type SocketRowList, type SocketRowsInput } from './socket-rows.js';
import { runSteps } from '../model/sort-steps.js';
import { toAscii } from './ascii-fallback.js';
import { buildSortMenuView, type SortMenuView } from './sort-menu.js';
import { sparkline } from './text.js';
import { buildHistoryChartView, type HistoryChartView } from './history-chart.js';
import { DIAGRAM_STATES, buildStateDiagramView, type DiagramLine } from './state-diagram.js';
import { VIEW_TITLE, VIEWS, isGroupView, type PromptKind, type UiState, type ViewName } from './ui-state.js';

export interface FrameTheme {
  readonly ascii: boolean;
  /** Colours on screen (the chart draws markers without them); true when absent. */
  readonly color?: boolean;
}

/** The last known record of the socket in the details pane: readable after it closes. */
export interface DetailsMemory {
  readonly key: string;
  readonly record: SocketRecord;
  readonly closedAtMs: number | null;
}

/** What the frame needs besides the session and the UI state. */
export interface FrameContext {
  /** Replaces "live" in the header (a replay's position and speed), or null. */
  readonly modeLabel: string | null;
  readonly cost: RefreshCost | null;
  readonly scopeLabel: string | null;
  readonly timeZoneOffsetMin: number;
  /** Replaying a recording: the replay keys are in the footer and help. */
  readonly replay: boolean;
  readonly tcpInfo: { readonly key: string; readonly value: TcpInfo | 'pending' | 'unavailable' } | null;
  readonly details: DetailsMemory | null;
  /** Port → service name from /etc/services, shown next to ports in the by-port view; absent or null: none. */
  readonly serviceNames?: ReadonlyMap<number, string> | null;
}

export type MainPanel =
  | {
      readonly kind: 'table';
      readonly rect: Rect;
      readonly title: string;
      readonly table: TableView;
      readonly notes: readonly string[];
      readonly closedRows: number;
    }
  | {
      readonly kind: 'diagram';
      readonly rect: Rect;
      readonly title: string;
      readonly lines: readonly DiagramLine[];
      readonly selected: TcpState;
      readonly explanation: readonly string[];
    };

export interface OverlayView<Line> {
  readonly rect: Rect;
  readonly title: string;
  /** Only the lines that fit, from `scroll` on. */
  readonly lines: readonly Line[];
  readonly scroll: number;
  readonly maxScroll: number;
  readonly totalLines: number;
}

export interface Frame {
  readonly width: number;
  readonly height: number;
  /** "Terminal too small" text, or null: nothing else is drawn when set. */
  readonly tooSmall: string | null;
  /** Before the first snapshot: only the header line and the footer. */
  readonly loading: boolean;
  readonly layout: Layout;
  readonly header: HeaderView | null;
  readonly bars: { readonly rect: Rect; readonly rows: readonly StateBarView[] } | null;
  /** The history chart (history-chart.ts), composed for its box; null when there is no room. */
  readonly chart: (HistoryChartView & { readonly rect: Rect }) | null;
  readonly main: MainPanel | null;
  readonly footer: { readonly rect: Rect; readonly keys: readonly (readonly [string, string])[] };
  readonly prompt: {
    readonly rect: Rect;
    readonly title: string;
    /** What its keys do, for the border. */
    readonly hint: string;
    readonly text: string;
    readonly error: string | null;
    /** Shown after the text: "not found" when the search matches no row, else ''. */
    readonly status: string;
  } | null;
  /** The sort menu (F6), or null when closed. */
  readonly sortMenu: SortMenuView | null;
  /** The view's sortable columns in order, what the sort menu lists (none: the view does not sort). */
  readonly sortOptions: readonly string[];
  /** Row `index`'s text (of rowKeys' order), lower case, for the search. */
  rowSearchText(index: number): string;
  readonly details: (OverlayView<DetailLine> & { readonly memory: DetailsMemory | null }) | null;
  readonly help: OverlayView<string> | null;
  /** Keys of the rows listed now, in order (movement actions need them). */
  rowKeys(): readonly string[];
  /** Rows per page of the table. */
  readonly pageSize: number;
  /** The row the selection is on now (under the current filter), or null when none is listed. */
  readonly selectedKey: string | null;
  /** The record of the selected socket row (view 1), or of the details socket. */
  readonly selectedRecord: SocketRecord | null;
  readonly findings: readonly Finding[];
  /** Sockets matching the filter (live, tombstones not counted) and all sockets read. */
  readonly counts: { readonly matched: number; readonly total: number };
}

const PROMPT_TITLE = {
  filter: 'Filter',
  port: 'Port',
  state: 'State',
  marker: 'Marker name (Enter: automatic)',
  search: 'Search',
} as const satisfies Record<PromptKind, string>;

/** What the prompt's keys do, in its border (the footer lists them too). */
const PROMPT_HINT = {
  filter: 'Enter apply, Esc cancel · applied as you type',
  port: 'Enter apply, Esc cancel',
  state: 'Enter apply, Esc cancel',
  marker: 'Enter apply, Esc cancel',
  search: 'F3 next, Enter/Esc close',
} as const satisfies Record<PromptKind, string>;

type FrameCacheSlot =
  'rows' | 'counts' | 'groups' | 'group-rates' | 'backlogs' | 'search-text' | 'unix-peers' | 'listening' | 'partial-history' | 'shown';

/**
 * Memo of the costly parts (rows of 100k sockets, filtered counts), keyed on the identity of
 * their inputs: the same inputs give the same result, so it never changes what a frame shows.
 */
export class FrameCache {
  private readonly slots = new Map<string, { readonly key: readonly unknown[]; readonly value: unknown }>();
  /**
   * Set while the socket table's rows of a new snapshot are built in steps (prepareFrameSteps):
   * a frame drawn meanwhile (a key) shows the last rows built under the same filter and sort
   * rather than building them in one block; the frame drawn when they are ready shows the new ones.
   */
  preparingRows = false;
  /**
   * From this many sockets on, a frame does not build a view's rows in one block when they are
   * not made yet (a view just switched to): it shows the last socket rows under the same filter
   * and sort, or an empty grouped view ("counting…"), and sets `deferred`; the dashboard then
   * builds them in slices (prepareFrameSteps) and draws again. Infinity (tests, --once): never.
   */
  deferFromSockets = Infinity;
  /** Set by a frame that showed rows not yet made for it (see deferFromSockets); the dashboard clears it. */
  deferred = false;

  /** The value made for `key` in `slot` (compared element by element, by identity), else a new one. */
  memo<T>(slot: FrameCacheSlot, key: readonly unknown[], make: (previous: T | null) => T): T {
    const old = this.slots.get(slot);
    if (old !== undefined && sameKey(old.key, key)) return old.value as T;
    // The slot's last value (made for other inputs) is offered to `make` to build on incrementally.
    const value = make(old === undefined ? null : (old.value as T));
    this.slots.set(slot, { key, value });
    return value;
  }

  /** The slot's value and the key it was made for, if any. */
  last<T>(slot: FrameCacheSlot): { readonly key: readonly unknown[]; readonly value: T } | null {
    const old = this.slots.get(slot);
    return old === undefined ? null : { key: old.key, value: old.value as T };
  }

  /** Keeps `value` as made for `key` in `slot` (a value made in steps). */
  store(slot: FrameCacheSlot, key: readonly unknown[], value: unknown): void {
    this.slots.set(slot, { key, value });
  }
}

const sameKey = (a: readonly unknown[], b: readonly unknown[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The value kept in `slot` when it was made for the previous snapshot with everything else of
 * `key` the same (its first element is the snapshot), and no record changed between the two (the
 * tracker's last turnover is empty: a quiet host, or a static proc tree): it holds for this
 * snapshot too, and is kept under `key`. Else undefined.
 */
function carriedOver<T>(cache: FrameCache, slot: FrameCacheSlot, key: readonly unknown[], session: SessionState): T | undefined {
  const last = cache.last<T>(slot);
  if (last === null || last.key.length !== key.length || !last.key.every((v, i) => i === 0 || v === key[i])) return undefined;
  const turnover = session.tracker.lastTurnover();
  if (turnover.from !== last.key[0] || turnover.to !== key[0] || turnover.removed.length > 0 || turnover.added.length > 0) return undefined;
  cache.store(slot, key, last.value);
  return last.value;
}

export interface FrameInput {
  readonly session: SessionState;
  readonly ui: UiState;
  readonly size: { readonly width: number; readonly height: number };
  readonly theme: FrameTheme;
  /** The UI state's filterText compiled once (null: everything). */
  readonly filter: CompiledFilter | null;
  readonly context: FrameContext;
  readonly cache?: FrameCache;
}

const groupTotals = (c: CountsByGroup): Record<ProtocolGroup, number> => ({
  tcp: totalOf(c.tcp),
  udp: totalOf(c.udp),
  raw: totalOf(c.raw),
  unix: totalOf(c.unix),
});
const sumOf = (t: Record<ProtocolGroup, number>): number => t.tcp + t.udp + t.raw + t.unix;

/**
 * What the compare view counts, said under its table: the marker's filter applies to both sides
 * (not the screen's, which may have changed since), and kernel counters are machine-wide.
 */
function compareNotes(markerFilter: string | null, screenFilter: string | null, width: number): string[] {
  const lines: string[] = [];
  if (markerFilter !== null)
    lines.push(`Sockets counted under the marker's filter "${markerFilter}", then and now; kernel counters are machine-wide.`);
  if (screenFilter !== markerFilter)
    lines.push(
      markerFilter === null
        ? `The filter "${screenFilter ?? ''}" is not applied here: the marker counted every socket. Drop a marker under it (m) to compare it.`
        : screenFilter === null
          ? "The screen shows every socket; this comparison keeps the marker's filter."
          : `The filter "${screenFilter}" is not applied here: the marker was dropped under another.`,
    );
  return lines.flatMap((l) => wrap(l, width, '')).slice(0, 4);
}

/** Exact backlogs (from ss) of LISTEN sockets by socket key, for the Send-Q column. */
function exactBacklogs(listeners: readonly ListenerHealth[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of listeners) if (l.backlogSource === 'ss' && l.backlog !== null) out.set(l.key, l.backlog);
  return out;
}

function clampIndex(i: number, n: number): number {
  return n === 0 ? 0 : Math.max(0, Math.min(n - 1, i));
}

/** What the socket table's rows are made from, and the memo key they are kept under. */
function socketRowsRequest(
  input: FrameInput,
  picture: SessionPicture,
  cache: FrameCache,
): { readonly key: readonly unknown[]; readonly input: SocketRowsInput; readonly filterText: string } {
  const { session, ui, filter } = input;
  const snapshot = picture.snapshot;
  const filterText = filter === null ? '' : ui.filterText;
  const withTombstones = !session.paused;
  const backlogs = cache.memo('backlogs', [picture.listeners], () => exactBacklogs(picture.listeners));
  const rates = session.connRates !== null && session.connRates.ok ? session.connRates.rates : undefined;
  const unixPeers = session.unixPeers ?? undefined;
  return {
    key: [
      snapshot,
      filterText,
      ui.socketSort.key,
      ui.socketSort.descending,
      withTombstones ? session.tracker.currentTombstones() : null,
      backlogs,
      rates,
      unixPeers,
    ],
    input: {
      sockets: snapshot.sockets,
      takenAtMs: snapshot.takenAtMs,
      tracker: session.tracker,
      filter,
      sort: ui.socketSort,
      tombstones: withTombstones,
      backlogs,
      rates,
      unixPeers,
    },
    filterText,
  };
}

/** The last socket rows made (for any frame), sorted in steps when left unsorted (see SocketRowList#sortSteps). */
export function* sortRowsSteps(cache: FrameCache): Generator<void, void> {
  const last = cache.last<SocketRowList>('rows');
  if (last !== null) yield* last.value.sortSteps();
}

/** Two group keys (groupRowsRequest) of the same view, filter and sort: one stands in for the other while it is made. */
const sameGroupOrder = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  a[1] === b[1] && a[2] === b[2] && a[3] === b[3] && a[4] === b[4];

/** A grouped view's rows while they are counted (FrameCache#deferFromSockets): none, the table says so. */
const COUNTING: GroupRow[] = [];

/** Two rows keys (socketRowsRequest) of the same filter and sort: the order of one stands in for the other's while it is built. */
const sameOrder = (a: readonly unknown[], b: readonly unknown[]): boolean => a[1] === b[1] && a[2] === b[2] && a[3] === b[3];

/**
 * What the next frame of `input` would build in one block, built now in steps (pausing at each
 * `yield`) into `input.cache`: the socket table's rows of a new snapshot (merged into the last
 * order, or a new filter's or sort's order sorted). The dashboard runs it in time slices after a
 * snapshot's ingest, so a key never waits behind it; the frame then finds the rows made.
 */
export function* prepareFrameSteps(input: FrameInput): Generator<void, void> {
  const cache = input.cache;
  const picture = shownPicture(input.session);
  if (cache === undefined || picture === null || picture.snapshot.partial !== undefined) return;
  const view = input.ui.view;
  if (isGroupView(view)) {
    const request = groupRowsRequest(input, picture, cache, view);
    const last = cache.last<GroupRow[]>('groups');
    if (last !== null && sameKey(last.key, request.key)) return;
    if (carriedOver(cache, 'groups', request.key, input.session) === undefined) cache.store('groups', request.key, yield* request.steps());
    // By process: the UNIX peers under the table, made here rather than in the frame.
    const peers = input.session.unixPeers;
    if (view === 'processes' && peers !== null) {
      yield;
      unixPeersOf(input, picture.snapshot, cache, peers);
    }
    return;
  }
  if (view !== 'sockets') return;
  const request = socketRowsRequest(input, picture, cache);
  const last = cache.last<SocketRowList>('rows');
  if (last !== null && sameKey(last.key, request.key)) return;
  const list = yield* buildSocketRowListSteps(request.input, last?.value ?? null, request.filterText);
  cache.store('rows', request.key, list);
}

/** The sockets under the filter (all of them without one), made once per snapshot and filter, in steps. */
function* shownSocketsSteps(input: FrameInput, snapshot: Snapshot, cache: FrameCache): Generator<void, readonly SocketRecord[]> {
  const filter = input.filter;
  if (filter === null) return snapshot.sockets;
  const key = [snapshot, input.ui.filterText];
  const last = cache.last<readonly SocketRecord[]>('shown');
  if (last !== null && sameKey(last.key, key)) return last.value;
  const carried = carriedOver<readonly SocketRecord[]>(cache, 'shown', key, input.session);
  if (carried !== undefined) return carried;
  const out: SocketRecord[] = [];
  const all = snapshot.sockets;
  for (let i = 0; i < all.length; i++) {
    if (i % 8192 === 8191) yield;
    const s = all[i] as SocketRecord;
    if (filter(s)) out.push(s);
  }
  cache.store('shown', key, out);
  return out;
}

/** Per process, the holders of the other ends of its shown UNIX sockets. */
function unixPeersOf(
  input: FrameInput,
  snapshot: Snapshot,
  cache: FrameCache,
  peers: ReadonlyMap<number, UnixPeer>,
): ReadonlyMap<string, readonly UnixPeerProcess[]> {
  const key = [snapshot, input.filter === null ? '' : input.ui.filterText, peers];
  return (
    carriedOver<ReadonlyMap<string, readonly UnixPeerProcess[]>>(cache, 'unix-peers', key, input.session) ??
    cache.memo('unix-peers', key, () => countUnixPeersByProcess(runSteps(shownSocketsSteps(input, snapshot, cache)), peers))
  );
}

/** Rates summed per group over the same filtered sockets the groups count (null: no rates yet). */
function groupRatesOf(
  input: FrameInput,
  snapshot: Snapshot,
  cache: FrameCache,
  view: 'ports' | 'peers' | 'processes',
): ReadonlyMap<string, RateGroup> | null {
  const { session, filter } = input;
  const connRateMap = session.connRates !== null && session.connRates.ok ? session.connRates.rates : null;
  const filterText = filter === null ? '' : input.ui.filterText;
  if (connRateMap === null) return null;
  const key = [snapshot, view, filterText, connRateMap];
  return (
    carriedOver<ReadonlyMap<string, RateGroup>>(cache, 'group-rates', key, session) ??
    cache.memo('group-rates', key, () => {
      const sockets = runSteps(shownSocketsSteps(input, snapshot, cache));
      if (view === 'ports') {
        const listening = listeningOf(snapshot, cache, input.session);
        return new Map(
          [...sumRatesByLocalPort(sockets, connRateMap, listening), ...sumRatesByRemotePort(sockets, connRateMap, listening)].map((r) => [
            r.key,
            r,
          ]),
        );
      }
      const sum = view === 'peers' ? sumRatesByPeer : sumRatesByProcess;
      return new Map(sum(sockets, connRateMap).map((r) => [r.key, r]));
    })
  );
}

/**
 * Ports listened on, from every socket read: a filter that hides the listeners does not make
 * their accepted connections look like clients.
 */
const listeningOf = (snapshot: Snapshot, cache: FrameCache, session: SessionState): ListeningEndpoints =>
  carriedOver<ListeningEndpoints>(cache, 'listening', [snapshot], session) ??
  cache.memo('listening', [snapshot], () => new ListeningEndpoints(snapshot.sockets));

/** A grouped view's rows (counted, then sorted) and the memo key they are kept under. */
function groupRowsRequest(
  input: FrameInput,
  picture: SessionPicture,
  cache: FrameCache,
  view: 'ports' | 'peers' | 'processes',
): { readonly key: readonly unknown[]; steps(): Generator<void, GroupRow[]> } {
  const { session, ui, filter } = input;
  const snapshot = picture.snapshot;
  const filterText = filter === null ? '' : ui.filterText;
  const connRateMap = session.connRates !== null && session.connRates.ok ? session.connRates.rates : null;
  return {
    key: [snapshot, view, filterText, ui.groupSort.key, ui.groupSort.descending, connRateMap],
    *steps() {
      const sockets = yield* shownSocketsSteps(input, snapshot, cache);
      yield;
      const rates = groupRatesOf(input, snapshot, cache, view);
      yield;
      // By port: the service ports, then the remote ports of client-side sockets (each part sorted).
      if (view === 'ports') {
        const listening = listeningOf(snapshot, cache, input.session);
        yield;
        const local = yield* sortGroupsSteps(yield* groupByLocalPortSteps(sockets, listening), ui.groupSort, rates);
        const remote = yield* sortGroupsSteps(yield* groupByRemotePortSteps(sockets, listening), ui.groupSort, rates);
        const rows = portSections(local, remote);
        yield;
        // The Port column's width over every row, kept for the frame (one pass over tens of thousands of ports).
        portKeyWidth(rows, input.context.serviceNames ?? null);
        return rows;
      }
      const raw = view === 'peers' ? yield* groupByRemoteHostSteps(sockets) : yield* groupByProcessSteps(sockets);
      return yield* sortGroupsSteps(raw, ui.groupSort, rates);
    },
  };
}

export function buildFrame(input: FrameInput): Frame {
  const { session, ui, theme, filter, context } = input;
  const { width, height } = input.size;
  const cache = input.cache ?? new FrameCache();
  const layout = computeLayout(width, height, 6);
  const picture = shownPicture(session);
  const replay = context.replay;
  const empty = {
    sortMenu: null,
    sortOptions: [] as string[],
    rowSearchText: () => '',
    rowKeys: () => [] as string[],
    pageSize: 1,
    selectedKey: null,
    selectedRecord: null,
    findings: [] as Finding[],
    counts: { matched: 0, total: 0 },
  };
  const overlayRect: Rect = { top: layout.header.height, left: 0, width, height: Math.max(3, height - layout.header.height - 1) };

  if (layout.tooSmall) {
    return {
      width,
      height,
      tooSmall: `Terminal too small: ${width}x${height}.\nsockscope needs at least ${MIN_WIDTH}x${MIN_HEIGHT}.\nEnlarge the window, or press q to quit.`,
      loading: false,
      layout,
      header: null,
      bars: null,
      chart: null,
      main: null,
      footer: { rect: layout.footer, keys: [] },
      prompt: null,
      details: null,
      help: null,
      ...empty,
    };
  }
  const help = ui.help ? overlay(overlayRect, 'Help — ? or Esc to close', helpLines(width - 2, replay), ui.overlayScroll) : null;
  if (picture === null) {
    return {
      width,
      height,
      tooSmall: null,
      loading: true,
      layout,
      header: null,
      bars: null,
      chart: null,
      main: null,
      footer: { rect: layout.footer, keys: [['q', 'quit']] },
      prompt: null,
      details: null,
      help,
      ...empty,
    };
  }

  const snapshot = picture.snapshot;
  // A partial first snapshot (Snapshot.partial): its rows are the first lines of each table; the
  // counts of every socket come from the snapshot's exact tally, never from the rows.
  const partial = snapshot.partial ?? null;
  const allCounts: CountsByGroup = partial?.counts ?? picture.counts;
  const filterText = filter === null ? '' : ui.filterText;
  // Counts under the filter: the store's when it counted the same filter, else once here.
  // (Partial and filtered: counts of the rows read only; the header and bars say loading.)
  const matchedCounts =
    filter === null
      ? allCounts
      : picture.matched?.filterText === filterText
        ? picture.matched.counts
        : cache.memo('counts', [picture, filterText], () => countByState(snapshot.sockets.filter(filter)));
  const totals = groupTotals(allCounts);
  const matchedTotals = groupTotals(matchedCounts);
  const matched = sumOf(matchedTotals);
  const total = sumOf(totals);

  // The state diagram shows every count itself: it takes the bars' place when they stack.
  const diagramOnly = ui.view === 'states' && layout.bars !== null && layout.history === null;
  const tableRect: Rect =
    diagramOnly && layout.bars !== null
      ? { ...layout.table, top: layout.bars.top, height: layout.table.height + layout.bars.height }
      : layout.table;
  const innerWidth = tableRect.width - 2;
  const pageSize = Math.max(1, tableRect.height - 3);
  // A prompt covers the table's last two rows: the rows drawn stop above it, so the row a search
  // selects is never hidden under the search prompt.
  const rowsShown = ui.prompt === null ? pageSize : Math.max(1, pageSize - 2);
  // Rows the table shows (fewer when notes take lines under it): PgUp/PgDn step by it.
  let shownRows = rowsShown;

  const socketRows = (): SocketRowList => {
    const request = socketRowsRequest(input, picture, cache);
    // While the new snapshot's rows are built in steps, a frame for a key shows the last ones.
    const last = cache.last<SocketRowList>('rows');
    // A view switched to at scale (deferFromSockets): the last rows too, the new ones made in slices next.
    const defer = snapshot.sockets.length >= cache.deferFromSockets && last !== null && last.key[0] !== snapshot;
    if (last !== null && (cache.preparingRows || defer) && !sameKey(last.key, request.key) && sameOrder(last.key, request.key)) {
      if (!cache.preparingRows) cache.deferred = true;
      return last.value;
    }
    // The last list (another snapshot) lets only the changed records be sorted.
    return cache.memo('rows', request.key, (previous: SocketRowList | null) =>
      buildSocketRowList(request.input, previous, request.filterText),
    );
  };
  const groupRates = (view: 'ports' | 'peers' | 'processes'): ReadonlyMap<string, RateGroup> | null =>
    groupRatesOf(input, snapshot, cache, view);
  const groups = (view: 'ports' | 'peers' | 'processes'): GroupRow[] => {
    const request = groupRowsRequest(input, picture, cache, view);
    const last = cache.last<GroupRow[]>('groups');
    if (last !== null && sameKey(last.key, request.key)) return last.value;
    const carried = carriedOver<GroupRow[]>(cache, 'groups', request.key, session);
    if (carried !== undefined) return carried;
    // While a new snapshot's groups are made in slices, a frame for a key shows the last ones;
    // at scale (new rates, another snapshot) too, and the new ones are made in slices next.
    const big = snapshot.sockets.length >= cache.deferFromSockets;
    if (last !== null && (cache.preparingRows || big) && sameGroupOrder(last.key, request.key)) {
      if (!cache.preparingRows) cache.deferred = true;
      return last.value;
    }
    // A view switched to at scale: nothing yet ("counting…"), the groups made in slices next.
    if (big) {
      cache.deferred = true;
      return COUNTING;
    }
    return cache.memo('groups', request.key, () => runSteps(request.steps()));
  };
  // Per process, the holders of the other ends of its shown UNIX sockets (null: no ss -xH read yet).
  const unixPeersByProcess = (): ReadonlyMap<string, readonly UnixPeerProcess[]> | null => {
    const peers = session.unixPeers;
    if (peers === null) return null;
    // At scale, the last ones until the slices after this frame have made these (FrameCache#deferFromSockets).
    const last = cache.last<ReadonlyMap<string, readonly UnixPeerProcess[]>>('unix-peers');
    if (snapshot.sockets.length >= cache.deferFromSockets && (last === null || !sameKey(last.key, [snapshot, filterText, peers]))) {
      if (carriedOver(cache, 'unix-peers', [snapshot, filterText, peers], session) === undefined) {
        cache.deferred = true;
        return last?.value ?? null;
      }
    }
    return unixPeersOf(input, snapshot, cache, peers);
  };
  const comparison = (): ReturnType<typeof compareWithMarker> | null => {
    const marker = session.markers.at(-1);
    return marker === undefined ? null : compareWithMarker(marker, snapshot);
  };

  const view = ui.view;
  const title = titleOf(view, tableRect.width);
  let main: MainPanel;
  let rowKeys: () => readonly string[];
  let rowSearchText: (index: number) => string;
  let selectedKey: string | null;
  let selectedRecord: SocketRecord | null = null;
  if (view === 'states') {
    const i = ui.selectedKey === null ? -1 : DIAGRAM_STATES.indexOf(ui.selectedKey as TcpState);
    const index = i >= 0 ? i : clampIndex(ui.selectedIndex, DIAGRAM_STATES.length);
    const selected = DIAGRAM_STATES[index] ?? 'ESTABLISHED';
    main = {
      kind: 'diagram',
      rect: tableRect,
      title,
      lines: buildStateDiagramView(matchedCounts.tcp, theme.ascii),
      selected,
      explanation: diagramExplanation(selected, innerWidth, theme.ascii),
    };
    rowKeys = () => DIAGRAM_STATES;
    rowSearchText = (i) => {
      const state = DIAGRAM_STATES[i];
      return state === undefined ? '' : `${state} ${TCP_STATE_SHORT[state]}`.toLowerCase();
    };
    selectedKey = selected;
  } else {
    let table: TableView;
    let notes: string[] = [];
    let closedRows = 0;
    // The rows' search text, kept while the same rows are listed: a search typed over 100k rows
    // formats each row once per refresh, not once per keystroke.
    let searchSource: object | null = null;
    if (view === 'sockets') {
      const rows = socketRows();
      table = buildSocketTableView(rows, ui, { width: innerWidth, height: rowsShown });
      closedRows = rows.closedRows;
      rowKeys = () => rows.keys();
      searchSource = rows;
      const row = rows.at(table.selectedIndex);
      selectedKey = row?.key ?? null;
      selectedRecord = row?.record ?? null;
    } else if (partial !== null && view !== 'compare') {
      // Findings and per-port, per-peer, per-process numbers of a part of the sockets would read
      // as the machine's: nothing until the full snapshot.
      const size = { width: innerWidth, height: rowsShown };
      const empty = isGroupView(view)
        ? buildGroupTableView(view, [], ui, size, null, null, null, null)
        : buildFindingsView({ findings: [], nowMs: snapshot.takenAtMs }, ui, size);
      table = { ...empty, emptyText: 'loading…' };
      rowKeys = () => [];
      selectedKey = null;
    } else if (view === 'findings') {
      shownRows = Math.max(1, rowsShown - 4);
      table = buildFindingsView({ findings: picture.findings, nowMs: snapshot.takenAtMs }, ui, { width: innerWidth, height: shownRows });
      const f = picture.findings[table.selectedIndex];
      selectedKey = f?.id ?? null;
      if (f !== undefined) notes = [...wrap(f.detail, innerWidth, ''), `Enter: show these sockets (${f.filter})`];
      rowKeys = () => picture.findings.map((x) => x.id);
    } else if (view === 'compare') {
      const c = comparison();
      notes = c === null ? [] : compareNotes(c.marker.filter?.text ?? null, filterText === '' ? null : filterText, innerWidth);
      if (notes.length > 0) shownRows = Math.max(1, rowsShown - notes.length - 1);
      table = buildCompareView(c, ui, { width: innerWidth, height: shownRows });
      const keys = (): string[] => buildCompareView(c, ui, { width: 80, height: 100_000 }).rows.map((r) => r.key);
      rowKeys = keys;
      selectedKey = table.rows.find((r) => r.selected)?.key ?? null;
    } else if (isGroupView(view)) {
      const g = groups(view);
      const unixPeers = view === 'processes' ? unixPeersByProcess() : null;
      // By process: the selected process's UNIX peers in full under the table (blank line + up to 2 lines).
      if (unixPeers !== null) {
        const i = ui.selectedKey === null ? -1 : g.findIndex((x) => x.key === ui.selectedKey);
        const row = g[i >= 0 ? i : clampIndex(ui.selectedIndex, g.length)];
        const peers = row === undefined || row.pid === null ? undefined : unixPeers.get(row.key);
        if (row !== undefined && row.pid !== null && peers !== undefined && peers.length > 0)
          notes = wrap(unixPeersNote(row.pid, row.process ?? '?', peers), innerWidth, '').slice(0, 2);
        if (notes.length > 0) shownRows = Math.max(1, rowsShown - notes.length - 1);
      }
      table = buildGroupTableView(
        view,
        g,
        ui,
        { width: innerWidth, height: shownRows },
        view === 'ports' ? picture.listenerSummary : null,
        groupRates(view),
        view === 'ports' ? (context.serviceNames ?? null) : null,
        unixPeers,
      );
      if (g === COUNTING) table = { ...table, emptyText: 'counting…' };
      rowKeys = () => g.map((x) => x.key);
      searchSource = g;
      selectedKey = g[table.selectedIndex]?.key ?? null;
    } else {
      throw new Error(`unknown view ${String(view)}`);
    }
    const text = table.searchText ?? (() => '');
    if (searchSource === null) rowSearchText = text;
    else {
      const memo = cache.memo('search-text', [searchSource, view], () => [] as (string | undefined)[]);
      rowSearchText = (i) => (memo[i] ??= text(i));
    }
    // The sort is named in the label (renderTable adds it): it goes before the view tabs.
    const tableTitle =
      partial === null
        ? titleOf(view, tableRect.width, table.sortLabel ?? '')
        : partialTitle(view, partial, tableRect.width, view === 'sockets' ? (table.sortLabel ?? '') : '');
    main = { kind: 'table', rect: tableRect, title: tableTitle, table, notes, closedRows };
  }
  if (partial !== null && main.kind === 'diagram') main = { ...main, title: partialTitle(view, partial, tableRect.width, '') };

  const transitions = picture.diff === null ? null : countTransitions(picture.diff, filter ?? undefined);
  const conn = session.connRates;
  const header = buildHeaderView({
    throughput:
      conn !== null && conn.ok && conn.total.withRate > 0
        ? {
            sendBytesPerSec: conn.total.sendBytesPerSec,
            recvBytesPerSec: conn.total.recvBytesPerSec,
            ageMs: Math.max(0, snapshot.takenAtMs - conn.asOfMs),
            spaced: conn.spaced ?? null,
          }
        : null,
    host: snapshot.host,
    takenAtMs: snapshot.takenAtMs,
    intervalMs: ui.intervalMs,
    paused: ui.paused,
    mode: context.modeLabel,
    totals,
    shown: matched,
    matchedTotals: filter === null ? null : matchedTotals,
    rates: picture.rates,
    openedPerSec: transitions?.openedPerSec ?? 0,
    closedPerSec: transitions?.closedPerSec ?? 0,
    filterText: ui.filterText,
    notice: picture.notice,
    ownersPending: snapshot.owners.pending === true,
    scope: context.scopeLabel,
    findingsList: partial === null ? picture.findings : [],
    transitions: (transitions?.transitions ?? []).filter((t) => t.perSec > 0 && t.from !== t.to).map((t) => [t.label, t.perSec] as const),
    cost: context.cost,
    timeZoneOffsetMin: context.timeZoneOffsetMin,
    loading: partial,
  });

  // The history of a partial snapshot is its one exact sample (the session's holds the rows' counts);
  // under a filter none is known yet.
  const stateHistory = (): StateHistory | null =>
    partial !== null
      ? filter === null
        ? cache.memo('partial-history', [partial], () => exactHistory(snapshot.takenAtMs, allCounts))
        : null
      : filter === null
        ? session.history
        : session.filteredHistory?.filterText === filterText
          ? session.filteredHistory.history
          : null;
  let bars: Frame['bars'] = null;
  if (layout.bars !== null && !diagramOnly) {
    const inner = { width: layout.bars.width - 2, height: layout.bars.height - 2 };
    const rows = buildStateBarsView(matchedCounts.tcp, stateHistory() ?? emptyHistory(), inner, theme.ascii, layout.history === null);
    // Partial and filtered: the rows read say nothing of the sockets the filter matches.
    bars = {
      rect: layout.bars,
      rows:
        partial !== null && filter !== null ? rows.map((r) => ({ ...r, count: '…'.padStart(r.count.length), bar: '', trend: '' })) : rows,
    };
  }
  let chart: Frame['chart'] = null;
  if (layout.history !== null) {
    const history = stateHistory();
    const view =
      history === null
        ? null
        : buildHistoryChartView({
            samples: history.all(),
            nowMs: snapshot.takenAtMs,
            intervalMs: ui.intervalMs,
            width: layout.history.width - 2,
            height: layout.history.height - 2,
            color: theme.color ?? true,
            ascii: theme.ascii,
          });
    if (view !== null) chart = { ...view, rect: layout.history };
  }

  const prompt = ui.prompt;
  const promptView: Frame['prompt'] =
    prompt === null
      ? null
      : {
          rect: { top: layout.footer.top - 3, left: 0, width, height: 3 },
          title: PROMPT_TITLE[prompt.kind],
          hint: PROMPT_HINT[prompt.kind],
          text: prompt.text,
          error: prompt.error,
          status: prompt.notFound === true ? 'not found' : '',
        };

  const sortOptions = main.kind === 'table' ? (main.table.sortOptions ?? []) : [];
  const sortMenu =
    ui.sortMenu === null || sortOptions.length === 0
      ? null
      : buildSortMenuView({
          options: sortOptions,
          sort: view === 'sockets' ? ui.socketSort : ui.groupSort,
          cursor: ui.sortMenu.cursor,
          anchor: tableRect,
          area: { top: layout.header.height, left: 0, width, height: layout.footer.top - layout.header.height },
        });

  let details: Frame['details'] = null;
  if (ui.detailsKey !== null) {
    const memory = resolveDetails(ui.detailsKey, view === 'sockets' ? socketRows() : null, picture, context.details, snapshot.takenAtMs);
    const info = context.tcpInfo !== null && context.tcpInfo.key === ui.detailsKey ? context.tcpInfo.value : null;
    const lines: DetailLine[] =
      memory === null
        ? [{ text: 'This socket is gone.', style: 'muted', color: null }]
        : buildDetailsView({
            record: memory.record,
            info: session.tracker.infoOf(ui.detailsKey),
            closedAtMs: memory.closedAtMs,
            samples: session.tracker.queueSamples(),
            tcpInfo: info,
            nowMs: snapshot.takenAtMs,
            width: width - 4,
            ascii: theme.ascii,
            listener: memory.record.state === 'LISTEN' ? (picture.listeners.find((l) => l.key === memory.record.key) ?? null) : null,
          });
    // Rates from ss (tcp_info deltas) under the title line, when this connection has them.
    const rate =
      memory === null || session.connRates === null || !session.connRates.ok ? undefined : session.connRates.rates.get(memory.record.key);
    if (rate !== undefined && lines.length >= 2) {
      const rtt =
        rate.rttMs === null ? '' : `  rtt ${formatRttMs(rate.rttMs)}${rate.rttVarMs === null ? '' : ` ± ${formatRttMs(rate.rttVarMs)}`}`;
      const trend = memory === null ? undefined : session.rateHistory.perConnection.get(memory.record.key);
      lines.splice(
        2,
        0,
        {
          text: `  ${'bytes/s'.padEnd(16)} out ${formatBytesPerSec(rate.sendBytesPerSec)}  in ${formatBytesPerSec(rate.recvBytesPerSec)}  retrans ${formatPerSec(rate.retransPerSec)}${rtt}`,
          style: 'normal',
          color: null,
        },
        ...(trend === undefined ? [] : rateTrendLines(trend, width - 4, theme.ascii)),
        { text: '', style: 'normal', color: null },
      );
    }
    details = { ...overlay(overlayRect, 'Details', lines, ui.overlayScroll), memory };
    selectedRecord = memory?.record ?? null;
  }

  const footer = {
    rect: layout.footer,
    keys: footerKeys(view, ui.detailsKey !== null, ui.paused, {
      helpOpen: ui.help,
      replay,
      hasFindings: picture.findings.length > 0,
      prompt: ui.prompt?.kind ?? null,
      sortMenuOpen: sortMenu !== null,
    }),
  };
  return {
    width,
    height,
    tooSmall: null,
    loading: false,
    layout,
    header,
    bars,
    chart,
    main,
    footer,
    prompt: promptView,
    sortMenu,
    sortOptions: sortOptions.map((o) => o.key),
    rowSearchText,
    details,
    help,
    rowKeys,
    pageSize: shownRows,
    selectedKey,
    selectedRecord,
    findings: partial === null ? picture.findings : [],
    counts: { matched, total },
  };
}

/** One sample of exact TCP counts: the bars' and chart's history of a partial snapshot. */
function exactHistory(atMs: number, counts: CountsByGroup): StateHistory {
  const history = new StateHistory(1);
  const tcp: Partial<Record<TcpState, number>> = {};
  for (const [state, n] of Object.entries(counts.tcp)) if (n !== undefined) tcp[state as TcpState] = n;
  history.push({ atMs, counts: tcp });
  return history;
}

/**
 * The panel title of a partial snapshot: "Sockets · loading: 2,048 of 101,234 sockets read;
 * sorted among those" (the view tabs give way), shorter where that does not fit.
 */
function partialTitle(view: ViewName, partial: NonNullable<Snapshot['partial']>, width: number, sortLabel: string): string {
  const loading = loadingText(partial);
  const among = view === 'sockets' ? '; sorted among those' : '';
  // Room for " title 2048/2048 · sort: … " as in titleOf.
  const sortRoom = sortLabel === '' ? 0 : sortLabel.length + 3;
  const long = `${VIEW_TITLE[view]} · ${loading}${among}`;
  if (long.length + 12 + sortRoom <= width - 4) return long;
  const short = `${VIEW_TITLE[view]} · ${loading.replace(' sockets read', ' read')}${view === 'sockets' ? ', sorted among those' : ''}`;
  if (short.length + 12 <= width - 4) return short;
  return `${VIEW_TITLE[view]} · ${loading.replace(' sockets read', '')}`;
}

/** Short view names for the tabs in the table's border. */
const VIEW_TAB: Record<ViewName, string> = {
  sockets: 'sockets',
  ports: 'ports',
  peers: 'peers',
  processes: 'procs',
  states: 'states',
  findings: 'findings',
  compare: 'compare',
};

/** The view tabs only while the label fits on the border: blessed wraps a longer label. */
function titleOf(view: ViewName, width: number, sortLabel = ''): string {
  // "1:sockets": the digit reads as the key, not as a count; the current view in brackets.
  const tabs = `${VIEW_TITLE[view]}  ${VIEWS.map((v, i) => (v === view ? `[${i + 1}:${VIEW_TAB[v]}]` : `${i + 1}:${VIEW_TAB[v]}`)).join(' ')}`;
  // Room for " title 12345/12345, 9999 closed · sort: … ".
  const sortRoom = sortLabel === '' ? 0 : sortLabel.length + 3;
  return tabs.length + 26 + sortRoom <= width - 4 ? tabs : VIEW_TITLE[view];
}

function overlay<Line>(rect: Rect, title: string, all: readonly Line[], scroll: number): OverlayView<Line> {
  const room = Math.max(1, rect.height - 2);
  const maxScroll = Math.max(0, all.length - room);
  const from = Math.max(0, Math.min(maxScroll, scroll));
  const to = Math.min(all.length, from + room);
  const position = all.length > room ? ` ${from + 1}-${to}/${all.length}` : '';
  return { rect, title: `${title}${position}`, lines: all.slice(from, to), scroll: from, maxScroll, totalLines: all.length };
}

/** The details socket now: its row, else the live record, else the last one known, marked closed. */
function resolveDetails(
  key: string,
  rows: SocketRowList | null,
  picture: SessionPicture,
  last: DetailsMemory | null,
  nowMs: number,
): DetailsMemory | null {
  const row = rows === null ? undefined : rows.at(rows.indexOfKey(key));
  if (row !== undefined) return { key, record: row.record, closedAtMs: row.closedAtMs };
  const live = picture.snapshot.sockets.find((s) => s.key === key);
  if (live !== undefined) return { key, record: live, closedAtMs: null };
  if (last === null || last.key !== key) return null;
  return last.closedAtMs === null ? { ...last, closedAtMs: nowMs } : last;
}

/** Without UTF-8 every line goes through toAscii: blessed would print '↑' raw and lose the border. */
function diagramExplanation(state: TcpState, width: number, ascii: boolean): string[] {
  const e = explainState('tcp', state);
  const lines = [
    `${TCP_STATE_SHORT[state]}: ${e.meaning}`,
    `Side: ${e.side}. ${e.typicalDuration}`,
    `Many of them: ${e.pileUp}`,
    ...(e.action === undefined ? [] : [`What to do: ${e.action}`]),
    'Enter: list these sockets · ↑↓ another state',
  ];
  return (ascii ? lines.map(toAscii) : lines).flatMap((l) => wrap(l, width, ''));
}

/**
 * The connection's last rates as two sparklines (out, in), each scaled to its own peak, which is
 * named after it: "out trend  ▁▂▅▇█▇  peak 2.00 MB/s". Nothing until two reads are known.
 */
function rateTrendLines(trend: RateTrend, width: number, ascii: boolean): DetailLine[] {
  const points = trend.sendBytesPerSec.length;
  if (points < 2) return [];
  // As wide as the points (up to the room there is), so the trend starts beside its label.
  const w = Math.max(2, Math.min(points, 60, width - 19 - 24));
  const row = (name: string, values: readonly number[]): DetailLine => ({
    text: `  ${name.padEnd(16)} ${sparkline(values, w, ascii)}  peak ${formatBytesPerSec(Math.max(0, ...values.slice(-w)))}`,
    style: 'normal',
    color: null,
  });
  return [row('out trend', trend.sendBytesPerSec), row('in trend', trend.recvBytesPerSec)];
}

/** Bars under a filter with no history yet (none kept for it): trends are blank. */
const NO_HISTORY = new StateHistory(1);
function emptyHistory(): StateHistory {
  return NO_HISTORY;
}
