// The longest the event loop waits while the live dashboard's steady refresh is collected
// (createLiveCollector, no owners) over a synthetic proc tree, static or churning: per refresh,
// the longest gap between two turns of a setImmediate loop running beside the collection (what
// a key waits at worst, the frame aside), and the parse's time. Wall times: read them with the
// load average printed beside them.
//
//   npm run build && node dist/bench/refresh-gap-bench.js [REPO_DIR] [churn 0|1] [sockets]
//   REPO_DIR: a built checkout whose dist/ to measure (another one for before/after); default this one.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { REPO_ROOT } from './bench-lib.js';

interface CollectorModule {
  createLiveCollector(deps: unknown): { collect(): Promise<{ readonly cost: { readonly parseMs: number } }> };
}

async function main(): Promise<void> {
  const [repoArg, churnArg, socketsArg] = process.argv.slice(2);
  const repo = repoArg ?? REPO_ROOT;
  const churn = churnArg === '1';
  const sockets = Number(socketsArg ?? 100_000);
  const load = (file: string): Promise<unknown> => import(pathToFileURL(path.join(repo, 'dist', file)).href);
  const { createLiveCollector } = (await load('src/proc/collect-snapshot.js')) as CollectorModule;
  const { createProcFs } = (await load('src/proc/proc-fs.js')) as { createProcFs(root: string): unknown };
  const churnTree = (await load('bench/churn-tree.js')) as typeof import('./churn-tree.js');
  const procTree = (await load('bench/proc-tree.js')) as typeof import('./proc-tree.js');
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-gap-'));
  try {
    const tree = churn ? churnTree.createChurnTree(parent, sockets) : procTree.writeSyntheticProcTree(parent, { sockets });
    const collector = createLiveCollector({
      procFs: createProcFs(tree.root),
      owners: null,
      userName: (uid: number) => String(uid),
      hostname: () => 'h',
      now: () => Date.now(),
      monotonicMs: () => performance.now(),
    });
    const gaps: number[] = [];
    const parse: number[] = [];
    for (let round = 0; round < 14; round++) {
      if (churn && round > 0) churnTree.writeChurnRound({ root: tree.root, sockets }, round);
      let last = performance.now();
      let maxGapMs = 0;
      let running = true;
      const tick = (): void => {
        const t = performance.now();
        maxGapMs = Math.max(maxGapMs, t - last);
        last = t;
        if (running) setImmediate(tick);
      };
      setImmediate(tick);
      const snapshot = await collector.collect();
      running = false;
      await new Promise((resolve) => setImmediate(resolve));
      // The first two refreshes parse every line (nothing to reuse yet): steady state after them.
      if (round >= 2) {
        gaps.push(maxGapMs);
        parse.push(snapshot.cost.parseMs);
      }
    }
    const q = (xs: number[], p: number): string => {
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
    };
    const loadAvg = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(
      `${repo} churn=${churn ? 1 : 0} ${sockets}: longest event-loop gap per refresh median ${q(gaps, 0.5)} p90 ${q(gaps, 0.9)} max ${q(gaps, 1)} ms; parse ms median ${q(parse, 0.5)}; load ${loadAvg}`,
    );
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
}

void main();
