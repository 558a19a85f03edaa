// The dashboard's per-refresh work on the main thread, in process, over a churning synthetic
// tree (bench/churn-tree.ts: ~2.5% of the connections close and open per round, state changes,
// every TIME_WAIT timer moving): collect (read + parse + join, no owners) and the session
// store's ingest, per round, CPU and wall. BENCH_INGEST_DIST=DIR times another built checkout's
// modules (its dist/) in the same rounds, alternating, for before/after figures in one sitting.
//
//   npm run build && node dist/bench/ingest-bench.js
//   env: BENCH_INGEST_SIZE=100000  BENCH_INGEST_ROUNDS=12  BENCH_INGEST_DIST=/path/to/other/dist

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { distImporter, envInt, loadAverage, loadSubjects, median, processCpuMs, round } from './bench-lib.js';
import { createChurnTree, writeChurnRound } from './churn-tree.js';

interface Modules {
  readonly label: string;
  readonly collectSnapshot: (deps: unknown) => { readonly sockets: readonly unknown[] };
  readonly createProcFs: (root: string) => unknown;
  readonly SessionStore: new () => { ingest(snapshot: unknown): unknown };
}

async function load(label: string, dist: string): Promise<Modules> {
  const imp = distImporter(dist);
  const collect = await imp('src/proc/collect-snapshot.js');
  const procFs = await imp('src/proc/proc-fs.js');
  const store = await imp('src/model/session-store.js');
  return {
    label,
    collectSnapshot: collect['collectSnapshot'] as Modules['collectSnapshot'],
    createProcFs: procFs['createProcFs'] as Modules['createProcFs'],
    SessionStore: store['SessionStore'] as Modules['SessionStore'],
  };
}

async function main(): Promise<void> {
  const size = envInt('BENCH_INGEST_SIZE', 100_000);
  const rounds = envInt('BENCH_INGEST_ROUNDS', 12);
  const subjects = await loadSubjects('BENCH_INGEST_DIST', load);
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-ingest-'));
  const loadBefore = loadAverage();
  try {
    const tree = createChurnTree(parent, size);
    const runs = subjects.map((m) => ({
      m,
      procFs: m.createProcFs(tree.root),
      store: new m.SessionStore(),
      collect: [] as number[],
      ingest: [] as number[],
      ingestCpu: [] as number[],
    }));
    let t = Date.now();
    for (let r = 0; r <= rounds + 1; r++) {
      writeChurnRound(tree, r);
      t += 1000;
      // Alternate which subject goes first each round.
      const order = r % 2 === 0 ? runs : [...runs].reverse();
      for (const run of order) {
        const now = t;
        const c0 = performance.now();
        const snapshot = run.m.collectSnapshot({
          procFs: run.procFs,
          owners: null,
          userName: (uid: number) => String(uid),
          hostname: () => 'bench',
          now: () => now,
          monotonicMs: () => performance.now(),
          repeating: true,
        });
        const c1 = performance.now();
        const cpu0 = processCpuMs();
        run.store.ingest(snapshot);
        const c2 = performance.now();
        const cpu1 = processCpuMs();
        // The first two rounds fill the table memory and the tracker: not counted.
        if (r >= 2) {
          run.collect.push(c1 - c0);
          run.ingest.push(c2 - c1);
          run.ingestCpu.push(cpu1 - cpu0);
        }
      }
    }
    const loadAfter = loadAverage();
    console.log(`ingest-bench: ${size} sockets, ${rounds} churning rounds, load ${loadBefore.join(' ')} → ${loadAfter.join(' ')}`);
    for (const run of runs) {
      const sorted = [...run.ingest].sort((a, b) => a - b);
      console.log(
        `  ${run.m.label.padEnd(6)} collect ms median ${round(median(run.collect), 1)}  ingest ms median ${round(median(run.ingest), 1)} ` +
          `(min ${round(sorted[0] ?? NaN, 1)}, max ${round(sorted.at(-1) ?? NaN, 1)})  ingest cpu ms median ${round(median(run.ingestCpu), 1)}`,
      );
    }
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ingest-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
