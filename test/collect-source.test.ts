// Collection in a worker thread (src/proc/collect-source.ts): snapshots cross as a delta against
// the previous one (positions of kept records + the new records), and the main thread gets the
// same sockets as collecting in process, reusing the record objects it already holds.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import type { createWorkerCollectSource } from '../src/proc/collect-source.js';
import { decodeSockets, encodeSockets } from '../src/proc/collect-source.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import type { SocketRecord } from '../src/model/types.js';
import { rec } from './helpers/records.js';

const RECORDED = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures/proc-text/recorded');
const tmpRoots: string[] = [];
afterAll(() => {
  for (const r of tmpRoots) fs.rmSync(r, { recursive: true, force: true });
});

describe('encodeSockets / decodeSockets', () => {
  it('kept records are referred to by position and decoded to the receiver own objects; new ones are sent', () => {
    const a = [rec({ localPort: 1 }), rec({ localPort: 2 }), rec({ localPort: 3, owner: { pid: 5, command: 'x' } })];
    const first = encodeSockets(a, new Map());
    expect(first.fresh).toHaveLength(3);
    const receivedA = decodeSockets(first.sources, structuredClone(first.fresh), []);
    expect(receivedA).toEqual(a);

    // Next snapshot: a[0] gone, a[2] and a[1] kept (reordered), one new record.
    const added = rec({ localPort: 4 });
    const b = [a[2]!, added, a[1]!];
    const second = encodeSockets(b, first.sent);
    expect(second.fresh).toEqual([added]);
    expect([...second.sources]).toEqual([2, -1, 1]);
    const receivedB = decodeSockets(second.sources, structuredClone(second.fresh), receivedA);
    expect(receivedB).toEqual(b);
    // The receiver's objects of the kept sockets, not copies: its tracker compares by identity.
    expect(receivedB[0]).toBe(receivedA[2]);
    expect(receivedB[2]).toBe(receivedA[1]);
  });

  it('a position that is not in the previous snapshot is an error, not a hole', () => {
    expect(() => decodeSockets(Int32Array.from([3]), [], [rec()])).toThrow(/refers to 3/);
  });
});

describe('the collect worker (from the build)', () => {
  function tree(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-collect-worker-'));
    tmpRoots.push(root);
    fs.mkdirSync(path.join(root, 'net'));
    for (const name of ['tcp', 'tcp6', 'udp', 'udp6', 'unix', 'snmp', 'netstat'])
      fs.copyFileSync(path.join(RECORDED, name), path.join(root, 'net', name));
    return root;
  }
  const inProcess = (root: string): readonly SocketRecord[] =>
    collectSnapshot({
      procFs: createProcFs(root),
      owners: null,
      userName: (uid) => (uid === 0 ? 'root' : String(uid)),
      hostname: () => 'h',
      now: () => 0,
      monotonicMs: () => 0,
    }).sockets;
  const comparable = (sockets: readonly SocketRecord[]): unknown[] => sockets.map((s) => ({ ...s, user: '' }));

  it('gives the sockets an in-process collection gives, and keeps the objects of unchanged lines', async () => {
    const built = new URL('../dist/src/proc/collect-source.js', import.meta.url);
    expect(fs.existsSync(built), 'run npm run build first').toBe(true);
    const mod = (await import(built.href)) as { createWorkerCollectSource: typeof createWorkerCollectSource };
    const root = tree();
    const source = mod.createWorkerCollectSource({ procRoot: root, processes: false, ownerWorkerPath: null }, () => {
      throw new Error('the worker should have started');
    });
    expect(source).not.toBeNull();
    try {
      const first = await source!.collect();
      expect(first.sockets.length).toBeGreaterThan(20);
      // User names come from this machine's /etc/passwd in the worker: compared apart.
      expect(comparable(first.sockets)).toEqual(comparable(inProcess(root)));
      const second = await source!.collect();
      const third = await source!.collect();
      expect(comparable(third.sockets)).toEqual(comparable(first.sockets));
      // From the third snapshot on (the collector keeps nothing from its first), unchanged lines
      // arrive as the objects already here.
      const fourthTcp = fs.readFileSync(path.join(root, 'net', 'tcp'), 'utf8').split('\n');
      fourthTcp.splice(2, 1); // one socket closed
      fs.writeFileSync(path.join(root, 'net', 'tcp'), fourthTcp.join('\n'));
      const fourth = await source!.collect();
      expect(comparable(fourth.sockets)).toEqual(comparable(inProcess(root)));
      expect(fourth.sockets.length).toBe(third.sockets.length - 1);
      const held = new Set(third.sockets);
      // (/proc/net/unix is parsed afresh every time: only inet lines are reused.)
      const inet = fourth.sockets.filter((s) => s.protocol !== 'unix');
      expect(inet.length).toBeGreaterThan(20);
      expect(inet.filter((s) => held.has(s)).length).toBe(inet.length);
      expect(second.sockets.length).toBe(first.sockets.length);
    } finally {
      await source!.close();
    }
  });
});
