// Owners for a synthetic /proc tree (bench/proc-tree.ts): process directories whose fd/ holds a
// symlink per socket, as /proc/<pid>/fd/<n> -> "socket:[inode]", so `--once` with owners can be
// timed at sizes no loopback population reaches. Like a load test's host: a few busy processes
// hold most sockets (~2,000 each), many small ones hold a few files and no socket; every
// listener is also held by a second process (a pre-forked server), as are a few connections.

import fs from 'node:fs';
import path from 'node:path';

export interface ProcTreeOwnersSpec {
  /** Processes that hold sockets; the tree's socket inodes are dealt out to them in blocks. */
  readonly socketProcesses: number;
  /** Processes with a few non-socket fds (daemons, shells). */
  readonly idleProcesses: number;
  /** First pid; the others follow. */
  readonly firstPid?: number;
  /**
   * UNIX sockets appended to net/unix (default 0): the first half held by the socket processes
   * (one each in turn), the rest by nobody. /proc/net/unix has no uid: the holder's is shown.
   */
  readonly unixSockets?: number;
}

export interface ProcTreeOwnersResult {
  readonly processes: number;
  readonly links: number;
  readonly socketLinks: number;
}

/** The inode column (field 10) of every line of net/tcp and net/tcp6 under `root`, 0s left out. */
export function readTreeInodes(root: string): number[] {
  const inodes: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, 'net', table), 'latin1');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const fields = lines[i]!.trim().split(/\s+/);
      const inode = Number(fields[9]);
      if (Number.isInteger(inode) && inode > 0) inodes.push(inode);
    }
  }
  return inodes;
}

function writeProcess(root: string, pid: number, comm: string, targets: readonly string[]): void {
  const dir = path.join(root, String(pid));
  fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'stat'),
    `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194304 100 0 0 0 5 3 0 0 20 0 1 0 ${1000 + pid} 10000000 500 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`,
  );
  fs.writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
  fs.writeFileSync(path.join(dir, 'cmdline'), `${comm}\0--worker\0${pid}\0`);
  // Even pids run as root, odd ones as uid 1000.
  const uid = pid % 2 === 0 ? 0 : 1000;
  fs.writeFileSync(
    path.join(dir, 'status'),
    `Name:\t${comm}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\n`,
  );
  for (let fd = 0; fd < targets.length; fd++) fs.symlinkSync(targets[fd]!, path.join(dir, 'fd', String(fd)));
}

/**
 * Write process directories under the tree at `root` holding every socket inode of its tables.
 * Listeners (the tree's first inodes, one per 4,000 sockets) and every 997th connection are held
 * by two processes.
 */
export function writeSyntheticOwners(root: string, spec: ProcTreeOwnersSpec): ProcTreeOwnersResult {
  const inodes = readTreeInodes(root);
  const firstPid = spec.firstPid ?? 1000;
  const busy = Math.max(1, spec.socketProcesses);
  const perProcess = Math.ceil(inodes.length / busy);
  const listeners = Math.max(1, Math.ceil(inodes.length / 3600));
  let links = 0;
  let socketLinks = 0;
  const common = ['/dev/null', 'pipe:[4242]', 'anon_inode:[eventpoll]'];
  const unix = spec.unixSockets ?? 0;
  const unixHeld: number[][] = Array.from({ length: busy }, () => []);
  let unixLines = '';
  for (let u = 0; u < unix; u++) {
    const inode = 900_000_000 + u;
    unixLines += `000000000000${(u % 10_000).toString().padStart(4, '0')}: 00000002 00000000 00010000 0001 01 ${inode} /run/app-${u}.sock\n`;
    if (u < unix / 2) unixHeld[u % busy]!.push(inode);
  }
  if (unix > 0) fs.appendFileSync(path.join(root, 'net', 'unix'), unixLines);
  for (let p = 0; p < busy; p++) {
    const own = inodes.slice(p * perProcess, (p + 1) * perProcess);
    // Every 997th socket of the next process's block is shared with it; the last process also
    // holds the listeners (the first block's first inodes).
    const next = ((p + 1) % busy) * perProcess;
    const shared = inodes.slice(next, next + perProcess).filter((_, i) => i % 997 === 0);
    const held = p === busy - 1 ? [...own, ...shared, ...inodes.slice(1, listeners)] : [...own, ...shared];
    const targets = [...common, ...[...held, ...unixHeld[p]!].map((inode) => `socket:[${inode}]`), '/var/log/load.log'];
    socketLinks += unixHeld[p]!.length;
    writeProcess(root, firstPid + p, `loadgen-${p}`, targets);
    links += targets.length;
    socketLinks += held.length;
  }
  for (let q = 0; q < spec.idleProcesses; q++) {
    const targets = [...common, `/tmp/idle-${q}`, 'pipe:[77]'];
    writeProcess(root, firstPid + busy + q, `idle-${q}`, targets);
    links += targets.length;
  }
  return { processes: busy + spec.idleProcesses, links, socketLinks };
}
