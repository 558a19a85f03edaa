// build*View: turn a snapshot (plus session memory and UI state) into plain view models for the
// widgets. Pure: no blessed, no clock (times come in), no /proc. Every string that came from the
// system is made inert here with safeText before it is placed in a cell.

import type { GroupRow, StateCounts } from '../model/aggregate.js';
import type { Finding } from '../model/findings.js';
import type { PortListenerSummary } from '../model/listener-health.js';
import { HEADLINE_COUNTERS, type CounterRates } from '../model/rates.js';
import { safeText } from '../model/safe-text.js';
import type { StateHistory } from '../model/state-history.js';
import { STATE_COLOR, TCP_STATES, TCP_STATE_SHORT, stateLabel, type StateColor } from '../model/state-info.js';
import type { ProtocolGroup, SocketRecord, SocketState, TcpState } from '../model/types.js';
import { formatOwner, localEndpoint, peerEndpoint } from './presenters.js';
import { shownSendQ, type SocketRow } from './socket-rows.js';
import { fitText, formatAge, formatCount, formatDuration, formatRate, logBarLength, sparkline } from './text.js';
import type { GroupSortKey, GroupViewName, SocketSortKey, UiState } from './ui-state.js';

export interface Cell {
  readonly text: string;
  /** Colour for this cell only (the state column), or null. */
  readonly color: StateColor | null;
}

export interface TableRowView {
  readonly key: string;
  readonly cells: readonly Cell[];
  readonly selected: boolean;
  readonly isNew: boolean;
  readonly closed: boolean;
}

export interface TableView {
  /** Header line, already fitted to the width. */
  readonly header: string;
  /** Only the visible rows (virtualised), each cell fitted to its column. */
  readonly rows: readonly TableRowView[];
  readonly total: number;
  /** Index of the first visible row in the whole list. */
  readonly offset: number;
  readonly selectedIndex: number;
  readonly emptyText: string;
}

export interface ColumnSpec<Row> {
  readonly id: string;
  readonly title: string;
  /** Minimum width; flexible columns grow with the terminal. */
  readonly width: number;
  readonly flex: number;
  /** Lower numbers are dropped last when the terminal is narrow. */
  readonly priority: number;
  readonly align: 'left' | 'right';
  readonly sortKey?: string;
  readonly cell: (row: Row) => Cell;
}

export const plain = (text: string): Cell => ({ text, color: null });

/** Choose which columns fit in `width` and how wide each is (one space between columns). */
export function layoutColumns<Row>(specs: readonly ColumnSpec<Row>[], width: number): { spec: ColumnSpec<Row>; width: number }[] {
  let chosen = [...specs];
  const need = (cols: readonly ColumnSpec<Row>[]): number => cols.reduce((n, c) => n + c.width, 0) + Math.max(0, cols.length - 1);
  while (chosen.length > 1 && need(chosen) > width) {
    const drop = chosen.reduce((worst, c) => (c.priority > worst.priority ? c : worst));
    chosen = chosen.filter((c) => c !== drop);
  }
  const spare = Math.max(0, width - need(chosen));
  const flexTotal = chosen.reduce((n, c) => n + c.flex, 0);
  let given = 0;
  const flexCols = chosen.filter((c) => c.flex > 0);
  return chosen.map((spec) => {
    let extra = 0;
    if (spec.flex > 0 && flexTotal > 0) {
      extra = spec === flexCols.at(-1) ? spare - given : Math.floor((spare * spec.flex) / flexTotal);
      given += extra;
    }
    return { spec, width: spec.width + extra };
  });
}

export function buildTable<Row>(
  specs: readonly ColumnSpec<Row>[],
  rows: readonly Row[],
  keyOf: (row: Row) => string,
  flags: (row: Row) => { isNew: boolean; closed: boolean },
  opts: { width: number; height: number; selectedKey: string | null; selectedIndex: number; sortId: string; descending: boolean; emptyText: string },
): TableView {
  const cols = layoutColumns(specs, opts.width);
  const header = cols
    .map(({ spec, width }) => {
      const mark = spec.sortKey === opts.sortId ? (opts.descending ? '▼' : '▲') : '';
      return fitText(spec.title + mark, width, spec.align);
    })
    .join(' ');
  let selected = -1;
  if (opts.selectedKey !== null) {
    for (let i = 0; i < rows.length; i++) {
      if (keyOf(rows[i] as Row) === opts.selectedKey) {
        selected = i;
        break;
      }
    }
  }
  if (selected < 0) selected = Math.max(0, Math.min(rows.length - 1, opts.selectedIndex));
  const height = Math.max(1, opts.height);
  // Keep the selection visible, roughly where it was: scroll the minimum needed.
  const offset = Math.max(0, Math.min(selected - Math.floor(height / 2), rows.length - height));
  const visible: TableRowView[] = [];
  for (let i = offset; i < Math.min(rows.length, offset + height); i++) {
    const row = rows[i] as Row;
    visible.push({
      key: keyOf(row),
      cells: cols.map(({ spec, width }) => {
        const c = spec.cell(row);
        return { text: fitText(c.text, width, spec.align), color: c.color };
      }),
      selected: i === selected,
      ...flags(row),
    });
  }
  return { header, rows: visible, total: rows.length, offset, selectedIndex: rows.length === 0 ? -1 : selected, emptyText: opts.emptyText };
}

const SOCKET_COLUMNS: readonly ColumnSpec<SocketRow>[] = [
  { id: 'proto', title: 'Proto', width: 5, flex: 0, priority: 3, align: 'left', sortKey: 'proto', cell: (r) => plain(r.record.protocol === 'unix' ? 'unix' : r.record.protocol) },
  {
    id: 'state',
    title: 'State',
    width: 10,
    flex: 0,
    priority: 0,
    align: 'left',
    sortKey: 'state',
    cell: (r) => ({ text: r.closedAtMs !== null ? 'CLOSED' : stateLabel(r.record.protocol, r.record.state), color: r.closedAtMs !== null ? null : STATE_COLOR[r.record.state] }),
  },
  { id: 'recvq', title: 'Recv-Q', width: 6, flex: 0, priority: 2, align: 'right', sortKey: 'recvq', cell: (r) => plain(formatCount(r.record.recvQ)) },
  { id: 'sendq', title: 'Send-Q', width: 6, flex: 0, priority: 2, align: 'right', sortKey: 'sendq', cell: (r) => plain(formatCount(shownSendQ(r))) },
  { id: 'local', title: 'Local Address:Port', width: 17, flex: 3, priority: 0, align: 'left', sortKey: 'local', cell: (r) => plain(localEndpoint(r.record)) },
  { id: 'peer', title: 'Peer Address:Port', width: 17, flex: 3, priority: 1, align: 'left', sortKey: 'peer', cell: (r) => plain(peerEndpoint(r.record)) },
  { id: 'process', title: 'Process', width: 10, flex: 2, priority: 1, align: 'left', sortKey: 'process', cell: (r) => plain(formatOwner(r.record)) },
  { id: 'user', title: 'User', width: 8, flex: 0, priority: 5, align: 'left', sortKey: 'user', cell: (r) => plain(safeText(r.record.user, 32)) },
  {
    id: 'age',
    title: 'Age',
    width: 7,
    flex: 0,
    priority: 4,
    align: 'right',
    sortKey: 'age',
    cell: (r) => plain(r.closedAtMs !== null ? 'gone' : r.ageMs === null ? '' : `${r.ageAtLeast ? '>' : ''}${formatAge(r.ageMs)}`),
  },
];

export function buildSocketTableView(rows: readonly SocketRow[], ui: UiState, size: { width: number; height: number }): TableView {
  return buildTable(SOCKET_COLUMNS, rows, (r) => r.key, (r) => ({ isNew: r.isNew, closed: r.closedAtMs !== null }), {
    ...size,
    selectedKey: ui.selectedKey,
    selectedIndex: ui.selectedIndex,
    sortId: ui.socketSort.key satisfies SocketSortKey,
    descending: ui.socketSort.descending,
    emptyText: ui.filterText === '' ? 'no sockets' : `no sockets match: ${ui.filterText}`,
  });
}

const n = (g: GroupRow, s: SocketState): number => g.states[s] ?? 0;
const countCell = (v: number, state: SocketState | null = null): Cell => ({ text: v === 0 ? '·' : formatCount(v), color: v === 0 || state === null ? null : STATE_COLOR[state] });

function groupColumns(view: GroupViewName, listeners: ReadonlyMap<number, PortListenerSummary> | null): ColumnSpec<GroupRow>[] {
  const keyTitle = view === 'ports' ? 'Port' : view === 'peers' ? 'Peer' : 'PID';
  const common: ColumnSpec<GroupRow>[] = [
    { id: 'total', title: 'Total', width: 7, flex: 0, priority: 0, align: 'right', sortKey: 'total', cell: (g) => plain(formatCount(g.total)) },
    { id: 'estab', title: 'ESTAB', width: 7, flex: 0, priority: 0, align: 'right', sortKey: 'established', cell: (g) => countCell(n(g, 'ESTABLISHED') + n(g, 'CONNECTED'), 'ESTABLISHED') },
    { id: 'tw', title: 'TIME-W', width: 7, flex: 0, priority: 1, align: 'right', sortKey: 'timewait', cell: (g) => countCell(n(g, 'TIME_WAIT'), 'TIME_WAIT') },
    { id: 'cw', title: 'CLOSE-W', width: 7, flex: 0, priority: 0, align: 'right', sortKey: 'closewait', cell: (g) => countCell(n(g, 'CLOSE_WAIT'), 'CLOSE_WAIT') },
    { id: 'syn', title: 'SYN-RCV', width: 7, flex: 0, priority: 1, align: 'right', sortKey: 'synrecv', cell: (g) => countCell(n(g, 'SYN_RECV') + n(g, 'NEW_SYN_RECV'), 'SYN_RECV') },
    { id: 'fw', title: 'FIN-W', width: 6, flex: 0, priority: 3, align: 'right', cell: (g) => countCell(n(g, 'FIN_WAIT1') + n(g, 'FIN_WAIT2'), 'FIN_WAIT2') },
  ];
  if (view === 'ports') {
    return [
      { id: 'key', title: keyTitle, width: 6, flex: 0, priority: 0, align: 'right', sortKey: 'key', cell: (g) => plain(g.key) },
      { id: 'proto', title: 'Proto', width: 9, flex: 0, priority: 4, align: 'left', cell: (g) => plain(g.protocols.join(',')) },
      { id: 'proc', title: 'Listener', width: 12, flex: 1, priority: 1, align: 'left', cell: (g) => plain(g.pid === null ? '-' : `${g.pid}/${safeText(g.process ?? '?', 64)}`) },
      ...common,
      { id: 'queue', title: 'Accept-Q', width: 10, flex: 0, priority: 1, align: 'right', sortKey: 'queue', cell: (g) => acceptQueueCell(g, listeners) },
    ];
  }
  if (view === 'peers') {
    return [
      { id: 'key', title: keyTitle, width: 16, flex: 1, priority: 0, align: 'left', sortKey: 'key', cell: (g) => plain(g.key) },
      ...common,
      { id: 'synsent', title: 'SYN-SNT', width: 7, flex: 0, priority: 2, align: 'right', cell: (g) => countCell(n(g, 'SYN_SENT'), 'SYN_SENT') },
    ];
  }
  return [
    { id: 'key', title: keyTitle, width: 7, flex: 0, priority: 0, align: 'right', sortKey: 'key', cell: (g) => plain(g.key) },
    { id: 'proc', title: 'Command', width: 12, flex: 1, priority: 0, align: 'left', cell: (g) => plain(safeText(g.label, 64)) },
    { id: 'listen', title: 'LISTEN', width: 6, flex: 0, priority: 2, align: 'right', cell: (g) => countCell(n(g, 'LISTEN') + n(g, 'LISTENING'), 'LISTEN') },
    ...common,
  ];
}

function groupValue(g: GroupRow, key: GroupSortKey): number | string {
  switch (key) {
    case 'key':
      return /^\d+$/.test(g.key) ? Number(g.key) : g.key;
    case 'total':
      return g.total;
    case 'established':
      return n(g, 'ESTABLISHED') + n(g, 'CONNECTED');
    case 'timewait':
      return n(g, 'TIME_WAIT');
    case 'closewait':
      return n(g, 'CLOSE_WAIT');
    case 'synrecv':
      return n(g, 'SYN_RECV') + n(g, 'NEW_SYN_RECV');
    case 'queue':
      return g.acceptQueue;
  }
}

export function sortGroups(groups: readonly GroupRow[], sort: UiState['groupSort']): GroupRow[] {
  const sign = sort.descending ? -1 : 1;
  return [...groups].sort((a, b) => {
    const va = groupValue(a, sort.key);
    const vb = groupValue(b, sort.key);
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return sign * c || a.key.localeCompare(b.key);
  });
}

/**
 * Accept queue of a service port: "3/128" (now / backlog limit, "~" when the limit is the
 * somaxconn estimate), "!" when the listener is full or dropping; red when full, yellow when filling.
 */
function acceptQueueCell(g: GroupRow, listeners: ReadonlyMap<number, PortListenerSummary> | null): Cell {
  if (!g.listening) return plain('');
  const h = /^\d+$/.test(g.key) ? listeners?.get(Number(g.key)) : undefined;
  if (h === undefined) return { text: String(g.acceptQueue), color: g.acceptQueue > 0 ? 'yellow' : null };
  const limit = h.backlog === null ? '?' : `${h.backlogIsEstimate ? '~' : ''}${formatCount(h.backlog)}`;
  const bad = h.flags.includes('queue-full') || h.flags.includes('dropping');
  return { text: `${bad ? '!' : ''}${formatCount(h.acceptQueue)}/${limit}`, color: bad ? 'red' : h.flags.includes('queue-filling') ? 'yellow' : null };
}

export function buildGroupTableView(
  view: GroupViewName,
  groups: readonly GroupRow[],
  ui: UiState,
  size: { width: number; height: number },
  listeners: ReadonlyMap<number, PortListenerSummary> | null = null,
): TableView {
  return buildTable(groupColumns(view, listeners), groups, (g) => g.key, () => ({ isNew: false, closed: false }), {
    ...size,
    selectedKey: ui.selectedKey,
    selectedIndex: ui.selectedIndex,
    sortId: ui.groupSort.key,
    descending: ui.groupSort.descending,
    emptyText: view === 'ports' ? 'no listening ports' : view === 'peers' ? 'no connected peers' : 'no sockets',
  });
}

/** The filter that shows a group's sockets in the socket table. */
export function groupDrillFilter(view: GroupViewName, key: string): string {
  if (view === 'ports') return `sport ${key}`;
  if (view === 'peers') return `dst ${key}`;
  // The "(unknown owner)" row: `proc *` matches every socket with a known owner.
  return key === '-' ? 'not proc *' : `pid ${key}`;
}

// ---- State bars and history -------------------------------------------------------------------

export interface StateBarView {
  readonly state: TcpState;
  readonly label: string;
  readonly count: string;
  readonly bar: string;
  readonly trend: string;
  readonly color: StateColor;
}

/** States that matter when troubleshooting: shown even at zero when there is room. */
const ALWAYS_SHOWN: readonly TcpState[] = ['LISTEN', 'ESTABLISHED', 'SYN_RECV', 'CLOSE_WAIT', 'TIME_WAIT'];

/**
 * One row per TCP state, log-scaled so small but important counts (SYN_RECV, CLOSE_WAIT) stay
 * visible next to 300,000 ESTABLISHED. At most `height` rows: states with sockets first.
 */
export function buildStateBarsView(
  counts: StateCounts,
  history: StateHistory,
  size: { width: number; height: number },
  ascii: boolean,
  trend = true,
): StateBarView[] {
  const labelWidth = 10;
  const countWidth = 7;
  // Inline trends only where no history chart is drawn beside the bars.
  const trendWidth = trend && size.width >= 60 ? Math.min(30, Math.floor(size.width / 3)) : 0;
  // label, space, count, space, bar[, space, trend]
  const barWidth = Math.max(1, size.width - labelWidth - countWidth - 2 - (trendWidth > 0 ? trendWidth + 1 : 0));
  // Every state when there is room (NEW_SYN_RECV only when present: /proc shows SYN_RECV),
  // else the ones that matter plus any with sockets.
  const roomForAll = size.height >= TCP_STATES.length - 1;
  let states = TCP_STATES.filter((s) => (counts[s] ?? 0) > 0 || (roomForAll ? s !== 'NEW_SYN_RECV' : ALWAYS_SHOWN.includes(s)));
  if (states.length > size.height) {
    const ranked = [...states].sort((a, b) => (counts[b] ?? 0) - (counts[a] ?? 0)).slice(0, size.height);
    states = states.filter((s) => ranked.includes(s));
  }
  const max = Math.max(0, ...states.map((s) => counts[s] ?? 0));
  const full = ascii ? '#' : '█';
  return states.map((state) => {
    const c = counts[state] ?? 0;
    return {
      state,
      label: fitText(TCP_STATE_SHORT[state], labelWidth),
      count: fitText(formatCount(c), countWidth, 'right'),
      bar: fitText(full.repeat(logBarLength(c, max, barWidth)), barWidth),
      trend: trendWidth > 0 ? sparkline(history.series(state, trendWidth), trendWidth, ascii) : '',
      color: STATE_COLOR[state],
    };
  });
}

// ---- Header --------------------------------------------------------------------------------

export interface HeaderView {
  readonly title: string;
  readonly status: string;
  readonly paused: boolean;
  readonly totals: string;
  readonly rates: string;
  readonly filter: string;
  readonly notice: string;
  /** The cost meter: what the last refresh cost sockscope. */
  readonly cost: string;
  /** The findings badge: "1 crit 2 warn" (every finding still shown, by severity), or ''. */
  readonly findings: string;
  readonly findingsColor: StateColor | null;
  /** The worst finding's one line, shown after the badge when there is room, or ''. */
  readonly worstFinding: string;
}

/** What the last refresh cost (the cost meter). */
export interface RefreshCost {
  readonly readMs: number;
  readonly parseMs: number;
  readonly ownersMs: number;
  readonly drawMs: number;
  readonly rows: number;
  /** Set when the poller stretched the interval because refreshing cost too much. */
  readonly backedOffToMs: number | null;
}

export interface HeaderInput {
  readonly host: string;
  readonly takenAtMs: number;
  readonly intervalMs: number;
  readonly paused: boolean;
  /** Shown instead of "live" (a replay's position), or null. */
  readonly mode?: string | null;
  readonly totals: Readonly<Record<ProtocolGroup, number>>;
  readonly shown: number;
  readonly rates: CounterRates;
  readonly openedPerSec: number;
  readonly closedPerSec: number;
  readonly filterText: string;
  readonly notice: string;
  readonly cost: RefreshCost | null;
  readonly timeZoneOffsetMin: number;
  /** Which network namespace is shown (--pid), or null for our own. Untrusted text inside. */
  readonly scope?: string | null;
  /** Findings summary from insight-views' findingsSummary (used when findingsList is absent). */
  readonly findings?: { readonly text: string; readonly color: StateColor | null };
  /** Every current finding, the worst first (the badge counts them by severity). */
  readonly findingsList?: readonly Finding[];
  /** Sockets per protocol group under the filter, or null without a filter ("N of M"). */
  readonly matchedTotals?: Readonly<Record<ProtocolGroup, number>> | null;
  /** The busiest state transitions, e.g. [["ESTABLISHED→CLOSE_WAIT", 3.2]]. */
  readonly transitions?: readonly (readonly [string, number])[];
}

/** "ESTABLISHED→CLOSE_WAIT" → "ESTAB→CLOSE-WAIT" (ss-style short names). */
function shortTransition(label: string): string {
  return label
    .split('→')
    .map((s) => (s in TCP_STATE_SHORT ? TCP_STATE_SHORT[s as TcpState] : s))
    .join('→');
}

function clock(ms: number, offsetMin: number): string {
  const d = new Date(ms - offsetMin * 60_000);
  return d.toISOString().slice(11, 19);
}

const BADGE_COLOR = { crit: 'red', warn: 'yellow', info: 'cyan' } as const satisfies Record<Finding['severity'], StateColor>;

/** The badge of every finding on screen: counts by severity, the worst one's title. */
function findingsBadge(findings: readonly Finding[]): { text: string; color: StateColor | null; worst: string } {
  const n = { crit: 0, warn: 0, info: 0 };
  for (const f of findings) n[f.severity]++;
  const text = (['crit', 'warn', 'info'] as const)
    .filter((k) => n[k] > 0)
    .map((k) => `${n[k]} ${k}`)
    .join(' ');
  const worst = findings[0];
  return { text, color: worst === undefined ? null : BADGE_COLOR[worst.severity], worst: worst === undefined ? '' : safeText(worst.title, 200) };
}

export function buildHeaderView(input: HeaderInput): HeaderView {
  const badge = input.findingsList === undefined ? null : findingsBadge(input.findingsList);
  const all = input.totals.tcp + input.totals.udp + input.totals.unix + input.totals.raw;
  const shown = input.matchedTotals != null && input.shown < all ? `shown ${formatCount(input.shown)} of ${formatCount(all)}` : `shown ${formatCount(input.shown)}`;
  const interval = input.intervalMs % 1000 === 0 ? `${input.intervalMs / 1000}s` : `${input.intervalMs / 1000}s`;
  const rates = HEADLINE_COUNTERS.filter((c) => ['in', 'out', 'reset', 'retrans', 'overflow', 'drop'].includes(c.label))
    .map((c) => `${c.label} ${formatRate(input.rates[c.key] ?? 0)}`)
    .join('  ');
  const t = input.totals;
  return {
    title: `sockscope  ${safeText(input.host, 40)}${input.scope == null ? '' : `  ${safeText(input.scope, 80)}`}`,
    status:
      input.mode != null
        ? `${clock(input.takenAtMs, input.timeZoneOffsetMin)}  ${input.mode}${input.paused ? '  PAUSED' : ''}`
        : `${clock(input.takenAtMs, input.timeZoneOffsetMin)}  every ${interval}  ${input.paused ? 'PAUSED' : 'live'}`,
    paused: input.paused,
    totals: `TCP ${formatCount(t.tcp)}  UDP ${formatCount(t.udp)}  UNIX ${formatCount(t.unix)}${t.raw > 0 ? `  RAW ${formatCount(t.raw)}` : ''}  ${shown}`,
    rates: `/s  ${rates}  opened ${formatRate(input.openedPerSec)}  closed ${formatRate(input.closedPerSec)}${(input.transitions ?? [])
      .slice(0, 2)
      .map(([label, perSec]) => `  ${shortTransition(label)} ${formatRate(perSec)}`)
      .join('')}`,
    findings: badge?.text ?? input.findings?.text ?? '',
    findingsColor: badge?.color ?? input.findings?.color ?? null,
    worstFinding: badge?.worst ?? '',
    filter: input.filterText === '' ? '' : safeText(input.filterText, 200),
    notice:
      input.cost?.backedOffToMs != null
        ? `refresh costs ${Math.round(input.cost.parseMs + input.cost.ownersMs + input.cost.drawMs)} ms: slowed to every ${input.cost.backedOffToMs / 1000}s${input.notice === '' ? '' : `; ${input.notice}`}`
        : input.notice,
    cost:
      input.cost === null
        ? ''
        : `${formatCount(input.cost.rows)} rows  read ${Math.round(input.cost.readMs)}ms  parse ${Math.round(input.cost.parseMs)}ms  owners ${Math.round(input.cost.ownersMs)}ms  draw ${Math.round(input.cost.drawMs)}ms`,
  };
}
