// The dashboard's widget layer: snapshots go into the session store, key actions into the UI
// reducer, and every draw is buildFrame(session, UI state, size, theme) handed to the widgets.
// Nothing here computes what is shown; it never reads /proc (snapshots and tcp_info arrive
// through injected functions).

import type blessed from 'blessed';
import { compileFilter, type CompiledFilter, type ParseOptions } from '../filter/index.js';
import { SessionStore, type SessionConnRates, type SessionEnvironment, type SessionState } from '../model/session-store.js';
import type { TcpInfo } from '../model/tcp-info.js';
import type { SnapshotDiff } from '../model/tracker.js';
import type { Snapshot, SocketRecord } from '../model/types.js';
import type { UnixPeer } from '../model/unix-peers.js';
import type { RefreshCost } from '../view/dashboard-view.js';
import { columnAt, groupDrillFilter } from '../view/dashboard-view.js';
import { runInSlices, type SliceOptions } from '../model/slices.js';
import type { StageTrace } from './long-tasks.js';
import {
  FrameCache,
  buildFrame,
  prepareFrameSteps,
  sortRowsSteps,
  type DetailsMemory,
  type Frame,
  type FrameInput,
} from '../view/frame.js';
import { sortMenuItemAt } from '../view/sort-menu.js';
import {
  VIEWS,
  initialUiState,
  isGroupView,
  reduceUi,
  type RowContext,
  type SearchRows,
  type UiAction,
  type UiState,
} from '../view/ui-state.js';
import {
  createWidgets,
  renderBars,
  renderDetails,
  renderDiagram,
  renderFooter,
  renderHeader,
  renderHelp,
  renderHistory,
  renderPrompt,
  renderSortMenu,
  renderTable,
  type Theme,
  type Widgets,
} from './widgets.js';

export interface DashboardOptions {
  readonly intervalMs: number;
  readonly filterText: string;
  readonly theme: Theme;
  /** Minutes east of UTC are negative, as Date#getTimezoneOffset gives. */
  readonly timeZoneOffsetMin: number;
  readonly fetchTcpInfo: (s: SocketRecord) => Promise<TcpInfo | null>;
  /** Tell the poller about a new interval or a pause. */
  readonly onIntervalChange: (intervalMs: number) => void;
  readonly onQuit: () => void;
  /** Which network namespace is shown (--pid), for the header; null for our own. */
  readonly scopeLabel?: string | null;
  /** Port → service name (/etc/services) for the by-port view; absent: ports only. */
  readonly serviceNames?: ReadonlyMap<number, string> | null;
  /** Replaying a recording: the footer and help list the replay keys. */
  readonly replay?: boolean;
  /** Called when the pause is toggled (a replay resumes its playback). */
  readonly onPauseChange?: (paused: boolean) => void;
  /** A session store to use (tests); a new one otherwise. */
  readonly store?: SessionStore;
  /** Service name → port (/etc/services) for `port http` in the filter prompts; absent: numbers only. */
  readonly servicePort?: (name: string) => number | undefined;
  /**
   * Yields to the event loop (setImmediate): a new filter's or sort's socket order is then sorted
   * in slices after its frame (absent: sorted when first read past its first rows).
   */
  readonly pause?: () => Promise<void>;
  /** Monotonic clock, ms: times the last snapshot's ingest and draw (lastSnapshotMs); absent: zeros. */
  readonly monotonicMs?: () => number;
  /** Records the main thread's stages (SOCKSCOPE_LONG_TASK_MS); absent: nothing is recorded. */
  readonly trace?: StageTrace;
  /**
   * From this many sockets on, a view's rows not made yet (a view switched to) are made in slices
   * after a frame that shows the last ones or "counting…" (FrameCache#deferFromSockets), with
   * `pause` between slices; absent: made in the frame, in one block.
   */
  readonly deferFromSockets?: number;
}

/** This thread's time per slice of a snapshot's ingest before keys get a turn, ms. */
const INGEST_SLICE_MS = 10;

/** Machine facts that change slowly; read by the poller, not by the UI. */
export type DashboardEnvironment = SessionEnvironment;

export class Dashboard {
  ui: UiState;
  readonly store: SessionStore;
  private readonly widgets: Widgets;
  private filter: CompiledFilter | null = null;
  private readonly cache = new FrameCache();
  private frame: Frame | null = null;
  /** Replaces "live" in the header (replay position and speed). */
  private modeLabel: string | null = null;
  private cost: RefreshCost | null = null;
  private tcpInfo: { key: string; value: TcpInfo | 'pending' | 'unavailable' } | null = null;
  /** Last known record of the socket in the details pane: it stays readable after it closes. */
  private detailsMemory: DetailsMemory | null = null;
  private destroyed = false;
  /**
   * The last snapshot's cost on this thread, ms: the session store's ingest, the socket table's
   * rows built in slices before the frame (sliced refreshes only), then building and drawing the frame.
   */
  lastSnapshotMs = { ingestMs: 0, rowsMs: 0, drawMs: 0 };
  /**
   * A partial first snapshot's own session (Snapshot.partial), shown until the full snapshot of
   * the same read arrives: the session's tracker, history and findings never see the partial one.
   */
  private preview: SessionStore | null = null;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly options: DashboardOptions,
  ) {
    this.ui = initialUiState({ intervalMs: options.intervalMs, filterText: options.filterText });
    this.store = options.store ?? new SessionStore();
    this.applyFilter();
    this.widgets = createWidgets(screen, options.theme);
    if (options.deferFromSockets !== undefined && options.pause !== undefined) this.cache.deferFromSockets = options.deferFromSockets;
  }

  private filterOptions(): ParseOptions {
    const servicePort = this.options.servicePort;
    return servicePort === undefined ? {} : { servicePort };
  }

  /** Compile the filter once per change; the store keeps counts under it. */
  private applyFilter(): void {
    const text = this.ui.filterText.trim();
    const compiled = text === '' ? null : compileFilter(text, this.filterOptions());
    this.filter = compiled !== null && compiled.ok ? compiled.filter : null;
    const filter = this.filter;
    this.store.setFilter(filter === null ? null : { text: this.ui.filterText, matches: filter });
    this.preview?.setFilter(filter === null ? null : { text: this.ui.filterText, matches: filter });
  }

  /** The poller hands over each new snapshot here (a partial first one too: see `preview`). */
  onSnapshot(snapshot: Snapshot): SnapshotDiff | null {
    const clock = this.options.monotonicMs ?? ((): number => 0);
    const t0 = clock();
    if (snapshot.partial !== undefined) {
      const preview = new SessionStore();
      if (this.filter !== null) preview.setFilter({ text: this.ui.filterText, matches: this.filter });
      preview.ingest(snapshot);
      this.preview = preview;
      const t1 = clock();
      if (!this.ui.paused) this.render();
      this.lastSnapshotMs = { ingestMs: t1 - t0, rowsMs: 0, drawMs: clock() - t1 };
      return null;
    }
    this.preview = null;
    const state = this.store.ingest(snapshot);
    const t1 = clock();
    this.showIngested(state);
    this.lastSnapshotMs = { ingestMs: t1 - t0, rowsMs: 0, drawMs: clock() - t1 };
    return state.live?.diff ?? null;
  }

  /**
   * onSnapshot with the session's ingest in slices of a few ms (SessionStore#ingestSliced),
   * awaiting `pause` between them: a key pressed meanwhile is answered from the last complete
   * state. ingestMs is this thread's time in the slices.
   */
  async onSnapshotSliced(snapshot: Snapshot, pause: () => Promise<void>): Promise<void> {
    if (snapshot.partial !== undefined) {
      this.onSnapshot(snapshot);
      return;
    }
    const clock = this.options.monotonicMs ?? ((): number => 0);
    const slices = { sliceMs: INGEST_SLICE_MS, clock, pause };
    // A turn of the event loop before each stage: the collection's last work (its join), the
    // ingest's last step and the rows' first slice would otherwise run as one block, and a key
    // pressed meanwhile waits for all of them.
    await pause();
    if (this.destroyed) return;
    const { state, busyMs } = await this.traced('ingest', slices, (s) => this.store.ingestSliced(snapshot, s));
    if (this.destroyed) return;
    // A partial first snapshot's preview stays on screen until the full one is in.
    this.preview = null;
    // The socket table's rows of the new snapshot, in slices too: a key meanwhile is drawn with
    // the last rows (FrameCache#preparingRows), the frame below with the new ones.
    let rowsMs = 0;
    if (!this.ui.paused) {
      this.cache.preparingRows = true;
      try {
        await pause();
        if (this.destroyed) return;
        rowsMs = (await this.traced('rows', slices, (s) => runInSlices(prepareFrameSteps(this.frameInput()), s))).busyMs;
      } finally {
        this.cache.preparingRows = false;
      }
      if (this.destroyed) return;
      await pause();
      if (this.destroyed) return;
    }
    const t1 = clock();
    this.showIngested(state);
    this.lastSnapshotMs = { ingestMs: busyMs, rowsMs, drawMs: clock() - t1 };
  }

  /** Sliced work recorded as the stage `label` when tracing. */
  private async traced<T>(label: string, slices: SliceOptions, run: (slices: SliceOptions) => Promise<T>): Promise<T> {
    const trace = this.options.trace;
    if (trace === undefined) return run(slices);
    const t = trace.slices(label, slices);
    try {
      return await run(t.options);
    } finally {
      t.done();
    }
  }

  /** One synchronous stage, recorded as `label` when tracing. */
  private stage<T>(label: string, fn: () => T): T {
    const trace = this.options.trace;
    return trace === undefined ? fn() : trace.run(label, fn);
  }

  /** A new session state: follow rekeyed sockets, then draw (unless paused). */
  private showIngested(state: SessionState): void {
    const rekeyed = state.live?.rekeyed;
    if (rekeyed !== undefined && rekeyed.size > 0 && !this.ui.paused) this.ui = reduceUi(this.ui, { type: 'rekey', keys: rekeyed });
    if (this.detailsMemory !== null && rekeyed?.has(this.detailsMemory.key) === true) this.detailsMemory = null;
    const infoKey = this.tcpInfo === null ? undefined : rekeyed?.get(this.tcpInfo.key);
    if (this.tcpInfo !== null && infoKey !== undefined) this.tcpInfo = { ...this.tcpInfo, key: infoKey };
    if (!this.ui.paused) this.render();
  }

  /** The frame on screen now (built when none is). */
  currentFrame(): Frame {
    return this.frame ?? this.buildFrame();
  }

  private size(): { width: number; height: number } {
    return { width: Number(this.screen.width), height: Number(this.screen.height) };
  }

  private frameInput(): FrameInput {
    return {
      session: (this.preview ?? this.store).state,
      ui: this.ui,
      size: this.size(),
      theme: this.options.theme,
      filter: this.filter,
      context: {
        modeLabel: this.modeLabel,
        cost: this.cost,
        scopeLabel: this.options.scopeLabel ?? null,
        timeZoneOffsetMin: this.options.timeZoneOffsetMin,
        replay: this.options.replay ?? false,
        tcpInfo: this.tcpInfo,
        details: this.detailsMemory,
        serviceNames: this.options.serviceNames ?? null,
      },
      cache: this.cache,
    };
  }

  private buildFrame(): Frame {
    const frame = buildFrame(this.frameInput());
    this.frame = frame;
    if (frame.details?.memory != null) this.detailsMemory = frame.details.memory;
    return frame;
  }

  /**
   * A mouse click at screen cell (x, y), 0-based: on a view tab of the panel's border, switch to
   * that view; on a table row, select it (a second click on the selected row opens it, as
   * Enter). The table's first inner line is its header.
   */
  clickAt(x: number, y: number): void {
    if (this.ui.sortMenu !== null) {
      // On an item: sort by it; anywhere else: close the menu.
      const menu = this.frame?.sortMenu ?? null;
      const item = menu === null ? undefined : sortMenuItemAt(menu, x, y);
      this.dispatch(item === undefined ? { type: 'escape' } : { type: 'sortMenuChoose', key: item.key });
      return;
    }
    if (this.ui.prompt !== null || this.ui.help || this.ui.detailsKey !== null) return;
    const main = this.frame?.main;
    if (main == null) return;
    // The panel's top border carries the view tabs ("Sockets  [1:sockets] 2:ports 3:peers …"),
    // drawn from two cells right of the corner after one blank.
    if (y === main.rect.top) {
      const column = x - (main.rect.left + 3);
      for (const tab of main.title.matchAll(/\[?(\d):[a-z]+\]?/g)) {
        if (column >= tab.index && column < tab.index + tab[0].length) {
          const view = VIEWS[Number(tab[1]) - 1];
          if (view !== undefined) this.dispatch({ type: 'setView', view });
          return;
        }
      }
      return;
    }
    if (main.kind !== 'table') return;
    // The header line, under the border: a click on a column title sorts by that column.
    if (y === main.rect.top + 1) {
      const key = columnAt(main.table, x - (main.rect.left + 1))?.sortKey;
      if (key !== undefined) this.dispatch({ type: 'sortBy', key });
      return;
    }
    const line = y - (main.rect.top + 1) - 1; // border, then the header line
    const row = main.table.rows[line];
    if (row === undefined) return;
    if (row.selected) return this.enter();
    this.dispatch({ type: 'select', key: row.key, rows: this.rowContext() });
  }

  /** The mouse wheel: three rows per notch, or three lines in an overlay. */
  wheel(direction: 1 | -1): void {
    if (this.ui.prompt !== null) return;
    if (this.ui.sortMenu !== null) {
      this.dispatch({ type: 'sortMenuMove', delta: direction, columns: this.currentFrame().sortOptions });
      return;
    }
    if (this.ui.help || this.ui.detailsKey !== null) return this.scrollOverlay(3 * direction);
    this.dispatch({ type: 'move', delta: 3 * direction, rows: this.rowContext() });
  }

  /** Sort keys of the table columns on screen, left to right (for < and >). */
  sortColumns(): readonly string[] | undefined {
    const main = this.currentFrame().main;
    return main?.kind === 'table' ? main.table.sortKeys : undefined;
  }

  /** Keys of the rows listed now, for movement actions. */
  rowContext(): RowContext {
    const frame = this.currentFrame();
    return { keys: frame.rowKeys(), pageSize: frame.pageSize };
  }

  /** The rows listed now with their text, for the search prompt (text made only for the rows it reads). */
  searchRows(): SearchRows {
    const frame = this.currentFrame();
    return { keys: frame.rowKeys(), pageSize: frame.pageSize, textAt: (i) => frame.rowSearchText(i) };
  }

  dispatch(action: UiAction): void {
    const before = this.ui;
    if (action.type === 'promptSubmit' && before.prompt?.kind === 'marker') this.store.addMarker(before.prompt.text);
    this.ui = reduceUi(before, action, this.filterOptions());
    if (this.ui.filterText !== before.filterText) this.applyFilter();
    if (this.ui.paused !== before.paused) {
      this.store.setPaused(this.ui.paused);
      this.options.onPauseChange?.(this.ui.paused);
    }
    if (this.ui.intervalMs !== before.intervalMs) this.options.onIntervalChange(this.ui.intervalMs);
    if (this.ui.detailsKey !== before.detailsKey) this.onDetailsChanged(before.detailsKey);
    if (this.ui.quit) {
      this.options.onQuit();
      return;
    }
    this.render();
  }

  private onDetailsChanged(previousKey: string | null): void {
    const key = this.ui.detailsKey;
    this.store.watch(key);
    // A key that changed for the same connection keeps its tcp_info request.
    const rekeyed = previousKey !== null && key !== null && this.store.state.live?.rekeyed.get(previousKey) === key;
    if (rekeyed) return;
    this.tcpInfo = null;
    this.detailsMemory = null;
    if (key === null) return;
    const record = this.currentFrameFresh().selectedRecord;
    if (record === null || (record.protocol !== 'tcp' && record.protocol !== 'tcp6')) return;
    this.tcpInfo = { key, value: 'pending' };
    void this.options.fetchTcpInfo(record).then((info) => {
      if (this.destroyed || this.tcpInfo?.key !== key) return;
      this.tcpInfo = { key, value: info ?? 'unavailable' };
      this.render();
    });
  }

  /** A frame of the UI state as it is now (after an action). */
  private currentFrameFresh(): Frame {
    return this.buildFrame();
  }

  /** Enter: details of the row listed under the selection now; drill-down in a grouped view. */
  enter(): void {
    if (this.ui.detailsKey !== null) return;
    const frame = this.currentFrame();
    const key = frame.selectedKey;
    if (key === null) return;
    const view = this.ui.view;
    if (view === 'sockets') this.dispatch({ type: 'openDetails', key });
    else if (view === 'states') this.dispatch({ type: 'drill', filterText: `tcp and state ${key}` });
    else if (view === 'findings') {
      const f = frame.findings.find((x) => x.id === key);
      if (f !== undefined) this.dispatch({ type: 'drill', filterText: f.filter });
    } else if (view === 'compare') {
      // Rows "state X" and "port N" drill into those sockets; headings and counters do not.
      if (key.startsWith('state ')) this.dispatch({ type: 'drill', filterText: `tcp and ${key}` });
      else if (key.startsWith('port ')) this.dispatch({ type: 'drill', filterText: `tcp and sport ${key.slice(5)}` });
    } else if (isGroupView(view)) {
      const filterText = groupDrillFilter(view, key);
      if (filterText !== null) this.dispatch({ type: 'drill', filterText });
    }
  }

  /** Details shortcuts: all sockets of this process (P) or to this peer (D), from the socket shown. */
  drillFromDetails(what: 'process' | 'peer'): void {
    if (this.ui.detailsKey === null) return;
    const s = this.currentFrame().details?.memory?.record ?? null;
    if (s === null) return;
    if (what === 'process' && s.owner !== null) this.dispatch({ type: 'drill', filterText: `pid ${s.owner.pid}` });
    if (what === 'peer' && s.protocol !== 'unix' && s.remotePort !== 0)
      this.dispatch({ type: 'drill', filterText: `dst ${s.remoteAddress}` });
  }

  /** `!`: the findings view with the worst finding selected. */
  jumpToWorstFinding(): void {
    const worst = this.currentFrame().findings[0];
    if (worst === undefined) {
      this.dispatch({ type: 'setView', view: 'findings' });
      return;
    }
    this.dispatch({ type: 'jumpTo', view: 'findings', key: worst.id });
  }

  /**
   * Forget the session's memory (ages, tombstones, history): a replay that jumps does not
   * continue the previous frame, so diffs across the jump would be wrong.
   */
  resetSession(): void {
    this.store.reset();
  }

  /** Sysctls and listen backlogs (from ss), refreshed by the poller every few seconds. */
  setEnvironment(environment: DashboardEnvironment): void {
    this.store.setEnvironment(environment);
  }

  /** The compiled filter in force (null: everything is shown), for readers restricted to what is shown. */
  currentFilter(): CompiledFilter | null {
    return this.filter;
  }

  /** UNIX peers from the last ss -xH read. */
  setUnixPeers(peers: ReadonlyMap<number, UnixPeer>): void {
    this.stage('unix peers in', () => this.store.setUnixPeers(peers));
    this.render();
  }

  /** Rates from the last ss read (they arrive apart from snapshots, on their own cadence). */
  setConnRates(value: SessionConnRates): void {
    this.stage('rates in', () => this.store.setConnRates(value));
    this.render();
  }

  /** While paused, show the latest snapshot anyway (a replay stepping frame by frame). */
  showLatestWhilePaused(): void {
    if (!this.ui.paused) return;
    this.store.showLatest();
    this.render();
  }

  setModeLabel(label: string | null): void {
    this.modeLabel = label;
  }

  /** The poller reports each refresh's cost; shown on the next frame. */
  setCost(cost: RefreshCost): void {
    this.cost = cost;
  }

  /** Scroll the overlay in front (help or details) by lines, or to its first or last line. */
  scrollOverlay(by: number | 'first' | 'last'): void {
    const frame = this.currentFrame();
    const o = this.ui.help ? frame.help : frame.details;
    const maxScroll = o?.maxScroll ?? 0;
    this.dispatch(typeof by === 'number' ? { type: 'scrollOverlay', delta: by, maxScroll } : { type: 'scrollOverlay', to: by, maxScroll });
  }

  /** Kept for callers that scroll by lines. */
  scrollDetails(lines: number): void {
    this.scrollOverlay(lines);
  }

  render(): void {
    if (this.destroyed) return;
    const frame = this.stage(`frame ${this.ui.view}`, () => this.buildFrame());
    this.stage('draw', () => this.draw(frame));
    if (this.cache.deferred) {
      this.cache.deferred = false;
      this.prepareSoon();
    }
    this.sortRowsSoon();
  }

  /** Rows a frame left to be made (FrameCache#deferred), made in slices after it; then drawn. */
  private preparing = false;
  private prepareSoon(): void {
    const pause = this.options.pause;
    if (this.preparing || pause === undefined) return;
    this.preparing = true;
    const clock = this.options.monotonicMs ?? ((): number => 0);
    const slices = { sliceMs: INGEST_SLICE_MS, clock, pause };
    const prepare = async (): Promise<void> => {
      await pause();
      try {
        if (this.destroyed) return;
        await this.traced('prepare', slices, (s) => runInSlices(prepareFrameSteps(this.frameInput()), s));
      } finally {
        this.preparing = false;
      }
      this.render();
    };
    void prepare();
  }

  /** A socket order of a new filter or sort (first rows selected) sorted in slices after its frame. */
  private sortingRows = false;
  private sortRowsSoon(): void {
    const pause = this.options.pause;
    if (this.sortingRows || pause === undefined) return;
    this.sortingRows = true;
    const clock = this.options.monotonicMs ?? ((): number => 0);
    const done = (): void => {
      this.sortingRows = false;
    };
    void pause().then(() =>
      this.destroyed
        ? undefined
        : this.traced('sort', { sliceMs: INGEST_SLICE_MS, clock, pause }, (s) => runInSlices(sortRowsSteps(this.cache), s)).then(
            done,
            done,
          ),
    );
  }

  /** Draw one frame: the only place the widgets are touched. */
  private draw(frame: Frame): void {
    const { theme } = this.options;
    const w = this.widgets;
    if (frame.tooSmall !== null) {
      for (const el of [w.header, w.bars, w.table, w.footer, w.prompt, w.details, w.help, w.sortMenu]) el.hide();
      renderHistory(w.history, null, null, theme);
      w.message.show();
      w.message.setContent(frame.tooSmall);
      this.screen.render();
      return;
    }
    w.message.hide();
    for (const el of [w.header, w.table, w.footer]) el.show();
    if (frame.loading || frame.header === null || frame.main === null) {
      w.table.hide();
      w.bars.hide();
      renderHistory(w.history, null, null, theme);
      renderFooter(w.footer, frame.footer.rect, frame.footer.keys);
      w.header.setContent('sockscope: reading sockets…');
      renderHelp(w.help, frame.help?.rect ?? null, frame.help?.lines ?? [], frame.help?.title);
      this.screen.render();
      return;
    }
    renderHeader(w.header, frame.layout.header, frame.header, theme);
    renderBars(w.bars, frame.bars?.rect ?? null, frame.bars?.rows ?? [], theme);
    renderHistory(w.history, frame.chart?.rect ?? null, frame.chart, theme);
    const main = frame.main;
    if (main.kind === 'diagram') renderDiagram(w.table, main.rect, main.title, main.lines, main.selected, main.explanation, theme);
    else renderTable(w.table, main.rect, main.title, main.table, theme, main.notes, main.closedRows);
    renderFooter(w.footer, frame.footer.rect, frame.footer.keys);
    const p = frame.prompt;
    renderPrompt(w.prompt, p, theme);
    renderSortMenu(w.sortMenu, frame.sortMenu, theme);
    renderDetails(w.details, frame.details?.rect ?? null, frame.details?.lines ?? [], theme, frame.details?.title);
    renderHelp(w.help, frame.help?.rect ?? null, frame.help?.lines ?? [], frame.help?.title);
    if (p !== null) w.prompt.setFront();
    this.screen.render();
    // Written now rather than on blessed's setImmediate: whatever this turn queued after the
    // frame (ss for backlogs, rates and peers) must not run before the terminal has it.
    this.screen.program.flush();
  }

  /** Objects held, for soak tests. */
  stats(): ReturnType<SessionStore['stats']> {
    return this.store.stats();
  }

  destroy(): void {
    this.destroyed = true;
  }
}
