// The cost of per-connection rates: one `ss -tinH` read as sockscope does it (spawn, capture,
// parse), the join to a snapshot and the rate computation, next to `ss -tin` itself (whole
// process, output to /dev/null), on populations of 1k, 10k and 100k loopback sockets built by
// the load generator. Not a test: nothing asserts a time.
//
//   npm run build && node dist/bench/ss-rates-bench.js
//   env: BENCH_SIZES=1000,10000 (default 1000,10000,100000)  BENCH_REPS=N (default 7)
//        BENCH_EXISTING=1: no population built, one row for the sockets already there (e.g. run
//        inside a network namespace that holds one: `ip netns exec NS node dist/bench/…`)
//
// The population adds to whatever the machine already holds: the table prints the TCP sockets
// the kernel reports (sockstat) and the connections ss printed, so figures can be compared.

import os from 'node:os';
import { performance } from 'node:perf_hooks';

import { joinConnRates, type ConnRatesState } from '../src/model/conn-rates.js';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { parseSsTcpTable } from '../src/proc/parse-ss-tcp.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { DEFAULT_SS_OPTIONS, readSsTcpInfo, runCommand } from '../src/proc/read-ss-info.js';
import {
  buildPopulation,
  envInt,
  formatTable,
  installCleanupHandlers,
  loadAverage,
  median,
  parseSizes,
  populationSpecFor,
  readTcpSocketCount,
  round,
  runCleanups,
  sizeLabel,
  timeProcess,
  which,
  writeResults,
} from './bench-lib.js';

interface SizeResult {
  readonly size: number;
  readonly tcpSockets: number;
  readonly connectionsRead: number;
  readonly outputBytes: number;
  /** `ss -tin` whole process, output to /dev/null (median seconds). */
  readonly ssTinS: number;
  /** sockscope's read: spawn ss -tinH, capture its output, parse (median seconds). */
  readonly readS: number;
  /** Of which parsing the captured text (median seconds). */
  readonly parseS: number;
  /** Joining to a snapshot by tuple and computing rates (median seconds). */
  readonly joinRatesS: number;
  /** CPU of this process (all its threads: GC helpers too) for the parse and for join + rates (median seconds). */
  readonly parseCpuS: number;
  readonly joinRatesCpuS: number;
}

/** CPU of this process since `from` (process.cpuUsage), seconds. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

async function measure(size: number, reps: number, log: (s: string) => void): Promise<SizeResult> {
  // No verdict on the count (other programs' sockets come and go): the table prints what the kernel holds.
  const population = size === 0 ? { stop: () => Promise.resolve() } : await buildPopulation(populationSpecFor(size), log, false);
  try {
    const procFs = createProcFs('/proc');
    const snapshot = collectSnapshot({
      procFs,
      owners: null,
      userName: String,
      hostname: () => os.hostname(),
      now: () => Date.now(),
      monotonicMs: () => performance.now(),
    });
    const deps = { run: runCommand, now: () => Date.now(), monotonicMs: () => performance.now() };
    const ssTin: number[] = [];
    const read: number[] = [];
    const parse: number[] = [];
    const joinRates: number[] = [];
    const parseCpu: number[] = [];
    const joinRatesCpu: number[] = [];
    let connectionsRead = 0;
    let outputBytes = 0;
    let state: ConnRatesState | null = null;
    for (let r = 0; r <= reps; r++) {
      // Round-robin, first round discarded (warm-up).
      const t = await timeProcess({ name: 'ss -tin', file: 'ss', args: ['-tin'] });
      const t0 = performance.now();
      const got = await readSsTcpInfo(deps, { ...DEFAULT_SS_OPTIONS, timeoutMs: 300_000 });
      const t1 = performance.now();
      if (!got.ok) throw new Error(got.message);
      const text = await runCommand('ss', ['-tinH'], { timeoutMs: 300_000, maxBytes: DEFAULT_SS_OPTIONS.maxBytes });
      if (!text.ok) throw new Error(text.message);
      const p0 = performance.now();
      const c0 = process.cpuUsage();
      const table = parseSsTcpTable(text.output.stdout);
      const p1 = performance.now();
      const pc = cpuSince(c0);
      const c1 = process.cpuUsage();
      state = joinConnRates(state, snapshot.sockets, got.value.table, Date.now()).state;
      const j1 = performance.now();
      const jc = cpuSince(c1);
      if (r === 0) continue;
      ssTin.push(t.wallS);
      read.push((t1 - t0) / 1000);
      parse.push((p1 - p0) / 1000);
      joinRates.push((j1 - p1) / 1000);
      parseCpu.push(pc);
      joinRatesCpu.push(jc);
      connectionsRead = table.count;
      outputBytes = text.output.stdout.length;
    }
    return {
      size,
      tcpSockets: readTcpSocketCount().total,
      connectionsRead,
      outputBytes,
      ssTinS: median(ssTin),
      readS: median(read),
      parseS: median(parse),
      joinRatesS: median(joinRates),
      parseCpuS: median(parseCpu),
      joinRatesCpuS: median(joinRatesCpu),
    };
  } finally {
    await population.stop();
  }
}

async function main(): Promise<void> {
  installCleanupHandlers();
  if (which('ss') === null) {
    console.error('ss-rates-bench: ss (iproute2) is not installed');
    process.exitCode = 1;
    return;
  }
  const sizes = process.env['BENCH_EXISTING'] === '1' ? [0] : parseSizes(process.env['BENCH_SIZES'], [1000, 10000, 100000]);
  const reps = envInt('BENCH_REPS', 7);
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const r = await measure(size, reps, (s) => console.error(`[${sizeLabel(size)}] ${s}`));
    results.push(r);
    console.error(
      `[${sizeLabel(size)}] ss -tin ${(r.ssTinS * 1000).toFixed(0)} ms, sockscope read ${(r.readS * 1000).toFixed(0)} ms (parse ${(r.parseS * 1000).toFixed(0)} ms, cpu ${(r.parseCpuS * 1000).toFixed(0)}), join+rates ${(r.joinRatesS * 1000).toFixed(0)} ms (cpu ${(r.joinRatesCpuS * 1000).toFixed(0)}), ${r.connectionsRead} connections`,
    );
  }
  const rows = results.map((r) => [
    sizeLabel(r.size),
    String(r.tcpSockets),
    String(r.connectionsRead),
    `${(r.outputBytes / 1e6).toFixed(1)} MB`,
    `${(r.ssTinS * 1000).toFixed(0)} ms`,
    `${(r.readS * 1000).toFixed(0)} ms`,
    `${(r.parseS * 1000).toFixed(0)} ms (cpu ${(r.parseCpuS * 1000).toFixed(0)})`,
    `${(r.joinRatesS * 1000).toFixed(0)} ms (cpu ${(r.joinRatesCpuS * 1000).toFixed(0)})`,
    `×${(r.readS / r.ssTinS).toFixed(2)}`,
  ]);
  console.log(
    formatTable(
      ['size', 'tcp sockets', 'ss conns', 'ss output', 'ss -tin', 'sockscope read', 'of which parse', 'join+rates', 'read / ss'],
      rows,
    ),
  );
  console.log(`load average ${loadAverage().join(' ')}; medians of ${reps} rounds`);
  writeResults('ss-rates', 'ss-rates-latest.json', {
    sizes: results.map((r) => ({
      ...r,
      ssTinS: round(r.ssTinS),
      readS: round(r.readS),
      parseS: round(r.parseS),
      joinRatesS: round(r.joinRatesS),
      parseCpuS: round(r.parseCpuS),
      joinRatesCpuS: round(r.joinRatesCpuS),
    })),
  });
}

main()
  .catch((err: unknown) => {
    console.error(`ss-rates-bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
