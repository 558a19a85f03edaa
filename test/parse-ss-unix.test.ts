import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { parseSsUnixTable } from '../src/proc/parse-ss-unix.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/ss-output/${name}`, import.meta.url), 'utf8');

describe('parseSsUnixTable', () => {
  it('recorded `ss -xH`: unnamed, a path with a space, an abstract name', () => {
    const t = parseSsUnixTable(fixture('x-loopback.txt'));
    expect(t.skipped).toBe(0);
    expect(t.peers).toEqual([
      { inode: 32930, peerInode: 32935 },
      { inode: 1593, peerInode: 1594 },
      { inode: 32931, peerInode: 32936 },
      { inode: 32935, peerInode: 32930 },
      { inode: 1594, peerInode: 1593 },
      { inode: 32936, peerInode: 32931 },
    ]);
  });

  it('with -p: the users:(…) tail, even with digits and spaces in the process name, is ignored', () => {
    const t = parseSsUnixTable('u_str ESTAB 0 0 /run/a b.sock 100 * 200 users:(("my 7 proc 9",pid=5,fd=3))\n');
    expect(t.peers).toEqual([{ inode: 100, peerInode: 200 }]);
  });

  it('queues are never taken for inodes; peer 0 is kept; junk is counted', () => {
    const t = parseSsUnixTable('u_dgr ESTAB 5 7 * 300 * 0\nnot a socket line\nu_str ESTAB 0 0 /x\n\n');
    expect(t.peers).toEqual([{ inode: 300, peerInode: 0 }]);
    expect(t.skipped).toBe(2);
  });
});
