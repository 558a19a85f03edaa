import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createProcFs, type ProcFs } from '../src/proc/proc-fs.js';
import {
  createOwnerScanner,
  kernelCountsFds,
  parseCmdline,
  parseDecimal,
  parseSocketTarget,
  parseStatFields,
  parseStatusUid,
  type OwnerScanResult,
  type OwnerScannerOptions,
} from '../src/proc/read-owners.js';
import { createUserNames, parsePasswd } from '../src/proc/read-users.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---- a recorded /proc tree in a tmp dir -----------------------------------------------------

interface FakeProcess {
  readonly comm: string;
  readonly argv?: readonly string[];
  readonly uid?: number;
  /** Field 22 of /proc/<pid>/stat, clock ticks after boot. */
  readonly start?: number;
}

class FakeProc {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-owners-'));

  constructor() {
    fs.mkdirSync(path.join(this.root, 'net'));
    fs.writeFileSync(path.join(this.root, 'net', 'tcp'), '');
    fs.symlinkSync('1', path.join(this.root, 'self'));
  }

  addProcess(pid: number, p: FakeProcess): this {
    const dir = path.join(this.root, String(pid));
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    const uid = p.uid ?? 0;
    fs.writeFileSync(path.join(dir, 'comm'), `${p.comm}\n`);
    fs.writeFileSync(path.join(dir, 'cmdline'), (p.argv ?? []).map((a) => `${a}\0`).join(''));
    // Fields 3..21 then 22 (starttime) and a few more, as the kernel prints them.
    const fields = ['S', '1', String(pid), String(pid), '0', '-1', '4194560', '0', '0', '0', '0', '0', '0'];
    fields.push('0', '0', '20', '0', '1', '0', String(p.start ?? 1000), '9000000', '300', '18446744073709551615');
    fs.writeFileSync(path.join(dir, 'stat'), `${pid} (${p.comm}) ${fields.join(' ')}\n`);
    fs.writeFileSync(
      path.join(dir, 'status'),
      `Name:\t${p.comm}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t${pid}\nPid:\t${pid}\n` +
        `Uid:\t${uid}\t${uid + 1}\t${uid}\t${uid}\nGid:\t0\t0\t0\t0\n`,
    );
    return this;
  }

  link(pid: number, fd: number, target: string): this {
    const p = path.join(this.root, String(pid), 'fd', String(fd));
    fs.rmSync(p, { force: true });
    fs.symlinkSync(target, p);
    return this;
  }

  socket(pid: number, fd: number, inode: number): this {
    return this.link(pid, fd, `socket:[${inode}]`);
  }

  close(pid: number, fd: number): this {
    fs.rmSync(path.join(this.root, String(pid), 'fd', String(fd)));
    return this;
  }

  /** Give the pid to a new process: built aside first, so no inode number is recycled. */
  replaceProcess(pid: number, p: FakeProcess, fds: Readonly<Record<number, string>>): this {
    const spare = 4_000_000 + pid;
    this.addProcess(spare, p);
    for (const [fd, target] of Object.entries(fds)) this.link(spare, Number(fd), target);
    const stat = path.join(this.root, String(spare), 'stat');
    fs.writeFileSync(stat, fs.readFileSync(stat, 'utf8').replace(`${spare} `, `${pid} `));
    fs.renameSync(path.join(this.root, String(spare)), path.join(this.root, `.new${pid}`));
    this.removeProcess(pid);
    fs.renameSync(path.join(this.root, `.new${pid}`), path.join(this.root, String(pid)));
    return this;
  }

  removeProcess(pid: number): this {
    fs.rmSync(path.join(this.root, String(pid)), { recursive: true });
    return this;
  }

  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

interface Spied {
  readonly procFs: ProcFs;
  readonly readLinks: () => number;
}

/**
 * ProcFs over the fake tree. `fdCount`: answer st_size of <pid>/fd with the number of entries,
 * as Linux >= 6.2 does (a tmpfs directory size is not a count). Counts readlink calls.
 */
function spiedProcFs(root: string, opts: { fdCount?: boolean; withStat?: boolean } = {}): Spied {
  const base = createProcFs(root);
  let readLinks = 0;
  const count = (rel: string, size: number): number =>
    opts.fdCount === true && rel.endsWith('/fd') ? (base.readDir(rel)?.length ?? size) : size;
  const procFs: ProcFs = {
    root: base.root,
    readText: (rel) => base.readText(rel),
    readTextAsync: (rel) => base.readTextAsync(rel),
    readDir: (rel) => base.readDir(rel),
    readLink: (rel) => {
      readLinks += 1;
      return base.readLink(rel);
    },
    statSize: (rel) => {
      const size = base.statSize(rel);
      return size === null ? null : count(rel, size);
    },
    statUid: (rel) => base.statUid(rel),
    lastError: () => base.lastError(),
  };
  const withStat: ProcFs =
    opts.withStat === false
      ? procFs
      : {
          ...procFs,
          stat: (rel) => {
            const st = base.stat?.(rel) ?? null;
            return st === null ? null : { ...st, size: count(rel, st.size) };
          },
        };
  return { procFs: withStat, readLinks: () => readLinks };
}

const NO_REVERIFY: OwnerScannerOptions = { reverifyEveryScans: 0 };

function ownerOf(result: OwnerScanResult, inode: number): [number, number] | null {
  const owner = result.lookup(inode);
  return owner === null ? null : [owner.pid, owner.fd];
}

/** A small server: pid 100 nginx master (2 sockets, a file, a pipe), pid 200 sshd, pid 2 kthread. */
function buildServer(fake: FakeProc): void {
  fake
    .addProcess(100, { comm: 'nginx', argv: ['nginx: master process', '/usr/sbin/nginx', '-g', 'daemon on;'], uid: 33 })
    .link(100, 0, '/dev/null')
    .link(100, 1, 'pipe:[777]')
    .socket(100, 3, 1001)
    .socket(100, 4, 1002)
    .addProcess(200, { comm: 'sshd', argv: ['/usr/sbin/sshd', '-D'], uid: 0, start: 2000 })
    .link(200, 0, '/dev/null')
    .socket(200, 5, 2001)
    .addProcess(2, { comm: 'kthreadd', argv: [] });
}

describe('OwnerScanner on a recorded /proc tree', () => {
  let fake: FakeProc;
  beforeEach(() => {
    fake = new FakeProc();
    buildServer(fake);
  });
  afterEach(() => fake.dispose());

  for (const fdCount of [true, false]) {
    describe(fdCount ? 'st_size is the fd count (Linux >= 6.2)' : 'st_size is not a count (old kernel, tmpfs)', () => {
      it('first scan reads every link once and fills owners from comm, cmdline and status', () => {
        const spy = spiedProcFs(fake.root, { fdCount });
        const scanner = createOwnerScanner(spy.procFs, NO_REVERIFY);
        const r = scanner.scan(new Set([1001, 1002, 2001]));
        expect(r.lookup(1001)).toEqual({
          pid: 100,
          command: 'nginx',
          commandLine: 'nginx: master process /usr/sbin/nginx -g daemon on;',
          uid: 33,
          fd: 3,
        });
        expect(ownerOf(r, 1002)).toEqual([100, 4]);
        expect(r.lookup(2001)).toMatchObject({ pid: 200, command: 'sshd', commandLine: '/usr/sbin/sshd -D', fd: 5 });
        expect(r.lookup(777)).toBeNull(); // a pipe, not a socket
        expect(r.sharedBy(1001)).toBe(0);
        expect(r.stats).toMatchObject({ enabled: true, unreadableProcesses: 0, scannedProcesses: 3, linksRead: 6 });
        expect(r.stats.linksRead).toBe(spy.readLinks());
        expect(r.detail).toMatchObject({ pass: 'full', processes: 3, dirsListed: 3, cachedLinks: 6 });
        expect(r.detail.fdCountFromStat).toBe(fdCount);
      });

      it('steady state reads no link; added and closed fds cost one readlink each', () => {
        const spy = spiedProcFs(fake.root, { fdCount });
        const scanner = createOwnerScanner(spy.procFs, NO_REVERIFY);
        scanner.scan(new Set([1001, 1002, 2001]));
        const steady = scanner.scan(new Set([1001, 1002, 2001]));
        expect(steady.stats.linksRead).toBe(0);
        expect(steady.detail.pass).toBe('incremental');
        expect(steady.detail.dirsListed).toBe(fdCount ? 0 : 3);
        expect(ownerOf(steady, 1001)).toEqual([100, 3]);

        // New fds get the lowest free numbers, as the kernel gives them (pid 100: 0 1 3; pid 200: 0 5).
        fake.close(100, 4).socket(100, 2, 1003).socket(200, 1, 2002);
        const before = spy.readLinks();
        const r = scanner.scan(new Set([1001, 1003, 2001, 2002]));
        // Untrusted counts: both directories are listed. Counts: pid 100 kept 4 fds, so its new
        // fd shows up through the vanished 1002 (fd 4 re-read: gone); each process then has one
        // more fd open than cached, read at its lowest uncached number: no directory listed.
        expect(r.stats.linksRead).toBe(fdCount ? 3 : 2);
        expect(r.detail.dirsListed).toBe(fdCount ? 0 : 3);
        expect(spy.readLinks() - before).toBe(r.stats.linksRead);
        expect(ownerOf(r, 1003)).toEqual([100, 2]);
        expect(ownerOf(r, 2002)).toEqual([200, 1]);
        expect(r.lookup(1002)).toBeNull();
        expect(r.detail.pass).toBe('incremental');
      });

      if (fdCount) {
        it('a changed fd count that the lowest free numbers do not explain lists the directory', () => {
          const spy = spiedProcFs(fake.root, { fdCount });
          const scanner = createOwnerScanner(spy.procFs, NO_REVERIFY);
          scanner.scan(new Set([1001, 1002, 2001]));
          // pid 200 (fds 0 5) gets a socket at fd 40 (dup2): the probes of 1 2 3 4 6 … give up.
          fake.socket(200, 40, 2003);
          const far = scanner.scan(new Set([1001, 1002, 2001, 2003]));
          expect(ownerOf(far, 2003)).toEqual([200, 40]);
          expect(far.detail.dirsListed).toBe(1);
          // pid 100 closes a file and opens nothing: fewer fds open than cached, which one is not
          // known without a listing.
          fake.close(100, 0);
          const fewer = scanner.scan(new Set([1001, 1002, 2001, 2003]));
          expect(fewer.detail.dirsListed).toBe(1);
          expect(fewer.detail.cachedLinks).toBe(far.detail.cachedLinks - 1);
          // pid 100 closes the socket of fd 3 and accepts two: fd 0 (lowest free) and fd 3 again.
          fake.socket(100, 0, 1010).socket(100, 3, 1011);
          const reused = scanner.scan(new Set([1002, 2001, 2003, 1010, 1011]));
          expect(ownerOf(reused, 1010)).toEqual([100, 0]);
          expect(ownerOf(reused, 1011)).toEqual([100, 3]);
          expect(reused.lookup(1001)).toBeNull();
          expect(reused.detail.dirsListed).toBe(0);
          expect(reused.stats.linksRead).toBe(2); // fd 3 (vanished 1001), fd 0 (one more open)
        });
      }

      it('an fd number closed and reused for another socket gets the new inode, no stale owner', () => {
        const spy = spiedProcFs(fake.root, { fdCount });
        const scanner = createOwnerScanner(spy.procFs, NO_REVERIFY);
        scanner.scan(new Set([1001, 1002, 2001]));
        fake.socket(100, 3, 1005); // close(3) then accept() → fd 3 again: same count, same names
        const r = scanner.scan(new Set([1002, 1005, 2001]));
        expect(ownerOf(r, 1005)).toEqual([100, 3]);
        expect(r.lookup(1001)).toBeNull();
        // Found through the vanished inode 1001: one readlink, no wider pass.
        expect(r.stats.linksRead).toBe(1);
        expect(r.detail.pass).toBe('incremental');
      });

      it('reuse of an fd whose old socket lives on in another process is found by the wider passes', () => {
        fake.addProcess(150, { comm: 'nginx', argv: ['nginx: worker process'], uid: 33, start: 1500 }).socket(150, 3, 1001);
        const scanner = createOwnerScanner(spiedProcFs(fake.root, { fdCount }).procFs, NO_REVERIFY);
        const first = scanner.scan(new Set([1001, 1002, 2001]));
        expect(ownerOf(first, 1001)).toEqual([100, 3]);
        expect(first.sharedBy(1001)).toBe(1);
        fake.socket(100, 3, 1006); // master closed its copy; fd 3 now holds a new socket
        // Nothing listed or vanished points at fd 3: 1006 is unknown. An inode unknown for the
        // first time may be a socket already closed again (a busy host): no "all" pass yet.
        const unsure = scanner.scan(new Set([1001, 1002, 1006, 2001]));
        expect(unsure.lookup(1006)).toBeNull();
        expect(unsure.detail.unknownInodes).toBe(1);
        expect(unsure.detail.pass).toBe('incremental');
        // Still unknown one refresh later: the "all" pass reads every suspect link and finds it.
        const r = scanner.scan(new Set([1001, 1002, 1006, 2001]));
        expect(r.detail.pass).toBe('all');
        expect(ownerOf(r, 1006)).toEqual([100, 3]);
        expect(ownerOf(r, 1001)).toEqual([150, 3]);
        expect(r.sharedBy(1001)).toBe(0);
        expect(r.detail.unknownInodes).toBe(0);
      });

      it('a vanished pid drops its sockets; a reused pid gets fresh comm, cmdline and uid', () => {
        const scanner = createOwnerScanner(spiedProcFs(fake.root, { fdCount }).procFs, NO_REVERIFY);
        scanner.scan(new Set([1001, 1002, 2001]));
        fake.removeProcess(200);
        const gone = scanner.scan(new Set([1001, 1002]));
        expect(gone.lookup(2001)).toBeNull();
        expect(gone.detail.processes).toBe(2);

        // pid 100 exits and the pid is handed to a new process with the same fd layout.
        fake.replaceProcess(
          100,
          { comm: 'redis-server', argv: ['redis-server *:6379'], uid: 999, start: 5000 },
          {
            0: '/dev/null',
            1: 'pipe:[778]',
            3: 'socket:[1001]',
            4: 'socket:[1002]',
          },
        );
        const reused = scanner.scan(new Set([1001, 1002]));
        expect(reused.lookup(1001)).toEqual({ pid: 100, command: 'redis-server', commandLine: 'redis-server *:6379', uid: 999, fd: 3 });
      });

      it('a socket held by several (pid, fd) has the lowest pid, then lowest fd, as primary', () => {
        fake
          .addProcess(500, { comm: 'worker', start: 3000 })
          .socket(500, 7, 4000)
          .addProcess(400, { comm: 'worker', start: 3001 })
          .socket(400, 9, 4000)
          .socket(400, 8, 4000);
        const scanner = createOwnerScanner(spiedProcFs(fake.root, { fdCount }).procFs, NO_REVERIFY);
        const r = scanner.scan(new Set([4000]));
        expect(ownerOf(r, 4000)).toEqual([400, 8]);
        expect(r.sharedBy(4000)).toBe(2);
        fake.close(400, 8);
        const r2 = scanner.scan(new Set([4000]));
        expect(ownerOf(r2, 4000)).toEqual([400, 9]);
        expect(r2.sharedBy(4000)).toBe(1);
      });

      it('ownerless inodes trigger one wider pass, not one per refresh', () => {
        const spy = spiedProcFs(fake.root, { fdCount });
        const scanner = createOwnerScanner(spy.procFs, NO_REVERIFY);
        const first = scanner.scan(new Set([1001, 9999])); // 9999: a kernel socket, no holder
        expect(first.lookup(9999)).toBeNull();
        const second = scanner.scan(new Set([1001, 9999]));
        expect(second.stats.linksRead).toBe(0);
        expect(second.detail.pass).toBe('incremental');

        const new8888 = scanner.scan(new Set([1001, 9999, 8888])); // a new unknown inode
        expect(new8888.detail.pass).toBe('incremental'); // first time unknown: nothing read yet
        expect(new8888.stats.linksRead).toBe(0);
        const third = scanner.scan(new Set([1001, 9999, 8888])); // still unknown: the "all" pass
        expect(third.detail.pass).toBe('all');
        // Only suspect links are re-read: the file, the pipe, sockets not wanted (1002, 2001).
        expect(third.stats.linksRead).toBe(5);
        expect(third.detail.unknownInodes).toBe(1);
        for (let i = 0; i < 3; i += 1) {
          const later = scanner.scan(new Set([1001, 9999, 8888]));
          expect(later.stats.linksRead).toBe(0);
          expect(later.detail.pass).toBe('incremental');
        }
        // Once it is gone from the snapshot it is forgotten; if it shows up again and a process
        // now holds it, it is found.
        scanner.scan(new Set([1001]));
        fake.socket(200, 9, 8888);
        const back = scanner.scan(new Set([1001, 8888]));
        expect(ownerOf(back, 8888)).toEqual([200, 9]);
      });

      it('an ownerless inode that gains a holder is found; when it loses it again it is searched for again', () => {
        const spy = spiedProcFs(fake.root, { fdCount });
        const scanner = createOwnerScanner(spy.procFs, { ...NO_REVERIFY, fullPassMinGapScans: 1 });
        scanner.scan(null); // the prime: every link read
        const wanted = new Set([1001, 7777]);
        expect(scanner.scan(wanted).detail.unknownInodes).toBe(1); // 7777: unknown since this scan
        const given = scanner.scan(wanted); // still unknown: the passes, then ownerless
        expect(given.detail.pass).toBe('all');
        expect(scanner.scan(wanted).detail.pass).toBe('incremental'); // ownerless: no pass
        // A process opens it (a new fd): found by the listing, the mark goes.
        fake.socket(200, 9, 7777);
        expect(ownerOf(scanner.scan(wanted), 7777)).toEqual([200, 9]);
        // It passes the socket to another process, which gets it on the number of a file it
        // closed (its count unchanged: no listing sees it), and closes its own fd: unknown again,
        // and the passes look for it (it is not left ownerless).
        fake.close(200, 9);
        fake.socket(100, 0, 7777);
        expect(scanner.scan(wanted).lookup(7777)).toBeNull(); // unknown since this scan
        const found = scanner.scan(wanted);
        expect(found.detail.pass).toBe('all');
        expect(ownerOf(found, 7777)).toEqual([100, 0]);
        expect(found.detail.unknownInodes).toBe(0);
      });
    });
  }

  it('packOwners gives the rows and processes of lookup and sharedBy, shared sockets included', () => {
    fake.addProcess(150, { comm: 'nginx', argv: ['nginx: worker process'], uid: 33, start: 1500 }).socket(150, 3, 1001);
    const r = createOwnerScanner(createProcFs(fake.root)).scan(new Set([1001, 1002, 2001, 9999]));
    const packed = r.packOwners([2001, 9999, 1001, 1002]);
    const rows: number[][] = [];
    for (let i = 0; i < packed.rows.length; i += 4) rows.push([...packed.rows.subarray(i, i + 4)]);
    expect(rows).toEqual([
      [2001, 200, 5, 0],
      [1001, 100, 3, 1],
      [1002, 100, 4, 0],
    ]);
    for (const [inode, pid, fd, shared] of rows) {
      expect(r.lookup(inode!)).toMatchObject({ pid, fd });
      expect(r.sharedBy(inode!)).toBe(shared);
    }
    expect(new Map(packed.processes)).toEqual(
      new Map([
        [200, { command: 'sshd', commandLine: '/usr/sbin/sshd -D', uid: 0 }],
        [100, { command: 'nginx', commandLine: 'nginx: master process /usr/sbin/nginx -g daemon on;', uid: 33 }],
      ]),
    );
  });

  it('packAllOwners packs every held inode as packOwners does; packChangedOwners then answers only what changed', () => {
    fake.addProcess(150, { comm: 'nginx', argv: ['nginx: worker process'], uid: 33, start: 1500 }).socket(150, 3, 1001);
    const scanner = createOwnerScanner(createProcFs(fake.root), { fdCountFromStat: false });
    const first = scanner.scan(null);
    const all = first.packAllOwners();
    const byInode = (rows: Float64Array): Map<number, number[]> => {
      const m = new Map<number, number[]>();
      for (let i = 0; i < rows.length; i += 4) m.set(rows[i]!, [...rows.subarray(i + 1, i + 4)]);
      return m;
    };
    expect(byInode(all.rows)).toEqual(byInode(first.packOwners([1001, 1002, 2001]).rows));
    expect(new Map(all.processes)).toEqual(new Map(first.packOwners([1001, 1002, 2001]).processes));
    scanner.trackChanges();
    // Between the table and the scan for the snapshot: a new socket, a closed one, a new sharer.
    fake.socket(200, 7, 3001).close(100, 4).socket(200, 8, 2001);
    const wanted = new Set([1001, 1002, 2001, 3001]);
    const changed = scanner.scan(wanted).packChangedOwners();
    expect(byInode(changed.rows)).toEqual(
      new Map([
        [3001, [200, 7, 0]],
        [1002, [0, 0, 0]], // no holder now
        [2001, [200, 5, 1]],
      ]),
    );
    expect(new Map(changed.processes)).toEqual(new Map([[200, { command: 'sshd', commandLine: '/usr/sbin/sshd -D', uid: 0 }]]));
    // Tracking goes on from there: a scan with no change answers nothing.
    expect(scanner.scan(wanted).packChangedOwners().rows.length).toBe(0);
  });

  it('packAllOwners(first): the held inodes of first come first in its order, then every other holder once', () => {
    fake.addProcess(150, { comm: 'nginx', argv: ['nginx: worker process'], uid: 33, start: 1500 }).socket(150, 3, 1001);
    const scanner = createOwnerScanner(createProcFs(fake.root), { fdCountFromStat: false });
    const result = scanner.scan(null);
    const inodesOf = (rows: Float64Array): number[] => [...rows].filter((_, i) => i % 4 === 0);
    const plain = result.packAllOwners();
    // 9999 has no holder and 2001 is asked twice: neither adds a row.
    const ordered = result.packAllOwners(new Float64Array([2001, 9999, 1002, 2001]));
    expect(inodesOf(ordered.rows).slice(0, 2)).toEqual([2001, 1002]);
    expect(inodesOf(ordered.rows).sort()).toEqual(inodesOf(plain.rows).sort());
    const rowOf = (rows: Float64Array, inode: number): number[] => {
      const i = inodesOf(rows).indexOf(inode) * 4;
      return [...rows.subarray(i, i + 4)];
    };
    for (const inode of inodesOf(plain.rows)) expect(rowOf(ordered.rows, inode)).toEqual(rowOf(plain.rows, inode));
    expect(new Map(ordered.processes)).toEqual(new Map(plain.processes));
  });

  describe('a new process with a trusted fd count: its lowest fds are read without a listing', () => {
    /** spiedProcFs (st_size: the count) that also records which fd directories were listed. */
    function listingSpy(root: string): { procFs: ProcFs; listed: string[]; readLinks: () => number } {
      const spy = spiedProcFs(root, { fdCount: true });
      const listed: string[] = [];
      return {
        procFs: {
          ...spy.procFs,
          readDir: (rel) => {
            if (rel.endsWith('/fd')) listed.push(rel);
            return spy.procFs.readDir(rel);
          },
        },
        listed,
        readLinks: spy.readLinks,
      };
    }

    it('fds with a hole are found by reading 0, 1, 2…; sparse fds fall back to a listing; same owners either way', () => {
      fake.addProcess(300, { comm: 'sparse', start: 3000 }).socket(300, 0, 3001).socket(300, 900, 3002);
      const spy = listingSpy(fake.root);
      const scanner = createOwnerScanner(spy.procFs, { ...NO_REVERIFY, fdCountFromStat: true });
      const r = scanner.scan(null);
      // nginx: 0, 1, 3, 4 (a hole at 2); sshd: 0, 5 (4 holes) — read in place. 300: fd 900 is
      // far beyond its count of 2, so its directory is listed (fd 0 is not read twice).
      expect(spy.listed).toEqual(['300/fd']);
      expect(ownerOf(r, 1001)).toEqual([100, 3]);
      expect(ownerOf(r, 1002)).toEqual([100, 4]);
      expect(ownerOf(r, 2001)).toEqual([200, 5]);
      expect(ownerOf(r, 3001)).toEqual([300, 0]);
      expect(ownerOf(r, 3002)).toEqual([300, 900]);
      expect(r.detail.cachedLinks).toBe(8);
      const listedScanner = createOwnerScanner(createProcFs(fake.root), { ...NO_REVERIFY, fdCountFromStat: false });
      const listedResult = listedScanner.scan(null);
      for (const inode of [1001, 1002, 2001, 3001, 3002, 777]) expect(r.lookup(inode)).toEqual(listedResult.lookup(inode));
      // Later scans see what changes in a probed process as in a listed one.
      scanner.scan(new Set([1001, 1002, 2001, 3001, 3002]));
      fake.socket(100, 2, 1003); // in nginx's hole
      const opened = scanner.scan(new Set([1001, 1002, 2001, 1003, 3001, 3002]));
      expect(ownerOf(opened, 1003)).toEqual([100, 2]);
      fake.close(100, 3).socket(100, 3, 1004); // 1001 closed, its fd reused
      const reused = scanner.scan(new Set([1002, 2001, 1003, 1004, 3001, 3002]));
      expect(reused.lookup(1001)).toBeNull();
      expect(ownerOf(reused, 1004)).toEqual([100, 3]);
    });

    it('a first scan trusts st_size after 3 matching listings on Linux >= 6.2, and never on an older kernel', () => {
      for (let p = 0; p < 10; p++) fake.addProcess(1000 + p, { comm: `w${p}`, start: 5000 + p }).socket(1000 + p, 0, 50_000 + p);
      fs.mkdirSync(path.join(fake.root, 'sys', 'kernel'), { recursive: true });
      for (const [release, probed] of [
        ['6.18.0-1-amd64\n', true],
        ['5.10.0-33-amd64\n', false],
      ] as const) {
        fs.writeFileSync(path.join(fake.root, 'sys', 'kernel', 'osrelease'), release);
        const spy = listingSpy(fake.root);
        const r = createOwnerScanner(spy.procFs, NO_REVERIFY).scan(null);
        // /proc lists 100, 1000…1009, 2, 200 (name order); pid 2 has no fds (no sample).
        const all = [
          '100/fd',
          '1000/fd',
          '1001/fd',
          '1002/fd',
          '1003/fd',
          '1004/fd',
          '1005/fd',
          '1006/fd',
          '1007/fd',
          '1008/fd',
          '1009/fd',
          '2/fd',
          '200/fd',
        ];
        // On 6.18: 100, 1000 and 1001 matched their counts; the rest is read by number.
        expect([...spy.listed].sort()).toEqual(probed ? ['100/fd', '1000/fd', '1001/fd'] : all);
        for (let p = 0; p < 10; p++) expect(ownerOf(r, 50_000 + p)).toEqual([1000 + p, 0]);
        expect(ownerOf(r, 2001)).toEqual([200, 5]);
      }
    });

    it('a process that exits after the first scan: its shared socket passes to the other holder, its own becomes unknown, then ownerless', () => {
      fake
        .addProcess(300, { comm: 'parent', start: 3000 })
        .socket(300, 0, 3001)
        .socket(300, 1, 3002)
        .addProcess(301, { comm: 'child', start: 3010 })
        .socket(301, 0, 3001);
      const scanner = createOwnerScanner(spiedProcFs(fake.root, { fdCount: true }).procFs, {
        ...NO_REVERIFY,
        fdCountFromStat: true,
        fullPassMinGapScans: 1,
      });
      scanner.scan(null);
      const wanted = new Set([1001, 3001, 3002]);
      const first = scanner.scan(wanted);
      expect(ownerOf(first, 3001)).toEqual([300, 0]);
      expect(first.sharedBy(3001)).toBe(1);
      fake.removeProcess(300);
      const after = scanner.scan(wanted); // 3002 still listed by the kernel a moment (closing)
      expect(ownerOf(after, 3001)).toEqual([301, 0]);
      expect(after.sharedBy(3001)).toBe(0);
      expect(after.lookup(3002)).toBeNull();
      expect(after.detail.unknownInodes).toBe(1);
      const given = scanner.scan(wanted);
      expect(given.detail.pass).toBe('all');
      expect(given.lookup(3002)).toBeNull();
      const quiet = scanner.scan(wanted);
      expect(quiet.detail.pass).toBe('incremental');
      expect(quiet.stats.linksRead).toBe(0);
      expect(ownerOf(quiet, 1001)).toEqual([100, 3]);
    });

    it('a process that exits before its fds are read, and one whose readlink is refused, are handled as when listed', () => {
      fake.addProcess(300, { comm: 'gone', start: 3000 }).socket(300, 0, 3001).socket(300, 1, 3002);
      const spy = listingSpy(fake.root);
      let error: string | null = null;
      const procFs: ProcFs = {
        ...spy.procFs,
        readLink: (rel) => {
          // 300 exits between the stat of its fd directory and the readlinks; 200 refuses them.
          if (rel.startsWith('300/') && fs.existsSync(path.join(fake.root, '300'))) fake.removeProcess(300);
          if (rel.startsWith('200/')) {
            error = 'EACCES';
            return null;
          }
          error = null;
          return spy.procFs.readLink(rel);
        },
        lastError: () => error ?? spy.procFs.lastError(),
      };
      const r = createOwnerScanner(procFs, { ...NO_REVERIFY, fdCountFromStat: true }).scan(null);
      expect(r.lookup(3001)).toBeNull();
      expect(r.lookup(2001)).toBeNull();
      expect(ownerOf(r, 1001)).toEqual([100, 3]);
      // Both went on to a listing: 300's says it exited (not counted as unreadable).
      expect([...spy.listed].sort()).toEqual(['200/fd', '300/fd']);
      expect(r.stats.unreadableProcesses).toBe(0);
    });
  });

  it('packChangedOwners without trackChanges answers every wanted inode (a complete answer)', () => {
    const scanner = createOwnerScanner(createProcFs(fake.root));
    const wanted = new Set([1001, 2001, 9999]);
    const rows = [...scanner.scan(wanted).packChangedOwners().rows];
    expect(rows).toEqual([1001, 100, 3, 0, 2001, 200, 5, 0, 9999, 0, 0, 0]);
  });

  it('a prime (scan(null)) counts as the wider pass: the next scan lists no directory for a kernel socket', () => {
    const spy = spiedProcFs(fake.root, { fdCount: true });
    const scanner = createOwnerScanner(spy.procFs, { reverifyEveryScans: 4, fullPassMinGapScans: 3 });
    const prime = scanner.scan(null);
    expect(prime.stats.linksRead).toBe(6);
    // 9999 has no holder (a kernel socket): nothing changed, so nothing is listed or read again.
    const wanted = new Set([1001, 1002, 2001, 9999]);
    const next = scanner.scan(wanted);
    expect(next.detail.dirsListed).toBe(0);
    expect(next.stats.linksRead).toBe(0);
    expect(ownerOf(next, 1002)).toEqual([100, 4]);
    expect(next.lookup(9999)).toBeNull();
    // A socket opened after the prime in a process whose fd count moved is still found at once.
    fake.socket(200, 7, 2002);
    const opened = scanner.scan(new Set([...wanted, 2002]));
    expect(ownerOf(opened, 2002)).toEqual([200, 7]);
    // Three scans after the prime the wider pass may run again: it re-reads the suspect links.
    const third = scanner.scan(new Set([...wanted, 2002]));
    expect(third.detail.pass).toBe('all');
    expect(third.detail.dirsListed).toBe(3);
  });

  it('after a prime, an fd reused behind an unchanged count is still corrected within the re-verification bound', () => {
    const spy = spiedProcFs(fake.root, { fdCount: true });
    const n = 3;
    const scanner = createOwnerScanner(spy.procFs, { reverifyEveryScans: n });
    scanner.scan(null);
    // Same fd count: pid 100's fd 4 now points to a file and 1002 moved to pid 200 (fd 0 closed).
    fake.link(100, 4, '/var/log/nginx/access.log').socket(200, 6, 1002).close(200, 0);
    const wanted = new Set([1001, 1002, 2001]);
    let last: OwnerScanResult | null = null;
    for (let i = 0; i < 2 * n; i += 1) last = scanner.scan(wanted);
    if (last === null) throw new Error('unreachable');
    expect(ownerOf(last, 1002)).toEqual([200, 6]);
    expect(last.sharedBy(1002)).toBe(0);
  });

  it('rolling re-verification ends a stale owner that change detection cannot see', () => {
    const spy = spiedProcFs(fake.root, { fdCount: true });
    const scanner = createOwnerScanner(spy.procFs, { reverifyEveryScans: 3 });
    scanner.scan(new Set([1001, 1002, 2001]));
    // 1002 is passed to pid 200 (SCM_RIGHTS) and pid 100's fd 4 now points to a file: same
    // counts, no unknown inode, 1002 still wanted — only re-verification can notice.
    fake.link(100, 4, '/var/log/nginx/access.log').socket(200, 5, 1002).socket(200, 6, 2001).close(200, 0);
    const wanted = new Set([1001, 1002, 2001]);
    // One round: the queue built on the next scan holds 7 links + 2 info marks, 3 per scan.
    const rounds = [scanner.scan(wanted), scanner.scan(wanted), scanner.scan(wanted)];
    const last = rounds[2];
    if (last === undefined) throw new Error('unreachable');
    expect(ownerOf(last, 1002)).toEqual([200, 5]);
    expect(ownerOf(last, 2001)).toEqual([200, 6]);
    expect(last.sharedBy(1002)).toBe(0);
    // The rolling slice is bounded: ceil(9 / 3) queue items a scan. (When a re-read moves 2001
    // off fd 5, 2001 becomes unknown and the wider passes find it on fd 6.)
    for (const r of rounds) expect(r.detail.linksByStep.reverify).toBeLessThanOrEqual(3);
    expect(rounds.reduce((n, r) => n + r.detail.linksByStep.reverify, 0)).toBeGreaterThanOrEqual(5);
  });

  it('pid reuse is caught through the start time when the ProcFs has no stat()', () => {
    const scanner = createOwnerScanner(spiedProcFs(fake.root, { fdCount: true, withStat: false }).procFs, NO_REVERIFY);
    scanner.scan(new Set([2001]));
    fake.replaceProcess(200, { comm: 'postgres', argv: ['postgres: checkpointer'], start: 9000 }, { 5: 'socket:[2001]' });
    const r = scanner.scan(new Set([2001]));
    expect(r.lookup(2001)).toMatchObject({ pid: 200, command: 'postgres', commandLine: 'postgres: checkpointer', fd: 5 });
  });

  it('unreadable fd tables are counted, fds closed mid-scan and exited pids are skipped', () => {
    const base = spiedProcFs(fake.root, { fdCount: true }).procFs;
    let failure: string | null = null;
    const procFs: ProcFs = {
      ...base,
      readDir: (rel) => {
        if (rel === '200/fd') {
          failure = 'EACCES';
          return null;
        }
        const names = base.readDir(rel);
        // An fd that is listed but closed before its readlink, and a pid that exits mid-scan.
        if (rel === '100/fd' && names !== null) return [...names, '42'];
        if (rel === '') return names === null ? null : [...names, '31337'];
        return names;
      },
      lastError: () => {
        const code = failure ?? base.lastError();
        failure = null;
        return code;
      },
    };
    const scanner = createOwnerScanner(procFs, NO_REVERIFY);
    const r = scanner.scan(new Set([1001, 2001]));
    expect(r.stats.unreadableProcesses).toBe(1);
    expect(ownerOf(r, 1001)).toEqual([100, 3]);
    expect(r.lookup(2001)).toBeNull();
    expect(r.detail.cachedLinks).toBe(4); // fd 42 was not kept
    const again = scanner.scan(new Set([1001, 2001]));
    expect(again.stats.unreadableProcesses).toBe(1);
    expect(again.detail.pass).toBe('incremental'); // 2001 is known ownerless, no second full pass
  });

  it('scan(null) re-reads everything', () => {
    const scanner = createOwnerScanner(spiedProcFs(fake.root, { fdCount: true }).procFs, NO_REVERIFY);
    scanner.scan(null);
    const r = scanner.scan(null);
    expect(r.detail.pass).toBe('full');
    expect(r.stats.linksRead).toBe(6);
    expect(ownerOf(r, 2001)).toEqual([200, 5]);
  });

  it('durationMs comes from the injected clock', () => {
    let t = 100;
    const scanner = createOwnerScanner(spiedProcFs(fake.root).procFs, { now: () => (t += 5) });
    expect(scanner.scan(null).stats.durationMs).toBe(5);
  });
});

describe('owner parsers', () => {
  it.each([
    ['socket:[12345]', 12345],
    ['socket:[0]', 0],
    ['socket:[]', 0],
    ['socket:[12a]', 0],
    ['socket:[12', 0],
    ['pipe:[12345]', 0],
    ['anon_inode:[eventpoll]', 0],
    ['/dev/null', 0],
    ['/tmp/socket:[5]', 0],
    ['socket:[123456789012345]', 123456789012345], // 15 digits, the most parseDecimal takes
    ['socket:[1234567890123456]', 0],
    ['socket:[4294967296]', 4294967296],
  ])('parseSocketTarget(%j) = %d', (target, inode) => {
    expect(parseSocketTarget(target)).toBe(inode);
  });

  it('parseDecimal accepts only whole non-negative integers', () => {
    expect(['0', '42', '4194303', '', 'self', '-1', '1e3', ' 1'].map(parseDecimal)).toEqual([0, 42, 4194303, -1, -1, -1, -1, -1]);
  });

  it('parseStatFields counts fields after the last ")" so odd comms cannot shift them', () => {
    const line = '4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 9000 300\n';
    expect(parseStatFields(line)).toEqual({ comm: 'my (odd) prog', startTime: '123456' });
    expect(parseStatFields('garbage')).toEqual({ comm: null, startTime: null });
    expect(parseStatFields('1 (x) S 0').startTime).toBeNull();
  });

  it('parseStatusUid takes the real uid', () => {
    expect(parseStatusUid('Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t5\n')).toBe(1000);
    expect(parseStatusUid('Uid:\t7\t7\t7\t7')).toBe(7);
    expect(parseStatusUid('Name:\tx\n')).toBeNull();
  });

  it('parseCmdline joins argv with spaces and is empty for kernel threads', () => {
    expect(parseCmdline('node\x00server.js\x00--port\x00080\x00')).toBe('node server.js --port 080');
    expect(parseCmdline('')).toBe('');
  });
});

describe('user names from /etc/passwd', () => {
  const passwd = [
    'root:x:0:0:root:/root:/bin/bash',
    '# comment',
    '',
    'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
    'toor:x:0:0::/root:/bin/sh', // duplicate uid: the first wins, as getpwuid does
    '+nisuser::::::',
    'broken:x:notanumber:1::/:/bin/sh',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\r',
  ].join('\n');

  it('parsePasswd maps uids to names', () => {
    expect([...parsePasswd(passwd)]).toEqual([
      [0, 'root'],
      [33, 'www-data'],
      [65534, 'nobody'],
    ]);
  });

  it('nameOf falls back to the uid as text and re-reads once per unknown uid', () => {
    let reads = 0;
    let text = passwd;
    const users = createUserNames(() => {
      reads += 1;
      return text;
    });
    expect(reads).toBe(0); // lazy
    expect(users.nameOf(33)).toBe('www-data');
    expect(users.nameOf(1001)).toBe('1001');
    expect(users.nameOf(1001)).toBe('1001');
    expect(reads).toBe(2);
    text += '\nalice:x:1002:1002::/home/alice:/bin/sh';
    expect(users.nameOf(1002)).toBe('alice'); // added while running
    expect(createUserNames(() => null).nameOf(0)).toBe('0');
  });
});

// ---- live: real sockets in this process and in a child ------------------------------------

/** The kernel fd behind a net handle (libuv TCPWrap exposes it on Unix). */
function handleFd(obj: net.Server | net.Socket): number {
  const fd = (obj as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no fd on handle');
  return fd;
}

function socketInode(pid: number | 'self', fd: number): number {
  return parseSocketTarget(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
}

const CHILD_SCRIPT = `
const net = require('node:net');
const fs = require('node:fs');
const readline = require('node:readline');
const keep = [];
const fdOf = (h) => h._handle.fd;
const inodeOf = (fd) => Number(/socket:\\[(\\d+)\\]/.exec(fs.readlinkSync('/proc/self/fd/' + fd))[1]);
const report = (sockets) => process.stdout.write(JSON.stringify(sockets.map((s) => ({ fd: fdOf(s), inode: inodeOf(fdOf(s)) }))) + '\\n');
const server = net.createServer((c) => keep.push(c));
server.listen(0, '127.0.0.1', () => {
  report([server]);
  readline.createInterface({ input: process.stdin }).on('line', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => { keep.push(c); report([c]); });
  });
});
`;

interface ChildSocket {
  readonly fd: number;
  readonly inode: number;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill();
});

function startChild(): { child: ChildProcess; next: () => Promise<ChildSocket[]> } {
  const child = spawn(process.execPath, ['-e', CHILD_SCRIPT, 'sockscope-owner-test'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  if (child.stdout === null) throw new Error('no stdout');
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter(line);
    else lines.push(line);
  });
  const next = (): Promise<ChildSocket[]> =>
    new Promise<string>((resolve) => {
      const line = lines.shift();
      if (line !== undefined) resolve(line);
      else waiters.push(resolve);
    }).then((line) => JSON.parse(line) as ChildSocket[]);
  return { child, next };
}

describe('OwnerScanner on the live /proc', () => {
  it('finds listeners and connections of this process and of a child, with pid, fd, comm, cmdline', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const peer = await accepted;
    const { child, next } = startChild();
    try {
      const [childListener] = await next();
      if (childListener === undefined || child.pid === undefined) throw new Error('child did not report');

      const mine = [server, client, peer].map((h) => ({ fd: handleFd(h), inode: socketInode('self', handleFd(h)) }));
      const wanted = new Set([...mine.map((s) => s.inode), childListener.inode]);
      const scanner = createOwnerScanner(createProcFs('/proc'));
      const r = scanner.scan(wanted);

      const selfComm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
      const selfCmdline = fs.readFileSync('/proc/self/cmdline', 'utf8').replaceAll('\0', ' ').trim();
      for (const s of mine) {
        expect(r.lookup(s.inode)).toEqual({
          pid: process.pid,
          command: selfComm,
          commandLine: selfCmdline,
          uid: process.getuid?.(),
          fd: s.fd,
        });
      }
      const owner = r.lookup(childListener.inode);
      expect(owner).toMatchObject({ pid: child.pid, fd: childListener.fd, uid: process.getuid?.() });
      expect(owner?.command).toBe(fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim());
      expect(owner?.commandLine).toContain('sockscope-owner-test');
      expect(r.stats.linksRead).toBeGreaterThan(0);

      // ss (iproute2) as an oracle for the child's listener, where it is installed.
      const ss = spawnSync('ss', ['-Htlnp', `src 127.0.0.1`], { encoding: 'utf8' });
      if (ss.status === 0 && ss.stdout.includes(`pid=${child.pid},`)) {
        expect(ss.stdout).toContain(`pid=${child.pid},fd=${childListener.fd})`);
      }

      // Incremental: the child opens a connection to itself (two new sockets).
      child.stdin?.write('connect\n');
      const [childClient] = await next();
      if (childClient === undefined) throw new Error('child did not report');
      const wanted2 = new Set([...wanted, childClient.inode]);
      const r2 = scanner.scan(wanted2);
      expect(r2.lookup(childClient.inode)).toMatchObject({ pid: child.pid, fd: childClient.fd });
      expect(r2.lookup(childListener.inode)?.pid).toBe(child.pid);
      // Far fewer links than the first scan: the new fds plus a re-verification slice.
      expect(r2.stats.linksRead).toBeLessThan(r.stats.linksRead);

      // The child exits: its sockets lose their owner.
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
      const r3 = scanner.scan(new Set(mine.map((s) => s.inode)));
      expect(r3.lookup(childListener.inode)).toBeNull();
      expect(r3.lookup(mine[0]?.inode ?? 0)?.pid).toBe(process.pid);
    } finally {
      child.kill();
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it('as user nobody: other users’ processes are counted as unreadable, nothing throws', (ctx) => {
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));
    if (process.getuid?.() !== 0 || setpriv === undefined) {
      ctx.skip();
      return;
    }
    // Node 20 cannot run TypeScript: transpile the two modules into a world-readable tmp dir.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-nobody-'));
    try {
      fs.chmodSync(dir, 0o755);
      for (const name of ['proc-fs', 'read-owners', 'inode-index']) {
        const source = fs.readFileSync(path.join(REPO, 'src', 'proc', `${name}.ts`), 'utf8');
        const out = ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        });
        fs.writeFileSync(path.join(dir, `${name}.js`), out.outputText, { mode: 0o644 });
      }
      fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}', { mode: 0o644 });
      const runner = `
        import { createProcFs } from './proc-fs.js';
        import { createOwnerScanner } from './read-owners.js';
        const scanner = createOwnerScanner(createProcFs('/proc'));
        const first = scanner.scan(null);
        const second = scanner.scan(new Set([1, 2, 3]));
        console.log(JSON.stringify({ first: first.stats, second: second.stats, uid: process.getuid() }));
      `;
      fs.writeFileSync(path.join(dir, 'runner.mjs'), runner, { mode: 0o644 });
      const res = spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, path.join(dir, 'runner.mjs')], {
        encoding: 'utf8',
        cwd: dir,
        timeout: 20_000,
      });
      if (res.error !== undefined || (res.status !== 0 && /setpriv|Operation not permitted/.test(res.stderr))) {
        ctx.skip(); // setpriv not allowed here (e.g. no CAP_SETUID in a container)
        return;
      }
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      const out = JSON.parse(res.stdout) as {
        first: { unreadableProcesses: number; enabled: boolean };
        second: { unreadableProcesses: number };
        uid: number;
      };
      expect(out.uid).toBe(65534);
      expect(out.first.enabled).toBe(true);
      expect(out.first.unreadableProcesses).toBeGreaterThan(0); // pid 1 and this test run as root
      expect(out.second.unreadableProcesses).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kernelCountsFds (st_size of /proc/<pid>/fd is the fd count from Linux 6.2)', () => {
  it.each([
    ['6.18.0-1-amd64', true],
    ['6.2.0', true],
    ['6.1.112-generic\n', false],
    ['5.15.0-91-generic', false],
    ['7.0.0', true],
    ['10.1', true],
    ['', false],
    ['linux', false],
  ])('%j -> %s', (release, counts) => {
    expect(kernelCountsFds(release)).toBe(counts);
  });
});
