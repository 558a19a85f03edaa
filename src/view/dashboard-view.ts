// build*View: turn a snapshot (plus session memory and UI state) into plain view models for the
// widgets. Pure: no blessed, no clock (times come in), no /proc. Every string that came from the
// system is made inert here with safeText before it is placed in a cell.

import { runSteps, sortSteps } from '../model/sort-steps.js';
import { formatBytesPerSec, formatRttMs, portWithService } from './rate-text.js';
import type { GroupRow, StateCounts } from '../model/aggregate.js';
import type { RateGroup } from '../model/conn-rates.js';
import type { Finding } from '../model/findings.js';
import type { PortListenerSummary } from '../model/listener-health.js';
import { HEADLINE_COUNTERS, type CounterRates } from '../model/rates.js';
import { safeText } from '../model/safe-text.js';
import type { StateHistory } from '../model/state-history.js';
import { STATE_COLOR, TCP_STATES, TCP_STATE_SHORT, stateLabel, type StateColor } from '../model/state-info.js';
import type { ProtocolGroup, SocketState, TcpState } from '../model/types.js';
import type { UnixPeerProcess } from '../model/unix-peers.js';
import { formatOwner, formatUnixPeer, localEndpoint, peerEndpoint } from './presenters.js';
import { shownSendQ, type SocketRow, type SocketRowList } from './socket-rows.js';
import {
  DROP_MARK,
  displayWidth,
  fitText,
  formatAge,
  formatCount,
  formatDuration,
  formatRate,
  layoutLine,
  logBarLength,
  sparkline,
  type LineSegment,
} from './text.js';
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
  /** Sort keys of the visible columns, left to right (what < and > step through). */
  readonly sortKeys?: readonly string[];
  /**
   * Where each visible column lies on the header line: its first cell from the table's left
   * edge and its width, in terminal cells, with its sort key (none: not sortable). A click on the
   * header sorts by the column under it.
   */
  readonly columns?: readonly TableColumnView[];
  /** "sort: Recv-Q ▼" for the panel's title, or '' when the table is not sorted by a column. */
  readonly sortLabel?: string;
  /**
   * Every sortable column of the table in column order, also those left out for width (the sort
   * menu lists them; sorting by one brings it on screen).
   */
  readonly sortOptions?: readonly { readonly key: string; readonly title: string }[];
  /**
   * The text of row `index` of the whole list (not only the visible ones): every column's cell,
   * lower case, for the search. Computed when asked, one row at a time.
   */
  readonly searchText?: (index: number) => string;
  /** Only the visible rows (virtualised), each cell fitted to its column. */
  readonly rows: readonly TableRowView[];
  readonly total: number;
  /** Index of the first visible row in the whole list. */
  readonly offset: number;
  readonly selectedIndex: number;
  readonly emptyText: string;
}

export interface TableColumnView {
  readonly left: number;
  readonly width: number;
  readonly sortKey?: string;
}

/** The column under cell `x` of the header line (from the table's left edge), if any. */
export function columnAt(view: TableView, x: number): TableColumnView | undefined {
  return view.columns?.find((c) => x >= c.left && x < c.left + c.width);
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

/** Rows a table reads by position: an array, or a list that builds only the rows read (SocketRowList). */
export interface RowSource<Row> {
  readonly length: number;
  at(index: number): Row | undefined;
  /** Position of the row with this key, -1 if none; absent: found by reading every row. */
  indexOfKey?(key: string): number;
}

export function buildTable<Row>(
  specs: readonly ColumnSpec<Row>[],
  rows: RowSource<Row>,
  keyOf: (row: Row) => string,
  flags: (row: Row) => { isNew: boolean; closed: boolean },
  opts: {
    width: number;
    height: number;
    selectedKey: string | null;
    selectedIndex: number;
    sortId: string;
    descending: boolean;
    emptyText: string;
  },
): TableView {
  // The sorted column stays on screen and wide enough for its title and the ▲/▼ mark.
  const sorted = specs.find((c) => c.sortKey !== undefined && c.sortKey === opts.sortId);
  const cols = layoutColumns(
    specs.map((c) => (c === sorted ? { ...c, priority: 0, width: Math.max(c.width, displayWidth(c.title) + 1) } : c)),
    opts.width,
  );
  const arrow = opts.descending ? '▼' : '▲';
  const header = cols
    .map(({ spec, width }) => {
      const mark = spec.sortKey === opts.sortId ? arrow : '';
      return fitText(spec.title + mark, width, spec.align);
    })
    .join(' ');
  const sortKeys = cols.flatMap(({ spec }) => (spec.sortKey === undefined ? [] : [spec.sortKey]));
  // Columns are separated by one space (the join above); widths are terminal cells.
  let left = 0;
  const columns = cols.map(({ spec, width }): TableColumnView => {
    const column = spec.sortKey === undefined ? { left, width } : { left, width, sortKey: spec.sortKey };
    left += width + 1;
    return column;
  });
  const sortLabel = sorted === undefined ? '' : `sort: ${sorted.title} ${arrow}`;
  const sortOptions = specs.flatMap((c) => (c.sortKey === undefined ? [] : [{ key: c.sortKey, title: c.title }]));
  const searchText = (index: number): string => {
    const row = rows.at(index);
    return row === undefined
      ? ''
      : specs
          .map((c) => c.cell(row).text)
          .join(' ')
          .toLowerCase();
  };
  let selected = -1;
  if (opts.selectedKey !== null) {
    if (rows.indexOfKey !== undefined) selected = rows.indexOfKey(opts.selectedKey);
    else {
      for (let i = 0; i < rows.length; i++) {
        if (keyOf(rows.at(i) as Row) === opts.selectedKey) {
          selected = i;
          break;
        }
      }
    }
  }
  if (selected < 0) selected = Math.max(0, Math.min(rows.length - 1, opts.selectedIndex));
  const height = Math.max(1, opts.height);
  // Keep the selection visible, roughly where it was: scroll the minimum needed.
  const offset = Math.max(0, Math.min(selected - Math.floor(height / 2), rows.length - height));
  const visible: TableRowView[] = [];
  for (let i = offset; i < Math.min(rows.length, offset + height); i++) {
    const row = rows.at(i) as Row;
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
  return {
    header,
    sortKeys,
    columns,
    sortLabel,
    sortOptions,
    searchText,
    rows: visible,
    total: rows.length,
    offset,
    selectedIndex: rows.length === 0 ? -1 : selected,
    emptyText: opts.emptyText,
  };
}

const SOCKET_COLUMNS: readonly ColumnSpec<SocketRow>[] = [
  // Priorities: a narrow table keeps State, the endpoints, Recv-Q (the accept queue of a
  // listener) and Proto; Send-Q goes before them, then Process.
  {
    id: 'proto',
    title: 'Proto',
    width: 5,
    flex: 0,
    priority: 1,
    align: 'left',
    sortKey: 'proto',
    cell: (r) => plain(r.record.protocol === 'unix' ? 'unix' : r.record.protocol),
  },
  {
    id: 'state',
    title: 'State',
    width: 10,
    flex: 0,
    priority: 0,
    align: 'left',
    sortKey: 'state',
    cell: (r) => ({
      text: r.closedAtMs !== null ? 'CLOSED' : stateLabel(r.record.protocol, r.record.state),
      color: r.closedAtMs !== null ? null : STATE_COLOR[r.record.state],
    }),
  },
  {
    id: 'recvq',
    title: 'Recv-Q',
    width: 6,
    flex: 0,
    priority: 1,
    align: 'right',
    sortKey: 'recvq',
    cell: (r) => plain(formatCount(r.record.recvQ)),
  },
  {
    id: 'sendq',
    title: 'Send-Q',
    width: 6,
    flex: 0,
    priority: 3,
    align: 'right',
    sortKey: 'sendq',
    cell: (r) => plain(formatCount(shownSendQ(r))),
  },
  {
    id: 'local',
    title: 'Local Address:Port',
    width: 16,
    flex: 4,
    priority: 0,
    align: 'left',
    sortKey: 'local',
    cell: (r) => plain(localEndpoint(r.record)),
  },
  {
    id: 'peer',
    title: 'Peer Address:Port',
    width: 16,
    flex: 3,
    priority: 1,
    align: 'left',
    sortKey: 'peer',
    cell: (r) => plain(r.peer != null ? formatUnixPeer(r.peer) : peerEndpoint(r.record)),
  },
  {
    id: 'process',
    title: 'Process',
    width: 10,
    flex: 2,
    priority: 2,
    align: 'left',
    sortKey: 'process',
    cell: (r) => plain(formatOwner(r.record)),
  },
  {
    id: 'user',
    title: 'User',
    width: 8,
    flex: 0,
    priority: 5,
    align: 'left',
    sortKey: 'user',
    cell: (r) => plain(safeText(r.record.user, 32)),
  },
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

/** Bytes/s out and in and RTT (from ss): shown only when some row has rates, dropped first when narrow. */
const RATE_COLUMNS: readonly ColumnSpec<SocketRow>[] = [
  {
    id: 'out',
    title: 'Out/s',
    width: 10,
    flex: 0,
    priority: 6,
    align: 'right',
    sortKey: 'out',
    cell: (r) => plain(r.rate == null ? '' : formatBytesPerSec(r.rate.sendBytesPerSec)),
  },
  {
    id: 'in',
    title: 'In/s',
    width: 10,
    flex: 0,
    priority: 6,
    align: 'right',
    sortKey: 'in',
    cell: (r) => plain(r.rate == null ? '' : formatBytesPerSec(r.rate.recvBytesPerSec)),
  },
  {
    id: 'rtt',
    title: 'RTT',
    width: 9,
    flex: 0,
    priority: 7,
    align: 'right',
    sortKey: 'rtt',
    cell: (r) => plain(r.rate == null ? '' : formatRttMs(r.rate.rttMs)),
  },
];

export function buildSocketTableView(
  rows: readonly SocketRow[] | SocketRowList,
  ui: UiState,
  size: { width: number; height: number },
): TableView {
  const anyRate = 'anyRate' in rows ? rows.anyRate : rows.some((r) => r.rate != null);
  const columns = anyRate ? [...SOCKET_COLUMNS, ...RATE_COLUMNS] : SOCKET_COLUMNS;
  return buildTable(
    columns,
    rows,
    (r) => r.key,
    (r) => ({ isNew: r.isNew, closed: r.closedAtMs !== null }),
    {
      ...size,
      selectedKey: ui.selectedKey,
      selectedIndex: ui.selectedIndex,
      sortId: ui.socketSort.key satisfies SocketSortKey,
      descending: ui.socketSort.descending,
      emptyText: ui.filterText === '' ? 'no sockets' : `no sockets match: ${ui.filterText}`,
    },
  );
}

const n = (g: GroupRow, s: SocketState): number => g.states[s] ?? 0;
const countCell = (v: number, state: SocketState | null = null): Cell => ({
  text: v === 0 ? '·' : formatCount(v),
  color: v === 0 || state === null ? null : STATE_COLOR[state],
});

/** Rate columns of a grouped view (only when connection rates exist): dropped first when narrow. */
function groupRateColumns(view: GroupViewName, rates: ReadonlyMap<string, RateGroup>): ColumnSpec<GroupRow>[] {
  const bytes = (v: number | undefined, r: RateGroup | undefined): Cell =>
    plain(r === undefined || r.withRate === 0 ? '-' : formatBytesPerSec(v ?? 0));
  const cols: ColumnSpec<GroupRow>[] = [
    {
      id: 'out',
      title: 'Out/s',
      width: 10,
      flex: 0,
      priority: 6,
      align: 'right',
      sortKey: 'out',
      cell: (g) => bytes(rates.get(g.key)?.sendBytesPerSec, rates.get(g.key)),
    },
    {
      id: 'in',
      title: 'In/s',
      width: 10,
      flex: 0,
      priority: 6,
      align: 'right',
      sortKey: 'in',
      cell: (g) => bytes(rates.get(g.key)?.recvBytesPerSec, rates.get(g.key)),
    },
  ];
  if (view === 'peers') {
    cols.push(
      {
        id: 'rtt',
        title: 'RTT p50',
        width: 9,
        flex: 0,
        priority: 7,
        align: 'right',
        sortKey: 'rtt',
        cell: (g) => plain(formatRttMs(rates.get(g.key)?.rttMedianMs ?? null)),
      },
      {
        id: 'rttmax',
        title: 'RTT max',
        width: 9,
        flex: 0,
        priority: 7,
        align: 'right',
        sortKey: 'rttmax',
        cell: (g) => plain(formatRttMs(rates.get(g.key)?.rttWorstMs ?? null)),
      },
    );
  }
  return cols;
}

/** "345/journald (3), 1/systemd (1)": the processes at the other end of a process's UNIX sockets. */
function unixPeersText(peers: readonly UnixPeerProcess[], selfPid: number | null): string {
  return peers
    .map((p) => `${p.peerPid === selfPid ? 'itself' : `${p.peerPid}/${safeText(p.peerProcess, 64)}`} (${formatCount(p.connections)})`)
    .join(', ');
}

/**
 * The notes line under the by-process table for the selected process:
 * "UNIX peers of 812/sshd: → 345/systemd-journal (3) /run/systemd/journal/stdout, → 1/systemd (1)".
 */
export function unixPeersNote(pid: number, process: string, peers: readonly UnixPeerProcess[]): string {
  const each = peers.map(
    (p) =>
      `→ ${p.peerPid === pid ? 'itself' : `${p.peerPid}/${safeText(p.peerProcess, 64)}`} (${formatCount(p.connections)})${p.path === null ? '' : ` ${safeText(p.path, 120)}`}`,
  );
  return `UNIX peers of ${pid}/${safeText(process, 64)}: ${each.join(', ')}`;
}

/** "5432 postgresql": the name from /etc/services (untrusted text); "→5432 postgresql" for a remote port. */
function portKeyTextOf(key: string, serviceNames: ReadonlyMap<number, string> | null): string {
  if (key === CLIENT_SIDE_KEY) return '';
  const remote = key.startsWith('to:');
  const port = remote ? key.slice(3) : key;
  const text = serviceNames !== null && /^\d+$/.test(port) ? safeText(portWithService(Number(port), serviceNames), 32) : port;
  return remote ? `→${text}` : text;
}

/** The by-port view's Port column width of each groups list (made once per list, not per frame: tens of thousands of rows). */
const PORT_KEY_WIDTHS = new WeakMap<
  readonly GroupRow[],
  { readonly serviceNames: ReadonlyMap<number, string> | null; readonly width: number }
>();
export function portKeyWidth(groups: readonly GroupRow[], serviceNames: ReadonlyMap<number, string> | null): number {
  const known = PORT_KEY_WIDTHS.get(groups);
  if (known !== undefined && known.serviceNames === serviceNames) return known.width;
  let width = 6;
  for (const g of groups) {
    if (width >= 20) break;
    const remote = g.key.startsWith('to:');
    const port = remote ? g.key.slice(3) : g.key;
    // A port without a service name is its digits (and the arrow): no text made for it.
    const plainPort = /^\d+$/.test(port) && (serviceNames === null || !serviceNames.has(Number(port)));
    width = Math.max(width, plainPort ? port.length + (remote ? 1 : 0) : displayWidth(portKeyTextOf(g.key, serviceNames)));
  }
  width = Math.min(20, width);
  PORT_KEY_WIDTHS.set(groups, { serviceNames, width });
  return width;
}

function groupColumns(
  view: GroupViewName,
  listeners: ReadonlyMap<number, PortListenerSummary> | null,
  rates: ReadonlyMap<string, RateGroup> | null = null,
  serviceNames: ReadonlyMap<number, string> | null = null,
  groups: readonly GroupRow[] = [],
  unixPeers: ReadonlyMap<string, readonly UnixPeerProcess[]> | null = null,
): ColumnSpec<GroupRow>[] {
  const rateCols = rates === null ? [] : groupRateColumns(view, rates);
  // "5432 postgresql": the name from /etc/services (untrusted text); "→5432 postgresql" for a remote port.
  const portKeyText = (key: string): string => portKeyTextOf(key, serviceNames);
  const keyWidth = view === 'ports' ? portKeyWidth(groups, serviceNames) : 6;
  const keyTitle = view === 'ports' ? 'Port' : view === 'peers' ? 'Peer' : 'PID';
  const common: ColumnSpec<GroupRow>[] = [
    {
      id: 'total',
      title: 'Total',
      width: 7,
      flex: 0,
      priority: 0,
      align: 'right',
      sortKey: 'total',
      cell: (g) => plain(formatCount(g.total)),
    },
    {
      id: 'estab',
      title: 'ESTAB',
      width: 7,
      flex: 0,
      priority: 0,
      align: 'right',
      sortKey: 'established',
      cell: (g) => countCell(n(g, 'ESTABLISHED') + n(g, 'CONNECTED'), 'ESTABLISHED'),
    },
    {
      id: 'tw',
      title: 'TIME-W',
      width: 7,
      flex: 0,
      priority: 1,
      align: 'right',
      sortKey: 'timewait',
      cell: (g) => countCell(n(g, 'TIME_WAIT'), 'TIME_WAIT'),
    },
    {
      id: 'cw',
      title: 'CLOSE-W',
      width: 7,
      flex: 0,
      priority: 0,
      align: 'right',
      sortKey: 'closewait',
      cell: (g) => countCell(n(g, 'CLOSE_WAIT'), 'CLOSE_WAIT'),
    },
    {
      id: 'syn',
      title: 'SYN-RCV',
      width: 7,
      flex: 0,
      priority: 1,
      align: 'right',
      sortKey: 'synrecv',
      cell: (g) => countCell(n(g, 'SYN_RECV') + n(g, 'NEW_SYN_RECV'), 'SYN_RECV'),
    },
    {
      id: 'fw',
      title: 'FIN-W',
      width: 6,
      flex: 0,
      priority: 3,
      align: 'right',
      cell: (g) => countCell(n(g, 'FIN_WAIT1') + n(g, 'FIN_WAIT2'), 'FIN_WAIT2'),
    },
  ];
  if (view === 'ports') {
    return [
      {
        id: 'key',
        title: keyTitle,
        // As wide as the longest "5432 postgresql" among the rows (at most 20), else 6.
        width: keyWidth,
        flex: 0,
        priority: 0,
        align: 'right',
        sortKey: 'key',
        cell: (g) => plain(portKeyText(g.key)),
      },
      { id: 'proto', title: 'Proto', width: 9, flex: 0, priority: 4, align: 'left', cell: (g) => plain(g.protocols.join(',')) },
      {
        id: 'proc',
        title: 'Listener',
        width: 12,
        flex: 1,
        priority: 1,
        align: 'left',
        // Remote-port rows: the client process when they all have the same one.
        cell: (g) =>
          g.key === CLIENT_SIDE_KEY ? plain(g.label) : plain(g.pid === null ? '-' : `${g.pid}/${safeText(g.process ?? '?', 64)}`),
      },
      ...common,
      {
        id: 'queue',
        title: 'Accept-Q',
        width: 10,
        flex: 0,
        priority: 1,
        align: 'right',
        sortKey: 'queue',
        cell: (g) => acceptQueueCell(g, listeners),
      },
      ...rateCols,
    ];
  }
  if (view === 'peers') {
    return [
      { id: 'key', title: keyTitle, width: 16, flex: 1, priority: 0, align: 'left', sortKey: 'key', cell: (g) => plain(g.key) },
      ...common,
      {
        id: 'synsent',
        title: 'SYN-SNT',
        width: 7,
        flex: 0,
        priority: 2,
        align: 'right',
        cell: (g) => countCell(n(g, 'SYN_SENT'), 'SYN_SENT'),
      },
      ...rateCols,
    ];
  }
  return [
    { id: 'key', title: keyTitle, width: 7, flex: 0, priority: 0, align: 'right', sortKey: 'key', cell: (g) => plain(g.key) },
    { id: 'proc', title: 'Command', width: 12, flex: 1, priority: 0, align: 'left', cell: (g) => plain(safeText(g.label, 64)) },
    {
      id: 'listen',
      title: 'LISTEN',
      width: 6,
      flex: 0,
      priority: 2,
      align: 'right',
      cell: (g) => countCell(n(g, 'LISTEN') + n(g, 'LISTENING'), 'LISTEN'),
    },
    ...common,
    // Who each process talks to over UNIX sockets (from ss -xH): only when some process has a
    // known peer; dropped after FIN-W when narrow (the note under the table names them then).
    ...(unixPeers === null || unixPeers.size === 0
      ? []
      : [
          {
            id: 'unix',
            title: 'UNIX peers',
            width: 14,
            flex: 1,
            priority: 3,
            align: 'left',
            cell: (g: GroupRow) => plain(unixPeersText(unixPeers.get(g.key) ?? [], g.pid)),
          } satisfies ColumnSpec<GroupRow>,
        ]),
    ...rateCols,
  ];
}

function groupValue(g: GroupRow, key: GroupSortKey, rates: ReadonlyMap<string, RateGroup> | null): number | string {
  const r = rates?.get(g.key);
  switch (key) {
    case 'out':
      return r === undefined || r.withRate === 0 ? -1 : r.sendBytesPerSec;
    case 'in':
      return r === undefined || r.withRate === 0 ? -1 : r.recvBytesPerSec;
    case 'rtt':
      return r?.rttMedianMs ?? -1;
    case 'rttmax':
      return r?.rttWorstMs ?? -1;
    case 'key': {
      const port = g.key.startsWith('to:') ? g.key.slice(3) : g.key;
      return /^\d+$/.test(port) ? Number(port) : g.key;
    }
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

/** Sorts grouped rows; rates (by group key) give the Out/s, In/s and RTT sorts (no rate sorts last descending). */
export function sortGroups(
  groups: readonly GroupRow[],
  sort: UiState['groupSort'],
  rates: ReadonlyMap<string, RateGroup> | null = null,
): GroupRow[] {
  return runSteps(sortGroupsSteps(groups, sort, rates));
}

/**
 * sortGroups in steps (pausing every few thousand rows: tens of thousands of remote ports at
 * 100k sockets), each row's sort value worked out once rather than in every comparison.
 */
export function* sortGroupsSteps(
  groups: readonly GroupRow[],
  sort: UiState['groupSort'],
  rates: ReadonlyMap<string, RateGroup> | null = null,
): Generator<void, GroupRow[]> {
  const sign = sort.descending ? -1 : 1;
  const valued: { readonly g: GroupRow; readonly v: number | string }[] = new Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    if (i % 4096 === 4095) yield;
    const g = groups[i] as GroupRow;
    valued[i] = { g, v: groupValue(g, sort.key, rates) };
  }
  yield;
  const sorted = yield* sortSteps(valued, (a, b) => {
    const va = a.v;
    const vb = b.v;
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return sign * c || a.g.key.localeCompare(b.g.key);
  });
  return sorted.map((x) => x.g);
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
  return {
    text: `${bad ? '!' : ''}${formatCount(h.acceptQueue)}/${limit}`,
    color: bad ? 'red' : h.flags.includes('queue-filling') ? 'yellow' : null,
  };
}

/** Key of the by-port view's heading row between the service ports and the remote ports. */
export const CLIENT_SIDE_KEY = 'to:';

/**
 * The by-port view's rows: the service ports (inbound side), then, under a "CLIENT SIDE" heading
 * row, the remote ports this host's clients connect to (keys "to:PORT"), each part sorted alone.
 */
export function portSections(local: readonly GroupRow[], remote: readonly GroupRow[]): GroupRow[] {
  if (remote.length === 0) return [...local];
  const heading: GroupRow = {
    key: CLIENT_SIDE_KEY,
    label: 'CLIENT SIDE',
    total: 0,
    states: {},
    acceptQueue: 0,
    listening: false,
    pid: null,
    process: null,
    protocols: [],
  };
  return [...local, heading, ...remote];
}

export function buildGroupTableView(
  view: GroupViewName,
  groups: readonly GroupRow[],
  ui: UiState,
  size: { width: number; height: number },
  listeners: ReadonlyMap<number, PortListenerSummary> | null = null,
  rates: ReadonlyMap<string, RateGroup> | null = null,
  serviceNames: ReadonlyMap<number, string> | null = null,
  unixPeers: ReadonlyMap<string, readonly UnixPeerProcess[]> | null = null,
): TableView {
  // The heading row between the by-port sections shows only its label (in the Listener column).
  const columns = groupColumns(view, listeners, rates, serviceNames, groups, unixPeers).map((c) =>
    c.id === 'proc' || c.id === 'key' ? c : { ...c, cell: (g: GroupRow) => (g.key === CLIENT_SIDE_KEY ? plain('') : c.cell(g)) },
  );
  return buildTable(
    columns,
    groups,
    (g) => g.key,
    () => ({ isNew: false, closed: false }),
    {
      ...size,
      selectedKey: ui.selectedKey,
      selectedIndex: ui.selectedIndex,
      sortId: ui.groupSort.key,
      descending: ui.groupSort.descending,
      emptyText: view === 'ports' ? 'no listening ports' : view === 'peers' ? 'no connected peers' : 'no sockets',
    },
  );
}

/** The filter that shows a group's sockets in the socket table; null for the by-port heading row. */
export function groupDrillFilter(view: GroupViewName, key: string): string | null {
  if (view === 'ports') return key === CLIENT_SIDE_KEY ? null : key.startsWith('to:') ? `dport ${key.slice(3)}` : `sport ${key}`;
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

/** One styled piece of header text. */
export interface HeaderPart {
  readonly text: string;
  readonly color: StateColor | null;
  /** bold: the title; muted: the cost meter; paused: the PAUSED badge; filter: the filter text; badge: the findings badge (colour as background). */
  readonly style: 'plain' | 'bold' | 'muted' | 'paused' | 'filter' | 'badge';
}

/** One unit of the header: shown whole, cut with "…" (minWidth), or left out by priority. */
export interface HeaderSegment extends LineSegment {
  readonly id: string;
  readonly parts: readonly HeaderPart[];
  /** Pushed to the right edge (the cost meter). */
  readonly alignRight?: boolean;
}

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
  /** The three header lines as segments by priority; layoutHeaderView fits them to a width. */
  readonly segments: readonly (readonly HeaderSegment[])[];
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
  /** Why it was stretched, for the header (refresh-budget's reason), e.g. "a refresh costs 0.62 s cpu (max 50% of a core)". */
  readonly backoffReason?: string;
}

export interface HeaderInput {
  /** TCP bytes/s over every connection with tcp_info (from ss), and how much older than the snapshot; absent or null: none. */
  readonly throughput?: {
    readonly sendBytesPerSec: number;
    readonly recvBytesPerSec: number;
    readonly ageMs: number;
    /** The reads are spaced by their CPU: ms between them, CPU of one read (ss's and ours), ms; null: every refresh. */
    readonly spaced?: { readonly everyMs: number; readonly cpuMs: number } | null;
  } | null;
  readonly host: string;
  readonly takenAtMs: number;
  readonly intervalMs: number;
  readonly paused: boolean;
  /** Shown instead of "live" (a replay's position), or null. */
  readonly mode?: string | null;
  /** Sockets read, per protocol group (everything, before the filter). */
  readonly totals: Readonly<Record<ProtocolGroup, number>>;
  /** Sockets the filter matches, per protocol group: with a filter the header says "N of M". */
  readonly matched?: Readonly<Record<ProtocolGroup, number>> | null;
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
  /** Every current finding, the worst first (the badge counts them by severity). */
  readonly findingsList?: readonly Finding[];
  /** Sockets per protocol group under the filter, or null without a filter ("N of M"). */
  readonly matchedTotals?: Readonly<Record<ProtocolGroup, number>> | null;
  /** The busiest state transitions, e.g. [["ESTABLISHED→CLOSE_WAIT", 3.2]]; self transitions are left out. */
  readonly transitions?: readonly (readonly [string, number])[];
  /** Owners are wanted but the first fd scan is still running: the header says "owners: scanning…". */
  readonly ownersPending?: boolean;
  /**
   * A partial first snapshot (Snapshot.partial): the header says how many sockets are read so far;
   * the groups still pending show "…" for their totals, and under a filter "shown" says loading.
   */
  readonly loading?: {
    readonly socketsRead: number;
    readonly socketsTotal: number | null;
    readonly pendingGroups: readonly ProtocolGroup[];
  } | null;
}

/** 101234 → "101,234": the exact figures of a partial first frame. */
export function formatExactCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "loading: 2,048 of 101,234 sockets read": what a partial first snapshot holds. */
export function loadingText(loading: { readonly socketsRead: number; readonly socketsTotal: number | null }): string {
  return loading.socketsTotal === null
    ? `loading: ${formatExactCount(loading.socketsRead)} sockets read so far`
    : `loading: ${formatExactCount(loading.socketsRead)} of ${formatExactCount(loading.socketsTotal)} sockets read`;
}

/** The header's word while the first owner scan runs (rows show no process until it is done). */
export const OWNERS_PENDING_TEXT = 'owners: scanning…';

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

/** 1000 → "1s", 1750 → "1.75s", 500 → "0.5s". */
export function formatInterval(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

const BADGE_COLOR = { crit: 'red', warn: 'yellow', info: 'cyan' } as const satisfies Record<Finding['severity'], StateColor>;

const part = (text: string, color: StateColor | null = null, style: HeaderPart['style'] = 'plain'): HeaderPart => ({ text, color, style });
function segment(
  id: string,
  priority: number,
  parts: readonly HeaderPart[],
  extra: { minWidth?: number; cutPriority?: number; quiet?: boolean; alignRight?: boolean; short?: string } = {},
): HeaderSegment {
  return { id, priority, parts, text: parts.map((p) => p.text).join(''), ...extra };
}

/** Kernel state names in prose (a finding's title) written the way ss writes them: CLOSE_WAIT → CLOSE-WAIT. */
export function withSsStateNames(text: string): string {
  return text.replace(
    /\b(NEW_SYN_RECV|SYN_SENT|SYN_RECV|FIN_WAIT1|FIN_WAIT2|TIME_WAIT|CLOSE_WAIT|LAST_ACK)\b/g,
    (name) => TCP_STATE_SHORT[name as TcpState],
  );
}

/** The badge of every finding on screen: counts by severity, the worst one's title. */
function findingsBadge(findings: readonly Finding[]): { text: string; color: StateColor | null; worst: string } {
  const n = { crit: 0, warn: 0, info: 0 };
  for (const f of findings) n[f.severity]++;
  const text = (['crit', 'warn', 'info'] as const)
    .filter((k) => n[k] > 0)
    .map((k) => `${n[k]} ${k}`)
    .join(' ');
  const worst = findings[0];
  return {
    text,
    color: worst === undefined ? null : BADGE_COLOR[worst.severity],
    worst: worst === undefined ? '' : withSsStateNames(safeText(worst.title, 200)),
  };
}

/**
 * "  tx 1.95 MB/s rx 2.00 MB/s", with "(rates 6s old)" when ss runs on a slower cadence than the
 * refresh, and why when its CPU spaced the reads: "(rates 6s old: every 12s, ss costs 1.20s cpu)".
 */
function throughputText(t: HeaderInput['throughput'] | null): string {
  if (t == null) return '';
  const why = t.spaced == null ? '' : `: every ${formatDuration(t.spaced.everyMs)}, ss costs ${(t.spaced.cpuMs / 1000).toFixed(2)}s cpu`;
  const age = t.ageMs >= 1500 ? ` (rates ${formatDuration(t.ageMs)} old${why})` : '';
  return `  tx ${formatBytesPerSec(t.sendBytesPerSec)} rx ${formatBytesPerSec(t.recvBytesPerSec)}${age}`;
}

export function buildHeaderView(input: HeaderInput): HeaderView {
  const rateCounters = HEADLINE_COUNTERS.filter((c) => ['in', 'out', 'reset', 'retrans', 'overflow', 'drop'].includes(c.label));
  const rates = rateCounters.map((c) => `${c.label} ${formatRate(input.rates[c.key] ?? 0)}`).join('  ');
  const t = input.totals;
  const all = t.tcp + t.udp + t.unix + t.raw;
  // "N of M" when a filter hides sockets.
  const loading = input.loading ?? null;
  const shown =
    loading !== null && input.matchedTotals != null
      ? 'shown: loading…'
      : input.matchedTotals != null && input.shown < all
        ? `shown ${formatCount(input.shown)} of ${formatCount(all)}`
        : `shown ${formatCount(input.shown)}`;
  // The interval in effect, once: the poller's backed-off one when it slowed down.
  const backedOff = input.cost?.backedOffToMs ?? null;
  const interval = `every ${formatInterval(backedOff ?? input.intervalMs)}`;
  const slowed =
    backedOff === null || input.cost === null
      ? ''
      : `(slowed from ${formatInterval(input.intervalMs)}: ${input.cost.backoffReason ?? `refresh costs ${Math.round(input.cost.parseMs + input.cost.ownersMs + input.cost.drawMs)} ms`})`;
  const clockText = clock(input.takenAtMs, input.timeZoneOffsetMin);
  const title = `sockscope  ${safeText(input.host, 40)}${input.scope == null ? '' : `  ${safeText(input.scope, 80)}`}`;
  const live = input.mode != null ? `${input.mode}${input.paused ? '  PAUSED' : ''}` : input.paused ? 'PAUSED' : 'live';
  const cost =
    input.cost === null
      ? ''
      : `${formatCount(input.cost.rows)} rows  read ${Math.round(input.cost.readMs)}ms  parse ${Math.round(input.cost.parseMs)}ms  owners ${Math.round(input.cost.ownersMs)}ms  draw ${Math.round(input.cost.drawMs)}ms`;
  const transitions = (input.transitions ?? []).filter(([label]) => {
    const [from, to] = label.split('→');
    return from !== to;
  });
  const badge = input.findingsList === undefined ? null : findingsBadge(input.findingsList);
  const badgeText = badge?.text ?? '';
  const badgeColor = badge?.color ?? null;
  const findings: HeaderSegment[] =
    badgeText === ''
      ? []
      : [
          // The badge in its worst finding's colour; then where to read them (view 6, left out
          // first and quietly: the footer lists the keys too); then the worst one's line.
          segment('findings', 1, [part(` ${badgeText} `, badgeColor, 'badge')]),
          // Left out quietly when under 16 cells fit: the badge and "!" already say there is one,
          // and a lone " …" after the badge read as the finding cut to nothing.
          ...(badge === null || badge.worst === ''
            ? []
            : [segment('worst', 4, [part(badge.worst, badgeColor)], { minWidth: 16, quiet: true })]),
        ];

  const line1: HeaderSegment[] = [
    // The host is cut before the findings badge goes; the badge before the worst finding's line.
    segment('title', 0, [part(title, null, 'bold')], { minWidth: 20, cutPriority: 2 }),
    segment('clock', 0, [part(clockText)]),
    ...(input.mode != null ? [] : [segment('interval', 0, [part(interval)])]),
    // Without room for its reason, "(slowed from 1s)" whole, never a reason cut mid-word.
    ...(slowed === '' || input.mode != null
      ? []
      : [segment('slowed', 3, [part(slowed, 'red')], { short: `(slowed from ${formatInterval(input.intervalMs)})` })]),
    segment('status', 0, [part(live, null, input.paused ? 'paused' : 'plain')], input.mode != null ? { minWidth: 12 } : {}),
    ...findings,
    ...(cost === '' ? [] : [segment('cost', 9, [part(cost, null, 'muted')], { quiet: true, alignRight: true })]),
  ];
  const protocols: [ProtocolGroup, string, number][] = [
    ['tcp', 'TCP', 1],
    ['udp', 'UDP', 2],
    ['unix', 'UNIX', 2],
    ['raw', 'RAW', 3],
  ];
  const line2: HeaderSegment[] = [
    ...protocols
      .filter(([g]) => g !== 'raw' || t.raw > 0)
      .map(([g, name, priority]) =>
        segment(`total-${g}`, priority, [part(`${name} ${loading?.pendingGroups.includes(g) === true ? '…' : formatCount(t[g])}`)]),
      ),
    segment('shown', 0, [part(shown)]),
    ...(loading === null
      ? []
      : [
          segment('loading', 0, [part(loadingText(loading), 'yellow')], {
            minWidth: 20,
            short: loadingText(loading).replace(' sockets read', ''),
          }),
        ]),
    ...(input.ownersPending === true ? [segment('owners-pending', 1, [part(OWNERS_PENDING_TEXT, null, 'muted')])] : []),
    ...(input.filterText === ''
      ? []
      : [segment('filter', 0, [part('filter: '), part(safeText(input.filterText, 200), null, 'filter')], { minWidth: 14 })]),
  ];
  const line3: HeaderSegment[] = [
    // A label, not a bare unit: "/s" alone at the start of a line read as a stray fragment.
    segment('per-sec', 0, [part('per s:')]),
    // Counters at zero say least; among equals the later ones go first.
    ...rateCounters.map((c) => {
      const v = input.rates[c.key] ?? 0;
      return segment(`rate-${c.label}`, c.label === 'in' || c.label === 'out' || v === 0 ? 2 : 1, [part(`${c.label} ${formatRate(v)}`)]);
    }),
    segment('opened', 1, [part(`opened ${formatRate(input.openedPerSec)}`)]),
    segment('closed', 1, [part(`closed ${formatRate(input.closedPerSec)}`)]),
    ...transitions
      .slice(0, 2)
      .map(([label, perSec], i) => segment(`transition-${i}`, 3 + i, [part(`${shortTransition(label)} ${formatRate(perSec)}`)])),
    // TCP bytes/s from ss (tx acknowledged by peers, rx received), with their age when older.
    ...(input.throughput == null ? [] : [segment('throughput', 1, [part(throughputText(input.throughput).trim())])]),
    ...(input.notice === '' ? [] : [segment('notice', 0, [part(input.notice, 'red')], { minWidth: 20 })]),
  ];

  return {
    title,
    status: input.mode != null ? `${clockText}  ${live}` : `${clockText}  ${interval}${slowed === '' ? '' : ` ${slowed}`}  ${live}`,
    paused: input.paused,
    totals: line2
      .filter((x) => x.id !== 'filter')
      .map((x) => x.text)
      .join('  '),
    rates: `per s:  ${rates}  opened ${formatRate(input.openedPerSec)}  closed ${formatRate(input.closedPerSec)}${transitions
      .slice(0, 2)
      .map(([label, perSec]) => `  ${shortTransition(label)} ${formatRate(perSec)}`)
      .join('')}${throughputText(input.throughput ?? null)}`,
    findings: badgeText,
    findingsColor: badgeColor,
    worstFinding: badge?.worst ?? '',
    filter: input.filterText === '' ? '' : safeText(input.filterText, 200),
    notice: input.notice,
    cost,
    segments: [line1, line2, line3],
  };
}

/** Map a cut text back onto the parts it came from (the cut keeps a prefix and adds "…"). */
function cutParts(parts: readonly HeaderPart[], text: string): HeaderPart[] {
  const out: HeaderPart[] = [];
  let rest = text.endsWith('…') ? text.slice(0, -1) : text;
  for (const p of parts) {
    if (rest === '') break;
    const take = rest.startsWith(p.text) ? p.text : rest;
    out.push({ ...p, text: take });
    rest = rest.slice(take.length);
  }
  if (text.endsWith('…')) {
    const last = out.at(-1);
    if (last === undefined) out.push(part('…'));
    else out[out.length - 1] = { ...last, text: `${last.text}…` };
  }
  return out;
}

/**
 * The header's lines fitted to `width`: segments by priority (layoutLine), two spaces apart,
 * " …" where something was left out, the cost meter pushed right. Each line's parts hold exactly
 * what is drawn.
 */
export function layoutHeaderView(view: HeaderView, width: number): HeaderPart[][] {
  return view.segments.map((segments) => {
    const laid = layoutLine(segments, width);
    const out: HeaderPart[] = [];
    laid.segments.forEach((seg, i) => {
      if (i > 0) {
        const pad = seg.alignRight === true ? Math.max(2, width - laid.width + 2) : 2;
        out.push(part(' '.repeat(pad)));
      }
      out.push(...(seg.cut ? cutParts(seg.parts, seg.text) : seg.parts));
    });
    if (laid.dropped > 0) out.push(part(DROP_MARK));
    return out;
  });
}
