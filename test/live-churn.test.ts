// Live: under churn, a snapshot holds every socket at most once. The kernel prints
// /proc/net/tcp a read(2) at a time and resumes its walk of the socket hash at each read, so a
// socket can be listed twice in one read of the file (29 of 40 snapshots had duplicate keys
// before snapshots were de-duplicated). A child process holds ~10k loopback sockets (so the table
// is larger than one read) and opens and closes short connections as fast as it can meanwhile.

import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSnapshotAsync } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';

const HELD_CONNECTIONS = 5_000;

const CHURN_SCRIPT = `
const net = require('node:net');
const held = [];
const server = net.createServer((s) => { s.on('error', () => {}); held.push(s); });
server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const open = () => new Promise((resolve) => {
    const c = net.connect({ port, host: '127.0.0.1' }, () => resolve(c));
    c.on('error', () => resolve(null));
  });
  for (let i = 0; i < ${HELD_CONNECTIONS}; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, open));
    for (const c of batch) if (c) held.push(c);
  }
  process.stdout.write('ready ' + port + '\\n');
  const churn = async () => {
    for (;;) {
      const c = await open();
      if (c) c.destroy();
    }
  };
  for (let k = 0; k < 2; k++) churn();
});
`;

describe('snapshots under churn', () => {
  let child: ChildProcess;

  beforeAll(async () => {
    child = spawn(process.execPath, ['-e', CHURN_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`churn process exited (${code})`)));
    });
  }, 120_000);

  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('40 snapshots of a churning host: no key twice in any of them', async () => {
    const procFs = createProcFs('/proc');
    const deps = {
      procFs,
      owners: null,
      userName: (uid: number) => String(uid),
      hostname: () => os.hostname(),
      now: () => Date.now(),
      monotonicMs: () => performance.now(),
      protocols: ['tcp', 'tcp6'] as const,
    };
    let withDuplicateKeys = 0;
    let smallest = Infinity;
    for (let i = 0; i < 40; i++) {
      const snap = await collectSnapshotAsync(deps);
      const keys = new Set(snap.sockets.map((s) => s.key));
      if (keys.size !== snap.sockets.length) withDuplicateKeys++;
      const inodes = snap.sockets.filter((s) => s.inode !== 0).map((s) => s.inode);
      if (new Set(inodes).size !== inodes.length) withDuplicateKeys++;
      smallest = Math.min(smallest, snap.sockets.length);
    }
    // The population was there all along: both ends of every held connection.
    expect(smallest).toBeGreaterThanOrEqual(HELD_CONNECTIONS * 2);
    expect(withDuplicateKeys).toBe(0);
  }, 120_000);
});
