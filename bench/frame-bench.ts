// The dashboard's frame at 100k sockets, in process: per refresh of a synthetic churning tree
// (bench/churn-tree.ts: ~13% of the lines new a round), the main thread's time to build the frame
// (buildFrame: the socket table's order and window, counts, header) after the session store's
// ingest, and the frame after new per-connection rates arrive between two snapshots (as the live
// dashboard's `ss -tinH` reads do). Two builds alternate round by round when BENCH_FRAME_DIST
// names another checkout's dist/ (before/after in the same sitting). CPU ms of this thread.
//
//   npm run build && node dist/bench/frame-bench.js
//   env: BENCH_FRAME_SIZE=100000  BENCH_FRAME_ROUNDS=12  BENCH_FRAME_DIST=/other/checkout/dist
//        BENCH_FRAME_SORT=state (the socket table's sort key)  BENCH_FRAME_STATIC=1 (no churn)
//        BENCH_FRAME_RATES=0 (no rates between snapshots)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { distImporter, envInt, loadAverage, loadSubjects, median, processCpuMs, round } from './bench-lib.js';
import { createChurnTree, writeChurnRound } from './churn-tree.js';

type Any = Record<string, unknown>;

interface Subject {
  readonly label: string;
  readonly collectSnapshot: (deps: unknown) => Any;
  readonly createProcFs: (root: string) => unknown;
  readonly store: { ingest(snapshot: unknown): unknown; setConnRates(rates: unknown): unknown; state: unknown };
  readonly buildFrame: (input: unknown) => { counts: { matched: number } };
  /** Absent in builds before it: those build the rows inside buildFrame. */
  readonly prepareFrameSteps: ((input: unknown) => Generator<void, void>) | undefined;
  readonly cache: unknown;
  readonly ui: unknown;
}

async function load(label: string, dist: string): Promise<Subject> {
  const imp = distImporter(dist);
  const collect = await imp('src/proc/collect-snapshot.js');
  const procFs = await imp('src/proc/proc-fs.js');
  const store = await imp('src/model/session-store.js');
  const frame = await imp('src/view/frame.js');
  const ui = await imp('src/view/ui-state.js');
  const initial = (ui['initialUiState'] as (o: unknown) => Any)({ intervalMs: 1000 });
  const sort = process.env['BENCH_FRAME_SORT'];
  return {
    label,
    collectSnapshot: collect['collectSnapshot'] as Subject['collectSnapshot'],
    createProcFs: procFs['createProcFs'] as Subject['createProcFs'],
    store: new (store['SessionStore'] as new () => Subject['store'])(),
    buildFrame: frame['buildFrame'] as Subject['buildFrame'],
    prepareFrameSteps: frame['prepareFrameSteps'] as Subject['prepareFrameSteps'],
    cache: new (frame['FrameCache'] as new () => unknown)(),
    ui: sort === undefined ? initial : { ...initial, socketSort: { key: sort, descending: false } },
  };
}

/** Rates for every TCP socket of the snapshot (values vary by round): what a `ss -tinH` read hands over. */
function fakeRates(snapshot: Any, r: number): unknown {
  const rates = new Map<string, unknown>();
  for (const s of snapshot['sockets'] as Any[]) {
    if (s['state'] !== 'ESTABLISHED') continue;
    const v = ((s['inode'] as number) * 31 + r) % 5000;
    rates.set(s['key'] as string, {
      sendBytesPerSec: v,
      recvBytesPerSec: v / 2,
      retransPerSec: 0,
      rttMs: 0.05,
      rttVarMs: 0.01,
      bytesAcked: v,
      bytesReceived: v,
      retransTotal: 0,
    });
  }
  const total = { connections: rates.size, withRate: rates.size, sendBytesPerSec: 1, recvBytesPerSec: 1, retransPerSec: 0 };
  return { ok: true, rates, total, asOfMs: 0 };
}

async function main(): Promise<void> {
  const size = envInt('BENCH_FRAME_SIZE', 100_000);
  const rounds = envInt('BENCH_FRAME_ROUNDS', 12);
  const churn = process.env['BENCH_FRAME_STATIC'] !== '1';
  const withRates = process.env['BENCH_FRAME_RATES'] !== '0';
  const subjects = await loadSubjects('BENCH_FRAME_DIST', load);
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-frame-'));
  const loadBefore = loadAverage();
  const figures = new Map(
    subjects.map((s) => [s, { frame: [] as number[], afterRates: [] as number[], prep: [] as number[], longestStep: [] as number[] }]),
  );
  try {
    const tree = createChurnTree(parent, size);
    const procFs = new Map(subjects.map((s) => [s, s.createProcFs(tree.root)]));
    let t = Date.now();
    for (let r = 0; r <= rounds + 1; r++) {
      if (churn) writeChurnRound(tree, r);
      t += 1000;
      for (const s of r % 2 === 0 ? subjects : [...subjects].reverse()) {
        const now = t;
        const snapshot = s.collectSnapshot({
          procFs: procFs.get(s),
          owners: null,
          userName: (uid: number) => String(uid),
          hostname: () => 'bench',
          now: () => now,
          monotonicMs: () => performance.now(),
          repeating: true,
        });
        s.store.ingest(snapshot);
        const frameInput = (): unknown => ({
          session: s.store.state,
          ui: s.ui,
          size: { width: 200, height: 50 },
          theme: { ascii: false },
          filter: null,
          context: { modeLabel: null, cost: null, scopeLabel: null, timeZoneOffsetMin: 0, replay: false, tcpInfo: null, details: null },
          cache: s.cache,
        });
        const frameOf = (): number => {
          const c0 = processCpuMs();
          s.buildFrame(frameInput());
          return processCpuMs() - c0;
        };
        // What the dashboard runs in slices before the frame (keys are answered between steps).
        let prepMs = 0;
        let longestStepMs = 0;
        if (s.prepareFrameSteps !== undefined) {
          const steps = s.prepareFrameSteps(frameInput());
          for (;;) {
            const c0 = processCpuMs();
            const step = steps.next();
            const ms = processCpuMs() - c0;
            prepMs += ms;
            longestStepMs = Math.max(longestStepMs, ms);
            if (step.done === true) break;
          }
        }
        const frameMs = frameOf();
        if (withRates) s.store.setConnRates(fakeRates(snapshot, r));
        const afterRatesMs = frameOf();
        if (r >= 2) {
          figures.get(s)?.frame.push(frameMs);
          figures.get(s)?.prep.push(prepMs);
          figures.get(s)?.longestStep.push(longestStepMs);
          figures.get(s)?.afterRates.push(afterRatesMs);
        }
      }
    }
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
  const max = (xs: number[]): number => Math.max(...xs);
  for (const s of subjects) {
    const f = figures.get(s);
    if (f === undefined) continue;
    console.log(
      `${s.label}: rows in steps before the frame ms median ${round(median(f.prep), 1)} max ${round(max(f.prep), 1)}, longest step median ${round(median(f.longestStep), 2)} max ${round(max(f.longestStep), 2)}`,
    );
    console.log(
      `${s.label}: frame after ingest ms median ${round(median(f.frame), 1)} max ${round(max(f.frame), 1)}; after new rates median ${round(median(f.afterRates), 1)} max ${round(max(f.afterRates), 1)}`,
    );
  }
  console.log(
    `${size} sockets, ${churn ? 'churning' : 'static'}, ${rounds} rounds; load ${loadBefore.join(' ')} → ${loadAverage().join(' ')}`,
  );
}

void main();
