// `npm run bench`, part 3: every headless mode over synthetic /proc trees (bench/proc-tree.ts) of
// 250k, 500k and 1,000,000 TCP sockets, to show that time grows linearly with the input: the
// table prints seconds per 100k sockets, which stays flat when a mode is linear. Also the library
// itself: one snapshot as --once takes it (cold), and the next one on an unchanged tree (the
// dashboard's steady refresh, where every line is reused), with the resident memory after it.
// The trees hold processes with fd symlinks to their sockets (bench/proc-tree-owners.ts), so
// `--once` with owners is timed too.
//
//   npm run build && node dist/bench/proc-tree-bench.js
//   env: BENCH_TREE_SIZES=250000,500000,1000000  BENCH_TREE_REPS=3  BENCH_TREE_DIR=/tmp

import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { SocketTracker } from '../src/model/tracker.js';
import {
  SOCKSCOPE_BIN,
  describeMachine,
  envInt,
  fmt,
  formatMarkdownTable,
  formatTable,
  installCleanupHandlers,
  loadAverage,
  machineInfo,
  onCleanup,
  parseSizes,
  runAlternating,
  runCleanups,
  sizeLabel,
  writeResults,
  type CommandResult,
  type CommandSpec,
} from './bench-lib.js';
import { syntheticCollectDeps, writeSyntheticProcTree } from './proc-tree.js';
import { writeSyntheticOwners } from './proc-tree-owners.js';

interface LibraryResult {
  readonly coldMs: number;
  readonly coldCpuMs: number;
  readonly steadyMs: number;
  readonly steadyCpuMs: number;
  readonly trackMs: number;
  readonly reusedRows: number;
  readonly rows: number;
  readonly rssMB: number;
}

/** In a fresh process: a cold snapshot, then steady ones on the same ProcFs, each ingested by a tracker. */
function libraryMain(root: string): LibraryResult {
  const deps = syntheticCollectDeps(root);
  const tracker = new SocketTracker();
  const timed = (): { ms: number; cpuMs: number; trackMs: number; reused: number; rows: number } => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const snap = collectSnapshot(deps);
    const t1 = performance.now();
    tracker.ingest(snap);
    const trackMs = performance.now() - t1;
    const c = process.cpuUsage(c0);
    return { ms: t1 - t0, cpuMs: (c.user + c.system) / 1000, trackMs, reused: snap.cost.reusedRows ?? 0, rows: snap.sockets.length };
  };
  const cold = timed();
  timed();
  const steady = timed();
  return {
    coldMs: cold.ms,
    coldCpuMs: cold.cpuMs,
    steadyMs: steady.ms,
    steadyCpuMs: steady.cpuMs,
    trackMs: steady.trackMs,
    reusedRows: steady.reused,
    rows: steady.rows,
    rssMB: process.memoryUsage().rss / 1e6,
  };
}

function runLibrary(root: string): Promise<LibraryResult | null> {
  const child = fork(fileURLToPath(import.meta.url), ['--library', root], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const unregister = onCleanup(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve) => {
    let result: LibraryResult | null = null;
    child.once('message', (m) => {
      result = m as LibraryResult;
    });
    child.once('exit', () => {
      unregister();
      resolve(result);
    });
  });
}

function commandsFor(root: string): CommandSpec[] {
  const node = process.execPath;
  const tcp = path.join(root, 'net', 'tcp');
  const sockscope = (name: string, ...args: string[]): CommandSpec => ({
    name,
    file: node,
    args: [SOCKSCOPE_BIN, '--proc-root', root, ...args],
  });
  return [
    { name: 'cat net/tcp net/tcp6', file: 'cat', args: [tcp, `${tcp}6`] },
    sockscope('sockscope --once --summary', '--once', '--summary'),
    sockscope('sockscope --once --summary -f "state established"', '--once', '--summary', '-f', 'state established'),
    sockscope('sockscope --once -n', '--once', '-n'),
    sockscope('sockscope --once --json -n', '--once', '--json', '-n'),
    // Owners: the tree's fd symlinks (bench/proc-tree-owners.ts), one per socket.
    sockscope('sockscope --once (owners)', '--once'),
  ];
}

interface TreeResult {
  readonly sockets: number;
  readonly tcpMB: number;
  readonly commands: readonly CommandResult[];
  readonly library: LibraryResult | null;
}

async function main(): Promise<number> {
  installCleanupHandlers();
  const sizes = parseSizes(process.env['BENCH_TREE_SIZES'], [250_000, 500_000, 1_000_000]);
  const reps = envInt('BENCH_TREE_REPS', 3);
  const parent = process.env['BENCH_TREE_DIR'] ?? os.tmpdir();
  const machine = machineInfo();
  const loadBefore = loadAverage();
  const results: TreeResult[] = [];
  for (const sockets of sizes) {
    process.stderr.write(`proc tree of ${sizeLabel(sockets)} sockets: writing…\n`);
    const tree = writeSyntheticProcTree(parent, { sockets });
    onCleanup(() => fs.rmSync(tree.root, { recursive: true, force: true }));
    // Like a load test's host: ~2,000 sockets a busy process, 200 processes without sockets.
    const owners = writeSyntheticOwners(tree.root, { socketProcesses: Math.ceil(sockets / 2000), idleProcesses: 200, unixSockets: 400 });
    process.stderr.write(`  ${owners.processes} processes, ${owners.links} fd links (${owners.socketLinks} sockets)\n`);
    process.stderr.write(
      `  ${(tree.tcpBytes / 1e6).toFixed(0)} MB of tcp text; ${reps} rounds of ${commandsFor(tree.root).length} commands…\n`,
    );
    const commands = await runAlternating(commandsFor(tree.root), reps, 1);
    const library = await runLibrary(tree.root);
    fs.rmSync(tree.root, { recursive: true, force: true });
    results.push({ sockets, tcpMB: tree.tcpBytes / 1e6, commands, library });
  }
  const loadAfter = loadAverage();

  const names = results[0]?.commands.map((c) => c.name) ?? [];
  // Wall time and CPU time (the child's user + system: steadier on a busy host), and CPU per
  // 100k sockets, which stays flat across sizes when a mode is linear.
  const headers = ['command', ...results.flatMap((r) => [`${sizeLabel(r.sockets)} s`, 'cpu s', 'cpu s/100k'])];
  const rows = names.map((name) => [
    name,
    ...results.flatMap((r) => {
      const c = r.commands.find((x) => x.name === name);
      const ok = c !== undefined && c.wallS.n > 0;
      const cpu = ok ? c.cpuS.median : NaN;
      return [fmt(ok ? c.wallS.median : NaN), fmt(cpu), fmt((cpu / r.sockets) * 100_000)];
    }),
  ]);
  const libHeaders = [
    'sockets',
    'tcp MB',
    'cold snapshot ms',
    'cold cpu ms',
    'steady snapshot ms',
    'steady cpu ms',
    'track ms',
    'reused rows',
    'RSS MB',
  ];
  const libRows = results.map((r) => {
    const l = r.library;
    return l === null
      ? [sizeLabel(r.sockets), r.tcpMB.toFixed(0), 'failed', '', '', '', '', '', '']
      : [
          sizeLabel(r.sockets),
          r.tcpMB.toFixed(0),
          l.coldMs.toFixed(0),
          l.coldCpuMs.toFixed(0),
          l.steadyMs.toFixed(0),
          l.steadyCpuMs.toFixed(0),
          l.trackMs.toFixed(0),
          `${l.reusedRows} of ${l.rows}`,
          l.rssMB.toFixed(0),
        ];
  });
  const failures = results.flatMap((r) =>
    r.commands.filter((c) => c.failures > 0).map((c) => `${sizeLabel(r.sockets)} ${c.name}: ${c.failures} failed (${c.lastError ?? ''})`),
  );
  process.stdout.write(`${describeMachine(machine, loadBefore)}\n\n${formatTable(headers, rows)}\n\n${formatTable(libHeaders, libRows)}\n`);
  for (const f of failures) process.stdout.write(`${f}\n`);
  const file = writeResults('proc-tree', 'proc-tree-latest.json', {
    machine,
    loadBefore,
    loadAfter,
    results,
    markdown: `${formatMarkdownTable(headers, rows)}\n\n${formatMarkdownTable(libHeaders, libRows)}`,
  });
  process.stdout.write(`\nresults: ${file}\n`);
  await runCleanups();
  return 0;
}

if (process.argv[2] === '--library') {
  const result = libraryMain(process.argv[3]!);
  process.send?.(result);
} else {
  main().then(
    (code) => process.exit(code),
    async (err: unknown) => {
      process.stderr.write(`proc-tree-bench: ${err instanceof Error ? err.message : String(err)}\n`);
      await runCleanups();
      process.exit(1);
    },
  );
}
