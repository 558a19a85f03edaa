// Starts the full-screen dashboard: one blessed screen over the injected streams, one poller
// that collects a snapshot per interval and hands it over whole, key bindings that become
// reducer actions, and a terminal that is always restored (quit, signals, errors).
// Everything it reads or starts outside the terminal (collection, owners, ss, the recording
// file, the stats file, signals, the clock) comes in DashboardDeps, built by src/main.ts.

import blessed from 'blessed';
import { portsOfShownConnections } from '../model/conn-rates.js';
import type { NetSysctls } from '../model/listener-health.js';
import type { Recorder, Recording } from '../model/recording.js';
import { budgetRefreshInterval } from '../model/refresh-budget.js';
import type { SessionConnRates } from '../model/session-store.js';
import type { TcpInfo } from '../model/tcp-info.js';
import type { Snapshot, SocketRecord } from '../model/types.js';
import type { UnixPeer } from '../model/unix-peers.js';
import { Dashboard } from './dashboard.js';
import { ASCII_FALLBACK } from '../view/ascii-fallback.js';
import { handleKey } from './keys.js';
import { LongTaskLog, type LongTask } from './long-tasks.js';
import { createQuickScreen } from './quick-screen.js';
import { ReplayFeed } from './replay-feed.js';

/** blessed reads its own bundled terminfo best for these; others degrade to plain xterm. */
export function chooseTerminal(term: string | undefined): string {
  const t = (term ?? '').toLowerCase();
  if (t === '' || t === 'dumb') return 'xterm';
  if (/256col/.test(t)) return 'xterm-256color';
  if (/^(xterm|screen|tmux|rxvt|linux|vt\d+|ansi)/.test(t)) return t.startsWith('vt') ? t : 'xterm';
  return 'xterm';
}

export function isUtf8Locale(env: NodeJS.ProcessEnv): boolean {
  const locale = env['LC_ALL'] || env['LC_CTYPE'] || env['LANG'] || '';
  return /utf-?8/i.test(locale);
}

export function wantsColor(env: NodeJS.ProcessEnv, option: boolean): boolean {
  return option && (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '');
}

/** From this many sockets on, a view switched to has its rows made in slices (Dashboard's deferFromSockets). */
const DEFER_FROM_SOCKETS = 10_000;

/** The loading line is drawn only when the first snapshot has not been drawn within this, ms. */
const LOADING_LINE_AFTER_MS = 100;

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };

/** What the dashboard costs, for the cost meter and `npm run bench` (SOCKSCOPE_STATS_FILE). */
export interface DashboardStats {
  snapshots: number;
  bytesWritten: number;
  /** ms from process start to the first frame drawn from a snapshot. */
  firstFrameAtMs: number | null;
  /** Last refresh: ms collecting (wall), ms from snapshot to drawn frame. */
  lastCollectMs: number;
  lastFrameMs: number;
  frameMs: number[];
  collectMs: number[];
  /**
   * Per refresh (the last 60, as frameMs), ms: the snapshot's read, parse and owner stages, the
   * session store's ingest, the socket table's rows (built in slices before the frame), building +
   * drawing the frame; the refresh's CPU time, all threads (collection start to drawn frame); and
   * the mean CPU per refresh cycle (start to start, all threads and children: ss after the frame
   * included) that the back-off budgets.
   */
  stageMs: {
    readMs: number[];
    parseMs: number[];
    ownersMs: number[];
    ingestMs: number[];
    rowsMs: number[];
    drawMs: number[];
    cpuMs: number[];
    cycleCpuMs: number[];
  };
  /** Interval the poller actually uses (>= the chosen one when backing off). */
  effectiveIntervalMs: number;
  /** SOCKSCOPE_LONG_TASK_MS: the main thread's blocks over that many ms (the last 300), with their stages. */
  longTasks?: readonly LongTask[];
}

/** Count bytes written to the terminal: what a slow SSH link pays for. */
function countBytes(out: { write: (chunk: string) => boolean }, stats: DashboardStats): void {
  const write = out.write.bind(out) as (...args: unknown[]) => boolean;
  out.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stats.bytesWritten += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return write(chunk, ...rest);
  }) as typeof out.write;
}

/** The terminal's output stream (process.stdout, or a test's stream with columns/rows/isTTY). */
export interface TerminalOutput {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Live collection, opened when the screen is up and closed once when the dashboard ends. */
export interface LiveFeed {
  /**
   * Optional: start the slow part now (the first full fd scan overlaps the first table read).
   * A promise: it resolves when that part is done (snapshots now carry owners), and the poller
   * refreshes at once rather than a whole interval later.
   */
  prime?(): Promise<void> | void;
  /**
   * One snapshot of the sockets; rejects when collecting fails (the dashboard exits 1). The first
   * collection of large tables may hand `onPartial` a partial snapshot first (Snapshot.partial:
   * exact counts, a first window of rows), drawn while the rest is parsed.
   */
  collect(onPartial?: (snapshot: Snapshot) => void): Promise<Snapshot>;
  /** --pid: a one-line message once the shown process is gone, else null (asked before each snapshot). */
  targetGone(): string | null;
  /** net.* sysctls for listener health (read every few seconds). */
  readSysctls(): NetSysctls;
  /** Listen backlogs by endpointKey (ss -ltn); null where ss does not describe these sockets. */
  readonly readBacklogs: (() => Promise<ReadonlyMap<string, number>>) | null;
  /**
   * Per-connection rates (ss -tinH) for this snapshot, ss restricted to `ports` (null: every
   * port); the source keeps its own cadence and gives the last rates between reads, or why there
   * are none. null where ss does not describe these sockets.
   */
  readonly readConnRates: ((snapshot: Snapshot, ports: readonly number[] | null) => Promise<SessionConnRates>) | null;
  /** UNIX sockets' peers by inode (ss -xH), null when they could not be read; null where ss does not apply. */
  readonly readUnixPeers: ((snapshot: Snapshot) => Promise<ReadonlyMap<number, UnixPeer> | null>) | null;
  /** Stop what open() started (the owner worker, the ssh owner source). */
  close(): Promise<void>;
}

/** Where snapshots come from: the live system, or a recording (`sockscope replay FILE`). */
export type DashboardSource = { readonly kind: 'live'; open(): LiveFeed } | { readonly kind: 'replay'; readonly recording: Recording };

/** What the dashboard's stats file holds (SOCKSCOPE_STATS_FILE), before the writer adds memory figures. */
export interface DashboardStatsDocument extends DashboardStats {
  readonly tracked: ReturnType<Dashboard['stats']>;
}

/** Everything the dashboard uses outside its screen, built by the composition root (src/main.ts). */
export interface DashboardDeps {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: TerminalOutput;
  readonly stderr: { write(chunk: string): boolean };
  /** TERM, the locale (LANG, LC_ALL, LC_CTYPE) and NO_COLOR. */
  readonly env: NodeJS.ProcessEnv;
  /** Where process-wide signals are subscribed. */
  readonly signals: Pick<NodeJS.Process, 'on' | 'off' | 'once'>;
  /** Send a signal to this process (Ctrl-Z: SIGTSTP, then SIGSTOP to stop). */
  readonly raiseSignal: (signal: 'SIGTSTP' | 'SIGSTOP') => void;
  readonly monotonicMs: () => number;
  /**
   * CPU time of the whole process so far, ms (every thread: main, libuv's pool reading /proc,
   * the owner worker, GC; and its finished children: ss): the poller budgets a refresh's share
   * of a core with it. Absent: the refresh's own stage times stand in.
   */
  readonly cpuMs?: () => number;
  /** Minutes to add to local time to get UTC (Date#getTimezoneOffset), for the chart's clock. */
  readonly timeZoneOffsetMin: number;
  readonly intervalMs: number;
  /** --color (false with --no-color); NO_COLOR and the terminal may still turn colours off. */
  readonly color: boolean;
  readonly filterText: string;
  /** Service name → port (/etc/services), so the filter prompts accept `port http` as --filter does. */
  readonly servicePort?: (name: string) => number | undefined;
  /** Which network namespace or host is shown, for the header; null for sockscope's own. */
  readonly scopeLabel: string | null;
  /** Port → service name (/etc/services) for the by-port view; absent: ports only. */
  readonly serviceNames?: ReadonlyMap<number, string> | null;
  readonly source: DashboardSource;
  /** `ss -ti` for one connection in the details; resolves null when it cannot be known. */
  readonly fetchTcpInfo: (s: SocketRecord) => Promise<TcpInfo | null>;
  /** --record: already open (a file that cannot be created is refused before the screen). */
  readonly recorder: Pick<Recorder, 'write' | 'close'> | null;
  /** SOCKSCOPE_STATS_FILE: rewritten every 10 refreshes (or 5 s) and on exit; null when not asked for. */
  readonly writeStats: ((stats: DashboardStatsDocument) => void) | null;
  /** SOCKSCOPE_LONG_TASK_MS: log the main thread's blocks longer than this (ms) in the stats file; absent: not logged. */
  readonly longTaskMs?: number;
}

/** One refresh cycle: when it ended (monotonic ms) and the CPU the process and its children used in it, ms. */
interface RefreshCycle {
  readonly atMs: number;
  readonly cpuMs: number;
}

/** Cycles the back-off averages over: those of the last CYCLE_WINDOW_MS (ss runs every few s to tens of s at 100k). */
const CYCLE_WINDOW_MS = 30_000;

/**
 * Mean CPU per refresh over the cycles that ended in the last CYCLE_WINDOW_MS (older ones are
 * dropped from `cycles`), ms; null before the first cycle has ended. A cycle's CPU includes what
 * runs after its frame (ss for the rates, its parse), which a refresh's own CPU would miss.
 */
function cyclesCpuMs(cycles: RefreshCycle[], nowMs: number): number | null {
  while (cycles.length > 1 && cycles[0]!.atMs < nowMs - CYCLE_WINDOW_MS) cycles.shift();
  if (cycles.length === 0) return null;
  let sum = 0;
  for (const c of cycles) sum += c.cpuMs;
  return sum / cycles.length;
}

/** Run the dashboard until quit, a signal or a failure; resolves with the exit code. */
export function runDashboard(deps: DashboardDeps): Promise<number> {
  const recording = deps.source.kind === 'replay' ? deps.source.recording : null;
  const recorder = deps.recorder;
  const utf8 = isUtf8Locale(deps.env);
  const screen = createQuickScreen({
    input: deps.stdin as never,
    output: deps.stdout as never,
    terminal: chooseTerminal(deps.env['TERM']),
    smartCSR: true,
    // Off for the first frames, on once the first snapshot is drawn (below): blessed's BCE
    // lookahead scans to the end of the line from every blank cell of a changed line, ~30% of
    // the first full draw's CPU at 160x45; later frames change few lines.
    useBCE: false,
    fullUnicode: utf8,
    forceUnicode: utf8,
    warnings: false,
    autoPadding: true,
  });
  // In a UTF-8 locale draw borders with Unicode box characters rather than the VT100 alternate
  // character set: tmux and many terminals in UTF-8 mode print ACS as "lqqk" (what
  // NCURSES_NO_UTF8_ACS=1 does for ncurses programs).
  if (utf8) (screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
  // Terminals without colours (vt100: terminfo colors -1) would get every colour folded to black
  // or red by blessed: black borders and counts vanish on a dark screen. Draw them monochrome.
  const termColors = (screen as unknown as { tput?: { colors?: number } }).tput?.colors ?? 8;
  if (!utf8) {
    const tput = (screen as unknown as { tput?: { utoa?: Record<string, string> } }).tput;
    if (tput !== undefined) tput.utoa = { ...tput.utoa, ...ASCII_FALLBACK };
  }
  const theme = { color: wantsColor(deps.env, deps.color) && termColors >= 8, ascii: !utf8, colors256: termColors >= 256 };
  const stats: DashboardStats = {
    snapshots: 0,
    bytesWritten: 0,
    firstFrameAtMs: null,
    lastCollectMs: 0,
    lastFrameMs: 0,
    frameMs: [],
    collectMs: [],
    stageMs: { readMs: [], parseMs: [], ownersMs: [], ingestMs: [], rowsMs: [], drawMs: [], cpuMs: [], cycleCpuMs: [] },
    effectiveIntervalMs: deps.intervalMs,
  };
  countBytes(deps.stdout, stats);
  // The live feed (owner worker, ssh owner source) starts now; its first, full fd scan overlaps
  // the first read of the tables.
  const live = deps.source.kind === 'live' ? deps.source.open() : null;
  const primed = live?.prime?.();
  // Sysctls and listen backlogs (ss -ltn) change slowly: read them every few seconds. The feed
  // has no backlog reader where ss would describe other sockets (recorded trees, --pid, --ssh).
  let environmentAtMs = -Infinity;
  // Returns what starts ss for the backlogs: the caller runs it once this refresh's frame has
  // been drawn and written (the ingest before it may yield to the event loop).
  const refreshEnvironment = (dashboard: Dashboard): (() => void) | null => {
    const now = deps.monotonicMs();
    if (live === null || now - environmentAtMs < 5_000) return null;
    environmentAtMs = now;
    const sysctls = live.readSysctls();
    // backlogs null: no new reading yet; the session keeps the last known ones until ss answers.
    dashboard.setEnvironment({ sysctls, backlogs: null });
    const readBacklogs = live.readBacklogs;
    if (readBacklogs === null) return null;
    return () => {
      void readBacklogs().then((backlogs) => dashboard.setEnvironment({ sysctls, backlogs: backlogs.size > 0 ? backlogs : null }));
    };
  };

  // Per-connection rates (ss -tinH, inside --pid through nsenter) on the feed's own cadence: only
  // the filter's ports when it shows few connections, never two reads at once.
  let ratesInFlight = false;
  // UNIX peers (ss -xH) every 5 s: who talks to whom changes slowly.
  let peersAtMs = -Infinity;
  const refreshUnixPeers = (dashboard: Dashboard, snapshot: Snapshot): void => {
    const readUnixPeers = live?.readUnixPeers ?? null;
    if (readUnixPeers === null || deps.monotonicMs() - peersAtMs < 5_000) return;
    peersAtMs = deps.monotonicMs();
    void readUnixPeers(snapshot).then((peers) => {
      if (peers !== null) dashboard.setUnixPeers(peers);
    });
  };
  const refreshConnRates = (dashboard: Dashboard, snapshot: Snapshot): void => {
    const readConnRates = live?.readConnRates ?? null;
    if (readConnRates === null || ratesInFlight) return;
    ratesInFlight = true;
    const filter = dashboard.currentFilter();
    const ports = filter === null ? null : portsOfShownConnections(snapshot.sockets.filter(filter));
    void readConnRates(snapshot, ports).then((rates) => {
      ratesInFlight = false;
      dashboard.setConnRates(rates);
    });
  };

  // Set below; read by the long-task log to name what ran outside the dashboard's stages.
  let collectingNow = false;
  const longTasks =
    deps.longTaskMs === undefined || deps.writeStats === null
      ? null
      : new LongTaskLog(deps.longTaskMs, deps.monotonicMs, () =>
          [collectingNow ? 'collect' : '', ratesInFlight ? 'ss rates' : ''].filter((x) => x !== '').join('+'),
        );
  if (longTasks !== null) stats.longTasks = longTasks.tasks;
  const stage = <T>(label: string, fn: () => T): T => (longTasks === null ? fn() : longTasks.run(label, fn));

  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let collecting = false;
    let intervalMs = deps.intervalMs;
    let finished = false;
    // CPU per refresh cycle (start to start: the refresh, ss and its parse after the frame, GC,
    // keys), the budget's input once there is one.
    const cycles: RefreshCycle[] = [];
    let lastCycleStart: { readonly cpuMs: number; readonly steady: boolean } | null = null;
    let steadySnapshots = 0;
    // Set when the feed's slow part (owners) arrived during a collection: refresh right after it.
    let refreshSoon = false;
    // A partial first snapshot was drawn (no loading line over it).
    let partialDrawn = false;

    const finish = (code: number, message?: string): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      longTasks?.stop();
      dashboard.destroy();
      replay?.stop();
      recorder?.close();
      void live?.close();
      for (const [sig, fn] of handlers) deps.signals.off(sig, fn);
      try {
        screen.destroy();
      } catch {
        // the terminal may already be gone (SIGHUP): nothing left to restore
      }
      if (message !== undefined) deps.stderr.write(`sockscope: ${message}\n`);
      writeStats();
      resolve(code);
    };

    // SOCKSCOPE_STATS_FILE: the dashboard's own figures for `npm run bench` and the soak test,
    // rewritten every 10 refreshes (at least every 5 s) and on exit.
    const writeStats = (): void => deps.writeStats?.({ ...stats, tracked: dashboard.stats() });

    let statsWrittenAtMs = -Infinity;
    let replay: ReplayFeed | null = null;
    const dashboard = new Dashboard(screen, {
      intervalMs,
      filterText: deps.filterText,
      theme,
      monotonicMs: deps.monotonicMs,
      pause: () => new Promise<void>((resolve) => setImmediate(resolve)),
      ...(longTasks === null ? {} : { trace: longTasks }),
      // A view switched to at 100k: its rows made in slices after a first frame, not in one block.
      deferFromSockets: DEFER_FROM_SOCKETS,
      timeZoneOffsetMin: deps.timeZoneOffsetMin,
      fetchTcpInfo: deps.fetchTcpInfo,
      onIntervalChange: (ms) => {
        intervalMs = ms;
        schedule(ms);
      },
      onQuit: () => finish(0),
      scopeLabel: deps.scopeLabel,
      serviceNames: deps.serviceNames ?? null,
      replay: recording !== null,
      ...(deps.servicePort === undefined ? {} : { servicePort: deps.servicePort }),
      onPauseChange: (paused) => {
        if (!paused) replay?.resume();
      },
    });
    if (recording !== null) {
      replay = new ReplayFeed(recording, {
        show: (snapshot, jumped) => {
          if (jumped) dashboard.resetSession();
          dashboard.onSnapshot(snapshot);
          dashboard.showLatestWhilePaused();
        },
        label: (text) => {
          dashboard.setModeLabel(text);
          dashboard.render();
        },
        isPaused: () => dashboard.ui.paused,
        // A damaged frame met while playing: leave the screen, say what, exit 1.
        fail: (message) => finish(1, message),
      });
    }

    // One poller: the next collection is scheduled when this one has been handed over, so
    // refreshes never overlap however long a busy machine takes.
    const tick = (): void => {
      timer = undefined;
      if (live === null) return;
      // --pid: once the process is gone its namespace's tables read as empty: say so and stop.
      const gone = live.targetGone();
      if (gone !== null) {
        finish(1, gone);
        return;
      }
      collecting = true;
      collectingNow = true;
      const started = deps.monotonicMs();
      const cpuAtStart = deps.cpuMs?.() ?? null;
      // The cycle that ends here (one refresh start to the next): its CPU, all threads and children.
      // Not a cycle whose snapshot was taken while the first owner scan ran: that scan is paid once.
      if (cpuAtStart !== null && lastCycleStart !== null && lastCycleStart.steady)
        cycles.push({ atMs: started, cpuMs: cpuAtStart - lastCycleStart.cpuMs });
      lastCycleStart = null;
      // A partial first snapshot is drawn at once; keys work while the rest is parsed.
      const onPartial = (partial: Snapshot): void => {
        if (finished) return;
        partialDrawn = true;
        dashboard.onSnapshot(partial);
      };
      live.collect(onPartial).then(
        async (snapshot) => {
          collectingNow = false;
          if (finished) return;
          const collected = deps.monotonicMs();
          const readBacklogs = refreshEnvironment(dashboard);
          // The ingest yields to keys every few ms; the next collection waits for it (collecting).
          await dashboard.onSnapshotSliced(snapshot, () => new Promise<void>((resolve) => setImmediate(resolve)));
          collecting = false;
          if (finished) return;
          // The frame is written (Dashboard#draw flushes): ss may start now.
          if (readBacklogs !== null) setImmediate(readBacklogs);
          (screen.options as { useBCE?: boolean }).useBCE = true;
          // ss (rates, peers) is spawned once the frame has been written (blessed flushes on setImmediate, queued first).
          // While the first owner scan runs (a snapshot without owners), not at all: the refresh that
          // brings the owners comes at once and would wait on the ss children on a busy machine.
          setImmediate(() => {
            if (finished || snapshot.owners.pending === true) return;
            refreshConnRates(dashboard, snapshot);
            refreshUnixPeers(dashboard, snapshot);
          });
          try {
            recorder?.write(snapshot);
          } catch (err) {
            finish(1, `recording failed: ${err instanceof Error ? err.message : String(err)}`);
            return;
          }
          const drawn = deps.monotonicMs();
          stats.snapshots++;
          // Every 10 refreshes, and every 5 s when refreshes are slow (1M sockets).
          if (stats.snapshots % 10 === 0 || drawn - statsWrittenAtMs >= 5_000) {
            statsWrittenAtMs = drawn;
            writeStats();
          }
          stats.lastCollectMs = collected - started;
          stats.lastFrameMs = drawn - collected;
          stats.collectMs = [...stats.collectMs.slice(-59), stats.lastCollectMs];
          stats.frameMs = [...stats.frameMs.slice(-59), stats.lastFrameMs];
          stats.firstFrameAtMs ??= drawn;
          // The refresh's CPU time, all threads (reading, parsing, owners, drawing); without a
          // process clock, the stage times stand in.
          const cpuMs =
            cpuAtStart !== null && deps.cpuMs !== undefined
              ? deps.cpuMs() - cpuAtStart
              : snapshot.cost.parseMs + snapshot.cost.ownersMs + stats.lastFrameMs;
          const keep = (list: number[], v: number): void => {
            list.push(v);
            if (list.length > 60) list.shift();
          };
          const st = stats.stageMs;
          keep(st.readMs, snapshot.cost.readMs);
          keep(st.parseMs, snapshot.cost.parseMs);
          keep(st.ownersMs, snapshot.cost.ownersMs);
          keep(st.ingestMs, dashboard.lastSnapshotMs.ingestMs);
          keep(st.rowsMs, dashboard.lastSnapshotMs.rowsMs);
          keep(st.drawMs, dashboard.lastSnapshotMs.drawMs);
          keep(st.cpuMs, cpuMs);
          // The first snapshot with owners costs once what later ones do not (every record joined to
          // its owner anew, the session taking all of them as changed): its cycle is left out too.
          steadySnapshots = snapshot.owners.pending !== true && snapshot.partial === undefined ? steadySnapshots + 1 : 0;
          if (cpuAtStart !== null) lastCycleStart = { cpuMs: cpuAtStart, steady: steadySnapshots >= 2 };
          const cycleCpuMs = cyclesCpuMs(cycles, drawn) ?? cpuMs;
          keep(st.cycleCpuMs, cycleCpuMs);
          const budget = budgetRefreshInterval(intervalMs, cycleCpuMs);
          stats.effectiveIntervalMs = budget.intervalMs;
          dashboard.setCost({
            readMs: snapshot.cost.readMs,
            parseMs: snapshot.cost.parseMs,
            ownersMs: snapshot.cost.ownersMs,
            drawMs: stats.lastFrameMs,
            rows: snapshot.cost.rows,
            backedOffToMs: budget.backedOff ? budget.intervalMs : null,
            backoffReason: budget.backedOff ? budget.reason : undefined,
          });
          // (Only when this snapshot was taken without them: a feed with nothing to prime, or
          // primed before the collection began, has them already.)
          const soon = refreshSoon && snapshot.owners.pending === true;
          refreshSoon = false;
          schedule(soon ? 0 : Math.max(0, stats.effectiveIntervalMs - (deps.monotonicMs() - started)));
        },
        (err: unknown) => finish(1, `collecting sockets failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    };
    const schedule = (ms: number): void => {
      if (finished || collecting) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(tick, ms);
    };
    // Owners arrived (the first frame was drawn without them): refresh now, or right after the
    // collection under way.
    void primed?.then(() => {
      if (collecting) refreshSoon = true;
      else schedule(0);
    });

    const handlers: [string, (...args: unknown[]) => void][] = [
      ['SIGTERM', () => finish(SIGNAL_EXIT['SIGTERM'] ?? 1)],
      ['SIGINT', () => finish(SIGNAL_EXIT['SIGINT'] ?? 1)],
      ['SIGHUP', () => finish(SIGNAL_EXIT['SIGHUP'] ?? 1)],
      ['SIGQUIT', () => finish(SIGNAL_EXIT['SIGQUIT'] ?? 1)],
      ['uncaughtException', (err) => finish(1, `internal error: ${err instanceof Error ? err.message : String(err)}`)],
      [
        'SIGTSTP',
        () => {
          // Ctrl-Z or kill -TSTP: leave the terminal usable (normal screen, cursor, echo), stop,
          // and come back on SIGCONT. blessed buffers its writes until the next tick and
          // pause() then silences the output, so its own restore sequence would never be sent:
          // flush, and write pause()'s sequence unbuffered, before stopping.
          const program = screen.program as unknown as { flush(): void; useBuffer: boolean; pause(): () => void };
          program.flush();
          program.useBuffer = false;
          const resume = program.pause();
          program.useBuffer = true;
          deps.signals.once('SIGCONT', () => {
            resume();
            screen.alloc();
            dashboard.render();
          });
          deps.raiseSignal('SIGSTOP');
        },
      ],
    ];
    for (const [sig, fn] of handlers) deps.signals.on(sig, fn);
    deps.stdout.on?.('error', () => finish(0));

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      if (key?.full === 'C-z') {
        // Raw mode turns Ctrl-Z into a key: stop the way a terminal would (handled above).
        deps.raiseSignal('SIGTSTP');
        return;
      }
      // The key map decides: replay keys (step, seek, speed) go to the replay when there is one.
      stage(`key ${key?.full ?? ch ?? ''}`, () => handleKey(dashboard, ch, key, replay));
    });
    screen.on('resize', () => dashboard.render());
    // htop's mouse: click a row to select it (again to open it), a tab to switch views, a column title to sort; the wheel scrolls. blessed turns
    // on the terminal's mouse reporting (SGR and X10) for the 'mouse' event and off on destroy.
    screen.enableMouse();
    screen.on('mouse', (data: { action: string; x: number; y: number }) => {
      if (data.action === 'mousedown') dashboard.clickAt(data.x, data.y);
      else if (data.action === 'wheeldown') dashboard.wheel(1);
      else if (data.action === 'wheelup') dashboard.wheel(-1);
    });

    // An error here would be thrown inside this Promise's executor: nothing would restore the
    // terminal. End the way every other failure does.
    longTasks?.start();
    try {
      if (replay !== null) {
        dashboard.render();
        replay.start();
      } else {
        // The first snapshot right away, its reads under way before anything is drawn. The
        // loading line only when that snapshot is slow (100k sockets): at 1k the frame comes
        // first, and drawing the line would cost a whole screen's draw and write before it.
        tick();
        setTimeout(() => {
          if (!finished && stats.snapshots === 0 && !partialDrawn) dashboard.render();
        }, LOADING_LINE_AFTER_MS).unref();
      }
    } catch (err) {
      finish(1, err instanceof Error ? err.message : String(err));
    }
  });
}
