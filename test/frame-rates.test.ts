// The header's throughput from ss rates: what the session store holds reaches the frame, with
// the age of the rates when ss runs on a slower cadence than the refresh.

import { describe, expect, it } from 'vitest';
import { SessionStore } from '../src/model/session-store.js';
import { buildFrame, type FrameContext } from '../src/view/frame.js';
import { initialUiState } from '../src/view/ui-state.js';
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

function headerRates(store: SessionStore): string {
  const frame = buildFrame({
    session: store.state,
    ui: initialUiState({ intervalMs: 1000 }),
    size: { width: 160, height: 40 },
    theme: { ascii: false },
    filter: null,
    context: CONTEXT,
  });
  return frame.header?.rates ?? '';
}

describe('header throughput', () => {
  const store = new SessionStore();
  store.ingest(makeSnapshot([rec({ localPort: 40000 })], { takenAtMs: T0 }));

  it('nothing before the first ss read, nor when ss is unavailable', () => {
    expect(headerRates(store)).not.toContain('tx ');
    store.setConnRates({ ok: false, message: 'ss is not installed' });
    expect(headerRates(store)).not.toContain('tx ');
  });

  it('tx/rx of the host total; the age when the rates are older than the snapshot', () => {
    const total = { connections: 2, withRate: 2, sendBytesPerSec: 2_000_000, recvBytesPerSec: 1950, retransPerSec: 0 };
    store.setConnRates({ ok: true, rates: new Map(), total, asOfMs: T0 });
    expect(headerRates(store)).toContain('tx 2.00 MB/s rx 1.95 kB/s');
    expect(headerRates(store)).not.toContain('old');
    store.setConnRates({ ok: true, rates: new Map(), total, asOfMs: T0 - 6000 });
    expect(headerRates(store)).toMatch(/tx 2\.00 MB\/s rx 1\.95 kB\/s \(rates 6s old\)/);
  });

  it('why the rates are old when their reads were spaced by what ss costs', () => {
    const total = { connections: 2, withRate: 2, sendBytesPerSec: 2_000_000, recvBytesPerSec: 1950, retransPerSec: 0 };
    store.setConnRates({ ok: true, rates: new Map(), total, asOfMs: T0 - 8000, spaced: { everyMs: 12_000, cpuMs: 1_234 } });
    expect(headerRates(store)).toContain('tx 2.00 MB/s rx 1.95 kB/s (rates 8s old: every 12s, ss costs 1.23s cpu)');
    // Just read: nothing to explain.
    store.setConnRates({ ok: true, rates: new Map(), total, asOfMs: T0, spaced: { everyMs: 12_000, cpuMs: 1_234 } });
    expect(headerRates(store)).not.toContain('old');
  });

  it('no line while no connection has a rate yet (seen once)', () => {
    store.setConnRates({
      ok: true,
      rates: new Map(),
      total: { connections: 3, withRate: 0, sendBytesPerSec: 0, recvBytesPerSec: 0, retransPerSec: 0 },
      asOfMs: T0,
    });
    expect(headerRates(store)).not.toContain('tx ');
  });
});

describe('details of a connection', () => {
  it('show its bytes/s out and in, retransmits/s and RTT from ss', () => {
    const sock = rec({ localPort: 40001, remotePort: 5432 });
    const store = new SessionStore();
    store.ingest(makeSnapshot([sock], { takenAtMs: T0 }));
    const rate = {
      sendBytesPerSec: 2_000_000,
      recvBytesPerSec: 1950,
      retransPerSec: 0.5,
      rttMs: 0.021,
      rttVarMs: 0.01,
      bytesAcked: 0,
      bytesReceived: 0,
      retransTotal: 1,
    };
    store.setConnRates({
      ok: true,
      rates: new Map([[sock.key, rate]]),
      total: { connections: 1, withRate: 1, sendBytesPerSec: 2e6, recvBytesPerSec: 1950, retransPerSec: 0.5 },
      asOfMs: T0,
    });
    const ui = { ...initialUiState({ intervalMs: 1000 }), detailsKey: sock.key };
    const frame = buildFrame({
      session: store.state,
      ui,
      size: { width: 160, height: 40 },
      theme: { ascii: false },
      filter: null,
      context: CONTEXT,
    });
    const texts = (frame.details?.lines ?? []).map((l) => l.text);
    expect(texts).toContain('  bytes/s          out 2.00 MB/s  in 1.95 kB/s  retrans 0.5/s  rtt 0.021 ms ± 0.010 ms');
  });
});

describe('socket table rate columns', () => {
  const slow = rec({ localPort: 40010, remotePort: 5432 });
  const fast = rec({ localPort: 40011, remotePort: 5432 });
  const idle = rec({ localPort: 40012, remotePort: 5432 });
  const rate = (out: number, rtt: number) => ({
    sendBytesPerSec: out,
    recvBytesPerSec: out / 2,
    retransPerSec: 0,
    rttMs: rtt,
    rttVarMs: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    retransTotal: 0,
  });
  const frameWith = (withRates: boolean, sort: { key: 'out' | 'rtt' | 'state'; descending: boolean }) => {
    const store = new SessionStore();
    store.ingest(makeSnapshot([slow, fast, idle], { takenAtMs: T0 }));
    if (withRates) {
      store.setConnRates({
        ok: true,
        rates: new Map([
          [slow.key, rate(1000, 9)],
          [fast.key, rate(2_000_000, 0.5)],
        ]),
        total: { connections: 2, withRate: 2, sendBytesPerSec: 2_001_000, recvBytesPerSec: 1_000_500, retransPerSec: 0 },
        asOfMs: T0,
      });
    }
    const ui = { ...initialUiState({ intervalMs: 1000 }), socketSort: sort };
    const frame = buildFrame({
      session: store.state,
      ui,
      size: { width: 200, height: 40 },
      theme: { ascii: false },
      filter: null,
      context: CONTEXT,
    });
    if (frame.main?.kind !== 'table') throw new Error('no table');
    return frame.main.table;
  };

  it('Out/s, In/s and RTT appear with rates, sorted busiest first', () => {
    const t = frameWith(true, { key: 'out', descending: true });
    expect(t.header).toMatch(/Out\/s[▲▼]?\s+In\/s\s+RTT/);
    expect(t.header).toContain('Out/s▼');
    const texts = t.rows.map((r) => r.cells.map((c) => c.text.trim()).join(' '));
    expect(t.rows.map((r) => r.key)).toEqual([fast.key, slow.key, idle.key]);
    expect(texts[0]).toMatch(/2\.00 MB\/s 1\.00 MB\/s 0\.500 ms$/);
    expect(texts[1]).toMatch(/1\.00 kB\/s 500 B\/s 9\.00 ms$/);
  });

  it('by RTT, worst first', () => {
    const t = frameWith(true, { key: 'rtt', descending: true });
    expect(t.rows.map((r) => r.key)).toEqual([slow.key, fast.key, idle.key]);
  });

  it('no rate columns without rates (recorded trees, no ss)', () => {
    const t = frameWith(false, { key: 'state', descending: false });
    expect(t.header).not.toContain('Out/s');
  });
});

describe('UNIX peers in the socket table', () => {
  it("the Peer column names the other end's path, inode and process instead of *", () => {
    const server = rec({ protocol: 'unix', inode: 10, path: '/run/app.sock', owner: { pid: 100, command: 'appd' } });
    const client = rec({ protocol: 'unix', inode: 11, owner: { pid: 200, command: 'curl' } });
    const store = new SessionStore();
    store.ingest(makeSnapshot([server, client], { takenAtMs: T0 }));
    store.setUnixPeers(
      new Map([
        [11, { peerInode: 10, peerPid: 100, peerProcess: 'appd', peerPath: '/run/app.sock' }],
        [10, { peerInode: 11, peerPid: 200, peerProcess: 'curl', peerPath: null }],
      ]),
    );
    const frame = buildFrame({
      session: store.state,
      ui: initialUiState({ intervalMs: 1000 }),
      size: { width: 200, height: 40 },
      theme: { ascii: false },
      filter: null,
      context: CONTEXT,
    });
    if (frame.main?.kind !== 'table') throw new Error('no table');
    const textOf = (key: string): string =>
      frame.main?.kind === 'table'
        ? (frame.main.table.rows
            .find((r) => r.key === key)
            ?.cells.map((c) => c.text)
            .join(' ') ?? '')
        : '';
    expect(textOf(client.key)).toContain('/run/app.sock 10 100/appd');
    expect(textOf(server.key)).toContain('* 11 200/curl');
  });
});

describe('UNIX peers in the by-process view', () => {
  const appd = { pid: 100, command: 'appd' };
  const curl = { pid: 200, command: 'curl' };
  const sockets = [
    rec({ protocol: 'unix', state: 'CONNECTED', inode: 10, path: '/run/app.sock', owner: appd }),
    rec({ protocol: 'unix', state: 'CONNECTED', inode: 11, owner: curl }),
    rec({ protocol: 'unix', state: 'CONNECTED', inode: 12, path: '/run/app.sock', owner: appd }),
    rec({ protocol: 'unix', state: 'CONNECTED', inode: 13, owner: curl }),
    rec({ localPort: 40020, remotePort: 80, inode: 14, owner: curl }),
  ];
  const storeWithPeers = (): SessionStore => {
    const store = new SessionStore();
    store.ingest(makeSnapshot(sockets, { takenAtMs: T0 }));
    const peer = (peerInode: number, owner: { pid: number; command: string }, peerPath: string | null) => ({
      peerInode,
      peerPid: owner.pid,
      peerProcess: owner.command,
      peerPath,
    });
    store.setUnixPeers(
      new Map([
        [10, peer(11, curl, null)],
        [11, peer(10, appd, '/run/app.sock')],
        [12, peer(13, curl, null)],
        [13, peer(12, appd, '/run/app.sock')],
      ]),
    );
    return store;
  };
  const frameOf = (
    store: SessionStore,
    width: number,
    selectedKey: string,
    filter: ((s: (typeof sockets)[number]) => boolean) | null = null,
  ) => {
    const ui = { ...initialUiState({ intervalMs: 1000 }), view: 'processes' as const, selectedKey };
    const frame = buildFrame({
      session: store.state,
      ui: filter === null ? ui : { ...ui, filterText: 'inode 11' },
      size: { width, height: 40 },
      theme: { ascii: false },
      filter,
      context: CONTEXT,
    });
    if (frame.main?.kind !== 'table') throw new Error('no table');
    return frame.main;
  };

  it('a wide table has a UNIX peers column naming the other process and the count', () => {
    const main = frameOf(storeWithPeers(), 160, '200');
    expect(main.table.header).toContain('UNIX peers');
    const text = (key: string): string =>
      main.table.rows
        .find((r) => r.key === key)
        ?.cells.map((c) => c.text.trim())
        .join(' ') ?? '';
    expect(text('200')).toMatch(/ 100\/appd \(2\)$/);
    expect(text('100')).toMatch(/ 200\/curl \(2\)$/);
  });

  it('the selected process has them in full under the table, with pids and the path; at 80 columns too', () => {
    for (const width of [160, 80]) {
      const main = frameOf(storeWithPeers(), width, '200');
      expect(main.notes).toEqual(['UNIX peers of 200/curl: → 100/appd (2) /run/app.sock']);
    }
    expect(frameOf(storeWithPeers(), 160, '100').notes).toEqual(['UNIX peers of 100/appd: → 200/curl (2) /run/app.sock']);
  });

  it('follows the filter: only the shown sockets count', () => {
    const main = frameOf(storeWithPeers(), 160, '200', (s) => s.inode === 11);
    expect(main.notes).toEqual(['UNIX peers of 200/curl: → 100/appd (1) /run/app.sock']);
    expect(main.table.rows.map((r) => r.key)).toEqual(['200']);
  });

  it('no column and no note before ss -xH was read', () => {
    const store = new SessionStore();
    store.ingest(makeSnapshot(sockets, { takenAtMs: T0 }));
    const main = frameOf(store, 160, '200');
    expect(main.table.header).not.toContain('UNIX peers');
    expect(main.notes).toEqual([]);
  });
});
