// `npm run bench`, part 1: how long one look at every TCP socket takes, against the tools a user
// would otherwise run, on populations of 1k, 10k and 100k loopback sockets built by the load
// generator (bench/loadgen.ts). Benchmarks are not tests: nothing here asserts a time; the
// targets are reported as met or missed.
//
//   npm run build && node dist/bench/run-bench.js
//   env: BENCH_SIZES=1000,10000 (default 1000,10000,100000)  BENCH_REPS=N (rounds per size;
//        default 11, 7 from 50k sockets)  BENCH_CHURN=500 (connections/s for the churn case; 0 skips)
//        BENCH_PROFILE=0|1 (--cpu-prof runs of `sockscope --once` and `--once --summary` at the
//        largest size, summarised by self time; default 1)
//
// Whole-process timings: every command is spawned without a shell, stdout to /dev/null, and
// timed from spawn() to exit; the commands run round-robin (A B C D, A B C D, …) so noise from
// other tenants lands on all of them alike; medians with min/max. CPU time (the child's utime +
// stime, from this process's cutime/cstime) is recorded too.
//
// In-process timings: a separate node process (this file with --in-process) calls
// collectSnapshot() of the library: without owners, with owners cold (a new scanner: first
// scan), with owners steady (one scanner, later scans), all three round-robin; then, with a
// second population churning connections, steady scans again.

import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { collectSnapshot, type CollectDeps } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import { createUserNames } from '../src/proc/read-users.js';
import type { Snapshot } from '../src/model/types.js';
import { SocketTracker } from '../src/model/tracker.js';
import {
  SOCKSCOPE_BIN,
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
  round,
  runAlternating,
  runCleanups,
  sizeLabel,
  summarize,
  summarizeCpuProfile,
  timeProcess,
  which,
  writeResults,
  type BuiltPopulation,
  type CommandResult,
  type CommandSpec,
  type SampleStats,
} from './bench-lib.js';

const log = (s: string): void => {
  process.stderr.write(`bench: ${s}\n`);
};

// ---------------------------------------------------------------------------
// In-process measurements (run in a child node process: `run-bench.js --in-process <json>`)

type InProcessCase = 'noOwners' | 'ownersCold' | 'ownersSteady';

interface InProcessRequest {
  readonly rounds: number;
  readonly cases: readonly InProcessCase[];
}

interface CaseSamples {
  wallS: number[];
  /** This thread's CPU (process.cpuUsage: user + system), seconds. */
  cpuS: number[];
  readMs: number[];
  parseMs: number[];
  ownersMs: number[];
  linksRead: number[];
  scannedProcesses: number[];
  rows: number[];
  /** tracker.ingest of the snapshot, ms (the dashboard's next stage). */
  trackMs: number[];
  reusedRows: number[];
  /** Resident memory after the snapshot was tracked, MB. */
  rssMB: number[];
}

interface InProcessCaseResult {
  readonly wallS: SampleStats;
  readonly cpuS: SampleStats;
  /** Medians of the snapshot's own cost split (ms) and owner-scan work. */
  readonly readMs: number;
  readonly parseMs: number;
  readonly ownersMs: number;
  readonly linksRead: number;
  readonly scannedProcesses: number;
  readonly rows: number;
  /** Optional: results written before these were measured lack them. */
  readonly trackMs?: number;
  readonly reusedRows?: number;
  readonly rssMB?: number;
}

type InProcessResult = Partial<Record<InProcessCase, InProcessCaseResult>>;

function inProcessMain(request: InProcessRequest): InProcessResult {
  const procFs = createProcFs('/proc');
  const users = createUserNames(() => {
    try {
      return fs.readFileSync('/etc/passwd', 'utf8');
    } catch {
      return null;
    }
  });
  const base: Omit<CollectDeps, 'owners'> = {
    procFs,
    userName: (uid) => users.nameOf(uid),
    hostname: () => os.hostname(),
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
  };
  const steady = createOwnerScanner(procFs);
  const samples = new Map<InProcessCase, CaseSamples>();
  for (const c of request.cases) {
    samples.set(c, {
      wallS: [],
      cpuS: [],
      readMs: [],
      parseMs: [],
      ownersMs: [],
      linksRead: [],
      scannedProcesses: [],
      rows: [],
      trackMs: [],
      reusedRows: [],
      rssMB: [],
    });
  }
  // The steady case keeps one ProcFs (the collector reuses the records of unchanged lines per
  // ProcFs) and one tracker, as the dashboard does; the others start afresh, as --once does.
  const tracker = new SocketTracker();
  const measure = (c: InProcessCase, record: boolean): void => {
    const owners = c === 'noOwners' ? null : c === 'ownersCold' ? createOwnerScanner(procFs) : steady;
    const caseProcFs = c === 'ownersSteady' ? procFs : createProcFs('/proc');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let snapshot: Snapshot | null = collectSnapshot({ ...base, procFs: caseProcFs, owners });
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    let trackMs = Number.NaN;
    if (c === 'ownersSteady') {
      const t1 = performance.now();
      tracker.ingest(snapshot);
      trackMs = performance.now() - t1;
    }
    if (!record) return;
    const s = samples.get(c)!;
    s.wallS.push(wallS);
    s.cpuS.push((cpu.user + cpu.system) / 1e6);
    s.readMs.push(snapshot.cost.readMs);
    s.parseMs.push(snapshot.cost.parseMs);
    s.ownersMs.push(snapshot.cost.ownersMs);
    s.linksRead.push(snapshot.owners.linksRead);
    s.scannedProcesses.push(snapshot.owners.scannedProcesses);
    s.rows.push(snapshot.cost.rows);
    s.trackMs.push(trackMs);
    s.reusedRows.push(snapshot.cost.reusedRows ?? 0);
    s.rssMB.push(process.memoryUsage().rss / 1e6);
    snapshot = null;
  };
  // Warm-up round (JIT, page cache, passwd): not recorded. It is also the steady scanner's first scan.
  for (const c of request.cases) measure(c, false);
  if (!request.cases.includes('ownersSteady')) collectSnapshot({ ...base, owners: steady });
  for (let r = 0; r < request.rounds; r++) for (const c of request.cases) measure(c, true);
  const out: InProcessResult = {};
  for (const [c, s] of samples) {
    out[c] = {
      wallS: summarize(s.wallS),
      cpuS: summarize(s.cpuS),
      readMs: round(median(s.readMs), 1),
      parseMs: round(median(s.parseMs), 1),
      ownersMs: round(median(s.ownersMs), 1),
      linksRead: median(s.linksRead),
      scannedProcesses: median(s.scannedProcesses),
      rows: median(s.rows),
      trackMs: round(median(s.trackMs), 1),
      reusedRows: median(s.reusedRows),
      rssMB: round(median(s.rssMB), 0),
    };
  }
  return out;
}

/** Runs inProcessMain in a fresh node process (no load-generator IPC, clean heap). */
function runInProcess(request: InProcessRequest): Promise<InProcessResult> {
  const self = fileURLToPath(import.meta.url);
  const child = fork(self, ['--in-process', JSON.stringify(request)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const unregister = onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise<InProcessResult>((resolve, reject) => {
    let result: InProcessResult | undefined;
    child.once('message', (m) => {
      result = m as InProcessResult;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      unregister();
      if (result !== undefined) resolve(result);
      else reject(new Error(`in-process benchmark exited (code ${code}, signal ${signal}) without a result`));
    });
  });
}

// ---------------------------------------------------------------------------
// One population size

interface SizeResult {
  readonly size: number;
  readonly population: {
    readonly spec: BuiltPopulation['spec'];
    readonly expected: number;
    readonly listeners: number;
    readonly sockstatBefore: BuiltPopulation['before'];
    readonly sockstatAfter: BuiltPopulation['after'];
    readonly added: number;
    readonly ratio: number;
    readonly verified: boolean;
    readonly buildS: number;
  };
  readonly rounds: number;
  readonly commands: CommandResult[];
  readonly inProcess: InProcessResult;
  readonly churn: { readonly perSec: number; readonly inProcess: InProcessResult; readonly sockstat: BuiltPopulation['after'] } | null;
  /** --cpu-prof runs of `sockscope --once` and `--once --summary` (largest size only). */
  readonly profiles: readonly ProfileResult[];
}

function commandsToTime(): CommandSpec[] {
  const node = process.execPath;
  const cmds: CommandSpec[] = [{ name: 'cat /proc/net/tcp /proc/net/tcp6', file: 'cat', args: ['/proc/net/tcp', '/proc/net/tcp6'] }];
  if (which('ss') !== null) {
    cmds.push({ name: 'ss -tan', file: 'ss', args: ['-tan'] }, { name: 'ss -tanp', file: 'ss', args: ['-tanp'] });
  }
  if (which('netstat') !== null) {
    cmds.push({ name: 'netstat -tan', file: 'netstat', args: ['-tan'] }, { name: 'netstat -tanp', file: 'netstat', args: ['-tanp'] });
  }
  // NO_COLOR etc. do not matter with stdout on /dev/null; keep the user's environment.
  cmds.push(
    // What any node CLI pays before its first line of code runs: the floor under sockscope's rows.
    { name: 'node -e 0 (start-up)', file: node, args: ['-e', '0'] },
    { name: 'sockscope --once --summary', file: SOCKSCOPE_BIN, args: ['--once', '--summary'] },
    { name: 'sockscope --once -n', file: SOCKSCOPE_BIN, args: ['--once', '-n'] },
    { name: 'sockscope --once', file: SOCKSCOPE_BIN, args: ['--once'] },
  );
  return cmds;
}

interface ProfileResult {
  readonly command: string;
  readonly wallS: number;
  /** Time covered by samples (from V8 start, so node's own bootstrap before it is not in it). */
  readonly totalMs: number;
  readonly top: ReturnType<typeof summarizeCpuProfile>['entries'];
}

/** One `node --cpu-prof bin/sockscope <args>` run (not timed with the others), summarised by self time. */
async function profileOnce(args: readonly string[]): Promise<ProfileResult | null> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-prof-'));
  const unregister = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    const t = await timeProcess({
      name: `sockscope ${args.join(' ')} (--cpu-prof)`,
      file: process.execPath,
      args: ['--cpu-prof', '--cpu-prof-dir', dir, SOCKSCOPE_BIN, ...args],
    });
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) return null;
    const summary = summarizeCpuProfile(path.join(dir, file));
    return {
      command: `node --cpu-prof bin/sockscope ${args.join(' ')}`,
      wallS: round(t.wallS),
      totalMs: summary.totalMs,
      top: summary.entries,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    unregister();
  }
}

async function benchSize(size: number, profile: boolean): Promise<SizeResult> {
  const rounds = envInt('BENCH_REPS', size >= 50_000 ? 7 : 11);
  const built = await buildPopulation(populationSpecFor(size), log);
  const others = built.after.total - built.added;
  if (others > Math.max(100, 0.05 * size)) {
    log(`warning: ${others} other TCP sockets on the host (another program's?): every tool below reads them too`);
  }
  let commands: CommandResult[];
  let inProcess: InProcessResult;
  const profiles: ProfileResult[] = [];
  let churn: SizeResult['churn'] = null;
  try {
    const cmds = commandsToTime();
    log(`${sizeLabel(size)}: ${cmds.length} commands × ${rounds} rounds (+1 warm-up), alternating`);
    commands = await runAlternating(cmds, rounds, 1, (r, n) => {
      if (r >= 0) process.stderr.write(`\r  round ${r + 1}/${n}`);
    });
    process.stderr.write('\n');
    for (const c of commands) if (c.failures > 0) log(`  ${c.name}: ${c.failures} failed runs (${c.lastError ?? ''})`);
    log(`${sizeLabel(size)}: in-process collectSnapshot (no owners / owners cold / owners steady) × ${rounds}`);
    inProcess = await runInProcess({ rounds, cases: ['noOwners', 'ownersCold', 'ownersSteady'] });
    if (profile) {
      for (const args of [['--once'], ['--once', '--summary']]) {
        const p = await profileOnce(args);
        if (p !== null) profiles.push(p);
      }
    }

    const churnPerSec = Number(process.env['BENCH_CHURN'] ?? 500);
    if (Number.isFinite(churnPerSec) && churnPerSec > 0) {
      // A second, churn-only population beside the stable one: connections opened and reset
      // continuously (no TIME_WAIT left), so the owner scanner keeps meeting new sockets.
      log(`${sizeLabel(size)}: adding ${churnPerSec} connections/s of churn`);
      const churning = await buildPopulation({ churnPerSec, timeoutMs: 120_000 }, log, false);
      try {
        await new Promise((r) => setTimeout(r, 2000)); // let churn reach its rate
        const churnResult = await runInProcess({ rounds, cases: ['noOwners', 'ownersSteady'] });
        const stats = churning.population.stats().totals;
        log(`  churn: ${stats.churnOpened} opened, ${stats.churnClosed} closed, ${stats.churnFailed} failed`);
        churn = { perSec: churnPerSec, inProcess: churnResult, sockstat: churning.after };
      } finally {
        await churning.stop();
      }
    }
  } finally {
    await built.stop();
  }
  return {
    size,
    population: {
      spec: built.spec,
      expected: built.expected,
      listeners: built.listeners,
      sockstatBefore: built.before,
      sockstatAfter: built.after,
      added: built.added,
      ratio: round(built.ratio),
      verified: built.verified,
      buildS: round(built.buildS, 1),
    },
    rounds,
    commands,
    inProcess,
    churn,
    profiles,
  };
}

// ---------------------------------------------------------------------------
// Report

interface Row {
  readonly name: string;
  readonly medianS: number;
  readonly minS: number;
  readonly maxS: number;
  readonly cpuS: number;
  readonly xCat: number;
  readonly xSsP: number;
}

function rowsOf(r: SizeResult): Row[] {
  const cat = r.commands.find((c) => c.name.startsWith('cat '))?.wallS.median ?? Number.NaN;
  const ssp = r.commands.find((c) => c.name === 'ss -tanp')?.wallS.median ?? Number.NaN;
  const row = (name: string, w: SampleStats, cpu: SampleStats): Row => ({
    name,
    medianS: w.median,
    minS: w.min,
    maxS: w.max,
    cpuS: cpu.median,
    xCat: w.median / cat,
    xSsP: w.median / ssp,
  });
  const rows = r.commands.map((c) => row(c.name, c.wallS, c.cpuS));
  const ip = r.inProcess;
  const label: Record<InProcessCase, string> = {
    noOwners: 'in-process snapshot, no owners',
    ownersCold: 'in-process snapshot, owners cold',
    ownersSteady: 'in-process snapshot, owners steady',
  };
  for (const c of ['noOwners', 'ownersCold', 'ownersSteady'] as const) {
    const v = ip[c];
    if (v !== undefined) rows.push(row(label[c], v.wallS, v.cpuS));
  }
  if (r.churn !== null) {
    const cp = r.churn.inProcess;
    if (cp.noOwners !== undefined) rows.push(row(`in-process, churn ${r.churn.perSec}/s: no owners`, cp.noOwners.wallS, cp.noOwners.cpuS));
    if (cp.ownersSteady !== undefined)
      rows.push(row(`in-process, churn ${r.churn.perSec}/s: owners steady`, cp.ownersSteady.wallS, cp.ownersSteady.cpuS));
  }
  return rows;
}

const TABLE_HEADERS = ['command', 'median s', 'min s', 'max s', 'cpu s', '× cat', '× ss -tanp'];
const tableRow = (x: Row): (string | number)[] => [x.name, x.medianS, x.minS, x.maxS, x.cpuS, x.xCat, x.xSsP];

interface Target {
  readonly size: number;
  readonly target: string;
  /** Ratio of wall-time medians: the verdict. */
  readonly value: number;
  /** The same ratio on CPU-time medians (less sensitive to a busy machine's run queue). */
  readonly cpuValue: number;
  readonly limit: number;
  readonly met: boolean | null;
}

/** The targets; they are stated for 100k sockets, and reported at every size for the trend. */
function targetsOf(r: SizeResult): Target[] {
  const cmd = (name: string): CommandResult | undefined => r.commands.find((c) => c.name === name);
  const wall = (name: string): number => cmd(name)?.wallS.median ?? Number.NaN;
  const cpu = (name: string): number => cmd(name)?.cpuS.median ?? Number.NaN;
  const CAT = 'cat /proc/net/tcp /proc/net/tcp6';
  const SSP = 'ss -tanp';
  const ip = r.inProcess;
  const w = (c: InProcessCaseResult | undefined): number => c?.wallS.median ?? Number.NaN;
  const c = (x: InProcessCaseResult | undefined): number => x?.cpuS.median ?? Number.NaN;
  const t = (target: string, value: number, cpuValue: number, limit: number): Target => ({
    size: r.size,
    target,
    value: round(value, 3),
    cpuValue: round(cpuValue, 3),
    limit,
    met: Number.isFinite(value) ? value <= limit : null,
  });
  const out = [
    t('in-process snapshot with owners (cold) / ss -tanp', w(ip.ownersCold) / wall(SSP), c(ip.ownersCold) / cpu(SSP), 0.2),
    t('in-process snapshot with owners (steady) / ss -tanp', w(ip.ownersSteady) / wall(SSP), c(ip.ownersSteady) / cpu(SSP), 0.2),
    t('sockscope --once (whole process) / ss -tanp', wall('sockscope --once') / wall(SSP), cpu('sockscope --once') / cpu(SSP), 0.2),
    t(
      'sockscope --once --summary / cat floor',
      wall('sockscope --once --summary') / wall(CAT),
      cpu('sockscope --once --summary') / cpu(CAT),
      1.5,
    ),
    t('owners steady / no owners (in-process)', w(ip.ownersSteady) / w(ip.noOwners), c(ip.ownersSteady) / c(ip.noOwners), 1.25),
  ];
  const cp = r.churn?.inProcess;
  if (cp?.ownersSteady !== undefined && cp.noOwners !== undefined) {
    out.push(
      t(
        `owners steady / no owners, churn ${r.churn!.perSec}/s`,
        w(cp.ownersSteady) / w(cp.noOwners),
        c(cp.ownersSteady) / c(cp.noOwners),
        1.25,
      ),
    );
  }
  return out;
}

function printSize(r: SizeResult): void {
  const p = r.population;
  console.log(
    `\n## ${sizeLabel(r.size)} TCP sockets (sockstat +${p.added} of ${p.expected + p.listeners} expected${p.verified ? '' : ', NOT verified'}, ${p.sockstatAfter.total} on the host; ${r.rounds} rounds, built in ${p.buildS} s)\n`,
  );
  console.log(formatTable(TABLE_HEADERS, rowsOf(r).map(tableRow)));
  const ip = r.inProcess;
  const split = (name: string, v: InProcessCaseResult | undefined): string =>
    v === undefined
      ? ''
      : `  ${name}: read ${v.readMs} ms, parse ${v.parseMs} ms, owners ${v.ownersMs} ms (${v.linksRead} links, ${v.scannedProcesses} processes)` +
        `${v.trackMs !== undefined && Number.isFinite(v.trackMs) ? `, track ${v.trackMs} ms` : ''}, ${v.rows} rows` +
        `${v.reusedRows ? ` (${v.reusedRows} reused)` : ''}${v.rssMB !== undefined ? `, RSS ${v.rssMB} MB` : ''}`;
  console.log(
    [
      '\nwhere the in-process time goes (medians of the snapshot cost split):',
      split('no owners', ip.noOwners),
      split('owners cold', ip.ownersCold),
      split('owners steady', ip.ownersSteady),
    ]
      .concat(r.churn === null ? [] : [split(`churn ${r.churn.perSec}/s owners steady`, r.churn.inProcess.ownersSteady)])
      .filter((l) => l !== '')
      .join('\n'),
  );
  for (const p of r.profiles) {
    console.log(`\n${p.command}: ${p.wallS} s wall, ${p.totalMs} ms sampled; top self time:`);
    for (const e of p.top) console.log(`  ${String(e.percent).padStart(5)}%  ${String(e.selfMs).padStart(7)} ms  ${e.frame}`);
  }
}

function printTargets(targets: readonly Target[]): void {
  console.log('\n## Targets (stated for 100k sockets; smaller sizes show the trend: node start-up (~0.1 s) dominates there)\n');
  console.log(
    formatTable(
      ['size', 'target', 'wall ratio', 'cpu ratio', 'limit', 'result (wall)'],
      targets.map((t) => [sizeLabel(t.size), t.target, t.value, t.cpuValue, t.limit, t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED']),
    ),
  );
}

async function main(): Promise<number> {
  installCleanupHandlers();
  const sizes = parseSizes(process.env['BENCH_SIZES'], [1000, 10_000, 100_000]);
  const machine = machineInfo();
  const loadBefore = loadAverage();
  const startedAt = new Date().toISOString();
  log(`machine: ${describeMachine(machine, loadBefore)}`);
  if (machine.uid !== 0) log("not root: owners of other users' processes are not visible to sockscope, ss -p or netstat -p");
  if (machine.ss === null) log('ss not installed: no ss rows, ratios to ss -tanp are n/a');
  if (machine.netstat === null) log('netstat not installed: no netstat rows');
  const profileWanted = process.env['BENCH_PROFILE'] !== '0';
  const results: SizeResult[] = [];
  try {
    for (const size of sizes) {
      try {
        results.push(await benchSize(size, profileWanted && size === Math.max(...sizes)));
        printSize(results.at(-1)!);
      } catch (err) {
        // A busy host can refuse a population (ports, files, memory, a build timeout): say so
        // and go on with the next size.
        log(`${sizeLabel(size)} skipped: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await runCleanups();
  }
  const loadAfter = loadAverage();
  const targets = results.flatMap(targetsOf);
  printTargets(targets);
  console.log(`\nmachine: ${describeMachine(machine, loadBefore)} → load after ${loadAfter.join(' ')}`);

  const markdown = results
    .map(
      (r) => `**${sizeLabel(r.size)} TCP sockets** (${r.rounds} rounds)\n\n${formatMarkdownTable(TABLE_HEADERS, rowsOf(r).map(tableRow))}`,
    )
    .join('\n\n');
  const file = writeResults('bench', 'latest.json', {
    kind: 'sockscope-bench',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadBefore, loadAfter },
    sizes: results,
    targets,
    markdown,
    targetsMarkdown: formatMarkdownTable(
      ['size', 'target', 'wall ratio', 'cpu ratio', 'limit', 'result'],
      targets.map((t) => [sizeLabel(t.size), t.target, t.value, t.cpuValue, t.limit, t.met === null ? 'n/a' : t.met ? 'met' : 'missed']),
    ),
  });
  console.log(`results: ${file} (and bench/results/latest.json)`);
  return 0;
}

if (process.argv[2] === '--in-process') {
  const request = JSON.parse(process.argv[3] ?? '{}') as InProcessRequest;
  const result = inProcessMain(request);
  process.send?.(result, () => process.disconnect());
} else {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    async (err: unknown) => {
      await runCleanups();
      process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
