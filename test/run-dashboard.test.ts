// runDashboard with injected DashboardDeps: the real poller, screen and key handling over
// in-memory streams, fed by a fixed snapshot source instead of /proc. What the deps are given
// (snapshots, recorder, stats writer, signals) is what reaches the screen and the exit code.

import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Recording } from '../src/model/recording.js';
import { UNKNOWN_SYSCTLS } from '../src/model/listener-health.js';
import type { Snapshot } from '../src/model/types.js';
import { runDashboard, type DashboardDeps, type DashboardStatsDocument, type LiveFeed } from '../src/ui/run-dashboard.js';
import { rec } from './helpers/records.js';
import { makeSnapshot } from './helpers/snapshots.js';

const ESC = String.fromCharCode(27);
/** CSI and OSC sequences, and the charset switches blessed writes. */
const ANSI = new RegExp(`${ESC}(\\[[0-9;?]*[ -/]*[@-~]|\\][^\\x07]*\\x07|[()][0-9A-B]|[=>78])`, 'g');

/** Wait until `done()` holds, giving the dashboard's timers and streams turns (bounded: fails the test when it never holds). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

interface Harness {
  readonly deps: DashboardDeps;
  readonly input: PassThrough;
  readonly signals: EventEmitter;
  /** The terminal output so far without escape sequences. */
  text(): string;
  raw(): string;
  stderr(): string;
  readonly collected: { count: number };
  readonly live: { opened: number; primed: number; closed: number; sysctlReads: number; backlogReads: number };
  /** The terminal output (escape sequences removed) when readBacklogs (ss -ltn) was first called. */
  readonly screenAtFirstBacklogRead: { text: string | null };
  readonly recorded: Snapshot[];
  readonly recorderClosed: { count: number };
  readonly stats: DashboardStatsDocument[];
  readonly raised: string[];
}

interface HarnessOptions {
  readonly snapshot?: Snapshot;
  readonly collect?: () => Promise<Snapshot>;
  readonly targetGone?: () => string | null;
  readonly recording?: Recording;
  readonly readConnRates?: LiveFeed['readConnRates'];
  readonly readUnixPeers?: LiveFeed['readUnixPeers'];
  readonly cpuMs?: () => number;
  readonly monotonicMs?: () => number;
}

/** The loading line as text() shows it (blessed moves the cursor over blanks instead of writing them). */
const LOADING_LINE = /sockscope: ?reading ?sockets…/;

const started: { readonly h: Harness; readonly exit: Promise<number> }[] = [];

function harness(options: HarnessOptions = {}): Harness {
  const chunks: string[] = [];
  const errors: string[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        callback();
      },
    }),
    { columns: 120, rows: 30, isTTY: true },
  );
  const signals = new EventEmitter();
  const live = { opened: 0, primed: 0, closed: 0, sysctlReads: 0, backlogReads: 0 };
  const screenAtFirstBacklogRead: { text: string | null } = { text: null };
  const collected = { count: 0 };
  const recorded: Snapshot[] = [];
  const recorderClosed = { count: 0 };
  const stats: DashboardStatsDocument[] = [];
  const raised: string[] = [];
  const snapshot = options.snapshot ?? makeSnapshot([]);
  const open = (): LiveFeed => {
    live.opened++;
    return {
      prime: () => {
        live.primed++;
      },
      collect: () => {
        collected.count++;
        return options.collect?.() ?? Promise.resolve(snapshot);
      },
      targetGone: options.targetGone ?? (() => null),
      readSysctls: () => {
        live.sysctlReads++;
        return UNKNOWN_SYSCTLS;
      },
      readBacklogs: () => {
        live.backlogReads++;
        screenAtFirstBacklogRead.text ??= chunks.join('').replace(ANSI, '');
        return Promise.resolve(new Map([['127.0.0.1:54321', 77]]));
      },
      readConnRates: options.readConnRates ?? null,
      readUnixPeers: options.readUnixPeers ?? null,
      close: () => {
        live.closed++;
        return Promise.resolve();
      },
    };
  };
  const deps: DashboardDeps = {
    stdin: input,
    stdout: output,
    stderr: { write: (s: string) => errors.push(s) > 0 },
    env: { TERM: 'xterm-256color', LANG: 'C.UTF-8' },
    signals: signals as unknown as DashboardDeps['signals'],
    raiseSignal: (signal) => {
      raised.push(signal);
    },
    monotonicMs: options.monotonicMs ?? (() => performance.now()),
    ...(options.cpuMs === undefined ? {} : { cpuMs: options.cpuMs }),
    timeZoneOffsetMin: 0,
    intervalMs: 1000,
    color: false,
    filterText: '',
    scopeLabel: null,
    source: options.recording !== undefined ? { kind: 'replay', recording: options.recording } : { kind: 'live', open },
    fetchTcpInfo: () => Promise.resolve(null),
    recorder: {
      write: (s) => {
        recorded.push(s);
      },
      close: () => {
        recorderClosed.count++;
      },
    },
    writeStats: (s) => {
      stats.push(s);
    },
  };
  return {
    deps,
    input,
    signals,
    raw: () => chunks.join(''),
    text: () => chunks.join('').replace(ANSI, ''),
    stderr: () => errors.join(''),
    collected,
    live,
    screenAtFirstBacklogRead,
    recorded,
    recorderClosed,
    stats,
    raised,
  };
}

function run(h: Harness): Promise<number> {
  const exit = runDashboard(h.deps);
  started.push({ h, exit });
  return exit;
}

afterEach(async () => {
  // A test that failed half-way leaves its dashboard running: end it (a no-op for ended ones).
  for (const { h } of started) h.signals.emit('SIGTERM');
  await Promise.all(started.splice(0).map((s) => s.exit));
});

describe('runDashboard with injected deps', () => {
  it('draws the feed’s snapshot, records it, reads the environment, and on q closes what it opened and exits 0', async () => {
    const listener = rec({ state: 'LISTEN', localPort: 54321, remoteAddress: '0.0.0.0', remotePort: 0, inode: 901 });
    const conn = rec({
      localPort: 40404,
      remoteAddress: '10.9.8.7',
      remotePort: 5432,
      inode: 902,
      owner: { pid: 4242, command: 'fakecollectd' },
    });
    const h = harness({ snapshot: makeSnapshot([listener, conn]) });
    const exit = run(h);
    await until(() => h.text().includes('10.9.8.7:5432') && h.live.backlogReads > 0, 'the connection drawn, the backlogs read');
    expect(h.text()).toContain('54321');
    expect(h.text()).toContain('4242/fakecollectd');
    expect(h.live).toMatchObject({ opened: 1, primed: 1, sysctlReads: 1, backlogReads: 1 });
    // ss (the backlogs) is started only once the terminal has the frame.
    expect(h.screenAtFirstBacklogRead.text).toContain('10.9.8.7:5432');
    expect(h.recorded.length).toBeGreaterThanOrEqual(1);
    expect(h.recorded[0]?.sockets.map((s) => s.localPort)).toEqual([54321, 40404]);
    h.input.write('q');
    expect(await exit).toBe(0);
    expect(h.live.closed).toBe(1);
    expect(h.recorderClosed.count).toBe(1);
    // The stats document written on exit counts the snapshots handed over.
    expect(h.stats.at(-1)?.snapshots).toBe(h.collected.count);
    expect(h.signals.eventNames()).toEqual([]);
    // The terminal is given back: the alternate screen is left.
    expect(h.raw()).toContain(`${ESC}[?1049l`);
  });

  it('the back-off budgets the whole process’s CPU per refresh and the header says why it slowed', async () => {
    // A process clock that advances 0.75 s of CPU per reading. The poller reads it when a
    // refresh starts and when its frame is drawn: 0.75 s from collection to frame, and as much
    // again after the frame (where ss and its parse run), so 1.5 s per refresh cycle, which at
    // most half a core allows every 3 s, not every 1 s. The refresh alone (0.75 s) would allow 1.5 s.
    let cpu = 0;
    const h = harness({
      cpuMs: () => {
        cpu += 750;
        return cpu;
      },
    });
    const exit = run(h);
    // Screen updates are diffs (only changed cells are written): compare without blanks.
    const drawn = (): string => h.text().replace(/\s+/g, '');
    // The first refresh, with no cycle behind it yet, is budgeted by its own 0.75 s; the header is
    // then updated in place (only the changed cells are written: "1.50" after "cost").
    await until(() => drawn().includes('slowedfrom1s:arefreshcosts0.75scpu(max50%ofacore)'), 'the header saying why it slowed');
    await until(() => /slowedfrom1s:arefreshcosts?1\.50scpu/.test(drawn()), 'the header counting the whole cycle');
    h.input.write('q');
    expect(await exit).toBe(0);
    expect(h.stats.at(-1)?.effectiveIntervalMs).toBe(3000);
  });

  it('--pid gone: the feed’s message ends the dashboard with exit 1 before collecting', async () => {
    const h = harness({ targetGone: () => 'process 77 is gone: its network namespace cannot be read any more' });
    expect(await run(h)).toBe(1);
    expect(h.stderr()).toBe('sockscope: process 77 is gone: its network namespace cannot be read any more\n');
    expect(h.collected.count).toBe(0);
    expect(h.live.closed).toBe(1);
  });

  it('a snapshot whose ingest yields to keys between slices: ss for the backlogs still starts only after its frame', async () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      rec({ localPort: 20000 + i, remoteAddress: '10.1.2.3', remotePort: 1024 + i, inode: 5000 + i }),
    );
    // A clock that moves 50 ms per reading: every step of the ingest ends a slice, and it yields.
    let nowMs = 0;
    const h = harness({ snapshot: makeSnapshot(many), monotonicMs: () => (nowMs += 50) });
    const exit = run(h);
    await until(() => h.live.backlogReads > 0, 'the backlogs read');
    expect(h.screenAtFirstBacklogRead.text).toContain('10.1.2.3:');
    h.input.write('q');
    expect(await exit).toBe(0);
  });

  it('a first snapshot at hand is the first thing drawn: no loading line before it', async () => {
    const conn = rec({ localPort: 40404, remoteAddress: '10.9.8.7', remotePort: 5432, inode: 902 });
    const h = harness({ snapshot: makeSnapshot([conn]) });
    const exit = run(h);
    await until(() => h.text().includes('10.9.8.7:5432'), 'the connection drawn');
    h.input.write('q');
    expect(await exit).toBe(0);
    expect(h.text()).not.toMatch(LOADING_LINE);
  });

  it('a slow first snapshot: the loading line is drawn while it is read, then the frame', async () => {
    const conn = rec({ localPort: 40404, remoteAddress: '10.9.8.7', remotePort: 5432, inode: 902 });
    let release = (): void => undefined;
    const held = new Promise<Snapshot>((resolve) => {
      release = () => resolve(makeSnapshot([conn]));
    });
    const h = harness({ collect: () => held });
    const exit = run(h);
    await until(() => LOADING_LINE.test(h.text()), 'the loading line');
    expect(h.text()).not.toContain('10.9.8.7:5432');
    release();
    await until(() => h.text().includes('10.9.8.7:5432'), 'the connection drawn');
    h.input.write('q');
    expect(await exit).toBe(0);
  });

  it('a collection that fails ends the dashboard with one line and exit 1', async () => {
    const h = harness({ collect: () => Promise.reject(new Error('EACCES on net/tcp')) });
    expect(await run(h)).toBe(1);
    expect(h.stderr()).toBe('sockscope: collecting sockets failed: EACCES on net/tcp\n');
    expect(h.recorderClosed.count).toBe(1);
  });

  it.each([
    ['SIGQUIT', 131],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ])('%s on the injected signals exits %i and unsubscribes', async (signal, code) => {
    const h = harness();
    const exit = run(h);
    await until(() => h.collected.count >= 1, 'a first collection');
    h.signals.emit(signal);
    expect(await exit).toBe(code);
    expect(h.signals.eventNames()).toEqual([]);
  });

  it('Ctrl-Z stops through raiseSignal (SIGTSTP, then SIGSTOP from its handler), never the real process', async () => {
    const h = harness();
    const exit = run(h);
    await until(() => h.collected.count >= 1, 'a first collection');
    h.input.write('\x1a');
    await until(() => h.raised.includes('SIGTSTP'), 'Ctrl-Z raised');
    h.signals.emit('SIGTSTP');
    expect(h.raised).toEqual(['SIGTSTP', 'SIGSTOP']);
    h.signals.emit('SIGCONT');
    h.input.write('q');
    expect(await exit).toBe(0);
  });

  it('UNIX peers and connection rates come from the feed: the peer is drawn, rates are asked for every port with no filter', async () => {
    const unix = rec({ protocol: 'unix', state: 'ESTABLISHED', path: null, inode: 777 });
    const ratePorts: (readonly number[] | null)[] = [];
    const h = harness({
      snapshot: makeSnapshot([unix]),
      readUnixPeers: () =>
        Promise.resolve(new Map([[777, { peerInode: 778, peerPid: 99, peerProcess: 'peerd', peerPath: '/run/fakepeer.sock' }]])),
      readConnRates: (_snapshot, ports) => {
        ratePorts.push(ports);
        return Promise.resolve({ ok: false, message: 'ss is not there' });
      },
    });
    const exit = run(h);
    await until(() => h.text().includes('/run/fakepeer.sock'), 'the UNIX peer drawn');
    expect(ratePorts[0]).toBeNull();
    h.input.write('q');
    expect(await exit).toBe(0);
  });

  it('a replay source plays the recording and never opens a live feed', async () => {
    const frames = [40001, 40002].map((port, i) =>
      makeSnapshot([rec({ localPort: port, inode: 950 + i })], { takenAtMs: 1_700_000_000_000 + i * 1000 }),
    );
    const recording: Recording = {
      header: { sockscope: 'recording', version: 1, host: 'recorded', startedAtMs: 1_700_000_000_000 },
      frames: frames.length,
      snapshotAt: (i) => frames[Math.max(0, Math.min(frames.length - 1, i))] as Snapshot,
      timeAt: (i) => 1_700_000_000_000 + i * 1000,
    };
    const h = harness({ recording });
    const exit = run(h);
    await until(() => h.text().includes('REPLAY'), 'the replay label');
    await until(() => h.text().includes('40001'), 'the first frame');
    h.input.write('q');
    expect(await exit).toBe(0);
    expect(h.live.opened).toBe(0);
    expect(h.collected.count).toBe(0);
  });
});
