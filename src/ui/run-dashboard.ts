// Starts the full-screen dashboard: one blessed screen over the injected streams, one poller
// that collects a snapshot per interval and hands it over whole, key bindings that become
// reducer actions, and a terminal that is always restored (quit, signals, errors).

import fs from 'node:fs';
import blessed from 'blessed';
import type { AppContext } from '../cli/context.js';
import { collectSnapshotAsync, type AsyncCollectDeps } from '../proc/collect-snapshot.js';
import { createWorkerOwnerSource } from '../proc/owner-source.js';
import { createOwnerScanner } from '../proc/read-owners.js';
import { readTcpInfo } from '../proc/read-tcp-info.js';
import { Dashboard } from './dashboard.js';
import { handleKey } from './keys.js';
import { ReplayFeed } from './replay-feed.js';
import { createRecorder } from '../cli/recording-file.js';
import type { Recorder, Recording } from '../model/recording.js';
import { createInlineOwnerSource } from '../proc/owner-source.js';
import { readNetSysctls } from '../proc/read-sysctl.js';
import { readListenBacklogs } from '../proc/read-backlogs.js';

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

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };

/** One ASCII cell for the symbols the views use, where blessed would print '?' (no UTF-8). */
const ASCII_FALLBACK: Readonly<Record<string, string>> = {
  '▲': '^',
  '▼': 'v',
  '►': '>',
  '◄': '<',
  '→': '>',
  '←': '<',
  '↑': '^',
  '↓': 'v',
  '…': '~',
  '—': '-',
  '–': '-',
  '†': '+',
  '█': '#',
  '·': '.',
  '×': 'x',
};

/** A refresh may use at most this share of one core before the poller backs off. */
export const MAX_CORE_SHARE = 0.25;

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
  /** Interval the poller actually uses (>= the chosen one when backing off). */
  effectiveIntervalMs: number;
}

/** Count bytes written to the terminal: what a slow SSH link pays for. */
function countBytes(out: { write: (chunk: string) => boolean }, stats: DashboardStats): void {
  const write = out.write.bind(out) as (...args: unknown[]) => boolean;
  out.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stats.bytesWritten += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return write(chunk, ...rest);
  }) as typeof out.write;
}

/**
 * Back off when a refresh costs more than MAX_CORE_SHARE of a core at the chosen interval:
 * the next interval is stretched so the share stays under the limit (capped at 30 s).
 */
export function backedOffIntervalMs(chosenMs: number, refreshCostMs: number): number {
  const needed = refreshCostMs / MAX_CORE_SHARE;
  return needed <= chosenMs ? chosenMs : Math.min(30_000, Math.ceil(needed / 250) * 250);
}

/** `recording`: play it instead of reading /proc (`sockscope replay FILE`). */
export function runDashboard(ctx: AppContext, recording: Recording | null = null): Promise<number> {
  const { services, options } = ctx;
  // --record first: a file that cannot be created is one line and exit 1 before anything else
  // (screen, owner worker) is started that would have to be torn down.
  let recorder: Recorder | null = null;
  if (options.record !== null) {
    try {
      recorder = createRecorder(options.record, services.hostname(), services.now(), { force: options.force });
    } catch (err) {
      services.stderr.write(`sockscope: ${err instanceof Error ? err.message : String(err)}\n`);
      return Promise.resolve(1);
    }
  }
  const utf8 = isUtf8Locale(services.env);
  const screen = blessed.screen({
    input: services.stdin as never,
    output: services.stdout as never,
    terminal: chooseTerminal(services.env['TERM']),
    smartCSR: true,
    useBCE: true,
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
  const theme = { color: wantsColor(services.env, options.color) && termColors >= 8, ascii: !utf8, colors256: termColors >= 256 };
  const stats: DashboardStats = {
    snapshots: 0,
    bytesWritten: 0,
    firstFrameAtMs: null,
    lastCollectMs: 0,
    lastFrameMs: 0,
    frameMs: [],
    collectMs: [],
    effectiveIntervalMs: options.intervalMs,
  };
  countBytes(services.stdout, stats);
  // Owners in a worker thread; with --pid the scanner is restricted to one namespace's processes,
  // which only the scanner built by main knows: run that one in this thread.
  // --ssh (ctx.remote): owners are listed over the ssh session main opened (and closes); no
  // local worker.
  const owners =
    !options.processes || recording !== null
      ? null
      : ctx.remote != null
        ? ctx.remote.owners
        : ctx.scopeLabel !== null && ctx.collectDeps.owners !== null
          ? createInlineOwnerSource(ctx.collectDeps.owners)
          : createWorkerOwnerSource(ctx.procFs.root, () => createOwnerScanner(ctx.procFs));
  // The first, full fd scan starts now and overlaps the first read of the tables.
  owners?.prime?.();
  const deps: AsyncCollectDeps = { ...ctx.collectDeps, owners };
  // Sysctls and listen backlogs (ss -ltn) change slowly: read them every few seconds. ss reports
  // our own namespace, so it is not asked for recorded trees or --pid.
  const useSs = ctx.procFs.root === '/proc' && ctx.scopeLabel === null;
  let environmentAtMs = -Infinity;
  const refreshEnvironment = (dashboard: Dashboard): void => {
    const now = services.monotonicMs();
    if (recording !== null || now - environmentAtMs < 5_000) return;
    environmentAtMs = now;
    const sysctls = readNetSysctls(ctx.procFs);
    // backlogs null: no new reading yet; the session keeps the last known ones until ss answers.
    dashboard.setEnvironment({ sysctls, backlogs: null });
    // A generous timeout: a refresh of a large table blocks this thread for seconds, and a
    // timeout that fires before ss's output is read would throw the answer away every time.
    if (useSs) void readListenBacklogs(15_000).then((backlogs) => dashboard.setEnvironment({ sysctls, backlogs: backlogs.size > 0 ? backlogs : null }));
  };

  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let collecting = false;
    let intervalMs = options.intervalMs;
    let finished = false;

    const finish = (code: number, message?: string): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      dashboard.destroy();
      replay?.stop();
      recorder?.close();
      void owners?.close();
      for (const [sig, fn] of handlers) services.signals.off(sig, fn);
      try {
        screen.destroy();
      } catch {
        // the terminal may already be gone (SIGHUP): nothing left to restore
      }
      if (message !== undefined) services.stderr.write(`sockscope: ${message}\n`);
      writeStats();
      resolve(code);
    };

    // SOCKSCOPE_STATS_FILE: the dashboard's own figures for `npm run bench` and the soak test,
    // rewritten every 10 refreshes and on exit.
    const statsFile = services.env['SOCKSCOPE_STATS_FILE'];
    const writeStats = (): void => {
      if (statsFile === undefined || statsFile === '') return;
      try {
        const memory = process.memoryUsage();
        fs.writeFileSync(statsFile, JSON.stringify({ ...stats, tracked: dashboard.stats(), rssBytes: memory.rss, heapUsedBytes: memory.heapUsed }));
      } catch {
        // best effort: a measuring aid only
      }
    };

    let replay: ReplayFeed | null = null;
    const dashboard = new Dashboard(screen, {
      intervalMs,
      filterText: ctx.filterText ?? '',
      theme,
      timeZoneOffsetMin: new Date().getTimezoneOffset(),
      // ss asks the local kernel: over --ssh it would describe another machine's sockets.
      fetchTcpInfo: (s) => (ctx.remote != null ? Promise.resolve(null) : readTcpInfo(s)),
      onIntervalChange: (ms) => {
        intervalMs = ms;
        schedule(ms);
      },
      onQuit: () => finish(0),
      scopeLabel: ctx.scopeLabel,
      replay: recording !== null,
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
      // --pid: once the process is gone its namespace's tables read as empty: say so and stop.
      const gone = ctx.targetGone?.() ?? null;
      if (gone !== null) {
        finish(1, gone);
        return;
      }
      collecting = true;
      const started = services.monotonicMs();
      collectSnapshotAsync(deps).then(
        (snapshot) => {
          collecting = false;
          if (finished) return;
          const collected = services.monotonicMs();
          refreshEnvironment(dashboard);
          dashboard.onSnapshot(snapshot);
          try {
            recorder?.write(snapshot);
          } catch (err) {
            finish(1, `recording failed: ${err instanceof Error ? err.message : String(err)}`);
            return;
          }
          const drawn = services.monotonicMs();
          stats.snapshots++;
          if (stats.snapshots % 10 === 0) writeStats();
          stats.lastCollectMs = collected - started;
          stats.lastFrameMs = drawn - collected;
          stats.collectMs = [...stats.collectMs.slice(-59), stats.lastCollectMs];
          stats.frameMs = [...stats.frameMs.slice(-59), stats.lastFrameMs];
          stats.firstFrameAtMs ??= drawn;
          // CPU spent on this thread: parsing, joining, drawing (reads and owners run elsewhere
          // but are real work too, so count the whole collection).
          stats.effectiveIntervalMs = backedOffIntervalMs(intervalMs, snapshot.cost.parseMs + snapshot.cost.ownersMs + stats.lastFrameMs);
          dashboard.setCost({
            readMs: snapshot.cost.readMs,
            parseMs: snapshot.cost.parseMs,
            ownersMs: snapshot.cost.ownersMs,
            drawMs: stats.lastFrameMs,
            rows: snapshot.cost.rows,
            backedOffToMs: stats.effectiveIntervalMs > intervalMs ? stats.effectiveIntervalMs : null,
          });
          schedule(Math.max(0, stats.effectiveIntervalMs - (services.monotonicMs() - started)));
        },
        (err: unknown) => finish(1, `collecting sockets failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    };
    const schedule = (ms: number): void => {
      if (finished || collecting) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(tick, ms);
    };

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
          services.signals.once('SIGCONT', () => {
            resume();
            screen.alloc();
            dashboard.render();
          });
          process.kill(process.pid, 'SIGSTOP');
        },
      ],
    ];
    for (const [sig, fn] of handlers) services.signals.on(sig, fn);
    services.stdout.on?.('error', () => finish(0));

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      if (key?.full === 'C-z') {
        // Raw mode turns Ctrl-Z into a key: stop the way a terminal would (handled above).
        process.kill(process.pid, 'SIGTSTP');
        return;
      }
      // The key map decides: replay keys (step, seek, speed) go to the replay when there is one.
      handleKey(dashboard, ch, key, replay);
    });
    screen.on('resize', () => dashboard.render());

    // An error here would be thrown inside this Promise's executor: nothing would restore the
    // terminal. End the way every other failure does.
    try {
      dashboard.render();
      if (replay !== null) replay.start();
      // First snapshot right away (the loading line is drawn first).
      else timer = setTimeout(tick, 0);
    } catch (err) {
      finish(1, err instanceof Error ? err.message : String(err));
    }
  });
}
