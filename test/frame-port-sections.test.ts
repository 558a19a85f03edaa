// The by-port view's client side: under the service ports, a "CLIENT SIDE" heading and the remote
// ports this host's client sockets go to (TIME_WAIT piling up towards :5432), counted by state,
// named from /etc/services, under the filter, sorted within their section, with rates when ss
// has them, and fitting 80 columns; on a headless 80x24 screen too.

import { afterEach, describe, expect, it } from 'vitest';
import { compileFilter } from '../src/filter/index.js';
import type { ConnRate } from '../src/model/conn-rates.js';
import { SessionStore } from '../src/model/session-store.js';
import { buildFrame, type FrameContext } from '../src/view/frame.js';
import { displayWidth } from '../src/view/text.js';
import { initialUiState, type GroupSortKey } from '../src/view/ui-state.js';
import { rec } from './helpers/records.js';
import { createHeadless, makeSnapshot, type Headless } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;
const CONTEXT: FrameContext = {
  modeLabel: null,
  cost: null,
  scopeLabel: null,
  timeZoneOffsetMin: 0,
  replay: false,
  tcpInfo: null,
  details: null,
  serviceNames: new Map([
    [5432, 'postgresql'],
    [8080, 'http-alt'],
    [443, 'https'],
  ]),
};
const app = { pid: 100, command: 'app' };
const curl = { pid: 300, command: 'curl' };
const listener = rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, owner: app, inode: 1 });
const inbound = rec({ localPort: 8080, remoteAddress: '10.0.0.9', remotePort: 51000, owner: app, inode: 2 });
// The server closed first: its TIME_WAIT keeps local port 8080 (the service side).
const inboundTw = rec({ state: 'TIME_WAIT', localPort: 8080, remoteAddress: '10.0.0.9', remotePort: 51001, inode: 0 });
const toDb = rec({ localPort: 40001, remoteAddress: '10.0.0.5', remotePort: 5432, owner: app, inode: 3 });
const dbTw = [0, 1, 2, 3, 4].map((i) =>
  rec({ state: 'TIME_WAIT', localPort: 41000 + i, remoteAddress: '10.0.0.5', remotePort: 5432, inode: 0 }),
);
const toWeb = [
  rec({ localPort: 40004, remoteAddress: '1.1.1.1', remotePort: 443, owner: curl, inode: 4 }),
  rec({ localPort: 40005, remoteAddress: '1.1.1.1', remotePort: 443, owner: curl, inode: 5 }),
];
const SCENE = [listener, inbound, inboundTw, toDb, ...dbTw, ...toWeb];

function portsTable(
  opts: { width?: number; sort?: GroupSortKey; descending?: boolean; filterText?: string; rates?: Map<string, ConnRate> } = {},
) {
  const store = new SessionStore();
  store.ingest(makeSnapshot(SCENE, { takenAtMs: T0 }));
  if (opts.rates !== undefined) {
    store.setConnRates({
      ok: true,
      rates: opts.rates,
      total: { connections: opts.rates.size, withRate: opts.rates.size, sendBytesPerSec: 0, recvBytesPerSec: 0, retransPerSec: 0 },
      asOfMs: T0,
    });
  }
  const compiled = opts.filterText === undefined ? null : compileFilter(opts.filterText);
  if (compiled !== null && !compiled.ok) throw new Error('bad filter');
  const ui = {
    ...initialUiState({ intervalMs: 1000 }),
    view: 'ports' as const,
    filterText: opts.filterText ?? '',
    groupSort: { key: opts.sort ?? 'total', descending: opts.descending ?? true },
  };
  const frame = buildFrame({
    session: store.state,
    ui,
    size: { width: opts.width ?? 160, height: 40 },
    theme: { ascii: false },
    filter: compiled === null ? null : compiled.filter,
    context: CONTEXT,
  });
  if (frame.main?.kind !== 'table') throw new Error('no table');
  const t = frame.main.table;
  const text = (key: string): string =>
    t.rows
      .find((r) => r.key === key)
      ?.cells.map((c) => c.text.trim())
      .filter((c) => c !== '')
      .join(' ') ?? '';
  return { table: t, text, keys: t.rows.map((r) => r.key) };
}

const rate = (out: number): ConnRate => ({
  sendBytesPerSec: out,
  recvBytesPerSec: out / 4,
  retransPerSec: 0,
  rttMs: 1,
  rttVarMs: 0,
  bytesAcked: 0,
  bytesReceived: 0,
  retransTotal: 0,
});

describe('by port: the client side per remote port', () => {
  it('service ports first, then the CLIENT SIDE heading and the remote ports, busiest first', () => {
    const { keys, text } = portsTable();
    expect(keys).toEqual(['8080', 'to:', 'to:5432', 'to:443']);
    expect(text('to:')).toBe('CLIENT SIDE');
    // →5432: 1 ESTABLISHED (app's) and 5 TIME_WAIT (held by no process): app's.
    expect(text('to:5432')).toBe('→5432 postgresql tcp 100/app 6 1 5 · · ·');
    expect(text('to:443')).toBe('→443 https tcp 300/curl 2 2 · · · ·');
    // The server-side TIME_WAIT stays with its service port.
    expect(text('8080')).toMatch(/^8080 http-alt tcp 100\/app 3 1 1 /);
  });

  it('each section sorted on its own: by port number, by TIME-W', () => {
    expect(portsTable({ sort: 'key', descending: false }).keys).toEqual(['8080', 'to:', 'to:443', 'to:5432']);
    expect(portsTable({ sort: 'key', descending: true }).keys).toEqual(['8080', 'to:', 'to:5432', 'to:443']);
    expect(portsTable({ sort: 'timewait', descending: false }).keys).toEqual(['8080', 'to:', 'to:443', 'to:5432']);
  });

  it('follows the filter; a hidden listener does not turn its accepted sockets into clients', () => {
    const { keys, text } = portsTable({ filterText: 'state time-wait' });
    // The accepted TIME_WAITs stay under their service port (the listener is filtered out, not gone).
    expect(keys).toEqual(['8080', 'to:', 'to:5432']);
    expect(text('8080')).toMatch(/^8080 http-alt tcp - 1 · 1 /);
    expect(text('to:5432')).toBe('→5432 postgresql tcp - 5 · 5 · · ·');
  });

  it('Out/s and In/s per remote port from ss rates', () => {
    const { text } = portsTable({
      rates: new Map([
        [toDb.key, rate(8000)],
        [toWeb[0]!.key, rate(1000)],
        [toWeb[1]!.key, rate(3000)],
      ]),
    });
    expect(text('to:5432')).toMatch(/ 8\.00 kB\/s 2\.00 kB\/s$/);
    expect(text('to:443')).toMatch(/ 4\.00 kB\/s 1\.00 kB\/s$/);
  });

  it('fits 80 columns with the state counts of the remote rows', () => {
    const { table, text } = portsTable({ width: 80 });
    expect(displayWidth(table.header)).toBeLessThanOrEqual(78);
    expect(table.header).toMatch(/TIME-W/);
    for (const r of table.rows) expect(displayWidth(r.cells.map((c) => c.text).join(' '))).toBeLessThanOrEqual(78);
    expect(text('to:5432')).toMatch(/^→5432 postgresql 6 1 5 /);
  });
});

const open: Headless[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.destroy();
});

describe('on an 80x24 screen', () => {
  it('view 2 lists the remote port with its TIME-WAIT count; Enter on it drills into dport', async () => {
    const h = createHeadless({ width: 80, height: 24 });
    open.push(h);
    h.dashboard.onSnapshot(makeSnapshot(SCENE, { takenAtMs: T0 }));
    await h.press('2');
    const row = h.lines().find((l) => l.includes('→5432'));
    expect(row?.replace(/[│]/g, '').trim()).toMatch(/^→5432 100\/app\s+6\s+1\s+5\s/);
    expect(h.lines().some((l) => l.includes('CLIENT SIDE'))).toBe(true);
    // Down to the heading (Enter does nothing there), then to →5432 and Enter.
    await h.press('\x1b[B');
    await h.press('\r');
    expect(h.dashboard.currentFrame().main?.title).toMatch(/^By port/);
    await h.press('\x1b[B');
    await h.press('\r');
    expect(h.lines().join('\n')).toContain('filter: dport 5432');
  });
});
