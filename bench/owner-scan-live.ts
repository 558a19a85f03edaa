// Steady owner scans as the live dashboard runs them, over the host's own sockets (run it inside
// the namespace of a population: `ip netns exec s100k node dist/bench/owner-scan-live.js`).
//
//   node dist/bench/owner-scan-live.js [refreshes=12] [intervalMs=1500] [libDir=dist] [detail]
//
// With `detail`, an OwnerScanner runs in this thread instead and each scan's passes are printed
// (pass, fd directories listed, links read by step, unknown inodes, ms).
//
// libDir: the dist/ of a built checkout whose src/proc is timed (another checkout's, to compare
// two builds in one sitting with this same script). Per refresh: the tables are read and parsed
// without owners (not timed), then the owner source of the dashboard (the owner worker thread) is
// asked for the snapshot's inodes and every socket is looked up as the join does. Timed: process
// CPU (all threads) from the request to the last lookup, the main thread's CPU (/proc/self/task/
// <pid>/stat, 10 ms ticks: summed over the refreshes) and the owner worker thread's CPU (the
// thread that appeared when it started). The first refresh (the worker's start and cold scan)
// is left out of the figures.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface Lookup {
  lookup(inode: number): { pid: number } | null;
  sharedBy(inode: number): number;
}
interface Source {
  scan(wanted: ReadonlySet<number>): Promise<Lookup>;
  prime?(): Promise<void>;
  close(): Promise<void>;
}

const refreshes = Number(process.argv[2] ?? 12);
const intervalMs = Number(process.argv[3] ?? 1500);
const libDir = path.resolve(process.argv[4] ?? path.join(import.meta.dirname, '..'));
const lib = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(libDir, rel)).href)) as T;

const ticksPerSec = 100;
function threadTicks(tid: number): number {
  try {
    const text = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
const tasks = (): Set<number> => new Set(fs.readdirSync('/proc/self/task').map(Number));
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1] ?? NaN;

async function main(): Promise<void> {
  const collect = await lib<{
    collectSnapshot(deps: object): { sockets: readonly { inode: number }[] };
    wantedInodes(entries: readonly { inode: number }[]): ReadonlySet<number>;
  }>('src/proc/collect-snapshot.js');
  const procFsMod = await lib<{ createProcFs(root: string): object }>('src/proc/proc-fs.js');
  const ownersMod = await lib<{ createOwnerScanner(procFs: object): unknown }>('src/proc/read-owners.js');
  const sourceMod = await lib<{ createWorkerOwnerSource(root: string, fallback: () => unknown): Source }>('src/proc/owner-source.js');
  const procFs = procFsMod.createProcFs('/proc');
  const deps = {
    procFs,
    owners: null,
    userName: (uid: number) => String(uid),
    hostname: () => 'bench',
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
  };
  if (process.argv[5] === 'detail') {
    const scanner = ownersMod.createOwnerScanner(procFs) as {
      scan(wanted: ReadonlySet<number> | null): { stats: { durationMs: number }; detail: object };
    };
    scanner.scan(null);
    for (let r = 0; r < refreshes; r++) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const snap = collect.collectSnapshot(deps);
      const c0 = cpuMs();
      const result = scanner.scan(collect.wantedInodes(snap.sockets));
      console.log(`scan ${r}: cpu ${(cpuMs() - c0).toFixed(1)} ms`, JSON.stringify(result.detail));
    }
    return;
  }
  const before = tasks();
  const source = sourceMod.createWorkerOwnerSource('/proc', () => ownersMod.createOwnerScanner(procFs));
  let workerTid = -1;
  const totals: number[] = [];
  const walls: number[] = [];
  let main0 = 0;
  let worker0 = 0;
  let sockets = 0;
  let held = 0;
  const first = collect.collectSnapshot(deps);
  if (source.prime !== undefined) {
    const primed = source.prime();
    workerTid = [...tasks()].find((t) => !before.has(t)) ?? -1;
    await primed;
  }
  void first;
  for (let r = 0; r <= refreshes; r++) {
    const snap = collect.collectSnapshot(deps);
    if (r === 1) {
      main0 = threadTicks(process.pid);
      worker0 = threadTicks(workerTid);
    }
    const c0 = cpuMs();
    const t0 = performance.now();
    const owners = await source.scan(collect.wantedInodes(snap.sockets));
    held = 0;
    for (const s of snap.sockets) {
      if (owners.lookup(s.inode) !== null) held++;
      owners.sharedBy(s.inode);
    }
    const c1 = cpuMs();
    if (r > 0) {
      totals.push(c1 - c0);
      walls.push(performance.now() - t0);
    }
    sockets = snap.sockets.length;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const mainMs = ((threadTicks(process.pid) - main0) * 1000) / ticksPerSec / refreshes;
  const workerMs = ((threadTicks(workerTid) - worker0) * 1000) / ticksPerSec / refreshes;
  await source.close();
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  console.log(
    `${libDir}: ${sockets} sockets, ${held} with an owner; ${refreshes} refreshes every ${intervalMs} ms, load ${load}\n` +
      `  owner work per refresh (request to last lookup): process CPU median ${median(totals).toFixed(1)} ms ` +
      `(min ${Math.min(...totals).toFixed(1)}, max ${Math.max(...totals).toFixed(1)}), wall median ${median(walls).toFixed(1)} ms\n` +
      `  owner worker thread ${workerMs.toFixed(1)} ms/refresh; main thread (incl. the untimed read+parse) ${mainMs.toFixed(1)} ms/refresh`,
  );
}

await main();
