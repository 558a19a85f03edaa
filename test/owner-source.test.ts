// The owner worker protocol: packed replies unpack to the same owners as a direct scan, and the
// real worker thread (from the build) answers for sockets this test holds.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import {
  createInlineOwnerSource,
  createWorkerOwnerSource,
  overlayOwnerChanges,
  OwnerTable,
  packOwnerScan,
  unpackOwnerScan,
  type OwnerScanReply,
} from '../src/proc/owner-source.js';
import { parseInetTable } from '../src/proc/parse-inet.js';

const procFs = createProcFs('/proc');

function ourInodes(port: number): number[] {
  const sockets = parseInetTable(procFs.readText('net/tcp') ?? '', 'tcp').sockets;
  // Both ends on 127.0.0.1: other programs may use the same port numbers on 127.0.0.x.
  const lo = (s: (typeof sockets)[number]): boolean =>
    s.localAddress === '127.0.0.1' && (s.remoteAddress === '127.0.0.1' || s.remoteAddress === '0.0.0.0');
  return sockets.filter((s) => s.inode !== 0 && lo(s) && (s.localPort === port || s.remotePort === port)).map((s) => s.inode);
}

describe('owner source', () => {
  let server: net.Server;
  let client: net.Socket;
  let port = 0;
  beforeAll(async () => {
    server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
    client = await new Promise<net.Socket>((r) => {
      const c = net.connect(port, '127.0.0.1', () => r(c));
    });
  });
  afterAll(() => {
    client.destroy();
    server.close();
  });

  it('pack/unpack keeps pid, fd, command and sharing of every found inode', () => {
    const inodes = ourInodes(port);
    expect(inodes.length).toBeGreaterThanOrEqual(3); // listener, and both ends of the connection
    const direct = createOwnerScanner(procFs).scan(new Set(inodes));
    const packed = packOwnerScan(createOwnerScanner(procFs), { id: 7, inodes: Float64Array.from([...inodes, 999999999]) });
    expect(packed.id).toBe(7);
    const unpacked = unpackOwnerScan(packed);
    for (const inode of inodes) {
      expect(unpacked.lookup(inode)).toEqual(direct.lookup(inode));
      expect(unpacked.sharedBy(inode)).toBe(direct.sharedBy(inode));
      expect(unpacked.lookup(inode)?.pid).toBe(process.pid);
    }
    expect(unpacked.lookup(999999999)).toBeNull();
  });

  it('the real worker thread (from the build) finds this process, and rescans cheaply', async () => {
    // From sources there is no compiled worker file; the build (npm test runs it first) has one.
    const built = new URL('../dist/src/proc/owner-source.js', import.meta.url);
    expect(fs.existsSync(built), 'run npm run build first').toBe(true);
    const mod = (await import(built.href)) as {
      createWorkerOwnerSource: typeof createWorkerOwnerSource;
      ownerWorkerPath: () => string | null;
    };
    // The tsc build (and SOCKSCOPE_LAUNCH=tsc) starts the compiled owner-worker.js beside it.
    expect(mod.ownerWorkerPath()).toBe(new URL('../dist/src/proc/owner-worker.js', import.meta.url).pathname);
    let fellBack = false;
    const source = mod.createWorkerOwnerSource('/proc', () => {
      fellBack = true;
      return createOwnerScanner(procFs);
    });
    try {
      const inodes = ourInodes(port);
      const first = await source.scan(new Set(inodes));
      const second = await source.scan(new Set(inodes));
      for (const inode of inodes) {
        expect(first.lookup(inode)?.pid).toBe(process.pid);
        expect(second.lookup(inode)?.pid).toBe(process.pid);
      }
      // The second scan of an unchanged population reads (almost) nothing again.
      expect(second.stats.linksRead).toBeLessThan(first.stats.linksRead);
      expect(fellBack).toBe(false);
    } finally {
      await source.close();
    }
  });

  it('the real worker’s prime resolves once its full scan is done: the next scan reads (almost) nothing', async () => {
    const built = new URL('../dist/src/proc/owner-source.js', import.meta.url);
    const mod = (await import(built.href)) as { createWorkerOwnerSource: typeof createWorkerOwnerSource };
    const source = mod.createWorkerOwnerSource('/proc', () => createOwnerScanner(procFs));
    try {
      const inodes = ourInodes(port);
      await source.prime?.();
      const after = await source.scan(new Set(inodes));
      for (const inode of inodes) expect(after.lookup(inode)?.pid).toBe(process.pid);
      // A cold scanner asked the same reads every process's fd links; after the prime, only what moved.
      const cold = createOwnerScanner(procFs).scan(new Set(inodes));
      expect(after.stats.linksRead).toBeLessThan(cold.stats.linksRead);
    } finally {
      await source.close();
    }
    // A closed source's prime resolves at once (nothing to wait for).
    await expect(source.prime?.()).resolves.toBeUndefined();
  });

  it('the real worker thread starts only on the first prime or scan, and its prime waits for the first snapshot', async () => {
    const built = new URL('../dist/src/proc/owner-source.js', import.meta.url);
    const mod = (await import(built.href)) as { createWorkerOwnerSource: typeof createWorkerOwnerSource };
    const threads = (): number => fs.readdirSync('/proc/self/task').length;
    await fs.promises.stat('/proc/self'); // libuv's pool is up before counting
    const before = threads();
    const source = mod.createWorkerOwnerSource('/proc', () => createOwnerScanner(procFs));
    try {
      // A dashboard's first frame does not share the CPU with a new isolate: no thread yet.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(threads()).toBe(before);
      expect(source.primeAfterFirstSnapshot).toBe(true);
      await source.prime?.();
      expect(threads()).toBeGreaterThan(before);
      const inodes = ourInodes(port);
      const found = await source.scan(new Set(inodes));
      for (const inode of inodes) expect(found.lookup(inode)?.pid).toBe(process.pid);
    } finally {
      await source.close();
    }
  });

  it('overlayOwnerChanges: a changed row answers for its inode (pid 0: no holder now), the table for every other', () => {
    const processes: OwnerScanReply['processes'] = [
      [100, { command: 'a', commandLine: 'a -x', uid: 0 }],
      [200, { command: 'b', commandLine: 'b', uid: 1000 }],
    ];
    const stats = { enabled: true, unreadableProcesses: 0, scannedProcesses: 2, linksRead: 3, durationMs: 1 } as const;
    const table = unpackOwnerScan({ id: 1, rows: Float64Array.from([11, 100, 3, 0, 12, 100, 4, 1, 13, 200, 5, 0]), processes, stats });
    const changes: OwnerScanReply = {
      id: 2,
      rows: Float64Array.from([12, 200, 9, 0, 13, 0, 0, 0, 14, 200, 6, 2]),
      processes: [processes[1]!],
      stats: { ...stats, linksRead: 1 },
    };
    const joined = overlayOwnerChanges(table, changes);
    expect(joined.stats.linksRead).toBe(1);
    expect([11, 12, 13, 14, 15].map((i) => [joined.lookup(i), joined.sharedBy(i)])).toEqual([
      [{ pid: 100, command: 'a', commandLine: 'a -x', uid: 0, fd: 3 }, 0],
      [{ pid: 200, command: 'b', commandLine: 'b', uid: 1000, fd: 9 }, 0],
      [null, 0],
      [{ pid: 200, command: 'b', commandLine: 'b', uid: 1000, fd: 6 }, 2],
      [null, 0],
    ]);
    // No change: the table's answers.
    const same = overlayOwnerChanges(table, { ...changes, rows: new Float64Array(0), processes: [] });
    expect([11, 12, 13, 14].map((i) => same.lookup(i)?.fd ?? null)).toEqual([3, 4, 5, null]);
    expect(same.sharedBy(12)).toBe(1);
  });

  it('holds(inode, owner, sharedBy) answers exactly whether lookup and sharedBy would give that owner and count', () => {
    const processes: OwnerScanReply['processes'] = [
      [100, { command: 'a', commandLine: 'a -x', uid: 0 }],
      [200, { command: 'b', commandLine: 'b', uid: 1000 }],
    ];
    const stats = { enabled: true, unreadableProcesses: 0, scannedProcesses: 2, linksRead: 3, durationMs: 1 } as const;
    // Rows out of the order asked below for 13 and 11, so both the in-order guess and the index answer.
    const table = unpackOwnerScan({ id: 1, rows: Float64Array.from([12, 100, 4, 1, 13, 200, 5, 0, 11, 100, 3, 0]), processes, stats });
    const changes: OwnerScanReply = { id: 2, rows: Float64Array.from([12, 200, 9, 0, 13, 0, 0, 0]), processes: [processes[1]!], stats };
    const overlay = overlayOwnerChanges(table, changes);
    // A live screen's table (delta replies): the same rows, then the changes applied.
    const live = new OwnerTable();
    live.apply({ id: 1, table: true, rows: Float64Array.from([12, 100, 4, 1, 13, 200, 5, 0, 11, 100, 3, 0]), processes, stats });
    const liveFirst = live.lookupWith(stats);
    live.apply(changes);
    const liveSecond = live.lookupWith(stats);
    const candidates = [
      null,
      { pid: 100, command: 'a', commandLine: 'a -x', uid: 0, fd: 3 },
      { pid: 100, command: 'a', commandLine: 'a -x', uid: 0, fd: 4 },
      { pid: 100, command: 'a', commandLine: 'a -y', uid: 0, fd: 4 },
      { pid: 100, command: 'a', commandLine: 'a -x', uid: 1, fd: 4 },
      { pid: 200, command: 'b', commandLine: 'b', uid: 1000, fd: 5 },
      { pid: 200, command: 'b', commandLine: 'b', uid: 1000, fd: 9 },
    ];
    let held = 0;
    for (const lookup of [table, overlay, liveSecond]) {
      for (const inode of [11, 12, 13, 14, 12, 11]) {
        for (const owner of candidates) {
          for (const sharedBy of [0, 1, 2]) {
            const expected = JSON.stringify(lookup.lookup(inode)) === JSON.stringify(owner) && lookup.sharedBy(inode) === sharedBy;
            expect(lookup.holds?.(inode, owner, sharedBy), `${inode} ${JSON.stringify(owner)} ${sharedBy}`).toBe(expected);
            if (expected) held++;
          }
        }
      }
    }
    expect(held).toBe(18);
    expect(liveFirst.holds?.(12, candidates[2]!, 1)).toBe(false); // answered from the table as it is now
    expect(liveFirst.holds?.(12, candidates[6]!, 0)).toBe(true);
  });

  it('primeTable then scanChanges (worker and inline) give a connection opened between them its owner', async () => {
    const built = new URL('../dist/src/proc/owner-source.js', import.meta.url);
    const mod = (await import(built.href)) as { createWorkerOwnerSource: typeof createWorkerOwnerSource };
    let fellBack = false;
    const sources = [
      mod.createWorkerOwnerSource('/proc', () => {
        fellBack = true;
        return createOwnerScanner(procFs);
      }),
      createInlineOwnerSource(createOwnerScanner(procFs)),
    ];
    for (const source of sources) {
      const extra = net.createServer();
      await new Promise<void>((r) => extra.listen(0, '127.0.0.1', () => r()));
      try {
        const table = await source.primeTable();
        const before = ourInodes(port);
        for (const inode of before) expect(table.lookup(inode)?.pid).toBe(process.pid);
        // Opened after the table: not in it, found by the scan for the snapshot's inodes.
        const extraPort = (extra.address() as net.AddressInfo).port;
        const other = await new Promise<net.Socket>((r) => {
          const c = net.connect(extraPort, '127.0.0.1', () => r(c));
        });
        try {
          const fresh = ourInodes(extraPort);
          expect(fresh.length).toBeGreaterThanOrEqual(2);
          const newOnes = fresh.filter((i) => table.lookup(i) === null);
          expect(newOnes.length).toBeGreaterThanOrEqual(2); // both ends of the new connection
          const changes = await source.scanChanges(Float64Array.from([...before, ...fresh]));
          expect(changes.rows.length / 4).toBeLessThan(before.length + fresh.length); // not every socket's row
          const joined = overlayOwnerChanges(table, changes);
          for (const inode of [...before, ...fresh]) expect(joined.lookup(inode)?.pid).toBe(process.pid);
        } finally {
          other.destroy();
        }
      } finally {
        extra.close();
        await source.close();
      }
    }
    expect(fellBack).toBe(false);
  });

  it('unpacked pid, fd and sharedBy are small integers, not doubles (a record field of doubles makes V8 migrate every record)', () => {
    // %IsSmi needs --allow-natives-syntax: a child node over the build, on a reply of 3,000 rows
    // (every third socket shared) as the worker sends it, in a Float64Array.
    const built = new URL('../dist/src/proc/owner-source.js', import.meta.url);
    expect(fs.existsSync(built), 'run npm run build first').toBe(true);
    const script = `
      const { unpackOwnerScan } = await import(${JSON.stringify(built.href)});
      const n = 3000, rows = new Float64Array(n * 4);
      for (let i = 0; i < n; i++) rows.set([1e6 + i, 100 + (i % 7), 3 + i, i % 3 === 0 ? 1 + (i % 5) : 0], i * 4);
      const processes = Array.from({ length: 7 }, (_, k) => [100 + k, { command: 'c', commandLine: 'c', uid: 0 }]);
      const lookup = unpackOwnerScan({ id: 1, rows, processes, stats: {} });
      let doubles = 0, shared = 0;
      for (let i = 0; i < n; i++) {
        const o = lookup.lookup(1e6 + i), by = lookup.sharedBy(1e6 + i);
        if (by > 0) shared++;
        if (o.pid !== 100 + (i % 7) || o.fd !== 3 + i || by !== (i % 3 === 0 ? 1 + (i % 5) : 0)) throw new Error('wrong owner ' + i);
        if (!%IsSmi(o.pid) || !%IsSmi(o.fd) || !%IsSmi(by)) doubles++;
      }
      console.log(JSON.stringify({ doubles, shared }));`;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(JSON.parse(out)).toEqual({ doubles: 0, shared: 1000 });
  });
});

// ---- a live screen's owner table under churn: the real worker, a child opening and closing -----

const CHURN_CHILD = `
const net = require('node:net');
const fs = require('node:fs');
const readline = require('node:readline');
const conns = [];
const fdOf = (h) => h._handle.fd;
const inodeOf = (fd) => Number(/socket:\\[(\\d+)\\]/.exec(fs.readlinkSync('/proc/self/fd/' + fd))[1]);
const report = (x) => process.stdout.write(JSON.stringify(x) + '\\n');
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => {
  report({ fd: fdOf(server), inode: inodeOf(fdOf(server)), port: server.address().port });
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'close') {
      const c = conns.pop();
      const fd = fdOf(c);
      c.destroy();
      report({ closed: fd });
    } else {
      const c = net.connect(server.address().port, '127.0.0.1', () => {
        conns.push(c);
        report({ fd: fdOf(c), inode: inodeOf(fdOf(c)), port: c.localPort });
      });
    }
  });
});
`;

interface ChurnReport {
  readonly fd?: number;
  readonly inode?: number;
  readonly port?: number;
  readonly closed?: number;
}

function startChurnChild(): { child: ChildProcess; ask: (line: string) => Promise<ChurnReport> } {
  const child = spawn(process.execPath, ['-e', CHURN_CHILD, 'sockscope-churn-test'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiters: ((r: ChurnReport) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => waiters.shift()?.(JSON.parse(line) as ChurnReport));
  const first = new Promise<ChurnReport>((resolve) => waiters.push(resolve));
  const ask = (line: string): Promise<ChurnReport> =>
    new Promise((resolve) => {
      waiters.push(resolve);
      if (line !== '') child.stdin!.write(`${line}\n`);
    });
  return { child, ask: (line) => (line === '' ? first : ask(line)) };
}

/** pid and fd of the socket with local port `port` on 127.0.0.1, as `ss -tanp` says, or null without ss. */
function ssOwner(port: number): { pid: number; fd: number } | null {
  let out: string;
  try {
    out = execFileSync('ss', ['-tanpH', 'src', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return null;
  }
  const m = /pid=(\d+),fd=(\d+)/.exec(out);
  return m === null ? null : { pid: Number(m[1]), fd: Number(m[2]) };
}

describe('owner table of a live screen (delta replies) under churn', () => {
  const spawned: ChildProcess[] = [];
  afterAll(() => {
    for (const c of spawned) c.kill();
  });

  it('an fd closed and reopened on the same number for another socket, a new process, an exiting one', async () => {
    const built = new URL('../dist/src/proc/owner-source.js', import.meta.url);
    expect(fs.existsSync(built), 'run npm run build first').toBe(true);
    const mod = (await import(built.href)) as { createWorkerOwnerSource: typeof createWorkerOwnerSource };
    let fellBack = false;
    const source = mod.createWorkerOwnerSource('/proc', () => {
      fellBack = true;
      return createOwnerScanner(procFs);
    });
    const a = startChurnChild();
    spawned.push(a.child);
    try {
      const listener = await a.ask('');
      const c1 = await a.ask('open');
      const wanted = new Set([listener.inode!, c1.inode!]);
      const first = await source.scan(wanted);
      expect(first.lookup(listener.inode!)).toMatchObject({ pid: a.child.pid, fd: listener.fd });
      expect(first.lookup(c1.inode!)).toMatchObject({ pid: a.child.pid, fd: c1.fd });
      expect(ssOwner(c1.port!) ?? { pid: a.child.pid, fd: c1.fd }).toEqual({ pid: a.child.pid, fd: c1.fd });

      // The client socket is closed and a new connection takes the same fd number.
      const closed = await a.ask('close');
      expect(closed.closed).toBe(c1.fd);
      const c2 = await a.ask('open');
      expect(c2.fd).toBe(c1.fd);
      expect(c2.inode).not.toBe(c1.inode);
      const second = await source.scan(new Set([listener.inode!, c2.inode!]));
      expect(second.lookup(c2.inode!)).toMatchObject({ pid: a.child.pid, fd: c1.fd, command: 'node' });
      expect(second.lookup(c1.inode!)).toBeNull(); // no stale answer for the old socket
      expect(ssOwner(c2.port!) ?? { pid: a.child.pid, fd: c2.fd }).toEqual({ pid: a.child.pid, fd: c2.fd });

      // A new process with sockets of its own.
      const b = startChurnChild();
      spawned.push(b.child);
      const bListener = await b.ask('');
      const b1 = await b.ask('open');
      const third = await source.scan(new Set([listener.inode!, c2.inode!, bListener.inode!, b1.inode!]));
      expect(third.lookup(bListener.inode!)).toMatchObject({ pid: b.child.pid, fd: bListener.fd });
      expect(third.lookup(b1.inode!)).toMatchObject({ pid: b.child.pid, fd: b1.fd });
      expect(third.lookup(c2.inode!)).toMatchObject({ pid: a.child.pid, fd: c2.fd });

      // The first process exits: its sockets lose their owner, the other keeps its own.
      a.child.kill();
      await new Promise((resolve) => a.child.once('exit', resolve));
      const fourth = await source.scan(new Set([listener.inode!, c2.inode!, bListener.inode!, b1.inode!]));
      expect(fourth.lookup(listener.inode!)).toBeNull();
      expect(fourth.lookup(c2.inode!)).toBeNull();
      expect(fourth.lookup(b1.inode!)).toMatchObject({ pid: b.child.pid, fd: b1.fd });
      expect(fourth.sharedBy(b1.inode!)).toBe(0);
      expect(fellBack).toBe(false);
    } finally {
      await source.close();
    }
  });
});

describe("OwnerTable (a live screen's side of the delta replies)", () => {
  const stats = { enabled: true, unreadableProcesses: 0, scannedProcesses: 1, linksRead: 0, durationMs: 0 };
  const proc = (command: string): { command: string; commandLine: string; uid: number } => ({ command, commandLine: command, uid: 0 });

  it('a table, then changes: new rows, moved holders, lost holders (pid 0), a process renamed; compaction keeps the answers', () => {
    const table = new OwnerTable();
    table.apply({ id: 1, table: true, rows: Float64Array.from([11, 100, 3, 0, 12, 100, 4, 1]), processes: [[100, proc('nginx')]], stats });
    const first = table.lookupWith(stats);
    expect(first.lookup(11)).toEqual({ pid: 100, fd: 3, command: 'nginx', commandLine: 'nginx', uid: 0 });
    expect(first.sharedBy(12)).toBe(1);
    expect(first.lookup(13)).toBeNull();
    // 13 new (pid 200), 11 lost its holder, 12 now held by pid 200 alone, pid 100 renamed.
    table.apply({
      id: 2,
      rows: Float64Array.from([13, 200, 5, 0, 11, 0, 0, 0, 12, 200, 6, 0]),
      processes: [
        [200, proc('redis')],
        [100, proc('nginx2')],
      ],
      stats,
    });
    const second = table.lookupWith(stats);
    expect(second.lookup(11)).toBeNull();
    expect(second.sharedBy(11)).toBe(0);
    expect(second.lookup(12)).toMatchObject({ pid: 200, fd: 6, command: 'redis' });
    expect(second.sharedBy(12)).toBe(0);
    expect(second.lookup(13)).toMatchObject({ pid: 200, fd: 5 });
    expect(table.size).toBe(2);
    // Many sockets come and go: the rows of lost holders are compacted away, answers stay.
    for (let round = 0; round < 5; round++) {
      const rows: number[] = [];
      for (let i = 0; i < 3000; i++) rows.push(1000 + round * 3000 + i, 200, 10 + i, 0);
      if (round > 0) for (let i = 0; i < 3000; i++) rows.push(1000 + (round - 1) * 3000 + i, 0, 0, 0);
      table.apply({ id: 3 + round, rows: Float64Array.from(rows), processes: [[200, proc('redis')]], stats });
    }
    const last = table.lookupWith(stats);
    expect(table.size).toBe(2 + 3000);
    expect(last.lookup(1000 + 4 * 3000 + 7)).toMatchObject({ pid: 200, fd: 17 });
    expect(last.lookup(1000 + 3 * 3000 + 7)).toBeNull();
    expect(last.lookup(13)).toMatchObject({ pid: 200, fd: 5 });
    // A whole table again (a restarted scanner) replaces everything.
    table.apply({ id: 9, table: true, rows: Float64Array.from([13, 300, 1, 0]), processes: [[300, proc('sshd')]], stats });
    expect(table.lookupWith(stats).lookup(12)).toBeNull();
    expect(table.lookupWith(stats).lookup(13)).toMatchObject({ pid: 300, command: 'sshd' });
  });

  it('under churn the rows of lost holders are dropped: what it stores stays near the live rows', () => {
    const table = new OwnerTable();
    const live = 20_000;
    const first: number[] = [];
    for (let i = 0; i < live; i++) first.push(1 + i, 200, 10 + i, 0);
    table.apply({ id: 1, table: true, rows: Float64Array.from(first), processes: [[200, proc('loadgen')]], stats });
    // 200 rounds of 500 sockets opened and the 500 oldest closed (a load test's churn).
    let oldest = 1;
    let next = live + 1;
    let most = { stored: 0, capacity: 0, indexSlots: 0 };
    for (let round = 0; round < 200; round++) {
      const rows: number[] = [];
      for (let i = 0; i < 500; i++) rows.push(next++, 200, 10 + i, 0);
      for (let i = 0; i < 500; i++) rows.push(oldest++, 0, 0, 0);
      table.apply({ id: 2 + round, rows: Float64Array.from(rows), processes: [[200, proc('loadgen')]], stats });
      const f = table.footprint;
      most = {
        stored: Math.max(most.stored, f.stored),
        capacity: Math.max(most.capacity, f.capacity),
        indexSlots: Math.max(most.indexSlots, f.indexSlots),
      };
    }
    expect(table.size).toBe(live);
    const lookup = table.lookupWith(stats);
    expect(lookup.lookup(oldest - 1)).toBeNull();
    expect(lookup.lookup(oldest)).toMatchObject({ pid: 200 });
    expect(lookup.lookup(next - 1)).toMatchObject({ pid: 200 });
    // Rows of lost holders at most a quarter of those stored (a third more than the live ones,
    // plus one reply's worth), room for half as many again, an index of at most 8 slots a live
    // row (compacted at half, it was up to 2x, 4x and 16x).
    expect(most.stored).toBeLessThanOrEqual((live * 4) / 3 + 1000);
    expect(most.capacity).toBeLessThanOrEqual(most.stored * 1.5 + 1024);
    expect(most.indexSlots).toBeLessThanOrEqual(live * 8);
  });

  it('a whole table again (a restarted scanner) replaces everything', () => {
    const table = new OwnerTable();
    table.apply({ id: 1, table: true, rows: Float64Array.from([12, 100, 3, 0]), processes: [[100, proc('nginx')]], stats });
    table.apply({ id: 9, table: true, rows: Float64Array.from([13, 300, 1, 0]), processes: [[300, proc('sshd')]], stats });
    expect(table.lookupWith(stats).lookup(12)).toBeNull();
    expect(table.lookupWith(stats).lookup(13)).toMatchObject({ pid: 300, command: 'sshd' });
  });
});
