// Grouped views with connection rates from ss: Out/s and In/s summed per port, peer and process
// (RTT median and worst per peer), over the sockets the filter shows, sortable, dropped first
// when narrow.

import { describe, expect, it } from 'vitest';
import { compileFilter } from '../src/filter/index.js';
import type { ConnRate } from '../src/model/conn-rates.js';
import { SessionStore } from '../src/model/session-store.js';
import { buildFrame, type FrameContext } from '../src/view/frame.js';
import type { TableView } from '../src/view/dashboard-view.js';
import { initialUiState, type GroupSortKey, type ViewName } from '../src/view/ui-state.js';
import { rec } from './helpers/records.js';
import { makeSnapshot } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;
const CONTEXT: FrameContext = {
  modeLabel: null,
  cost: null,
  scopeLabel: null,
  timeZoneOffsetMin: 0,
  replay: false,
  tcpInfo: null,
  details: null,
};
const web = { pid: 100, command: 'web' };
const db = { pid: 200, command: 'postgres' };

// web listens on :8080; two clients from 10.0.0.7 and one from 10.0.0.9 move bytes through it.
const listener = rec({
  state: 'LISTEN',
  localAddress: '0.0.0.0',
  localPort: 8080,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  owner: web,
  inode: 1,
});
const a1 = rec({ localPort: 8080, remoteAddress: '10.0.0.7', remotePort: 50001, owner: web, inode: 2 });
const a2 = rec({ localPort: 8080, remoteAddress: '10.0.0.7', remotePort: 50002, owner: web, inode: 3 });
const b1 = rec({ localPort: 8080, remoteAddress: '10.0.0.9', remotePort: 50003, owner: web, inode: 4 });
// postgres listens on :5432 with one slow client from 10.0.0.9.
const dbListener = rec({
  state: 'LISTEN',
  localAddress: '0.0.0.0',
  localPort: 5432,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  owner: db,
  inode: 5,
});
const c1 = rec({ localPort: 5432, remoteAddress: '10.0.0.9', remotePort: 50004, owner: db, inode: 6 });

const rate = (out: number, inn: number, rttMs: number): ConnRate => ({
  sendBytesPerSec: out,
  recvBytesPerSec: inn,
  retransPerSec: 0,
  rttMs,
  rttVarMs: 0,
  bytesAcked: 0,
  bytesReceived: 0,
  retransTotal: 0,
});

function groupTable(
  view: ViewName,
  opts: {
    rates?: boolean;
    sort?: { key: GroupSortKey; descending: boolean };
    filter?: string;
    width?: number;
    serviceNames?: ReadonlyMap<number, string>;
  } = {},
): TableView {
  const store = new SessionStore();
  store.ingest(makeSnapshot([listener, a1, a2, b1, dbListener, c1], { takenAtMs: T0 }));
  if (opts.rates !== false) {
    store.setConnRates({
      ok: true,
      rates: new Map([
        [a1.key, rate(1_000_000, 1000, 1)],
        [a2.key, rate(2_000_000, 2000, 3)],
        [b1.key, rate(500, 100, 40)],
        [c1.key, rate(100, 50_000, 10)],
      ]),
      total: { connections: 4, withRate: 4, sendBytesPerSec: 3_000_600, recvBytesPerSec: 53_100, retransPerSec: 0 },
      asOfMs: T0,
    });
  }
  const filterText = opts.filter ?? '';
  const compiled = filterText === '' ? null : compileFilter(filterText);
  if (compiled !== null && !compiled.ok) throw new Error(String(compiled.error));
  const ui = {
    ...initialUiState({ intervalMs: 1000 }),
    view,
    filterText,
    ...(opts.sort === undefined ? {} : { groupSort: opts.sort }),
  };
  const frame = buildFrame({
    session: store.state,
    ui,
    size: { width: opts.width ?? 200, height: 40 },
    theme: { ascii: false },
    filter: compiled === null ? null : compiled.filter,
    context: { ...CONTEXT, serviceNames: opts.serviceNames ?? null },
  });
  if (frame.main?.kind !== 'table') throw new Error('no table');
  return frame.main.table;
}

const rowText = (t: TableView, key: string): string =>
  t.rows
    .find((r) => r.key === key)
    ?.cells.map((c) => c.text.trim())
    .join(' ') ?? '';

describe('grouped views with connection rates', () => {
  it('by port: Out/s and In/s summed over the connections to each service port', () => {
    const t = groupTable('ports');
    expect(t.header).toMatch(/Out\/s\s+In\/s/);
    expect(rowText(t, '8080')).toMatch(/3\.00 MB\/s 3\.10 kB\/s$/);
    expect(rowText(t, '5432')).toMatch(/100 B\/s 50\.0 kB\/s$/);
  });

  it('by peer: sums with the RTT median and worst', () => {
    const t = groupTable('peers');
    expect(t.header).toMatch(/Out\/s\s+In\/s\s+RTT p50\s+RTT max/);
    // 10.0.0.7: RTTs 1 and 3 ms (median 2); 10.0.0.9: 40 and 10 ms (median 25).
    expect(rowText(t, '10.0.0.7')).toMatch(/3\.00 MB\/s 3\.00 kB\/s 2\.00 ms 3\.00 ms$/);
    expect(rowText(t, '10.0.0.9')).toMatch(/600 B\/s 50\.1 kB\/s 25\.00 ms 40\.00 ms$/);
  });

  it('by process: sums per owning process', () => {
    const t = groupTable('processes');
    expect(rowText(t, '100')).toMatch(/3\.00 MB\/s 3\.10 kB\/s$/);
    expect(rowText(t, '200')).toMatch(/100 B\/s 50\.0 kB\/s$/);
  });

  it('the sums cover only the sockets the filter shows', () => {
    const t = groupTable('peers', { filter: 'sport 8080' });
    expect(rowText(t, '10.0.0.9')).toMatch(/500 B\/s 100 B\/s 40\.00 ms 40\.00 ms$/);
  });

  it('sortable by In/s and by worst RTT', () => {
    const byIn = groupTable('ports', { sort: { key: 'in', descending: true } });
    expect(byIn.rows.map((r) => r.key)).toEqual(['5432', '8080']);
    expect(byIn.header).toContain('In/s▼');
    const byOut = groupTable('ports', { sort: { key: 'out', descending: true } });
    expect(byOut.rows.map((r) => r.key)).toEqual(['8080', '5432']);
    const byRtt = groupTable('peers', { sort: { key: 'rttmax', descending: true } });
    expect(byRtt.rows.map((r) => r.key)).toEqual(['10.0.0.9', '10.0.0.7']);
  });

  it('no rate columns without rates; at narrow widths they are dropped before the state counts', () => {
    expect(groupTable('peers', { rates: false }).header).not.toContain('Out/s');
    const narrow = groupTable('peers', { width: 70 });
    expect(narrow.header).not.toContain('RTT');
    expect(narrow.header).toContain('ESTAB');
  });
});

describe('service names in the by-port view', () => {
  // As parseServices gives them from /etc/services.
  const names = new Map<number, string>([
    [5432, 'postgresql'],
    [8080, 'http-alt'],
  ]);

  it('a well-known port shows its service name in the key column', () => {
    const t = groupTable('ports', { serviceNames: names });
    expect(t.rows.find((r) => r.key === '5432')?.cells[0]?.text.trim()).toBe('5432 postgresql');
    expect(t.rows.find((r) => r.key === '8080')?.cells[0]?.text.trim()).toBe('8080 http-alt');
  });

  it('a name with terminal escapes is made safe; no table, ports only', () => {
    const t = groupTable('ports', { serviceNames: new Map([[5432, 'pg\u001b[31mred']]) });
    expect(t.rows.find((r) => r.key === '5432')?.cells[0]?.text).not.toContain('\u001b');
    expect(
      groupTable('ports')
        .rows.find((r) => r.key === '5432')
        ?.cells[0]?.text.trim(),
    ).toBe('5432');
  });
});
