// Views over the model's judgements: the findings list, and the comparison with a marker.
// Pure: they receive findings/comparisons and the UI state, and return table view models.

import type { Finding, Severity } from '../model/findings.js';
import type { Comparison } from '../model/markers.js';
import { safeText } from '../model/safe-text.js';
import { STATE_COLOR, TCP_STATE_SHORT, type StateColor } from '../model/state-info.js';
import type { TcpState } from '../model/types.js';
import { buildTable, plain, type Cell, type ColumnSpec, type TableView } from './dashboard-view.js';
import { formatCount, formatDuration } from './text.js';
import type { UiState } from './ui-state.js';

const SEVERITY_COLOR = { info: 'cyan', warn: 'yellow', crit: 'red' } as const satisfies Record<Severity, StateColor>;
const SEVERITY_LABEL = { info: 'info', warn: 'WARN', crit: 'CRIT' } as const satisfies Record<Severity, string>;

export interface FindingsViewInput {
  readonly findings: readonly Finding[];
  readonly nowMs: number;
}

export function buildFindingsView(input: FindingsViewInput, ui: UiState, size: { width: number; height: number }): TableView {
  const columns: ColumnSpec<Finding>[] = [
    {
      id: 'sev',
      title: 'Sev',
      width: 4,
      flex: 0,
      priority: 0,
      align: 'left',
      cell: (f) => ({ text: SEVERITY_LABEL[f.severity], color: SEVERITY_COLOR[f.severity] }),
    },
    {
      id: 'since',
      title: 'Since',
      width: 7,
      flex: 0,
      priority: 1,
      align: 'right',
      cell: (f) => plain(formatDuration(input.nowMs - f.sinceMs)),
    },
    {
      id: 'title',
      title: 'Finding',
      width: 24,
      flex: 2,
      priority: 0,
      align: 'left',
      cell: (f) => plain(`${f.holding ? '' : `(not seen for ${formatDuration(input.nowMs - f.lastHeldMs)}) `}${safeText(f.title, 200)}`),
    },
    { id: 'filter', title: 'Shows', width: 14, flex: 1, priority: 2, align: 'left', cell: (f) => plain(safeText(f.filter, 200)) },
  ];
  return buildTable(
    columns,
    input.findings,
    (f) => f.id,
    (f) => ({ isNew: false, closed: !f.holding }),
    {
      ...size,
      selectedKey: ui.selectedKey,
      selectedIndex: ui.selectedIndex,
      sortId: '',
      descending: false,
      emptyText: 'No findings: nothing unusual in the socket states or kernel counters right now.',
    },
  );
}

interface CompareRow {
  readonly key: string;
  readonly label: string;
  readonly then: number;
  readonly now: number;
  readonly delta: number;
  readonly color: StateColor | null;
  readonly heading: boolean;
}

const signed = (n: number): string => (n > 0 ? `+${formatCount(n)}` : n < 0 ? `-${formatCount(-n)}` : '0');

/** Rows of the compare view: totals, per state, per port (with its states), counters. */
export function compareRows(c: Comparison): CompareRow[] {
  const rows: CompareRow[] = [];
  const heading = (key: string, label: string): void => {
    rows.push({ key, label, then: 0, now: 0, delta: 0, color: null, heading: true });
  };
  rows.push({
    key: 'total',
    label: 'TCP sockets',
    then: c.tcpTotal.then,
    now: c.tcpTotal.now,
    delta: c.tcpTotal.delta,
    color: null,
    heading: false,
  });
  heading('h-states', 'by state');
  for (const s of c.states) {
    const state = s.key as TcpState;
    rows.push({
      key: `state ${s.key}`,
      label: `  ${TCP_STATE_SHORT[state] ?? s.key}`,
      then: s.then,
      now: s.now,
      delta: s.delta,
      color: STATE_COLOR[state] ?? null,
      heading: false,
    });
  }
  if (c.ports.length > 0) heading('h-ports', 'by service port');
  for (const p of c.ports) {
    const states = p.states.filter((s) => s.delta !== 0).map((s) => `${TCP_STATE_SHORT[s.key as TcpState] ?? s.key} ${signed(s.delta)}`);
    rows.push({
      key: `port ${p.port}`,
      label: `  :${p.port}${states.length > 0 ? `  ${states.join(' ')}` : ''}`,
      then: p.then,
      now: p.now,
      delta: p.delta,
      color: null,
      heading: false,
    });
  }
  if (c.counters.length > 0) heading('h-counters', 'kernel counters since the marker');
  for (const k of c.counters)
    rows.push({ key: `counter ${k.key}`, label: `  ${k.key}`, then: k.then, now: k.now, delta: k.delta, color: null, heading: false });
  return rows;
}

export function buildCompareView(c: Comparison | null, ui: UiState, size: { width: number; height: number }): TableView {
  const cell = (text: string, color: StateColor | null = null): Cell => ({ text, color });
  const columns: ColumnSpec<CompareRow>[] = [
    {
      id: 'what',
      title: c === null ? 'What' : `vs '${safeText(c.marker.name, 40)}' (${formatDuration(c.elapsedMs)} ago)`,
      width: 20,
      flex: 1,
      priority: 0,
      align: 'left',
      cell: (r) => cell(r.heading ? r.label.toUpperCase() : r.label, r.color),
    },
    { id: 'then', title: 'Then', width: 8, flex: 0, priority: 0, align: 'right', cell: (r) => cell(r.heading ? '' : formatCount(r.then)) },
    { id: 'now', title: 'Now', width: 8, flex: 0, priority: 0, align: 'right', cell: (r) => cell(r.heading ? '' : formatCount(r.now)) },
    {
      id: 'delta',
      title: 'Change',
      width: 8,
      flex: 0,
      priority: 0,
      align: 'right',
      cell: (r) => cell(r.heading ? '' : signed(r.delta), r.delta > 0 ? 'yellow' : r.delta < 0 ? 'cyan' : null),
    },
  ];
  return buildTable(
    columns,
    c === null ? [] : compareRows(c),
    (r) => r.key,
    () => ({ isNew: false, closed: false }),
    {
      ...size,
      selectedKey: ui.selectedKey,
      selectedIndex: ui.selectedIndex,
      sortId: '',
      descending: false,
      emptyText: 'No marker yet: press m to drop one (e.g. "ramp start"), then come back here to compare.',
    },
  );
}
