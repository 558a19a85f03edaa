// Shared helpers for `npm run bench` (bench/run-bench.ts, bench/dashboard-bench.ts): sample
// statistics, whole-process timing, the alternating runner, the load-generator population with
// its kernel-side check, machine facts, table printing, results files and clean-up on failure.
//
// Library only: importing this module has no side effects (the signal handlers are installed by
// installCleanupHandlers(), called from each benchmark's main).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startPopulation, type Population, type PopulationSpec } from './loadgen.js';

/** Repository root (this file runs from dist/bench/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');
/** The CLI under test, run as a program (`bin/sockscope …`) exactly as an installed one is. */
export const SOCKSCOPE_BIN = path.join(REPO_ROOT, 'bin', 'sockscope');

/** The built modules of a checkout's dist/ (this one or another, for before/after in one process). */
export function distImporter(dist: string): (rel: string) => Promise<Record<string, unknown>> {
  return async (rel) => (await import(pathToFileURL(path.join(dist, rel)).href)) as Record<string, unknown>;
}

/**
 * Bench subjects: this checkout's dist/ loaded by `load`, and another checkout's dist/ when the
 * variable `envName` names one (before/after in the same rounds of one process).
 */
export async function loadSubjects<T>(envName: string, load: (label: string, dist: string) => Promise<T>): Promise<T[]> {
  const subjects = [await load('this', path.join(REPO_ROOT, 'dist'))];
  const other = process.env[envName];
  if (other !== undefined && other !== '') subjects.push(await load('other', path.resolve(other)));
  return subjects;
}

/** CPU ms (user + system) of this process so far. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Statistics

export interface SampleStats {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

/** Median (mean of the two middle values for an even count); NaN for no samples. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(xs: readonly number[]): SampleStats {
  return {
    n: xs.length,
    median: median(xs),
    min: xs.length === 0 ? Number.NaN : Math.min(...xs),
    max: xs.length === 0 ? Number.NaN : Math.max(...xs),
    samples: xs,
  };
}

/** Round for JSON output and tables: `digits` decimals. */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---------------------------------------------------------------------------
// Clean-up on every exit path: populations, tmux servers, running children.

type Cleanup = () => unknown;
const cleanups = new Set<Cleanup>();
let cleaningUp: Promise<void> | undefined;

/** Registers a clean-up step; returns a function that removes it (call it after a normal clean-up). */
export function onCleanup(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs every registered clean-up once (latest first), swallowing their errors. */
export function runCleanups(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const fn of [...cleanups].reverse()) {
      cleanups.delete(fn);
      try {
        await fn();
      } catch {
        // keep cleaning up the rest
      }
    }
  })();
  return cleaningUp;
}

/** SIGINT/SIGTERM/SIGHUP: clean up, then exit with 128 + signal number. */
export function installCleanupHandlers(): void {
  const codes: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
  for (const [signal, code] of Object.entries(codes)) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: cleaning up…\n`);
      void runCleanups().finally(() => process.exit(code));
    });
  }
}

// ---------------------------------------------------------------------------
// Whole-process timing

/** USER_HZ: the unit of utime/stime/cutime/cstime in /proc/<pid>/stat. */
export const CLOCK_TICKS_PER_SEC: number = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** Fields of /proc/<pid>/stat after the command name, numbered as in proc(5) (field 3 = state). */
export function readStatFields(statPath: string): string[] | null {
  let text: string;
  try {
    text = fs.readFileSync(statPath, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
  return ['', '', '', ...rest]; // index = field number: rest[0] is field 3 (state)
}

/** CPU seconds of this process's waited-for children: cutime + cstime (fields 16, 17 of /proc/self/stat). */
export function readChildrenCpuS(): number {
  const f = readStatFields('/proc/self/stat');
  if (f === null) return Number.NaN;
  return (Number(f[16]) + Number(f[17])) / CLOCK_TICKS_PER_SEC;
}

/** utime + stime of a process, all threads (fields 14, 15), in seconds; null when gone. */
export function readProcessCpuS(pid: number): number | null {
  const f = readStatFields(`/proc/${pid}/stat`);
  return f === null ? null : (Number(f[14]) + Number(f[15])) / CLOCK_TICKS_PER_SEC;
}

export interface CommandSpec {
  /** Label in tables and JSON. */
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export interface ProcessTiming {
  /** Spawn to exit, seconds. */
  readonly wallS: number;
  /** CPU of the child and its waited-for descendants (cutime + cstime delta), seconds; 10 ms resolution. */
  readonly cpuS: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Last bytes of stderr, for diagnosis. */
  readonly stderrTail: string;
}

let devNull: number | undefined;

/**
 * Runs one command without a shell, stdout to /dev/null, stderr captured (tail only), and
 * measures the whole process: wall time from spawn() to its exit, and its CPU time.
 * Commands must run one at a time (the CPU figure is a delta of this process's children's time).
 */
export function timeProcess(cmd: CommandSpec, timeoutMs = 300_000): Promise<ProcessTiming> {
  devNull ??= fs.openSync('/dev/null', 'w');
  const cpu0 = readChildrenCpuS();
  const t0 = process.hrtime.bigint();
  const child: ChildProcess = spawn(cmd.file, cmd.args, {
    stdio: ['ignore', devNull, 'pipe'],
    env: cmd.env ?? process.env,
    cwd: REPO_ROOT,
  });
  const unregister = onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderrTail = (stderrTail + s).slice(-400);
  });
  return new Promise<ProcessTiming>((resolve, reject) => {
    let wallS = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      unregister();
      reject(new Error(`${cmd.name}: ${err.message}`));
    });
    child.once('exit', () => {
      wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    });
    // 'close' comes after 'exit' and after stderr has drained.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      unregister();
      resolve({ wallS, cpuS: Math.max(0, readChildrenCpuS() - cpu0), exitCode: code, signal, stderrTail: stderrTail.trim() });
    });
  });
}

export interface CommandResult {
  readonly name: string;
  readonly argv: readonly string[];
  readonly wallS: SampleStats;
  readonly cpuS: SampleStats;
  readonly failures: number;
  readonly lastError?: string;
}

/**
 * Round-robin: A B C D, A B C D, … so that the machine's noise (other tenants, frequency changes,
 * page cache) lands on every command alike. `warmupRounds` first rounds are run and discarded.
 */
export async function runAlternating(
  commands: readonly CommandSpec[],
  rounds: number,
  warmupRounds = 1,
  onRound?: (round: number, total: number) => void,
): Promise<CommandResult[]> {
  const wall = commands.map((): number[] => []);
  const cpu = commands.map((): number[] => []);
  const failures = commands.map(() => 0);
  const lastError: (string | undefined)[] = commands.map(() => undefined);
  for (let r = 0; r < warmupRounds + rounds; r++) {
    onRound?.(r - warmupRounds, rounds);
    for (const [i, cmd] of commands.entries()) {
      const t = await timeProcess(cmd);
      if (t.exitCode !== 0) {
        failures[i]! += 1;
        lastError[i] = `exit ${t.exitCode ?? t.signal}: ${t.stderrTail}`;
        continue;
      }
      if (r < warmupRounds) continue;
      wall[i]!.push(t.wallS);
      cpu[i]!.push(t.cpuS);
    }
  }
  return commands.map((cmd, i) => ({
    name: cmd.name,
    argv: [cmd.file, ...cmd.args],
    wallS: summarize(wall[i]!),
    cpuS: summarize(cpu[i]!),
    failures: failures[i]!,
    ...(lastError[i] === undefined ? {} : { lastError: lastError[i] }),
  }));
}

/** Absolute path of an executable on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(':')) {
    if (dir === '') continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// The socket population

/**
 * The benchmark mix for `total` TCP sockets: ~80% ESTABLISHED (pairs: two sockets each), ~10%
 * half-closed (CLOSE_WAIT + their FIN_WAIT2 peers), ~10% TIME_WAIT. Listeners come on top.
 */
export function populationSpecFor(total: number, extra: Partial<PopulationSpec> = {}): PopulationSpec {
  const closeWait = Math.round(total * 0.05);
  const timeWait = Math.round(total * 0.1);
  const established = Math.round((total - 2 * closeWait - timeWait) / 2);
  return { established, closeWait, finWait2: closeWait, timeWait, timeoutMs: 600_000, ...extra };
}

/** Sockets the spec asks for (listeners excluded). */
export function expectedSockets(spec: PopulationSpec): number {
  const cw = spec.closeWait ?? 0;
  return 2 * (spec.established ?? 0) + cw + (spec.finWait2 ?? cw) + (spec.timeWait ?? 0);
}

export interface TcpSocketCount {
  /** "TCP: inuse" of /proc/net/sockstat (IPv4, every state but TIME_WAIT). */
  readonly inuse: number;
  /** "TCP6: inuse" of /proc/net/sockstat6. */
  readonly inuse6: number;
  /** "tw" of /proc/net/sockstat: TIME_WAIT, both families. */
  readonly timeWait: number;
  readonly orphan: number;
  readonly total: number;
}

function sockstatField(text: string | null, line: string, field: string): number {
  if (text === null) return 0;
  const m = new RegExp(`^${line}:.*\\b${field} (\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** TCP sockets of this network namespace, from /proc/net/sockstat and sockstat6. */
export function readTcpSocketCount(): TcpSocketCount {
  const read = (p: string): string | null => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  };
  const v4 = read('/proc/net/sockstat');
  const v6 = read('/proc/net/sockstat6');
  const inuse = sockstatField(v4, 'TCP', 'inuse');
  const inuse6 = sockstatField(v6, 'TCP6', 'inuse');
  const timeWait = sockstatField(v4, 'TCP', 'tw');
  return { inuse, inuse6, timeWait, orphan: sockstatField(v4, 'TCP', 'orphan'), total: inuse + inuse6 + timeWait };
}

export interface BuiltPopulation {
  readonly population: Population;
  readonly spec: PopulationSpec;
  readonly expected: number;
  readonly listeners: number;
  readonly before: TcpSocketCount;
  readonly after: TcpSocketCount;
  /** after.total - before.total: what the kernel says the load generator added. */
  readonly added: number;
  /** added / (expected + listeners). */
  readonly ratio: number;
  readonly buildS: number;
  readonly verified: boolean;
  /** Releases the population (idempotent); also registered as a clean-up. */
  stop(): Promise<void>;
}

/**
 * Builds a population and checks with /proc/net/sockstat that the kernel holds it: within 3% (or
 * 20 sockets: other programs' sockets come and go on a shared machine) it is "verified"; off by
 * more than 10% it is reported (not a stop: see below). `check: false` skips the verdict
 * (a churn-only population, whose count is a moving target). Further off (more than 10%) it is
 * still measured, flagged NOT verified with the count it got.
 */
export async function buildPopulation(spec: PopulationSpec, log: (s: string) => void, check = true): Promise<BuiltPopulation> {
  const expected = expectedSockets(spec);
  const before = readTcpSocketCount();
  log(
    expected === 0
      ? `starting a churn-only population (${spec.churnPerSec ?? 0} connections/s)…`
      : `building ${expected} sockets (${spec.established ?? 0} established pairs, ${spec.closeWait ?? 0} CLOSE_WAIT + FIN_WAIT2, ${spec.timeWait ?? 0} TIME_WAIT${spec.churnPerSec ? `, churn ${spec.churnPerSec}/s` : ''})…`,
  );
  const population = await startPopulation(spec);
  const unregister = onCleanup(() => population.stop());
  const stop = async (): Promise<void> => {
    await population.stop();
    unregister();
  };
  // Let the last FINs and TIME_WAIT transitions land before counting.
  await sleep(500);
  const after = readTcpSocketCount();
  const listeners = population.listeners.length;
  const added = after.total - before.total;
  const want = expected + listeners;
  const ratio = added / Math.max(1, want);
  const off = Math.abs(added - want);
  const verified = check && off <= Math.max(0.03 * want, 20);
  log(
    `population ready in ${(population.buildMs / 1000).toFixed(1)} s: sockstat shows ${after.total} TCP sockets (+${added}; expected +${want} incl. ${listeners} listeners: ×${ratio.toFixed(3)}${!check || verified ? '' : ' — NOT within 3%'})`,
  );
  if (check && off > Math.max(0.1 * want, 100)) {
    // A busy host (other programs' sockets coming and going, a neighbour near the file or port
    // limits): measure the population there is, reported as such, rather than stop.
    log(`warning: sockstat shows +${added} TCP sockets, expected +${want}: measuring the population as it is (NOT verified)`);
  }
  return { population, spec, expected, listeners, before, after, added, ratio, buildS: population.buildMs / 1000, verified, stop };
}

/** Parses "1000,10000" or "1k,10k,100k" (env BENCH_SIZES). */
export function parseSizes(text: string | undefined, fallback: readonly number[]): number[] {
  if (text === undefined || text.trim() === '') return [...fallback];
  const sizes = text.split(',').map((w) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(w);
    if (m === null) throw new RangeError(`bench: cannot read size "${w}" (use e.g. 1000,10000 or 1k,10k)`);
    const unit = m[2]!.toLowerCase() === 'k' ? 1e3 : m[2]!.toLowerCase() === 'm' ? 1e6 : 1;
    return Math.round(Number(m[1]) * unit);
  });
  return sizes.filter((n) => n > 0);
}

/** A positive integer from the environment, else the fallback. */
export function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

export function sizeLabel(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

// ---------------------------------------------------------------------------
// The machine

export interface MachineInfo {
  readonly hostname: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly node: string;
  readonly memTotalMb: number;
  readonly uid: number;
  readonly ss: string | null;
  readonly netstat: string | null;
}

function firstLine(file: string, args: string[]): string | null {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0 && (r.stdout ?? '') === '') return null;
  return (
    `${r.stdout ?? ''}${r.stderr ?? ''}`
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? null
  );
}

export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m !== null) cpuModel = m[1]!.trim();
  } catch {
    // keep os.cpus()
  }
  return {
    hostname: os.hostname(),
    nproc: os.availableParallelism(),
    cpuModel,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    memTotalMb: Math.round(os.totalmem() / 2 ** 20),
    uid: process.getuid?.() ?? -1,
    ss: which('ss') === null ? null : firstLine('ss', ['-V']),
    netstat: which('netstat') === null ? null : firstLine('netstat', ['--version']),
  };
}

/** 1, 5 and 15 minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [round(a, 2), round(b, 2), round(c, 2)];
}

export function describeMachine(m: MachineInfo, load: readonly number[]): string {
  return `${m.nproc} × ${m.cpuModel}, ${m.kernel}, node ${m.node}, ${m.memTotalMb} MB, uid ${m.uid}, load ${load.join(' ')}`;
}

// ---------------------------------------------------------------------------
// Output

/** Plain text table; numbers right-aligned, text left-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === '–'));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** 3 significant digits, no exponent for the ranges used here. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.1) return x.toFixed(3);
  return x.toFixed(4);
}

/** Markdown table (for pasting into bench/README.md). */
export function formatMarkdownTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === '–'));
  const cell = (c: string | number): string => (typeof c === 'number' ? fmt(c) : c);
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, i) => (numeric[i] ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Writes `<prefix>-<ISO time>.json` and `<latestName>` in bench/results/; returns the dated path. */
export function writeResults(prefix: string, latestName: string, data: unknown): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const file = path.join(RESULTS_DIR, `${prefix}-${stamp}.json`);
  const text = `${JSON.stringify(data, null, 2)}\n`;
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(RESULTS_DIR, latestName), text);
  return file;
}

// ---------------------------------------------------------------------------
// CPU profiles (node --cpu-prof): where the time goes

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileEntry {
  /** function (file:line) */
  readonly frame: string;
  readonly selfMs: number;
  readonly percent: number;
}

/** Self time per function of a .cpuprofile, largest first. */
export function summarizeCpuProfile(file: string, top = 12): { totalMs: number; entries: ProfileEntry[] } {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const frameOf = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where =
      url === ''
        ? ''
        : ` ${url
            .replace(/^file:\/\//, '')
            .replace(`${REPO_ROOT}/`, '')
            .replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
    frameOf.set(n.id, `${functionName === '' ? '(anonymous)' : functionName}${where}`);
  }
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    const frame = frameOf.get(id) ?? '?';
    selfUs.set(frame, (selfUs.get(frame) ?? 0) + dt);
  });
  const entries = [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfMs: round(us / 1000, 1), percent: round((100 * us) / Math.max(1, totalUs), 1) }));
  return { totalMs: round(totalUs / 1000, 1), entries };
}

/**
 * Stop the tmux server of `tmux -L socket` and remove its socket file, which tmux leaves in
 * $TMUX_TMPDIR/tmux-UID (one per run would pile up there).
 */
export function killTmuxServer(socket: string): void {
  spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  const dir = path.join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
  fs.rmSync(path.join(dir, socket), { force: true });
}
