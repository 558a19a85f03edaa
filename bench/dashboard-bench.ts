// `npm run bench`, part 2: what the dashboard itself costs while it runs, at 1k and 100k sockets
// and over synthetic proc trees of 100k and 1M sockets (--proc-root): CPU (% of one core, every
// thread of the node process: main, owner worker, libuv pool, GC), resident memory, bytes written
// to the terminal per second at steady state (compared with htop's ~340 B/s), time per frame and
// per stage (read / parse / owners / session ingest / frame), key latency, and start-up time to
// the first frame.
//
//   npm run build && node dist/bench/dashboard-bench.js
//   env: BENCH_DASH_SIZES=1000,100000 (default; else BENCH_SIZES when set, else 1000,100000)
//        BENCH_DASH_TREES=100000,1000000 (synthetic proc trees; 0 skips them)
//        BENCH_SETTLE_S=10  BENCH_MEASURE_S=30  BENCH_INTERVAL_S=1 (the dashboard's -i)
//        BENCH_KEY_PROBES=12 (key presses timed after the measured window)
//        BENCH_DASH_CHURN=1: the synthetic trees churn (bench/churn-tree.ts, a new round a second:
//          ~2.5% of the connections close and open, state changes, every TIME_WAIT timer moves)
//        BENCH_DASH_REPO=DIR: run DIR's bin/sockscope (another built checkout, for before/after)
//        BENCH_DASH_VIEW=2: a key pressed after the first frame (2 by port, 3 by peer, 4 by process):
//          the window and the key probes in that view
//        BENCH_DASH_LONG_TASK_MS=40: SOCKSCOPE_LONG_TASK_MS for the dashboard; its blocks of the main
//          thread over that many ms are printed by stage after the run
//
// Key latency: after the window, `?` is sent (tmux send-keys) at moments unrelated to the
// refresh, and capture-pane is polled until the help overlay is on the pane (then `?` again until
// it is gone): the time a user waits for a key, refresh or not, plus tmux's own few ms.
//
// How: `bin/sockscope -i 1` (run as a program, as installed) runs in a detached tmux session of its own server (-L, -f
// /dev/null) at 200x50; after the settle time, `tmux pipe-pane -o 'cat >> FILE'` counts the bytes
// the pane receives, /proc/<pid>/stat gives utime + stime of the whole process, and the stats
// file (SOCKSCOPE_STATS_FILE, rewritten every 10 refreshes or 5 s and on exit) gives bytesWritten,
// frame times and the first frame's time; then `q` is pressed.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createChurnTree, writeChurnRound } from './churn-tree.js';
import { writeSyntheticProcTree } from './proc-tree.js';
import {
  REPO_ROOT,
  buildPopulation,
  describeMachine,
  envInt,
  formatMarkdownTable,
  formatTable,
  installCleanupHandlers,
  loadAverage,
  machineInfo,
  median,
  onCleanup,
  parseSizes,
  populationSpecFor,
  readProcessCpuS,
  readStatFields,
  CLOCK_TICKS_PER_SEC,
  round,
  runCleanups,
  sizeLabel,
  sleep,
  which,
  writeResults,
  killTmuxServer,
} from './bench-lib.js';

const log = (s: string): void => {
  process.stderr.write(`dashboard-bench: ${s}\n`);
};

/** Reference: bytes per second htop, glances and btop write at steady state to a 200x50 tmux pane (measured on a 2-core machine like this one). */
const REFERENCE_BYTES_PER_SEC = { htop: 340, glances: 8500, btop: 11_000 } as const;
const WIDTH = 200;
const HEIGHT = 50;
/** Text that only a drawn frame has: the socket table's column header (not the loading line). */
const FIRST_FRAME_MARK = /Local Address:Port/;

interface StatsFileSample {
  /** Wall clock of the file's last write (mtime), ms. */
  readonly atMs: number;
  readonly snapshots: number;
  readonly bytesWritten: number;
}

interface DashboardStatsFile {
  readonly snapshots: number;
  readonly bytesWritten: number;
  readonly firstFrameAtMs: number | null;
  readonly frameMs: readonly number[];
  readonly collectMs: readonly number[];
  readonly effectiveIntervalMs: number;
  readonly rssBytes?: number;
  readonly stageMs?: {
    readonly readMs: readonly number[];
    readonly parseMs: readonly number[];
    readonly ownersMs: readonly number[];
    readonly ingestMs: readonly number[];
    readonly drawMs: readonly number[];
    readonly cpuMs: readonly number[];
  };
}

/** Text only the help overlay has. */
const HELP_MARK = /Help — \? or Esc to close/;

function readStatsFile(file: string): { sample: StatsFileSample; data: DashboardStatsFile } | null {
  try {
    const mtimeMs = fs.statSync(file).mtimeMs;
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as DashboardStatsFile;
    return { sample: { atMs: mtimeMs, snapshots: data.snapshots, bytesWritten: data.bytesWritten }, data };
  } catch {
    return null; // not written yet, or caught mid-write
  }
}

/** VmRSS and VmHWM of /proc/<pid>/status, MB. */
function readMemoryMb(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { rssMb: round(kb('VmRSS') / 1024, 1), hwmMb: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return null;
  }
}

/** CPU seconds per thread (/proc/<pid>/task/<tid>/stat), keyed by tid. */
function readThreadCpuS(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const f = readStatFields(`/proc/${pid}/task/${tid}/stat`);
    if (f !== null) out.set(Number(tid), (Number(f[14]) + Number(f[15])) / CLOCK_TICKS_PER_SEC);
  }
  return out;
}

/** The node process in the pane: the pane's own process (sh execs the last command) or a descendant. */
function findNodePid(panePid: number): number | null {
  const comm = (pid: number): string => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const queue = [panePid];
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = readStatFields(`/proc/${d}/stat`);
    if (f === null) continue;
    const ppid = Number(f[4]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
  }
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (comm(pid) === 'node') return pid;
    queue.push(...(children.get(pid) ?? []));
  }
  return null;
}

/**
 * Bytes of a terminal output stream per screen row: every byte up to the next absolute cursor
 * move (CSI row;col H) is charged to the row the cursor was moved to (bytes before the first
 * move go to row 0). Enough to see which part of the layout costs the bandwidth.
 */
export function bytesByRow(stream: Buffer): Map<number, number> {
  const rows = new Map<number, number>();
  const text = stream.toString('latin1'); // 1 char = 1 byte, so offsets are byte counts
  const move = /\x1b\[(\d+)(?:;\d+)?H/g;
  let row = 0;
  let from = 0;
  for (let m = move.exec(text); m !== null; m = move.exec(text)) {
    rows.set(row, (rows.get(row) ?? 0) + (m.index - from));
    row = Number(m[1]);
    from = m.index;
  }
  rows.set(row, (rows.get(row) ?? 0) + (text.length - from));
  return rows;
}

const shellQuote = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** What the dashboard watches: a loopback population of the kernel, or a synthetic proc tree. */
type Subject = { readonly kind: 'live'; readonly size: number } | { readonly kind: 'tree'; readonly size: number };

interface DashboardResult {
  readonly size: number;
  readonly subject: 'live' | 'tree';
  readonly population: {
    readonly expected: number;
    readonly added: number;
    readonly verified: boolean;
    readonly buildS: number;
    /** Every TCP socket of the namespace (sockstat) once built: other programs' sockets show in the dashboard too. */
    readonly tcpSocketsOnHost: number;
  };
  readonly intervalS: number;
  readonly settleS: number;
  readonly measureS: number;
  /** utime + stime of the whole node process over the window, % of one core. */
  readonly cpuPercent: number;
  /** The main thread (tid = pid) and every other thread (owner worker, libuv pool, GC helpers). */
  readonly cpuPercentMainThread: number;
  readonly cpuPercentOtherThreads: number;
  readonly rssMb: number | null;
  readonly hwmMb: number | null;
  /** Bytes the pane received (pipe-pane) per second over the window. */
  readonly paneBytesPerSec: number;
  /** bytesWritten of the stats file over the samples that fell in the window (or to the exit sample). */
  readonly statsBytesPerSec: number | null;
  readonly statsBytesSpanS: number | null;
  /** Bytes per drawn frame: stats-file bytes / refreshes, else pane bytes / frames seen in the pane stream. */
  readonly bytesPerFrame: number | null;
  readonly snapshotsInWindow: number | null;
  /** Frames in the pane stream (blessed brackets each draw in save/restore cursor, ESC 7 … ESC 8). */
  readonly paneFrames: number;
  readonly frameMsMedian: number;
  readonly frameMsMax: number;
  readonly collectMsMedian: number;
  readonly effectiveIntervalMs: number;
  /** ms from process start to the first drawn frame (stats file). */
  readonly firstFrameAtMs: number | null;
  /** ms from `tmux new-session` to the first capture-pane showing the table header. */
  readonly firstCaptureMs: number | null;
  readonly exitedCleanly: boolean;
  /** Rows of the pane that received the most bytes over the window: row (1-based), B/s, its text. */
  readonly busiestRows: ReadonlyArray<{ readonly row: number; readonly bytesPerSec: number; readonly text: string }>;
  readonly loadDuring: readonly number[];
  /** Medians over the refreshes in the stats file, ms. */
  readonly stagesMs: { read: number; parse: number; owners: number; ingest: number; draw: number; cpu: number } | null;
  /** ms from send-keys to the pane showing the key's effect (help overlay open / closed). */
  readonly keyLatencyMs: readonly number[];
}

/**
 * SOCKSCOPE_LONG_TASK_MS: the dashboard's blocks of the main thread (stats file `longTasks`: ms and
 * the stages in each), printed as a count, median, max and the largest share of each stage.
 */
function printLongTasks(statsFile: string): void {
  let tasks: readonly { ms: number; stages: string }[] | undefined;
  try {
    tasks = (JSON.parse(fs.readFileSync(statsFile, 'utf8')) as { longTasks?: { ms: number; stages: string }[] }).longTasks;
  } catch {
    return;
  }
  if (tasks === undefined) return;
  const ms = tasks.map((t) => t.ms).sort((a, b) => a - b);
  const byStage = new Map<string, number[]>();
  for (const t of tasks)
    for (const part of t.stages.split(', ')) {
      const m = /^(.*) (\d+)$/.exec(part);
      if (m === null) continue;
      const stage = (m[1] ?? '').replace(/^key .*/, 'key');
      byStage.set(stage, [...(byStage.get(stage) ?? []), Number(m[2])]);
    }
  const stages = [...byStage]
    .map(([stage, v]) => [stage, v.length, Math.max(...v)] as const)
    .sort((a, b) => b[2] - a[2])
    .map(([stage, n, max]) => `${stage} ${n}× max ${max}`);
  log(
    `main-thread blocks over the threshold: ${ms.length}, median ${ms.length === 0 ? '-' : median(ms)} ms, max ${ms.at(-1) ?? '-'} ms; by stage: ${stages.join('; ')}`,
  );
}

/** Send `?` and poll until the help overlay is on (or off) the pane; ms, or null after 30 s. */
async function timeKey(tmux: (...args: string[]) => string, wantOpen: boolean): Promise<number | null> {
  const t0 = performance.now();
  tmux('send-keys', '?');
  while (performance.now() - t0 < 30_000) {
    if (HELP_MARK.test(tmux('capture-pane', '-p')) === wantOpen) return round(performance.now() - t0, 1);
    await sleep(2);
  }
  return null;
}

async function benchDashboard(subject: Subject): Promise<DashboardResult> {
  const size = subject.size;
  const settleS = envInt('BENCH_SETTLE_S', 10);
  const measureS = envInt('BENCH_MEASURE_S', 30);
  const intervalS = envInt('BENCH_INTERVAL_S', 1);
  const probes = envInt('BENCH_KEY_PROBES', 12);
  const treeParent = subject.kind === 'tree' ? fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-dash-tree-')) : null;
  const removeTree = (): void => {
    if (treeParent !== null) fs.rmSync(treeParent, { recursive: true, force: true });
  };
  const unregisterTree = onCleanup(removeTree);
  const churn = process.env['BENCH_DASH_CHURN'] === '1';
  const tree =
    treeParent === null ? null : churn ? createChurnTree(treeParent, size) : writeSyntheticProcTree(treeParent, { sockets: size });
  // A churning tree moves on a round a second (written aside and renamed: never read half-written).
  let churnRound = 0;
  const churnTimer =
    tree !== null && churn
      ? setInterval(() => {
          writeChurnRound({ root: tree.root, sockets: size }, ++churnRound);
        }, 1000)
      : null;
  const unregisterChurn = onCleanup(() => {
    if (churnTimer !== null) clearInterval(churnTimer);
  });
  const built =
    subject.kind === 'live'
      ? await buildPopulation(populationSpecFor(size), log)
      : {
          expected: size,
          added: size,
          verified: true,
          buildS: 0,
          after: { total: size },
          stop: async (): Promise<void> => {
            removeTree();
            unregisterTree();
          },
        };
  const socket = `sockscope-bench-${process.pid}-${size}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-dash-'));
  const statsFile = path.join(tmp, 'stats.json');
  const paneLog = path.join(tmp, 'pane.bytes');
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const killServer = (): void => {
    killTmuxServer(socket);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const unregister = onCleanup(killServer);
  try {
    const command = [
      'env',
      '-u',
      'LC_ALL',
      '-u',
      'NO_COLOR',
      'TERM=xterm-256color',
      'LANG=C.UTF-8',
      `SOCKSCOPE_STATS_FILE=${statsFile}`,
      ...(process.env['SOCKSCOPE_COLLECT_THREAD'] === undefined
        ? []
        : [`SOCKSCOPE_COLLECT_THREAD=${process.env['SOCKSCOPE_COLLECT_THREAD']}`]),
      ...(process.env['BENCH_DASH_LONG_TASK_MS'] === undefined ? [] : [`SOCKSCOPE_LONG_TASK_MS=${process.env['BENCH_DASH_LONG_TASK_MS']}`]),
      'bin/sockscope',
      ...(tree === null ? [] : ['--proc-root', tree.root]),
      '-i',
      String(intervalS),
    ]
      .map(shellQuote)
      .join(' ');
    const spawnedAt = performance.now();
    tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-x',
      String(WIDTH),
      '-y',
      String(HEIGHT),
      '-c',
      process.env['BENCH_DASH_REPO'] ?? REPO_ROOT,
      `${command}; echo "[exit=$?]"; sleep 30`,
    );
    const panePid = Number(tmux('list-panes', '-F', '#{pane_pid}').trim());

    // Start-up: poll the pane until a frame with the table is on it.
    let firstCaptureMs: number | null = null;
    const deadline = spawnedAt + 120_000;
    while (performance.now() < deadline) {
      const screen = tmux('capture-pane', '-p');
      if (FIRST_FRAME_MARK.test(screen)) {
        firstCaptureMs = round(performance.now() - spawnedAt, 0);
        break;
      }
      if (screen.includes('[exit=')) throw new Error(`sockscope exited before its first frame:\n${screen.trim()}`);
      // Each poll runs a tmux client (a few ms of CPU): every 20 ms at first, slower later.
      await sleep(Math.min(100, 20 + (performance.now() - spawnedAt) / 50));
    }
    if (firstCaptureMs === null) throw new Error('no frame within 120 s');
    const pid = findNodePid(panePid);
    if (pid === null) throw new Error(`no node process under pane pid ${panePid}`);
    log(`${sizeLabel(size)}: first frame after ${firstCaptureMs} ms (pid ${pid}); settling ${settleS} s, then measuring ${measureS} s`);
    const viewKey = process.env['BENCH_DASH_VIEW'];
    if (viewKey !== undefined && viewKey !== '') tmux('send-keys', viewKey);
    await sleep(settleS * 1000);

    // Window: bytes into the pane, CPU of every thread, stats-file samples.
    fs.writeFileSync(paneLog, '');
    tmux('pipe-pane', '-o', `cat >> ${shellQuote(paneLog)}`);
    const w0 = Date.now();
    const cpu0 = readProcessCpuS(pid);
    const threads0 = readThreadCpuS(pid);
    const samples: StatsFileSample[] = [];
    const pushSample = (): void => {
      const s = readStatsFile(statsFile)?.sample;
      if (s !== undefined && samples.at(-1)?.atMs !== s.atMs) samples.push(s);
    };
    pushSample();
    const before = samples.at(-1);
    const loadDuring: number[] = [];
    while (Date.now() - w0 < measureS * 1000) {
      await sleep(Math.min(1000, measureS * 1000 - (Date.now() - w0)));
      pushSample();
    }
    loadDuring.push(...loadAverage());
    const w1 = Date.now();
    const cpu1 = readProcessCpuS(pid);
    const threads1 = readThreadCpuS(pid);
    const memory = readMemoryMb(pid);
    tmux('pipe-pane'); // closes the pipe
    await sleep(200); // let cat flush
    const windowS = (w1 - w0) / 1000;
    const paneStream = fs.readFileSync(paneLog);
    const paneBytes = paneStream.length;
    let paneFrames = 0;
    for (let i = paneStream.indexOf('\x1b7'); i >= 0; i = paneStream.indexOf('\x1b7', i + 2)) paneFrames++;
    const screenLines = tmux('capture-pane', '-p').split('\n');
    const busiestRows = [...bytesByRow(paneStream)]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([row, bytes]) => ({
        row,
        bytesPerSec: round(bytes / windowS, 0),
        text: (screenLines[row - 1] ?? '').replace(/\s+/g, ' ').trim().slice(0, 70),
      }));

    // Key latency, outside the byte window (the overlay's bytes would count there).
    const keyLatencyMs: number[] = [];
    for (let i = 0; i < probes; i++) {
      // 0.35–1.6 s apart: the presses fall on every phase of the refresh.
      await sleep(350 + Math.floor(Math.random() * 1250));
      const open = await timeKey(tmux, true);
      await sleep(100 + Math.floor(Math.random() * 400));
      const close = await timeKey(tmux, false);
      for (const ms of [open, close]) if (ms !== null) keyLatencyMs.push(ms);
      if (open === null || close === null) break;
    }

    // Quit and collect the final stats (written on exit).
    tmux('send-keys', 'q');
    let exitedCleanly = false;
    for (let i = 0; i < 600; i++) {
      await sleep(100);
      if (!fs.existsSync(`/proc/${pid}`) || readStatFields(`/proc/${pid}/stat`)?.[3] === 'Z') {
        exitedCleanly = true;
        break;
      }
    }
    const final = readStatsFile(statsFile);
    if (final === null) throw new Error('no stats file written');
    printLongTasks(statsFile);

    // Bytes per second from the stats file (rewritten every 10 refreshes, and on exit): from the
    // sample present when the window opened (or the first inside it) to the last one inside it.
    // Only over at least a third of the window: the exit sample is never used (it adds the
    // bytes that restore the terminal), so at long back-off intervals this figure is absent.
    const first = before ?? samples.find((s) => s.atMs >= w0);
    const last = samples.filter((s) => s.atMs <= w1).at(-1);
    const usable = first !== undefined && last !== undefined && last.atMs - first.atMs >= (w1 - w0) / 3;
    const from = usable ? first : undefined;
    const to = usable ? last : undefined;
    const spanS = from !== undefined && to !== undefined ? (to.atMs - from.atMs) / 1000 : 0;
    const statsBytesPerSec = from !== undefined && to !== undefined && spanS > 0 ? (to.bytesWritten - from.bytesWritten) / spanS : null;
    const frames = from !== undefined && to !== undefined ? to.snapshots - from.snapshots : null;

    let mainS = 0;
    let otherS = 0;
    for (const [tid, s1] of threads1) {
      const d = s1 - (threads0.get(tid) ?? 0);
      if (tid === pid) mainS += d;
      else otherS += d;
    }
    const pct = (s: number): number => round((100 * s) / windowS, 1);
    const data = final.data;
    const st = data.stageMs;
    const stagesMs =
      st === undefined || st.readMs.length === 0
        ? null
        : {
            read: round(median(st.readMs), 1),
            parse: round(median(st.parseMs), 1),
            owners: round(median(st.ownersMs), 1),
            ingest: round(median(st.ingestMs), 1),
            draw: round(median(st.drawMs), 1),
            cpu: round(median(st.cpuMs), 1),
          };
    return {
      size,
      subject: subject.kind,
      stagesMs,
      keyLatencyMs,
      population: {
        expected: built.expected,
        added: built.added,
        verified: built.verified,
        buildS: round(built.buildS, 1),
        tcpSocketsOnHost: built.after.total,
      },
      intervalS,
      settleS,
      measureS: round(windowS, 1),
      cpuPercent: cpu0 === null || cpu1 === null ? Number.NaN : pct(cpu1 - cpu0),
      cpuPercentMainThread: pct(mainS),
      cpuPercentOtherThreads: pct(otherS),
      rssMb: memory?.rssMb ?? null,
      hwmMb: memory?.hwmMb ?? null,
      paneBytesPerSec: round(paneBytes / windowS, 0),
      statsBytesPerSec: statsBytesPerSec === null ? null : round(statsBytesPerSec, 0),
      statsBytesSpanS: spanS > 0 ? round(spanS, 1) : null,
      bytesPerFrame:
        frames !== null && frames > 0 && from !== undefined && to !== undefined
          ? round((to.bytesWritten - from.bytesWritten) / frames, 0)
          : paneFrames > 0
            ? round(paneBytes / paneFrames, 0)
            : null,
      snapshotsInWindow: frames,
      paneFrames,
      frameMsMedian: round(median(data.frameMs), 1),
      frameMsMax: round(Math.max(...data.frameMs), 1),
      collectMsMedian: round(median(data.collectMs), 1),
      effectiveIntervalMs: data.effectiveIntervalMs,
      firstFrameAtMs: data.firstFrameAtMs === null ? null : round(data.firstFrameAtMs, 0),
      firstCaptureMs,
      exitedCleanly,
      busiestRows,
      loadDuring,
    };
  } finally {
    if (churnTimer !== null) clearInterval(churnTimer);
    unregisterChurn();
    killServer();
    unregister();
    await built.stop();
  }
}

const HEADERS = [
  'sockets',
  'source',
  'TCP on host',
  'CPU % core',
  'main / other threads %',
  'RSS MB',
  'HWM MB',
  'pane B/s',
  'stats B/s',
  '× htop',
  'B/frame',
  'frame ms',
  'collect ms',
  'interval ms',
  'first frame ms',
  'first capture ms',
];

function rowOf(r: DashboardResult): (string | number)[] {
  const na = (x: number | null): number => x ?? Number.NaN;
  return [
    sizeLabel(r.size),
    r.subject === 'tree' ? 'proc tree' : 'loopback',
    r.population.tcpSocketsOnHost,
    r.cpuPercent,
    `${r.cpuPercentMainThread} / ${r.cpuPercentOtherThreads}`,
    na(r.rssMb),
    na(r.hwmMb),
    r.paneBytesPerSec,
    na(r.statsBytesPerSec),
    round(r.paneBytesPerSec / REFERENCE_BYTES_PER_SEC.htop, 2),
    na(r.bytesPerFrame),
    r.frameMsMedian,
    r.collectMsMedian,
    r.effectiveIntervalMs,
    na(r.firstFrameAtMs),
    na(r.firstCaptureMs),
  ];
}

const STAGE_HEADERS = [
  'sockets',
  'source',
  'read ms',
  'parse ms',
  'owners ms',
  'ingest ms',
  'frame+draw ms',
  'refresh cpu ms',
  'key ms median',
  'key ms p90',
  'key ms max',
];

function stageRowOf(r: DashboardResult): (string | number)[] {
  const s = r.stagesMs;
  const keys = [...r.keyLatencyMs].sort((a, b) => a - b);
  const at = (q: number): number => keys[Math.min(keys.length - 1, Math.floor(q * keys.length))] ?? Number.NaN;
  return [
    sizeLabel(r.size),
    r.subject === 'tree' ? 'proc tree' : 'loopback',
    s?.read ?? Number.NaN,
    s?.parse ?? Number.NaN,
    s?.owners ?? Number.NaN,
    s?.ingest ?? Number.NaN,
    s?.draw ?? Number.NaN,
    s?.cpu ?? Number.NaN,
    keys.length === 0 ? Number.NaN : round(median(keys), 1),
    at(0.9),
    keys.at(-1) ?? Number.NaN,
  ];
}

async function main(): Promise<number> {
  installCleanupHandlers();
  if (which('tmux') === null) {
    log('needs tmux: skipped');
    return 0;
  }
  const sizes = parseSizes(process.env['BENCH_DASH_SIZES'] ?? process.env['BENCH_SIZES'], [1000, 100_000]);
  const trees = process.env['BENCH_DASH_TREES'] === '0' ? [] : parseSizes(process.env['BENCH_DASH_TREES'], [100_000, 1_000_000]);
  const subjects: Subject[] = [
    ...sizes.filter((n) => n > 0).map((size) => ({ kind: 'live', size }) as const),
    ...trees.map((size) => ({ kind: 'tree', size }) as const),
  ];
  const machine = machineInfo();
  const loadBefore = loadAverage();
  const startedAt = new Date().toISOString();
  log(`machine: ${describeMachine(machine, loadBefore)}`);
  const results: DashboardResult[] = [];
  try {
    for (const subject of subjects) results.push(await benchDashboard(subject));
  } finally {
    await runCleanups();
  }
  const loadAfter = loadAverage();
  console.log(
    `\n## Dashboard at ${WIDTH}x${HEIGHT}, -i ${results[0]?.intervalS ?? 1} (steady state over ${results[0]?.measureS ?? '?'} s after ${results[0]?.settleS ?? '?'} s)\n`,
  );
  console.log(formatTable(HEADERS, results.map(rowOf)));
  console.log('\nper refresh (medians of the stats file) and key latency (send-keys → pane changed):\n');
  console.log(formatTable(STAGE_HEADERS, results.map(stageRowOf)));
  for (const r of results) {
    console.log(`\nwhere the bytes go at ${sizeLabel(r.size)} (pane rows with the most bytes/s):`);
    for (const b of r.busiestRows) console.log(`  row ${String(b.row).padStart(2)}  ${String(b.bytesPerSec).padStart(5)} B/s  ${b.text}`);
  }
  console.log(
    `\nreference bytes/s at steady state in a 200x50 pane: htop ${REFERENCE_BYTES_PER_SEC.htop}, glances ${REFERENCE_BYTES_PER_SEC.glances}, btop ${REFERENCE_BYTES_PER_SEC.btop}`,
  );
  console.log(`machine: ${describeMachine(machine, loadBefore)} → load after ${loadAfter.join(' ')}`);
  const file = writeResults('dashboard', 'dashboard-latest.json', {
    kind: 'sockscope-dashboard-bench',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadBefore, loadAfter },
    terminal: { width: WIDTH, height: HEIGHT, term: 'xterm-256color', multiplexer: 'tmux' },
    referenceBytesPerSec: REFERENCE_BYTES_PER_SEC,
    results,
    markdown: formatMarkdownTable(HEADERS, results.map(rowOf)),
    markdownStages: formatMarkdownTable(STAGE_HEADERS, results.map(stageRowOf)),
  });
  console.log(`results: ${file} (and bench/results/dashboard-latest.json)`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    await runCleanups();
    process.stderr.write(`dashboard-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
