// Frame-level tests: (session state, UI state, size, theme) → everything one screen shows.
// Each defect of "one truthful screen" has its regression here; test/frame-render.test.ts
// checks that what is in a frame reaches the screen.

import { describe, expect, it } from 'vitest';
import { compileFilter, type CompiledFilter } from '../src/filter/index.js';
import { UNKNOWN_SYSCTLS } from '../src/model/listener-health.js';
import { SessionStore } from '../src/model/session-store.js';
import type { SocketRecord } from '../src/model/types.js';
import { FrameCache, buildFrame, prepareFrameSteps, type Frame, type FrameContext } from '../src/view/frame.js';
import { helpLines } from '../src/view/help.js';
import { KEY_MAP, resolveKey } from '../src/view/key-map.js';
import { VIEWS, initialUiState, reduceUi, type UiState } from '../src/view/ui-state.js';
import { rec } from './helpers/records.js';
import { makeSnapshot } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;
const SYSCTLS = { ...UNKNOWN_SYSCTLS, somaxconn: 4096 };
const CONTEXT: FrameContext = {
  modeLabel: null,
  cost: null,
  scopeLabel: null,
  timeZoneOffsetMin: 0,
  replay: false,
  tcpInfo: null,
  details: null,
};
const py = { pid: 4242, command: 'python3' };

// A troubled server: listen(1) on :8080 with 2 finished handshakes waiting (full), 3
// connections in CLOSE_WAIT on :9090, two ESTABLISHED, a UDP socket.
const listener = rec({
  state: 'LISTEN',
  localAddress: '127.0.0.1',
  localPort: 8080,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  recvQ: 2,
  owner: py,
  inode: 1,
});
const listener9090 = rec({
  state: 'LISTEN',
  localAddress: '0.0.0.0',
  localPort: 9090,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  owner: py,
  inode: 2,
});
const closeWaits = [0, 1, 2].map((i) => rec({ state: 'CLOSE_WAIT', localPort: 9090, remotePort: 50000 + i, owner: py, inode: 10 + i }));
const estabs = [0, 1].map((i) => rec({ localPort: 51000 + i, remotePort: 8080, inode: 20 + i }));
const udp = rec({
  protocol: 'udp',
  state: 'UNCONN',
  localAddress: '127.0.0.53',
  localPort: 53,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  inode: 30,
});
const SCENE: SocketRecord[] = [listener, listener9090, ...closeWaits, ...estabs, udp];

function troubled(): SessionStore {
  const store = new SessionStore();
  store.setEnvironment({
    sysctls: SYSCTLS,
    backlogs: new Map([
      ['127.0.0.1:8080', 1],
      ['0.0.0.0:9090', 128],
    ]),
  });
  store.ingest(makeSnapshot(SCENE, { takenAtMs: T0 }));
  return store;
}

function compiled(text: string): CompiledFilter | null {
  if (text === '') return null;
  const c = compileFilter(text);
  if (!c.ok) throw new Error(text);
  return c.filter;
}

function frameOf(store: SessionStore, ui: UiState, size = { width: 120, height: 30 }, context: FrameContext = CONTEXT): Frame {
  const filter = compiled(ui.filterText);
  if (filter !== null) store.setFilter({ text: ui.filterText, matches: filter });
  else store.setFilter(null);
  return buildFrame({ session: store.state, ui, size, theme: { ascii: false }, filter, context });
}

const ui0 = (over: Partial<UiState> = {}): UiState => ({ ...initialUiState({ intervalMs: 1000 }), ...over });
const tableOf = (f: Frame) => {
  if (f.main?.kind !== 'table') throw new Error('no table');
  return f.main;
};
const rowTexts = (f: Frame): string[] => tableOf(f).table.rows.map((r) => r.cells.map((c) => c.text).join(' '));

describe('findings are announced on every view (2)', () => {
  it('the header badge counts findings by severity and names the worst, in each of the seven views', () => {
    const store = troubled();
    for (const view of VIEWS) {
      const f = frameOf(store, ui0({ view }));
      expect(f.header?.findings, view).toMatch(/^\d+ (crit|warn)/);
      expect(f.header?.worstFinding, view).toMatch(/^Accept queue full on port 8080: python3 \(pid 4242\)/);
      expect(f.header?.findingsColor, view).not.toBeNull();
      expect(f.footer.keys, view).toContainEqual(['!', 'worst']);
    }
  });

  it('no findings: no badge, and the footer does not offer the jump', () => {
    const store = new SessionStore();
    store.ingest(makeSnapshot([udp], { takenAtMs: T0 }));
    const f = frameOf(store, ui0());
    expect(f.header?.findings).toBe('');
    expect(f.footer.keys.map(([k]) => k)).not.toContain('!');
  });

  it('! is a key of the key map, documented in the help, that works in every view and over the details', () => {
    for (const scope of [
      { detailsOpen: false, helpOpen: false, replay: false },
      { detailsOpen: true, helpOpen: false, replay: true },
    ]) {
      expect(resolveKey({ ch: '!' }, scope)?.action).toBe('worstFinding');
    }
    expect(helpLines(100).join('\n')).toMatch(/!\s+jump to the worst finding/);
  });
});

describe('accept queue health (3, 4)', () => {
  it('a finding whose condition stopped stays listed and counted through its hold-down, saying since when', () => {
    const store = troubled();
    const drained = SCENE.map((x) => (x === listener ? { ...listener, recvQ: 0 } : x));
    store.ingest(makeSnapshot(drained, { takenAtMs: T0 + 3000 }));
    const f = frameOf(store, ui0({ view: 'findings' }));
    const row = rowTexts(f).find((t) => t.includes('Accept queue full on port 8080'));
    expect(row).toMatch(/\(not seen for 3s\)/);
    expect(row).not.toMatch(/cleared/);
    expect(f.header?.findings).toMatch(/^1 (crit|warn)$/);
    store.ingest(makeSnapshot(drained, { takenAtMs: T0 + 3000 + store.holdDownMs }));
    expect(frameOf(store, ui0()).header?.findings).toBe('');
  });

  it('the by-port view keeps !2/1 through environment readings that have no backlogs yet', () => {
    const store = troubled();
    for (let i = 1; i <= 12; i++) {
      store.setEnvironment({ sysctls: SYSCTLS, backlogs: null });
      store.ingest(makeSnapshot(SCENE, { takenAtMs: T0 + i * 1000 }));
      const f = frameOf(store, ui0({ view: 'ports' }));
      const row = tableOf(f).table.rows.find((r) => r.key === '8080');
      expect(row?.cells.at(-1)?.text.trim()).toBe('!2/1');
      expect(f.findings.find((x) => x.rule === 'accept-queue-full')?.holding).toBe(true);
    }
  });

  it('LISTEN rows show the backlog in Send-Q as ss -ltn does; details say "full"', () => {
    const store = troubled();
    const f = frameOf(store, ui0());
    const row = rowTexts(f).find((t) => /LISTEN/.test(t) && t.includes('127.0.0.1:8080'));
    expect(row).toMatch(/LISTEN\s+2\s+1 127\.0\.0\.1:8080/);
    const row9090 = rowTexts(f).find((t) => /LISTEN/.test(t) && t.includes(':9090'));
    expect(row9090).toMatch(/LISTEN\s+0\s+128 /);
    const d = frameOf(store, ui0({ detailsKey: listener.key }), { width: 120, height: 60 });
    const text = d.details?.lines.map((l) => l.text).join('\n') ?? '';
    expect(text).toMatch(/Recv-Q \/ Send-Q\s+2 \/ 1 \(accept queue \/ backlog/);
    expect(text).toMatch(/accept queue\s+2 waiting for accept\(\) of backlog 1: full/);
  });
});

describe('Enter, P, D and the details pane (5)', () => {
  it('after a new filter the selection is on a row listed under it, not the old one', () => {
    const store = troubled();
    // The 2nd LISTEN row selected, details opened and closed.
    let ui = ui0();
    let f = frameOf(store, ui);
    ui = reduceUi(ui, { type: 'move', delta: 1, rows: { keys: f.rowKeys(), pageSize: f.pageSize } });
    const tcpKey = ui.selectedKey;
    expect(tcpKey).toBe(listener9090.key);
    ui = reduceUi(ui, { type: 'openDetails', key: tcpKey ?? '' });
    ui = reduceUi(ui, { type: 'escape' });
    ui = reduceUi(ui, { type: 'openPrompt', kind: 'filter' });
    ui = reduceUi(ui, { type: 'promptInput', text: 'udp' });
    ui = reduceUi(ui, { type: 'promptSubmit' });
    f = frameOf(store, ui);
    expect(f.selectedKey).toBe(udp.key);
    expect(f.selectedRecord?.protocol).toBe('udp');
    // Even a selection key left over from elsewhere is not used when it is not listed.
    f = frameOf(store, { ...ui, selectedKey: tcpKey });
    expect(f.selectedKey).toBe(udp.key);
  });

  it('details open at the top, scroll within their lines, and the label says where', () => {
    const store = troubled();
    let ui = reduceUi(ui0({ overlayScroll: 7 }), { type: 'openDetails', key: listener.key });
    expect(ui.overlayScroll).toBe(0);
    let f = frameOf(store, ui, { width: 80, height: 24 });
    expect(f.details?.scroll).toBe(0);
    expect(f.details?.lines[0]?.text).toMatch(/^tcp\s+127\.0\.0\.1:8080/);
    expect(f.details?.title).toMatch(/^Details 1-\d+\/\d+$/);
    const max = f.details?.maxScroll ?? 0;
    expect(max).toBeGreaterThan(0);
    ui = reduceUi(ui, { type: 'scrollOverlay', delta: 1000, maxScroll: max });
    expect(ui.overlayScroll).toBe(max);
    ui = reduceUi(ui, { type: 'scrollOverlay', to: 'first', maxScroll: max });
    f = frameOf(store, ui, { width: 80, height: 24 });
    expect(f.details?.scroll).toBe(0);
    // g and Home mean "to the top" in an overlay.
    for (const key of [{ ch: 'g' }, { full: 'home' }])
      expect(resolveKey(key, { detailsOpen: true, helpOpen: false, replay: false })?.action).toBe('first');
  });
});

describe('one filter for everything on the screen (6, 7)', () => {
  it('bars, diagram, header counts and transitions follow the filter; the header says N of M', () => {
    const store = troubled();
    const ui = ui0({ filterText: 'state close-wait' });
    const f = frameOf(store, ui);
    const bar = (label: string) => f.bars?.rows.find((b) => b.label.trim() === label)?.count.trim();
    expect(bar('CLOSE-WAIT')).toBe('3');
    expect(bar('ESTAB')).toBe('0');
    expect(bar('LISTEN')).toBe('0');
    expect(f.header?.totals).toMatch(/shown 3 of 8$/);
    expect(f.counts).toEqual({ matched: 3, total: 8 });
    expect(tableOf(f).table.total).toBe(3);
    const states = frameOf(store, { ...ui, view: 'states' });
    const boxes =
      states.main?.kind === 'diagram'
        ? states.main.lines
            .flat()
            .filter((s) => s.state !== null)
            .map((s) => s.text.replace(/\s+/g, ' '))
        : [];
    expect(boxes).toContain('[CLOSE-WAIT 3]');
    expect(boxes).toContain('[ESTAB 0]');
    // Without a filter: no "of".
    expect(frameOf(store, ui0()).header?.totals).toMatch(/shown 8$/);
  });

  it('the chart under a filter plots counts under it', () => {
    const store = troubled();
    const ui = ui0({ filterText: 'state close-wait' });
    frameOf(store, ui);
    store.ingest(makeSnapshot(SCENE, { takenAtMs: T0 + 1000 }));
    const f = frameOf(store, ui, { width: 160, height: 45 });
    expect(f.chart?.series.map((s) => s.title)).toEqual(['CLOSE-WAIT']);
  });

  it('closed rows are listed muted but never counted, and never match a state filter', () => {
    const store = troubled();
    // The three CLOSE_WAIT sockets close: tombstones for a few seconds.
    store.ingest(
      makeSnapshot(
        SCENE.filter((s) => s.state !== 'CLOSE_WAIT'),
        { takenAtMs: T0 + 1000 },
      ),
    );
    const cw = frameOf(store, ui0({ filterText: 'state close-wait' }));
    expect(tableOf(cw).table.total).toBe(0);
    expect(tableOf(cw).closedRows).toBe(0);
    expect(cw.header?.totals).toMatch(/shown 0 of 5$/);
    const port = frameOf(store, ui0({ filterText: 'sport 9090' }));
    expect(tableOf(port).closedRows).toBe(3);
    expect(tableOf(port).table.total).toBe(4);
    expect(tableOf(port).table.rows.filter((r) => r.closed)).toHaveLength(3);
    expect(port.header?.totals).toMatch(/shown 1 of 5$/);
    expect(port.counts.matched).toBe(1);
  });
});

describe('the replay keys are in the footer and the help (17)', () => {
  it('footer and help list step, seek and speed when replaying, and not when live', () => {
    const store = troubled();
    const replay = frameOf(store, ui0(), { width: 200, height: 30 }, { ...CONTEXT, replay: true });
    expect(replay.footer.keys).toEqual(
      expect.arrayContaining([
        ['.,', 'step'],
        ['][', 'seek'],
        ['+-', 'speed'],
      ]),
    );
    const live = frameOf(store, ui0(), { width: 200, height: 30 });
    expect(live.footer.keys.map(([k]) => k)).not.toContain('.,');
    const help = helpLines(100, true).join('\n');
    expect(help).toMatch(/\. ,\s+replay: next \/ previous frame/);
    expect(help).toMatch(/\] \[\s+replay: jump a tenth/);
    expect(helpLines(100, false).join('\n')).not.toMatch(/replay:/);
    // Every key the help documents resolves to its binding.
    for (const b of KEY_MAP) {
      const k = b.keys[0] ?? '';
      const press = k === 'space' ? { ch: ' ' } : k.length === 1 ? { ch: k } : { full: k };
      const scope = {
        detailsOpen: b.context === 'overlay' || b.context === 'details',
        helpOpen: false,
        replay: b.context === 'replay',
        sortMenuOpen: b.context === 'sortMenu',
        prompt: b.context === 'search' ? ('search' as const) : b.context === 'prompt' ? ('filter' as const) : null,
      };
      expect(resolveKey(press, scope)?.action, k).toBe(b.action);
    }
  });
});

describe('the selection follows the connection (9)', () => {
  it('ESTABLISHED → TIME_WAIT changes the key; the rekey action moves selection and details with it', () => {
    const store = new SessionStore();
    const conn = rec({ localPort: 45000, remotePort: 8080, inode: 77 });
    const other = rec({ localPort: 45001, remotePort: 8080, inode: 78 });
    store.ingest(makeSnapshot([conn, other], { takenAtMs: T0 }));
    let ui = ui0({ selectedKey: conn.key, detailsKey: conn.key });
    const tw = rec({ state: 'TIME_WAIT', localPort: 45000, remotePort: 8080, inode: 0 });
    const s = store.ingest(makeSnapshot([tw, other], { takenAtMs: T0 + 1000 }));
    ui = reduceUi(ui, { type: 'rekey', keys: s.live?.rekeyed ?? new Map() });
    expect(ui.selectedKey).toBe(tw.key);
    expect(ui.detailsKey).toBe(tw.key);
    const f = frameOf(store, { ...ui, detailsKey: null });
    expect(f.selectedRecord?.state).toBe('TIME_WAIT');
    expect(f.selectedRecord?.localPort).toBe(45000);
  });
});

describe('view tabs read as keys, not counts (issue 10)', () => {
  it('each tab is "digit:name", the current view in brackets, in every view; no "6 findings" next to the badge', () => {
    const store = troubled();
    const names = ['sockets', 'ports', 'peers', 'procs', 'states', 'findings', 'compare'];
    for (const [i, view] of VIEWS.entries()) {
      const title = frameOf(store, ui0({ view }), { width: 200, height: 40 }).main?.title ?? '';
      const tabs = names.map((n, j) => (j === i ? `[${j + 1}:${n}]` : `${j + 1}:${n}`)).join(' ');
      expect([view, title.endsWith(tabs)]).toEqual([view, true]);
      expect(title).not.toMatch(/\d [a-z]/);
    }
  });
});

describe('the state diagram without UTF-8 (issue 10)', () => {
  it('the explanation and its key hint are plain ASCII: "^v another state", no raw arrows', () => {
    const store = troubled();
    for (const ascii of [true, false]) {
      store.setFilter(null);
      const f = buildFrame({
        session: store.state,
        ui: ui0({ view: 'states' }),
        size: { width: 120, height: 40 },
        theme: { ascii },
        filter: null,
        context: CONTEXT,
      });
      if (f.main?.kind !== 'diagram') throw new Error('no diagram');
      const text = f.main.explanation.join('\n');
      expect(text).toContain(ascii ? '^v another state' : '↑↓ another state');
      if (ascii) expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    }
  });
});

describe('the compare view counts what the marker counted', () => {
  const closeWaitPile = (n: number) =>
    Array.from({ length: n }, (_, i) => rec({ state: 'CLOSE_WAIT', localPort: 9090, remotePort: 52000 + i, inode: 100 + i }));
  const moreOn8080 = (n: number) => Array.from({ length: n }, (_, i) => rec({ localPort: 53000 + i, remotePort: 8080, inode: 500 + i }));

  it('a marker dropped under a filter compares the same sockets then and now, and says so; another filter on screen is named as not applied', () => {
    const store = troubled();
    frameOf(store, ui0({ filterText: 'port 9090' }));
    store.addMarker('before');
    store.ingest(makeSnapshot([...SCENE, ...closeWaitPile(7), ...moreOn8080(20)], { takenAtMs: T0 + 5000 }));
    const f = frameOf(store, ui0({ view: 'compare', filterText: 'port 9090' }));
    const rows = rowTexts(f);
    // port 9090 then: the listener + 3 CLOSE_WAIT = 4; now 11. The 20 new sockets to 8080 are not counted.
    expect(rows.find((r) => /^\s*TCP sockets/.test(r) || r.includes('tcp'))).toMatch(/4\s+11\s+\+7/);
    expect(rows.join('\n')).not.toMatch(/8080/);
    expect(tableOf(f).notes.join(' ')).toMatch(/counted under the marker's filter "port 9090"/);
    const other = frameOf(store, ui0({ view: 'compare', filterText: 'port 8080' }));
    expect(tableOf(other).notes.join(' ')).toMatch(/filter "port 8080" is not applied here/);
    expect(rowTexts(other)).toEqual(rows);
  });

  it('a marker without a filter counts everything, and a filter set later is said not to apply', () => {
    const store = troubled();
    frameOf(store, ui0());
    store.addMarker('before');
    store.ingest(makeSnapshot([...SCENE, ...moreOn8080(20)], { takenAtMs: T0 + 5000 }));
    expect(tableOf(frameOf(store, ui0({ view: 'compare' }))).notes).toEqual([]);
    const f = frameOf(store, ui0({ view: 'compare', filterText: 'port 9090' }));
    expect(tableOf(f).notes.join(' ')).toMatch(/filter "port 9090" is not applied here: the marker counted every socket/);
    expect(rowTexts(f).join('\n')).toMatch(/8080/);
  });
});

/** A frame's input for a 120x30 screen over `store`'s session, without a filter. */
const frameInputAt120x30 = (store: SessionStore, ui: UiState, cache: FrameCache) => ({
  session: store.state,
  ui,
  size: { width: 120, height: 30 },
  theme: { ascii: false },
  filter: null,
  context: CONTEXT,
  cache,
});

describe('the socket table of a new snapshot built in steps before its frame', () => {
  const sockets = (from: number, n: number): SocketRecord[] =>
    Array.from({ length: n }, (_, i) =>
      rec({ localPort: 1000 + ((from + i) % 37), remotePort: 20_000 + from + i, recvQ: (from + i) % 5, inode: 100 + from + i }),
    );
  const input = frameInputAt120x30;
  const keysShown = (f: Frame): string[] => tableOf(f).table.rows.map((r) => r.key);

  it('a frame drawn meanwhile shows the last rows (same filter and sort); the frame after shows the new ones, as built at once', () => {
    const store = new SessionStore();
    const first = sockets(0, 400);
    store.ingest(makeSnapshot(first, { takenAtMs: T0 }));
    const cache = new FrameCache();
    const ui = ui0({ socketSort: { key: 'recvq', descending: true } });
    const before = buildFrame(input(store, ui, cache));
    // The next snapshot: half the sockets closed, others new: the first rows change.
    const second = [...first.filter((_, i) => i % 2 === 0), ...sockets(1000, 300)];
    store.ingest(makeSnapshot(second, { takenAtMs: T0 + 1000 }));
    const fresh = buildFrame(input(store, ui, new FrameCache()));
    expect(keysShown(fresh)).not.toEqual(keysShown(before));

    cache.preparingRows = true;
    const steps = prepareFrameSteps(input(store, ui, cache));
    const meanwhile = buildFrame(input(store, ui, cache));
    expect(keysShown(meanwhile)).toEqual(keysShown(before));
    // The header counts the new snapshot at once.
    expect(meanwhile.counts).toEqual(fresh.counts);
    // Another sort meanwhile is not shown from the last order: it is built for the frame.
    const other = ui0({ socketSort: { key: 'peer', descending: false } });
    expect(keysShown(buildFrame(input(store, other, cache)))).toEqual(keysShown(buildFrame(input(store, other, new FrameCache()))));
    for (let r = steps.next(); r.done !== true; r = steps.next());
    cache.preparingRows = false;
    const after = buildFrame(input(store, ui, cache));
    expect(keysShown(after)).toEqual(keysShown(fresh));
    expect(rowTexts(after)).toEqual(rowTexts(fresh));
    expect(tableOf(after).table.total).toBe(tableOf(fresh).table.total);
    expect(tableOf(after).closedRows).toBe(tableOf(fresh).closedRows);
    expect(tableOf(after).closedRows).toBeGreaterThan(0);
  });
});

describe('a view switched to at scale: its rows made in steps after a first frame (FrameCache#deferFromSockets)', () => {
  const sockets = (from: number, n: number): SocketRecord[] =>
    Array.from({ length: n }, (_, i) =>
      rec({
        localPort: 1000 + ((from + i) % 37),
        remotePort: 20_000 + ((from + i) % 500),
        remoteAddress: `10.0.${(from + i) % 3}.${(from + i) % 7}`,
        owner: (from + i) % 4 === 0 ? null : { pid: 300 + ((from + i) % 5), command: 'svc' },
        recvQ: (from + i) % 5,
        inode: 100 + from + i,
      }),
    );
  const listeners = [0, 1, 2].map((i) =>
    rec({ state: 'LISTEN', localAddress: '0.0.0.0', localPort: 1000 + i, remoteAddress: '0.0.0.0', remotePort: 0, inode: 90 + i }),
  );
  const input = frameInputAt120x30;
  const deferring = (): FrameCache => {
    const cache = new FrameCache();
    cache.deferFromSockets = 100;
    return cache;
  };

  it.each(['ports', 'peers', 'processes'] as const)(
    'by %s: "counting…" and nothing listed, then after the steps the frame built at once',
    (view) => {
      const store = new SessionStore();
      store.ingest(makeSnapshot([...listeners, ...sockets(0, 600)], { takenAtMs: T0 }));
      const cache = deferring();
      const ui = ui0({ view });
      const first = buildFrame(input(store, ui, cache));
      expect(cache.deferred).toBe(true);
      expect(tableOf(first).table.rows).toEqual([]);
      expect(tableOf(first).table.emptyText).toBe('counting…');
      // The header counts everything at once.
      const fresh = buildFrame(input(store, ui, new FrameCache()));
      expect(first.counts).toEqual(fresh.counts);
      expect(rowTexts(fresh).length).toBeGreaterThan(2);
      let pauses = 0;
      const steps = prepareFrameSteps(input(store, ui, cache));
      for (let r = steps.next(); r.done !== true; r = steps.next()) pauses++;
      cache.deferred = false;
      const after = buildFrame(input(store, ui, cache));
      expect(cache.deferred).toBe(false);
      expect(rowTexts(after)).toEqual(rowTexts(fresh));
      expect(tableOf(after).title).toBe(tableOf(fresh).title);
      expect(after.rowKeys()).toEqual(fresh.rowKeys());
      expect(pauses).toBeGreaterThan(0);
      // Below the threshold the frame counts at once, as before.
      const small = new FrameCache();
      small.deferFromSockets = 10_000;
      expect(rowTexts(buildFrame(input(store, ui, small)))).toEqual(rowTexts(fresh));
      expect(small.deferred).toBe(false);
    },
  );

  it.each(['ports', 'peers', 'processes'] as const)(
    'by %s on a quiet host: the groups of the last snapshot are kept, counted again once a record changes',
    (view) => {
      const store = new SessionStore();
      const all = [...listeners, ...sockets(0, 600)];
      store.ingest(makeSnapshot(all, { takenAtMs: T0 }));
      const cache = deferring();
      const ui = ui0({ view });
      const stepsOf = (): number => {
        let n = 0;
        const steps = prepareFrameSteps(input(store, ui, cache));
        for (let r = steps.next(); r.done !== true; r = steps.next()) n++;
        return n;
      };
      expect(stepsOf()).toBeGreaterThan(0);
      // The same record objects in a new snapshot (what the collector hands over for unchanged lines).
      store.ingest(makeSnapshot(all, { takenAtMs: T0 + 1000 }));
      expect(stepsOf()).toBe(0);
      const kept = buildFrame(input(store, ui, cache));
      expect(cache.deferred).toBe(false);
      expect(rowTexts(kept)).toEqual(rowTexts(buildFrame(input(store, ui, new FrameCache()))));
      // One record replaced: counted again, and the frame follows it.
      const first = all[listeners.length]!;
      const changed = all.map((r) => (r === first ? { ...first, state: 'CLOSE_WAIT' as const } : r));
      store.ingest(makeSnapshot(changed, { takenAtMs: T0 + 2000 }));
      expect(stepsOf()).toBeGreaterThan(0);
      const after = buildFrame(input(store, ui, cache));
      expect(rowTexts(after)).toEqual(rowTexts(buildFrame(input(store, ui, new FrameCache()))));
      expect(rowTexts(after)).not.toEqual(rowTexts(kept));
    },
  );

  it('by port with new rates at scale: the last groups stay on screen (no "counting…"), then the groups with the rates', () => {
    const store = new SessionStore();
    const all = [...listeners, ...sockets(0, 600)];
    store.ingest(makeSnapshot(all, { takenAtMs: T0 }));
    const cache = deferring();
    const ui = ui0({ view: 'ports' });
    const run = (): void => {
      const steps = prepareFrameSteps(input(store, ui, cache));
      for (let r = steps.next(); r.done !== true; r = steps.next());
      cache.deferred = false;
    };
    run();
    const before = buildFrame(input(store, ui, cache));
    const rate = {
      sendBytesPerSec: 5000,
      recvBytesPerSec: 10,
      retransPerSec: 0,
      rttMs: 1,
      rttVarMs: 0.5,
      bytesAcked: 1,
      bytesReceived: 1,
      retransTotal: 0,
    };
    store.setConnRates({
      ok: true,
      rates: new Map(all.filter((r) => r.localPort === 1001).map((r) => [r.key, rate])),
      total: { connections: 10, withRate: 10, sendBytesPerSec: 50_000, recvBytesPerSec: 100, retransPerSec: 0 },
      asOfMs: T0,
    });
    const meanwhile = buildFrame(input(store, ui, cache));
    expect(cache.deferred).toBe(true);
    expect(tableOf(meanwhile).table.rows.map((r) => r.key)).toEqual(tableOf(before).table.rows.map((r) => r.key));
    expect(tableOf(meanwhile).table.emptyText).not.toBe('counting…');
    run();
    const after = buildFrame(input(store, ui, cache));
    expect(rowTexts(after)).toEqual(rowTexts(buildFrame(input(store, ui, new FrameCache()))));
    expect(rowTexts(after).join('\n')).toMatch(/B\/s/);
  });

  it('back to the socket table after a snapshot shown elsewhere: the last rows (same filter and sort), then the new ones', () => {
    const store = new SessionStore();
    const firstSockets = sockets(0, 400);
    store.ingest(makeSnapshot(firstSockets, { takenAtMs: T0 }));
    const cache = deferring();
    const socketsUi = ui0({ socketSort: { key: 'recvq', descending: true } });
    const before = buildFrame(input(store, socketsUi, cache));
    expect(cache.deferred).toBe(false);
    // A snapshot arrives while the by-port view is shown (its rows are made for it, not the socket table's).
    store.ingest(makeSnapshot([...firstSockets.filter((_, i) => i % 2 === 0), ...sockets(1000, 300)], { takenAtMs: T0 + 1000 }));
    const portsUi = { ...socketsUi, view: 'ports' as const };
    const steps = prepareFrameSteps(input(store, portsUi, cache));
    for (let r = steps.next(); r.done !== true; r = steps.next());
    const fresh = buildFrame(input(store, socketsUi, new FrameCache()));
    expect(rowTexts(fresh)).not.toEqual(rowTexts(before));
    const back = buildFrame(input(store, socketsUi, cache));
    expect(cache.deferred).toBe(true);
    // The last order (ages are read from the session now, as while a new snapshot's rows are built).
    const keysShown = (f: Frame): string[] => tableOf(f).table.rows.map((r) => r.key);
    expect(keysShown(back)).toEqual(keysShown(before));
    expect(back.counts).toEqual(fresh.counts);
    const made = prepareFrameSteps(input(store, socketsUi, cache));
    for (let r = made.next(); r.done !== true; r = made.next());
    cache.deferred = false;
    const after = buildFrame(input(store, socketsUi, cache));
    expect(cache.deferred).toBe(false);
    expect(rowTexts(after)).toEqual(rowTexts(fresh));
  });
});
