// The owner worker protocol: packed replies unpack to the same owners as a direct scan, and the
// real worker thread (from the build) answers for sockets this test holds.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import { createWorkerOwnerSource, packOwnerScan, unpackOwnerScan } from '../src/proc/owner-source.js';
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
