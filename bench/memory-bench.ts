// The data path's memory and parse CPU at 100k sockets, in process (issue 11's 200 MB goal):
// collectSnapshotAsync (the dashboard's collection, no owners) + SocketTracker.ingest, refresh
// after refresh, over a synthetic proc tree (bench/proc-tree.ts) whose net/ directory flips
// between two versions each refresh (a symlink swapped by rename), so every refresh sees ~11% of
// the lines changed (the TIME_WAIT timers moved, 1% of the connections replaced by new ones), as
// a live host a second apart does.
//
//   npm run build && node --expose-gc dist/bench/memory-bench.js
//   env: BENCH_MEM_SOCKETS=100000  BENCH_MEM_REFRESHES=30  BENCH_TREE_DIR=/tmp
//
// Prints per refresh CPU of the collection (process.cpuUsage, all threads) and its parse ms, then
// RSS, heap used and VmHWM after two forced GCs (`--expose-gc`), as JSON on the last line.
//
// `--dashboard`: the whole dashboard instead (`sockscope -i 1 --proc-root TREE` in a detached
// tmux of its own at 200x50) over a static tree (bench/proc-tree.ts) or a churning one
// (bench/churn-tree.ts, a new round a second). A preloaded probe (NODE_OPTIONS=--require) writes
// process.memoryUsage() and v8.getHeapSpaceStatistics() of the main thread every second; after
// BENCH_MEM_SETTLE_S, over BENCH_MEM_MEASURE_S: RSS median / max, VmHWM, heap used / total,
// array buffers, the heap spaces at the end, and CPU % of one core (utime + stime, all threads).
//   node dist/bench/memory-bench.js --dashboard
//   env: BENCH_MEM_SOCKETS=100000  BENCH_MEM_TREE=static|churn  BENCH_MEM_SETTLE_S=10
//        BENCH_MEM_MEASURE_S=30  BENCH_MEM_REPO=DIR (another built checkout, for before/after)
//        BENCH_MEM_LAUNCH=program|node: run bin/sockscope as a program (as installed: its sh line
//        sets the semi-space size) or as `node bin/sockscope` (default program)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

import { collectSnapshotAsync } from '../src/proc/collect-snapshot.js';
import { SocketTracker } from '../src/model/tracker.js';
import {
  REPO_ROOT,
  envInt,
  installCleanupHandlers,
  killTmuxServer,
  median,
  onCleanup,
  readProcessCpuS,
  round,
  sleep,
} from './bench-lib.js';
import { createChurnTree, writeChurnRound } from './churn-tree.js';
import { syntheticCollectDeps, writeSyntheticProcTree } from './proc-tree.js';

/** A copy of net/ with the TIME_WAIT timers moved and every 100th full line given a new inode and port. */
function writeChurnedNet(fromNet: string, toNet: string): void {
  fs.mkdirSync(toNet);
  for (const name of fs.readdirSync(fromNet)) {
    const text = fs.readFileSync(path.join(fromNet, name), 'latin1');
    if (name !== 'tcp' && name !== 'tcp6') {
      fs.writeFileSync(path.join(toNet, name), text, 'latin1');
      continue;
    }
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.includes(' 06 '))
        lines[i] = line.replace(
          / 03:([0-9A-F]{8}) /,
          (_m, t: string) => ` 03:${((parseInt(t, 16) + 7) % 0xffff).toString(16).toUpperCase().padStart(8, '0')} `,
        );
      else if (i % 100 === 0 && line.includes(' 01 ')) {
        // A new connection in the old one's place: another remote port and inode, same width.
        lines[i] = line
          .replace(/ (\d{7}) 1 /, (_m, inode: string) => ` ${String(Number(inode) + 5_000_000).padStart(7, '0')} 1 `)
          .replace(
            /:([0-9A-F]{4}) 01 /,
            (_m, p: string) => `:${((parseInt(p, 16) + 1) % 0xffff).toString(16).toUpperCase().padStart(4, '0')} 01 `,
          );
      }
    }
    fs.writeFileSync(path.join(toNet, name), lines.join('\n'), 'latin1');
  }
}

function vmKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m === null ? NaN : Number(m[1]);
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const sockets = envInt('BENCH_MEM_SOCKETS', 100_000);
  const refreshes = envInt('BENCH_MEM_REFRESHES', 30);
  const parent = process.env['BENCH_TREE_DIR'] ?? os.tmpdir();
  // Written by a child process, so that writing it leaves nothing in this heap or its VmHWM.
  const root = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--write-tree', parent, String(sockets)], {
    encoding: 'utf8',
  }).trim();
  const tree = { root };
  try {
    const netA = path.join(tree.root, 'net-a');
    const netB = path.join(tree.root, 'net-b');
    const link = path.join(tree.root, 'net');
    const flip = (to: string): void => {
      const tmp = path.join(tree.root, 'net.tmp');
      fs.symlinkSync(path.basename(to), tmp);
      fs.renameSync(tmp, link);
    };
    flip(netA);
    gc();
    const startRss = process.memoryUsage().rss;
    const deps = syntheticCollectDeps(tree.root);
    const tracker = new SocketTracker();
    const cpuMs: number[] = [];
    const parseMs: number[] = [];
    /** CPU of the collection alone (read in libuv's pool + parse + join), without the tracker. */
    const collectCpuMs: number[] = [];
    const reused: number[] = [];
    let rows = 0;
    for (let i = 0; i < refreshes; i++) {
      flip(i % 2 === 0 ? netA : netB);
      const c0 = process.cpuUsage();
      const snap = await collectSnapshotAsync(deps);
      const cc = process.cpuUsage(c0);
      collectCpuMs.push((cc.user + cc.system) / 1000);
      tracker.ingest(snap);
      const c = process.cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000);
      parseMs.push(snap.cost.parseMs);
      reused.push(snap.cost.reusedRows ?? 0);
      rows = snap.sockets.length;
      if (i === 0) {
        process.stderr.write(
          `memory-bench: refresh 1 (cold): ${round(cpuMs[0]!, 1)} ms CPU, RSS ${round(process.memoryUsage().rss / 2 ** 20, 1)} MB\n`,
        );
      }
    }
    const steady = (xs: number[]): number => round(median(xs.slice(2)), 1);
    const hwmBeforeGc = vmKb('VmHWM') / 1024;
    const rssBeforeGc = process.memoryUsage().rss / 2 ** 20;
    gc();
    gc();
    const mem = process.memoryUsage();
    const result = {
      sockets,
      rows,
      refreshes,
      cpuMsPerRefreshMedian: steady(cpuMs),
      cpuMsPerRefreshRange: [round(Math.min(...cpuMs.slice(2)), 1), round(Math.max(...cpuMs.slice(2)), 1)],
      collectCpuMsMedian: steady(collectCpuMs),
      parseMsMedian: steady(parseMs),
      reusedRowsMedian: steady(reused),
      startRssMb: round(startRss / 2 ** 20, 1),
      rssBeforeGcMb: round(rssBeforeGc, 1),
      rssAfterGcMb: round(mem.rss / 2 ** 20, 1),
      heapUsedMb: round(mem.heapUsed / 2 ** 20, 1),
      heapTotalMb: round(mem.heapTotal / 2 ** 20, 1),
      spaces: Object.fromEntries(
        v8
          .getHeapSpaceStatistics()
          .map((sp) => [sp.space_name, [round(sp.space_size / 2 ** 20, 1), round(sp.space_used_size / 2 ** 20, 1)]]),
      ),
      externalMb: round(mem.external / 2 ** 20, 1),
      arrayBuffersMb: round(mem.arrayBuffers / 2 ** 20, 1),
      hwmMb: round(hwmBeforeGc, 1),
      load: os.loadavg().map((l) => round(l, 2)),
    };
    // The tracker must stay alive until the figures are taken.
    if (tracker.lastTurnover().to === null) throw new Error('no snapshot ingested');
    console.log(JSON.stringify(result));
  } finally {
    fs.rmSync(tree.root, { recursive: true, force: true });
  }
}

/** `--write-tree PARENT N`: write the two versions of the tree, print its root. */
function writeTreeMain(parent: string, sockets: number): void {
  const tree = writeSyntheticProcTree(parent, { sockets });
  const netA = path.join(tree.root, 'net-a');
  fs.renameSync(path.join(tree.root, 'net'), netA);
  writeChurnedNet(netA, path.join(tree.root, 'net-b'));
  console.log(tree.root);
}

/** The probe preloaded into the dashboard: one JSON line a second to MEM_PROBE_FILE (main thread only). */
const PROBE_SOURCE = `'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const file = process.env.MEM_PROBE_FILE;
if (file && require('node:worker_threads').isMainThread) {
  setInterval(() => {
    const m = process.memoryUsage();
    const spaces = {};
    for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = [s.space_size, s.space_used_size];
    fs.appendFileSync(file, JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, arrayBuffers: m.arrayBuffers, spaces }) + '\\n');
  }, 1000).unref();
}
`;

interface ProbeSample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly arrayBuffers: number;
  readonly spaces: Record<string, [number, number]>;
}

async function dashboardMain(): Promise<void> {
  installCleanupHandlers();
  const sockets = envInt('BENCH_MEM_SOCKETS', 100_000);
  const churn = process.env['BENCH_MEM_TREE'] === 'churn';
  const settleS = envInt('BENCH_MEM_SETTLE_S', 10);
  const measureS = envInt('BENCH_MEM_MEASURE_S', 30);
  const repo = process.env['BENCH_MEM_REPO'] ?? REPO_ROOT;
  const asProgram = process.env['BENCH_MEM_LAUNCH'] !== 'node';
  const tmp = fs.mkdtempSync(path.join(process.env['BENCH_TREE_DIR'] ?? os.tmpdir(), 'sockscope-memdash-'));
  const socket = `sockscope-memdash-${process.pid}`;
  const unregister = onCleanup(() => {
    killTmuxServer(socket);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  try {
    const tree = churn ? createChurnTree(tmp, sockets) : writeSyntheticProcTree(tmp, { sockets });
    let churnRound = 0;
    const timer = churn ? setInterval(() => writeChurnRound({ root: tree.root, sockets }, ++churnRound), 1000) : null;
    const stopTimer = onCleanup(() => {
      if (timer !== null) clearInterval(timer);
    });
    const probe = path.join(tmp, 'probe.cjs');
    const samplesFile = path.join(tmp, 'samples.jsonl');
    fs.writeFileSync(probe, PROBE_SOURCE);
    const command = [
      'exec env -u LC_ALL -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8',
      `MEM_PROBE_FILE=${samplesFile}`,
      `NODE_OPTIONS="--require ${probe}"`,
      asProgram ? 'bin/sockscope' : 'node bin/sockscope',
      `--proc-root ${tree.root} -i 1`,
    ].join(' ');
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '200', '-y', '50', '-c', repo, command);
    const pid = Number(tmux('list-panes', '-F', '#{pane_pid}').trim());
    await sleep(settleS * 1000);
    const skip = fs.existsSync(samplesFile) ? fs.readFileSync(samplesFile, 'utf8').trim().split('\n').length : 0;
    const cpu0 = readProcessCpuS(pid);
    const load0 = os.loadavg();
    await sleep(measureS * 1000);
    const cpu1 = readProcessCpuS(pid);
    const hwmKb = Number(/^VmHWM:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    tmux('send-keys', 'q');
    if (timer !== null) clearInterval(timer);
    stopTimer();
    const samples = fs
      .readFileSync(samplesFile, 'utf8')
      .trim()
      .split('\n')
      .slice(skip)
      .map((l) => JSON.parse(l) as ProbeSample);
    if (samples.length === 0) throw new Error('the dashboard wrote no memory samples');
    const mb = (x: number): number => round(x / 2 ** 20, 1);
    const of = (k: 'rss' | 'heapUsed' | 'heapTotal' | 'arrayBuffers'): number[] => samples.map((x) => x[k]);
    const last = samples[samples.length - 1]!;
    console.log(
      JSON.stringify({
        sockets,
        tree: churn ? 'churn' : 'static',
        repo,
        launch: asProgram ? 'program' : 'node',
        samples: samples.length,
        rssMedianMb: mb(median(of('rss'))),
        rssMaxMb: mb(Math.max(...of('rss'))),
        hwmMb: round(hwmKb / 1024, 1),
        // Flat or growing: RSS median of the window's first and last quarter.
        rssFirstQuarterMedianMb: mb(median(of('rss').slice(0, Math.max(1, samples.length >> 2)))),
        rssLastQuarterMedianMb: mb(median(of('rss').slice(-Math.max(1, samples.length >> 2)))),
        heapUsedMedianMb: mb(median(of('heapUsed'))),
        heapUsedMaxMb: mb(Math.max(...of('heapUsed'))),
        heapTotalMedianMb: mb(median(of('heapTotal'))),
        arrayBuffersMedianMb: mb(median(of('arrayBuffers'))),
        spacesAtEndMb: Object.fromEntries(Object.entries(last.spaces).map(([k, [size, used]]) => [k, [mb(size), mb(used)]])),
        cpuPercentOfCore: cpu0 === null || cpu1 === null ? null : round(((cpu1 - cpu0) / measureS) * 100, 1),
        load: [...load0, ...os.loadavg()].map((l) => round(l, 2)),
      }),
    );
  } finally {
    killTmuxServer(socket);
    fs.rmSync(tmp, { recursive: true, force: true });
    unregister();
  }
}

const run =
  process.argv[2] === '--write-tree'
    ? Promise.resolve(writeTreeMain(process.argv[3]!, Number(process.argv[4])))
    : process.argv[2] === '--dashboard'
      ? dashboardMain()
      : main();
run.catch((err: unknown) => {
  process.stderr.write(`memory-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
