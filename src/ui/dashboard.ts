// The dashboard: takes snapshots (from one poller), keeps session state (tracker, history, UI
// state), turns key presses into reducer actions and draws view models with the widgets.
// It never reads /proc: snapshots and tcp_info arrive through injected functions.

import type blessed from 'blessed';
import { compileFilter, type CompiledFilter } from '../filter/index.js';
import { countByLocalPort, type CountsByGroup, countByProcess, countByRemoteHost, countByState, totalOf, type GroupRow } from '../model/aggregate.js';
import { computeRates, type CounterRates } from '../model/rates.js';
import { StateHistory } from '../model/state-history.js';
import { TCP_STATES, TCP_STATE_SHORT, explainState } from '../model/state-info.js';
import type { TcpInfo } from '../model/tcp-info.js';
import { SocketTracker, type SnapshotDiff } from '../model/tracker.js';
import type { ProtocolGroup, Snapshot, SocketRecord, TcpState } from '../model/types.js';
import { buildDetailsView, wrap } from '../view/details-view.js';
import { FindingsEngine, type Finding } from '../model/findings.js';
import { buildListenerHealth, summarizeListenersByPort, type NetSysctls, type PortListenerSummary } from '../model/listener-health.js';
import { addMarker, compareWithMarker, nextMarkerName, type Marker } from '../model/markers.js';
import { countTransitions, type TransitionRates } from '../model/transitions.js';
import { buildCompareView, buildFindingsView } from '../view/insight-views.js';
import { DIAGRAM_STATES, buildStateDiagramView } from '../view/state-diagram.js';
import {
  buildGroupTableView,
  buildHeaderView,
  buildSocketTableView,
  buildStateBarsView,
  type RefreshCost,
  groupDrillFilter,
  sortGroups,
  type TableView,
} from '../view/dashboard-view.js';
import { footerKeys, helpLines } from '../view/help.js';
import { buildHistoryChartView } from '../view/history-chart.js';
import { MIN_HEIGHT, MIN_WIDTH, computeLayout, type Rect } from '../view/layout.js';
import { buildSocketRows, type SocketRow } from '../view/socket-rows.js';
import { VIEW_TITLE, initialUiState, reduceUi, type PromptKind, type RowContext, type UiAction, type UiState, type GroupViewName, type ViewName } from '../view/ui-state.js';
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
}

type GroupView = GroupViewName;

/** Machine facts that change slowly; read by the poller, not by the UI. */
export interface DashboardEnvironment {
  readonly sysctls: NetSysctls;
  /** Listen backlog limits by "addr:port" (from ss -ltn), or null when unknown. */
  readonly backlogs: ReadonlyMap<string, number> | null;
}

/** Sysctls before the first reading: all unknown. */
const UNKNOWN_SYSCTLS: NetSysctls = { ephemeralPortRange: null, somaxconn: null, tcpFinTimeoutSec: null, tcpMaxSynBacklog: null, tcpSyncookies: null, tcpTwReuse: null };


interface RowsCache {
  snapshot: Snapshot | null;
  filterText: string;
  sortKey: string;
  descending: boolean;
  tombstones: number;
  rows: SocketRow[];
}

interface GroupsCache {
  snapshot: Snapshot | null;
  view: ViewName;
  filterText: string;
  sort: string;
  groups: GroupRow[];
}


const PROMPT_TITLE = { filter: 'Filter', port: 'Port', state: 'State', marker: 'Marker name (Enter: automatic)' } as const satisfies Record<PromptKind, string>;

export class Dashboard {
  ui: UiState;
  private readonly widgets: Widgets;
  private tracker = new SocketTracker();
  private history = new StateHistory(600);
  private live: Snapshot | null = null;
  /** Replaces "live" in the header (replay position and speed). */
  private modeLabel: string | null = null;
  /** The picture shown while paused: a copy taken when pausing. */
  private frozen: Snapshot | null = null;
  private rates: CounterRates = {};
  private openedPerSec = 0;
  private closedPerSec = 0;
  private filter: CompiledFilter | null = null;
  private rowsCache: RowsCache = { snapshot: null, filterText: '', sortKey: '', descending: false, tombstones: -1, rows: [] };
  private groupsCache: GroupsCache = { snapshot: null, view: 'sockets', filterText: '', sort: '', groups: [] };
  private tcpInfo: { key: string; value: TcpInfo | 'pending' | 'unavailable' } | null = null;
  /** Last known record of the socket in the details pane: it stays readable after it closes. */
  private detailsRecord: { key: string; record: SocketRecord; closedAtMs: number | null } | null = null;
  private tablePageSize = 10;
  private notice = '';
  private cost: RefreshCost | null = null;
  private counted: { snapshot: Snapshot; counts: CountsByGroup } | null = null;
  private destroyed = false;
  /** Slow-changing machine facts, handed over by the poller every few seconds. */
  private environment: DashboardEnvironment = { sysctls: UNKNOWN_SYSCTLS, backlogs: null };
  private findingsEngine = new FindingsEngine();
  private findings: readonly Finding[] = [];
  private listenerSummary: ReadonlyMap<number, PortListenerSummary> = new Map();
  private transitions: TransitionRates | null = null;
  private markers: readonly Marker[] = [];
  private shownSortKeys: readonly string[] | undefined;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly options: DashboardOptions,
  ) {
    this.ui = initialUiState({ intervalMs: options.intervalMs, filterText: options.filterText });
    this.filter = this.compile(this.ui.filterText);
    this.widgets = createWidgets(screen, options.theme);
  }

  private compile(text: string): CompiledFilter | null {
    if (text.trim() === '') return null;
    const c = compileFilter(text);
    return c.ok ? c.filter : null;
  }

  /** The poller hands over each new snapshot here. */
  onSnapshot(snapshot: Snapshot): SnapshotDiff {
    const previous = this.live;
    const diff = this.tracker.ingest(snapshot);
    if (previous !== null) {
      const dt = snapshot.takenAtMs - previous.takenAtMs;
      this.rates = computeRates(previous.counters, snapshot.counters, dt);
      this.openedPerSec = dt > 0 ? (diff.opened.length * 1000) / dt : 0;
      this.closedPerSec = dt > 0 ? (diff.closed.length * 1000) / dt : 0;
    }
    const tcp = this.countsOf(snapshot).tcp;
    const counts: Partial<Record<TcpState, number>> = {};
    for (const s of TCP_STATES) if (tcp[s] !== undefined) counts[s] = tcp[s];
    this.history.push({ atMs: snapshot.takenAtMs, counts });
    const listeners = buildListenerHealth(snapshot, this.rates, this.environment.sysctls, this.environment.backlogs);
    this.listenerSummary = summarizeListenersByPort(listeners);
    this.findings = this.findingsEngine.update({ snapshot, previous, diff: previous === null ? null : diff, rates: this.rates, sysctls: this.environment.sysctls, listeners });
    this.transitions = previous === null ? null : countTransitions(diff, this.filter ?? undefined);
    this.live = snapshot;
    if (snapshot.owners.enabled && snapshot.owners.unreadableProcesses > 0) {
      this.notice = `owners of ${snapshot.owners.unreadableProcesses} processes unreadable: run as root`;
    } else if (snapshot.issues.skippedLines > 0) {
      this.notice = `${snapshot.issues.skippedLines} unparsable lines skipped`;
    } else this.notice = '';
    if (!this.ui.paused) this.render();
    return diff;
  }

  /** Counts per protocol and state of a snapshot, computed once (every frame draws them). */
  private countsOf(snapshot: Snapshot): CountsByGroup {
    if (this.counted?.snapshot !== snapshot) this.counted = { snapshot, counts: countByState(snapshot.sockets) };
    return this.counted.counts;
  }

  private shown(): Snapshot | null {
    return this.ui.paused ? (this.frozen ?? this.live) : this.live;
  }

  private socketRows(snapshot: Snapshot): SocketRow[] {
    const c = this.rowsCache;
    const tombstones = this.ui.paused ? 0 : this.tracker.currentTombstones().length;
    if (
      c.snapshot !== snapshot ||
      c.filterText !== this.ui.filterText ||
      c.sortKey !== this.ui.socketSort.key ||
      c.descending !== this.ui.socketSort.descending ||
      c.tombstones !== tombstones
    ) {
      this.rowsCache = {
        snapshot,
        filterText: this.ui.filterText,
        sortKey: this.ui.socketSort.key,
        descending: this.ui.socketSort.descending,
        tombstones,
        rows: buildSocketRows({
          sockets: snapshot.sockets,
          takenAtMs: snapshot.takenAtMs,
          tracker: this.tracker,
          filter: this.filter,
          sort: this.ui.socketSort,
          tombstones: !this.ui.paused,
        }),
      };
    }
    return this.rowsCache.rows;
  }

  private groups(snapshot: Snapshot, view: GroupView): GroupRow[] {
    const c = this.groupsCache;
    const sort = `${this.ui.groupSort.key}:${this.ui.groupSort.descending}`;
    if (c.snapshot !== snapshot || c.view !== view || c.filterText !== this.ui.filterText || c.sort !== sort) {
      const f = this.filter;
      const sockets = f === null ? snapshot.sockets : snapshot.sockets.filter(f);
      const raw = view === 'ports' ? countByLocalPort(sockets) : view === 'peers' ? countByRemoteHost(sockets) : countByProcess(sockets);
      this.groupsCache = { snapshot, view, filterText: this.ui.filterText, sort, groups: sortGroups(raw, this.ui.groupSort) };
    }
    return this.groupsCache.groups;
  }

  /** Keys of the rows listed now, for movement actions. */
  rowContext(): RowContext {
    const snapshot = this.shown();
    if (snapshot === null) return { keys: [], pageSize: this.tablePageSize };
    const view = this.ui.view;
    let keys: string[];
    if (view === 'sockets') keys = this.socketRows(snapshot).map((r) => r.key);
    else if (view === 'states') keys = [...DIAGRAM_STATES];
    else if (view === 'findings') keys = this.findings.map((f) => f.id);
    else if (view === 'compare') keys = this.compareKeys(snapshot);
    else keys = this.groups(snapshot, view).map((g) => g.key);
    return { keys, pageSize: this.tablePageSize };
  }

  /** Sort keys of the table columns on screen, left to right (for < and >). */
  sortColumns(): readonly string[] | undefined {
    return this.shownSortKeys;
  }

  dispatch(action: UiAction): void {
    const before = this.ui;
    if (action.type === 'promptSubmit' && before.prompt?.kind === 'marker') {
      const snapshot = this.shown();
      if (snapshot !== null) {
        const name = before.prompt.text.trim() === '' ? nextMarkerName(this.markers) : before.prompt.text.trim().slice(0, 60);
        this.markers = addMarker(this.markers, name, snapshot);
      }
    }
    this.ui = reduceUi(before, action);
    if (this.ui.filterText !== before.filterText) this.filter = this.compile(this.ui.filterText);
    if (this.ui.paused && !before.paused) this.frozen = this.live;
    if (!this.ui.paused && before.paused) this.frozen = null;
    if (this.ui.intervalMs !== before.intervalMs) this.options.onIntervalChange(this.ui.intervalMs);
    if (this.ui.detailsKey !== before.detailsKey) this.onDetailsChanged();
    if (this.ui.quit) {
      this.options.onQuit();
      return;
    }
    this.render();
  }

  private findRecord(key: string): { record: SocketRecord; closedAtMs: number | null } | null {
    const snapshot = this.shown();
    if (snapshot === null) return null;
    const row = this.socketRows(snapshot).find((r) => r.key === key);
    if (row !== undefined) return { record: row.record, closedAtMs: row.closedAtMs };
    const live = snapshot.sockets.find((s) => s.key === key);
    return live === undefined ? null : { record: live, closedAtMs: null };
  }

  /** The details socket now; once gone from the table, its last record marked closed. */
  private detailsFor(key: string, nowMs: number): { record: SocketRecord; closedAtMs: number | null } | null {
    const found = this.findRecord(key);
    if (found !== null) {
      this.detailsRecord = { key, ...found };
      return found;
    }
    const last = this.detailsRecord;
    if (last === null || last.key !== key) return null;
    if (last.closedAtMs === null) this.detailsRecord = { ...last, closedAtMs: nowMs };
    return this.detailsRecord;
  }

  private onDetailsChanged(): void {
    const key = this.ui.detailsKey;
    this.tracker.watch(key);
    this.tcpInfo = null;
    if (key === null) return;
    const found = this.findRecord(key);
    if (found === null || (found.record.protocol !== 'tcp' && found.record.protocol !== 'tcp6')) return;
    this.tcpInfo = { key, value: 'pending' };
    void this.options.fetchTcpInfo(found.record).then((info) => {
      if (this.destroyed || this.tcpInfo?.key !== key) return;
      this.tcpInfo = { key, value: info ?? 'unavailable' };
      this.render();
    });
  }

  /** Enter: details in the socket table, drill-down in a grouped view. */
  enter(): void {
    const ctx = this.rowContext();
    const key = this.ui.selectedKey ?? ctx.keys[Math.min(this.ui.selectedIndex, ctx.keys.length - 1)] ?? null;
    if (key === null || this.ui.detailsKey !== null) return;
    const view = this.ui.view;
    if (view === 'sockets') this.dispatch({ type: 'openDetails', key });
    else if (view === 'states') this.dispatch({ type: 'drill', filterText: `tcp and state ${key}` });
    else if (view === 'findings') {
      const f = this.findings.find((x) => x.id === key);
      if (f !== undefined) this.dispatch({ type: 'drill', filterText: f.filter });
    } else if (view === 'compare') {
      // Rows "state X" and "port N" drill into those sockets; headings and counters do not.
      if (key.startsWith('state ')) this.dispatch({ type: 'drill', filterText: `tcp and ${key}` });
      else if (key.startsWith('port ')) this.dispatch({ type: 'drill', filterText: `tcp and sport ${key.slice(5)}` });
    } else this.dispatch({ type: 'drill', filterText: groupDrillFilter(view, key) });
  }

  /** Details shortcuts: all sockets of this process (P) or to this peer (D). */
  drillFromDetails(what: 'process' | 'peer'): void {
    if (this.ui.detailsKey === null) return;
    const found = this.findRecord(this.ui.detailsKey);
    if (found === null) return;
    const s = found.record;
    if (what === 'process' && s.owner !== null) this.dispatch({ type: 'drill', filterText: `pid ${s.owner.pid}` });
    if (what === 'peer' && s.protocol !== 'unix' && s.remotePort !== 0) this.dispatch({ type: 'drill', filterText: `dst ${s.remoteAddress}` });
  }

  /**
   * Forget the session's memory (ages, tombstones, history): a replay that jumps does not
   * continue the previous frame, so diffs across the jump would be wrong.
   */
  resetSession(): void {
    this.tracker = new SocketTracker();
    this.history = new StateHistory(600);
    this.findingsEngine = new FindingsEngine();
    this.findings = [];
    this.transitions = null;
    this.live = null;
    this.frozen = null;
    this.rates = {};
    this.openedPerSec = 0;
    this.closedPerSec = 0;
  }

  /** Sysctls and listen backlogs (from ss), refreshed by the poller every few seconds. */
  setEnvironment(environment: DashboardEnvironment): void {
    this.environment = environment;
  }

  /** While paused, show the latest snapshot anyway (a replay stepping frame by frame). */
  showLatestWhilePaused(): void {
    if (!this.ui.paused) return;
    this.frozen = this.live;
    this.render();
  }

  setModeLabel(label: string | null): void {
    this.modeLabel = label;
  }

  /** The poller reports each refresh's cost; shown on the next frame. */
  setCost(cost: RefreshCost): void {
    this.cost = cost;
  }

  /** Scroll the overlay in front: the help when it is open, else the details. */
  scrollDetails(lines: number): void {
    (this.ui.help ? this.widgets.help : this.widgets.details).scroll(lines);
    this.screen.render();
  }

  render(): void {
    if (this.destroyed) return;
    const width = Number(this.screen.width);
    const height = Number(this.screen.height);
    const { theme } = this.options;
    const w = this.widgets;
    const snapshot = this.shown();
    const layout = computeLayout(width, height, 6);
    if (layout.tooSmall) {
      for (const el of [w.header, w.bars, w.table, w.footer, w.prompt, w.details, w.help]) el.hide();
      renderHistory(w.history, null, null, theme);
      w.message.show();
      w.message.setContent(`Terminal too small: ${width}x${height}.\nsockscope needs at least ${MIN_WIDTH}x${MIN_HEIGHT}.\nEnlarge the window, or press q to quit.`);
      this.screen.render();
      return;
    }
    w.message.hide();
    for (const el of [w.header, w.table, w.footer]) el.show();
    if (snapshot === null) {
      w.table.hide();
      w.bars.hide();
      renderFooter(w.footer, layout.footer, [['q', 'quit']]);
      w.header.setContent('sockscope: reading sockets…');
      this.screen.render();
      return;
    }

    const counts = this.countsOf(snapshot);
    const totals: Record<ProtocolGroup, number> = { tcp: totalOf(counts.tcp), udp: totalOf(counts.udp), raw: totalOf(counts.raw), unix: totalOf(counts.unix) };
    // The state diagram shows every count itself: it takes the bars' place when they stack.
    const diagramOnly = this.ui.view === 'states' && layout.bars !== null && layout.history === null;
    const tableRect: Rect = diagramOnly && layout.bars !== null ? { ...layout.table, top: layout.bars.top, height: layout.table.height + layout.bars.height } : layout.table;
    const innerWidth = tableRect.width - 2;
    const pageSize = Math.max(1, tableRect.height - 3);
    this.tablePageSize = pageSize;

    const view = this.ui.view;
    let table: TableView;
    if (view === 'sockets') table = buildSocketTableView(this.socketRows(snapshot), this.ui, { width: innerWidth, height: pageSize });
    else if (view === 'states') table = { header: '', rows: [], total: DIAGRAM_STATES.length, offset: 0, selectedIndex: this.diagramIndex(), emptyText: '' };
    else if (view === 'findings') table = buildFindingsView({ findings: this.findings, nowMs: snapshot.takenAtMs }, this.ui, { width: innerWidth, height: Math.max(1, pageSize - 4) });
    else if (view === 'compare') table = buildCompareView(this.comparison(snapshot), this.ui, { width: innerWidth, height: pageSize });
    else table = buildGroupTableView(view, this.groups(snapshot, view), this.ui, { width: innerWidth, height: pageSize }, view === 'ports' ? this.listenerSummary : null);

    renderHeader(
      w.header,
      layout.header,
      buildHeaderView({
        host: snapshot.host,
        takenAtMs: snapshot.takenAtMs,
        intervalMs: this.ui.intervalMs,
        paused: this.ui.paused,
        mode: this.modeLabel,
        totals,
        shown: table.total,
        rates: this.rates,
        openedPerSec: this.openedPerSec,
        closedPerSec: this.closedPerSec,
        filterText: this.ui.filterText,
        notice: this.notice,
        scope: this.options.scopeLabel ?? null,
        findings: this.findings,
        transitions: (this.transitions?.transitions ?? []).filter((t) => t.perSec > 0).map((t) => [t.label, t.perSec] as const),
        cost: this.cost,
        timeZoneOffsetMin: this.options.timeZoneOffsetMin,
      }),
      theme,
    );
    if (layout.bars !== null && !diagramOnly) {
      const inner = { width: layout.bars.width - 2, height: layout.bars.height - 2 };
      renderBars(w.bars, layout.bars, buildStateBarsView(counts.tcp, this.history, { width: inner.width, height: inner.height }, theme.ascii, layout.history === null), theme);
    } else renderBars(w.bars, null, [], theme);
    const chart = layout.history === null ? null : buildHistoryChartView({ samples: this.history.all(), nowMs: snapshot.takenAtMs, intervalMs: this.ui.intervalMs, width: layout.history.width - 2, height: layout.history.height - 2, color: theme.color, ascii: theme.ascii });
    renderHistory(w.history, layout.history, chart, theme);

    this.shownSortKeys = table.sortKeys;
    // The view tabs only while the label fits on the border: blessed wraps a longer label onto
    // the column header line. The sort (renderTable adds it) comes before the tabs.
    const withTabs = `${VIEW_TITLE[this.ui.view]}${this.viewTabs()}`;
    const sortText = table.sortLabel === undefined || table.sortLabel === '' ? '' : ` · ${table.sortLabel}`;
    const labelFits = ` ${withTabs} ${table.total}/${table.total}${sortText} `.length <= tableRect.width - 4;
    const title = labelFits ? withTabs : VIEW_TITLE[this.ui.view];
    if (view === 'states') {
      const selected = DIAGRAM_STATES[this.diagramIndex()] ?? 'ESTABLISHED';
      const filtered = this.filter === null ? counts.tcp : countByState(snapshot.sockets.filter(this.filter)).tcp;
      renderDiagram(w.table, tableRect, title, buildStateDiagramView(filtered, theme.ascii), selected, this.diagramExplanation(selected, innerWidth), theme);
    } else renderTable(w.table, tableRect, title, table, theme, view === 'findings' ? this.findingDetail(innerWidth) : []);
    renderFooter(w.footer, layout.footer, footerKeys(this.ui.view, this.ui.detailsKey !== null, this.ui.paused));

    const prompt = this.ui.prompt;
    renderPrompt(
      w.prompt,
      prompt === null ? null : { top: layout.footer.top - 3, left: 0, width, height: 3 },
      prompt === null ? '' : PROMPT_TITLE[prompt.kind],
      prompt?.text ?? '',
      prompt?.error ?? null,
    );

    const overlay: Rect = { top: layout.header.height, left: 0, width, height: height - layout.header.height - 1 };
    if (this.ui.detailsKey !== null) {
      const found = this.detailsFor(this.ui.detailsKey, snapshot.takenAtMs);
      const info = this.tcpInfo !== null && this.tcpInfo.key === this.ui.detailsKey ? this.tcpInfo.value : null;
      renderDetails(
        w.details,
        overlay,
        found === null
          ? [{ text: 'This socket is gone.', style: 'muted', color: null }]
          : buildDetailsView({
              record: found.record,
              info: this.tracker.infoOf(this.ui.detailsKey),
              closedAtMs: found.closedAtMs,
              samples: this.tracker.queueSamples(),
              tcpInfo: info,
              nowMs: snapshot.takenAtMs,
              width: width - 4,
              ascii: theme.ascii,
            }),
        theme,
      );
    } else renderDetails(w.details, null, [], theme);
    renderHelp(w.help, this.ui.help ? overlay : null, helpLines(width - 2));
    if (prompt !== null) w.prompt.setFront();
    this.screen.render();
  }

  private viewTabs(): string {
    return `  [1 sockets · 2 ports · 3 peers · 4 processes · 5 states · 6 findings · 7 compare]`;
  }

  /** The latest marker against the picture shown, or null without markers. */
  private comparison(snapshot: Snapshot): ReturnType<typeof compareWithMarker> | null {
    const marker = this.markers.at(-1);
    return marker === undefined ? null : compareWithMarker(marker, snapshot);
  }

  private compareKeys(snapshot: Snapshot): string[] {
    return buildCompareView(this.comparison(snapshot), this.ui, { width: 80, height: 10_000 }).rows.map((r) => r.key);
  }

  /** The selected finding's full text, under the findings table. */
  private findingDetail(width: number): string[] {
    const f = this.findings.find((x) => x.id === this.ui.selectedKey) ?? this.findings[Math.min(this.ui.selectedIndex, this.findings.length - 1)];
    if (f === undefined) return [];
    return [...wrap(f.detail, width, ''), `Enter: show these sockets (${f.filter})`];
  }

  /** Selected state in the diagram view (the selection key is the state name). */
  private diagramIndex(): number {
    const i = this.ui.selectedKey === null ? -1 : DIAGRAM_STATES.indexOf(this.ui.selectedKey as TcpState);
    return i >= 0 ? i : Math.min(this.ui.selectedIndex, DIAGRAM_STATES.length - 1);
  }

  /** Plain-language lines about the selected state, under the diagram. */
  private diagramExplanation(state: TcpState, width: number): string[] {
    const e = explainState('tcp', state);
    return [
      `${TCP_STATE_SHORT[state]}: ${e.meaning}`,
      `Side: ${e.side}. ${e.typicalDuration}`,
      `Many of them: ${e.pileUp}`,
      ...(e.action === undefined ? [] : [`What to do: ${e.action}`]),
      'Enter: list these sockets · ↑↓ another state',
    ].flatMap((l) => wrap(l, width, ''));
  }

  /** Objects held, for soak tests. */
  stats(): { tracker: ReturnType<SocketTracker['size']>; history: number } {
    return { tracker: this.tracker.size(), history: this.history.length };
  }

  destroy(): void {
    this.destroyed = true;
  }
}
