// What htop's hands cost at 1k/10k/100k sockets, in process (no terminal): one search keystroke
// (F3) that finds nothing, i.e. the worst case, one pass over every row's text (the first key
// after a refresh formats the text of every row, later keys reuse it); one that finds a
// row half-way down; one keystroke of the live filter prompt (/, F4: a new filter, so the rows
// are filtered and sorted again, as Enter did before); and a sort chosen in the F6 menu (the rows
// sorted again); and 2 / 3 (the by-port and by-peer views switched to): their rows counted in the
// key's frame at once (as before), against the key's frame now (the dashboard's deferFromSockets:
// "counting…") and the slices that count them after it (all of them, and the longest step).
// CPU ms of the process (process.cpuUsage) per action, medians of 5 runs.
//
//   npm run build && node dist/bench/keys-bench.js
//   env: BENCH_KEYS_SIZES=1000,10000,100000 (default)

import { compileFilter } from '../src/filter/index.js';
import { SessionStore } from '../src/model/session-store.js';
import type { Snapshot, SocketRecord, TcpState } from '../src/model/types.js';
import { FrameCache, buildFrame, prepareFrameSteps, type Frame, type FrameInput } from '../src/view/frame.js';
import { findRow, initialUiState, reduceUi, type SearchRows, type UiState } from '../src/view/ui-state.js';
import { describeMachine, formatTable, loadAverage, machineInfo, median, round } from './bench-lib.js';

const STATES: readonly TcpState[] = ['ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'LISTEN'];

/** `count` TCP sockets on loopback: ports 10000 + i, peers spread over 250 addresses, 50 owners. */
function population(count: number): SocketRecord[] {
  const out: SocketRecord[] = [];
  for (let i = 0; i < count; i++) {
    const state = STATES[i % STATES.length] ?? 'ESTABLISHED';
    const localPort = 10_000 + (i % 55_000);
    const remoteAddress = `10.1.${(i >> 8) % 250}.${1 + (i % 250)}`;
    const remotePort = state === 'LISTEN' ? 0 : 5432;
    const inode = 1_000_000 + i;
    out.push({
      key: `tcp 127.0.0.1:${localPort} ${remoteAddress}:${remotePort} ${inode}`,
      protocol: 'tcp',
      state,
      localAddress: '127.0.0.1',
      localPort,
      remoteAddress: state === 'LISTEN' ? '0.0.0.0' : remoteAddress,
      remotePort,
      inode,
      recvQ: i % 7,
      sendQ: i % 11,
      timer: 'off',
      timerMs: 0,
      retransmits: 0,
      uid: 1000,
      rtoMs: null,
      atoMs: null,
      cwnd: null,
      ssthresh: null,
      drops: null,
      path: null,
      unixType: null,
      owner: { pid: 2000 + (i % 50), command: `worker${i % 50}`, commandLine: `worker${i % 50}`, uid: 1000, fd: 3 + i },
      sharedBy: 0,
      user: 'alice',
    });
  }
  return out;
}

function snapshotOf(sockets: readonly SocketRecord[]): Snapshot {
  return {
    takenAtMs: 1_700_000_000_000,
    host: 'bench',
    sockets,
    counters: {},
    issues: { skippedLines: 0, files: {} },
    owners: { enabled: true, unreadableProcesses: 0, scannedProcesses: 1, linksRead: 0, durationMs: 0 },
    cost: { readMs: 0, parseMs: 0, ownersMs: 0, rows: sockets.length },
  };
}

function cpuMsOf(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

function main(): void {
  const sizes = (process.env['BENCH_KEYS_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
  const rows: (string | number)[][] = [];
  for (const n of sizes) {
    const store = new SessionStore();
    store.ingest(snapshotOf(population(n)));
    let cache = new FrameCache();
    const inputOf = (ui: UiState): FrameInput => ({
      session: store.state,
      ui,
      size: { width: 120, height: 40 },
      theme: { ascii: false, color: true },
      filter:
        ui.filterText === ''
          ? null
          : (() => {
              const c = compileFilter(ui.filterText);
              return c.ok ? c.filter : null;
            })(),
      context: { modeLabel: null, cost: null, scopeLabel: null, timeZoneOffsetMin: 0, replay: false, tcpInfo: null, details: null },
      cache,
    });
    const frameOf = (ui: UiState): Frame => buildFrame(inputOf(ui));
    /** A view switched to: its frame with the rows counted at once, or (deferring) its frame now and the steps after it. */
    const switchTo = (view: 'ports' | 'peers', defer: boolean): { keyMs: number; stepsMs: number; longestMs: number } => {
      cache = new FrameCache();
      frameOf(ui0);
      if (defer) cache.deferFromSockets = 10_000;
      const ui = reduceUi(ui0, { type: 'setView', view });
      const keyMs = cpuMsOf(() => frameOf(ui));
      let stepsMs = 0;
      let longestMs = 0;
      if (cache.deferred) {
        const steps = prepareFrameSteps(inputOf(ui));
        for (let done = false; !done;) {
          const ms = cpuMsOf(() => {
            done = steps.next().done === true;
          });
          stepsMs += ms;
          longestMs = Math.max(longestMs, ms);
        }
        stepsMs += cpuMsOf(() => frameOf(ui));
      }
      return { keyMs, stepsMs, longestMs };
    };
    const ui0 = initialUiState({ intervalMs: 1000 });
    let frame = frameOf(ui0);
    const search = (): SearchRows => ({ keys: frame.rowKeys(), pageSize: frame.pageSize, textAt: (i) => frame.rowSearchText(i) });
    const keys = frame.rowKeys();
    // The row half-way down, found by its peer address as typed.
    const middle = frame.rowSearchText(Math.floor(keys.length / 2));
    const needle = /10\.1\.\d+\.\d+:5432/.exec(middle)?.[0] ?? 'zz';
    const runs = 5;
    const cold: number[] = [];
    const notFound: number[] = [];
    const found: number[] = [];
    const filterKey: number[] = [];
    const sortChoice: number[] = [];
    const views = {
      ports: { atOnce: [] as number[], now: [] as number[], steps: [] as number[], longest: [] as number[] },
      peers: { atOnce: [] as number[], now: [] as number[], steps: [] as number[], longest: [] as number[] },
    };
    for (let r = 0; r < runs; r++) {
      for (const view of ['ports', 'peers'] as const) {
        views[view].atOnce.push(switchTo(view, false).keyMs);
        const d = switchTo(view, true);
        views[view].now.push(d.keyMs);
        views[view].steps.push(d.stepsMs);
        views[view].longest.push(d.longestMs);
      }
      // The first keystroke after a refresh formats the rows it reads (every row when nothing matches).
      cache = new FrameCache();
      frame = frameOf(ui0);
      cold.push(cpuMsOf(() => findRow(search(), 'no such text', 0)));
      notFound.push(cpuMsOf(() => findRow(search(), 'no such text', 0)));
      found.push(
        cpuMsOf(() => {
          const s = reduceUi(
            { ...ui0, prompt: { kind: 'search', text: '', error: null } },
            { type: 'promptInput', text: needle, rows: search() },
          );
          if (s.selectedKey === null) throw new Error('the search did not find the middle row');
        }),
      );
      // A keystroke of the live filter: "port 1234" becomes "port 12345" (a new filter each run).
      filterKey.push(
        cpuMsOf(() =>
          frameOf(reduceUi({ ...ui0, prompt: { kind: 'filter', text: '', error: null } }, { type: 'promptInput', text: `sport > ${r}` })),
        ),
      );
      sortChoice.push(
        cpuMsOf(() =>
          frameOf(
            reduceUi(
              { ...ui0, socketSort: { key: r % 2 === 0 ? 'peer' : 'local', descending: false }, sortMenu: { cursor: 'age' } },
              { type: 'sortMenuChoose' },
            ),
          ),
        ),
      );
    }
    rows.push([
      n,
      round(median(cold), 1),
      round(median(notFound), 1),
      round(median(found), 1),
      round(median(filterKey), 1),
      round(median(sortChoice), 1),
      ...(['ports', 'peers'] as const).map((v) => {
        const f = views[v];
        return `${round(median(f.atOnce), 1)} → ${round(median(f.now), 1)} (+${round(median(f.steps), 1)} in steps ≤ ${round(median(f.longest), 1)})`;
      }),
    ]);
  }
  process.stdout.write(`${describeMachine(machineInfo(), loadAverage())}\n`);
  process.stdout.write(
    formatTable(
      [
        'sockets',
        'search, no match, first key (ms cpu)',
        'search, no match, next keys (ms cpu)',
        'search, match half-way (ms cpu)',
        'live filter keystroke (ms cpu)',
        'sort chosen (ms cpu)',
        '2 by port: at once → key frame now (+ steps after, longest)',
        '3 by peer: the same',
      ],
      rows,
    ),
  );
  process.stdout.write('\n');
}

main();
