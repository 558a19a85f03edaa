// Soak test (not part of `npm test`): the dashboard at a short interval for a long time against
// a churning population; resident memory and the number of tracked objects must stay flat and
// every refresh must complete. Run: `npm run build && node dist/bench/soak.js [--minutes 30]
// [--interval 0.25] [--connections 4000] [--churn 200]`; at 100k, in a network namespace of its
// own (`ip netns exec NS node dist/bench/soak.js --interval 1 --connections 100000`). Exits 1
// when memory or tracked objects grow, or refreshes stop. bin/sockscope runs as a program, as
// installed: its sh line sets the V8 and malloc settings that node run by hand would miss.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPopulation } from './loadgen.js';
import { killTmuxServer } from './bench-lib.js';

interface Sample {
  readonly atS: number;
  readonly snapshots: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly trackedSockets: number;
  readonly tombstones: number;
  readonly history: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const minutes = arg('minutes', 30);
const intervalS = arg('interval', 0.25);
const connections = arg('connections', 4000);
const churn = arg('churn', 200);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmuxSocket = `sockscope-soak-${process.pid}`;
const statsFile = path.join(os.tmpdir(), `sockscope-soak-${process.pid}.json`);

const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', tmuxSocket, ...args], { encoding: 'utf8' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readSample(startedAt: number): Sample | null {
  try {
    const s = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as {
      snapshots: number;
      rssBytes: number;
      heapUsedBytes: number;
      tracked: { tracker: { sockets: number; tombstones: number }; history: number };
    };
    return {
      atS: Math.round((Date.now() - startedAt) / 1000),
      snapshots: s.snapshots,
      rssMb: s.rssBytes / 2 ** 20,
      heapMb: s.heapUsedBytes / 2 ** 20,
      trackedSockets: s.tracked.tracker.sockets,
      tombstones: s.tracked.tracker.tombstones,
      history: s.tracked.history,
    };
  } catch {
    return null;
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

async function main(): Promise<number> {
  if (spawnSync('tmux', ['-V']).status !== 0) {
    console.error('soak: needs tmux');
    return 2;
  }
  console.log(`soak: ${minutes} min, interval ${intervalS} s, ${connections} connections, churn ${churn}/s`);
  const population = await startPopulation({
    established: Math.round(connections * 0.8),
    closeWait: Math.round(connections * 0.05),
    timeWait: Math.round(connections * 0.1),
    churnPerSec: churn,
    churnClose: 'fin',
  });
  const startedAt = Date.now();
  const samples: Sample[] = [];
  try {
    tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-x',
      '160',
      '-y',
      '45',
      `env TERM=xterm-256color LANG=C.UTF-8 SOCKSCOPE_STATS_FILE=${statsFile} ${path.join(root, 'bin/sockscope')} -i ${intervalS}; sleep 5`,
    );
    const endAt = startedAt + minutes * 60_000;
    while (Date.now() < endAt) {
      await sleep(30_000);
      const s = readSample(startedAt);
      if (s !== null) {
        samples.push(s);
        console.log(
          `${String(s.atS).padStart(5)} s  refreshes ${String(s.snapshots).padStart(6)}  rss ${s.rssMb.toFixed(1)} MB  heap ${s.heapMb.toFixed(1)} MB  tracked ${s.trackedSockets}  tombstones ${s.tombstones}  history ${s.history}`,
        );
      }
    }
    tmux('send-keys', 'q');
    await sleep(1000);
  } finally {
    killTmuxServer(tmuxSocket);
    await population.stop();
    fs.rmSync(statsFile, { force: true });
  }

  // Verdict: compare the first and last quarters (after a warm-up sample).
  if (samples.length < 4) {
    console.error('soak: too few samples to judge (run longer)');
    return 1;
  }
  const q = Math.max(1, Math.floor(samples.length / 4));
  const early = samples.slice(1, 1 + q);
  const late = samples.slice(-q);
  const rssGrowth = median(late.map((s) => s.rssMb)) / median(early.map((s) => s.rssMb));
  const trackedGrowth = median(late.map((s) => s.trackedSockets)) / Math.max(1, median(early.map((s) => s.trackedSockets)));
  const stalled = samples.some((s, i) => i > 0 && s.snapshots <= (samples[i - 1]?.snapshots ?? 0));
  const rss = samples.slice(1).map((s) => s.rssMb);
  console.log(
    `rss after warm-up: min ${Math.min(...rss).toFixed(0)} MB, median ${median(rss).toFixed(0)} MB, max ${Math.max(...rss).toFixed(0)} MB`,
  );
  console.log(
    `rss growth ×${rssGrowth.toFixed(2)}, tracked sockets ×${trackedGrowth.toFixed(2)}, refreshes ${stalled ? 'STALLED' : 'kept going'}`,
  );
  const ok = rssGrowth < 1.25 && trackedGrowth < 1.25 && !stalled;
  console.log(ok ? 'soak: PASS' : 'soak: FAIL');
  return ok ? 0 : 1;
}

process.exitCode = await main();
