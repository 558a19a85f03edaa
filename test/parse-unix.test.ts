import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUnixTable, UNIX_UNKNOWN_UID } from '../src/proc/parse-unix.js';
import type { SocketEntry } from '../src/model/types.js';

// Copied from this machine's /proc/net/unix while a throwaway script held the sockets open.
const UNIX = readFileSync(new URL('./fixtures/proc-text/recorded/unix', import.meta.url), 'utf8');
const HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path';
const DIR = '/tmp/sockscope-fixture';
// Node binds abstract names with the whole sun_path length, so the name is NUL-padded to 108
// bytes and the kernel prints each NUL as '@'.
const NODE_ABSTRACT = `@sockscope-abstract${'@'.repeat(108 - 1 - 'sockscope-abstract'.length)}`;

describe('parseUnixTable on recorded /proc/net/unix', () => {
  const { sockets, skipped } = parseUnixTable(UNIX);
  const byInode = (inode: number): SocketEntry => {
    const hits = sockets.filter((s) => s.inode === inode);
    expect(hits, `inode ${inode}`).toHaveLength(1);
    return hits[0]!;
  };

  it('reads every line', () => {
    expect(skipped).toBe(0);
    expect(sockets).toHaveLength(21);
    expect(
      sockets.every(
        (s) =>
          s.protocol === 'unix' &&
          s.localAddress === '' &&
          s.localPort === 0 &&
          s.remoteAddress === '' &&
          s.remotePort === 0 &&
          s.uid === UNIX_UNKNOWN_UID &&
          s.timer === 'off' &&
          s.rtoMs === null &&
          s.drops === null,
      ),
    ).toBe(true);
  });

  it.each<[string, number, Partial<SocketEntry>]>([
    [
      'stream listener, path with a space',
      36461,
      { state: 'LISTENING', unixType: 'stream', path: `${DIR}/with space.sock`, key: 'unix 36461' },
    ],
    ['accepted stream socket shares the listener path', 36463, { state: 'CONNECTED', unixType: 'stream', path: `${DIR}/with space.sock` }],
    ['unnamed connected stream client', 36462, { state: 'CONNECTED', unixType: 'stream', path: null }],
    ['abstract stream listener', 36464, { state: 'LISTENING', unixType: 'stream', path: NODE_ABSTRACT }],
    ['abstract accepted socket', 36466, { state: 'CONNECTED', path: NODE_ABSTRACT }],
    // Since Linux 5.x a dgram connect() marks both ends TCP_ESTABLISHED, so the bound receiver is CONNECTED.
    ['named dgram with a connected sender', 35261, { state: 'CONNECTED', unixType: 'dgram', path: `${DIR}/dgram.sock` }],
    ['connected unnamed dgram sender', 35262, { state: 'CONNECTED', unixType: 'dgram', path: null }],
    ['abstract dgram, NUL inside the name printed as @', 35266, { state: 'UNCONNECTED', unixType: 'dgram', path: '@sockscope@nul' }],
    ['seqpacket listener', 35263, { state: 'LISTENING', unixType: 'seqpacket', path: `${DIR}/seqpacket.sock` }],
    ['seqpacket client', 35264, { state: 'CONNECTED', unixType: 'seqpacket', path: null }],
    ['seqpacket accepted', 35265, { state: 'CONNECTED', unixType: 'seqpacket', path: `${DIR}/seqpacket.sock` }],
    ['inode printed right-aligned ("%5lu")', 1062, { state: 'CONNECTED', unixType: 'stream', path: null, key: 'unix 1062' }],
  ])('%s', (_what, inode, expected) => {
    expect(byInode(inode)).toMatchObject(expected);
  });

  it('a connection waiting in the accept queue: St 02, inode 0, keyed by its Num', () => {
    expect(byInode(0)).toMatchObject({
      state: 'CONNECTING',
      unixType: 'stream',
      path: `${DIR}/backlog.sock`,
      key: 'unix 0 0000000035b7e5ad',
    });
  });
});

describe('parseUnixTable on hand-written lines', () => {
  const line = (rest: string): string => `0000000012345678: 00000002 00000000 ${rest}`;

  it.each<[string, string, Partial<SocketEntry> | null]>([
    ['St 01', line('00000000 0001 01 100'), { state: 'UNCONNECTED', unixType: 'stream', inode: 100, path: null }],
    ['St 02', line('00000000 0001 02 100'), { state: 'CONNECTING' }],
    ['St 03', line('00000000 0002 03 100'), { state: 'CONNECTED', unixType: 'dgram' }],
    ['St 04', line('00000000 0005 04 100'), { state: 'DISCONNECTING', unixType: 'seqpacket' }],
    ['__SO_ACCEPTCON beats St', line('00010000 0001 01 100 /run/x.sock'), { state: 'LISTENING', path: '/run/x.sock' }],
    ['unknown type', line('00000000 0004 01 100'), { unixType: 'unknown' }],
    ['path kept byte for byte', line('00000000 0001 01 100 /tmp/a  b c '), { path: '/tmp/a  b c ' }],
    ['path starting with a space', line('00000000 0001 01 100  lead'), { path: ' lead' }],
    ['path with terminal escapes is not sanitized', line('00000000 0001 01 100 /tmp/\u001b[31mred'), { path: '/tmp/\u001b[31mred' }],
    ['abstract name kept with its @', line('00000000 0001 01 100 @/tmp/.X11-unix/X0'), { path: '@/tmp/.X11-unix/X0' }],
    ['lone trailing space: no path', line('00000000 0001 01 100 '), { path: null }],
    ['6 fields', line('00000000 0001 01'), null],
    ['bad hex flags', line('0000000G 0001 01 100'), null],
    ['short type', line('00000000 001 01 100'), null],
    ['unknown St 05', line('00000000 0001 05 100'), null],
    ['St 00', line('00000000 0001 00 100'), null],
    ['inode not decimal', line('00000000 0001 01 12a'), null],
    ['inode beyond 2^53', line('00000000 0001 01 99999999999999999999'), null],
    ['Num without colon', '0000000012345678 00000002 00000000 00000000 0001 01 100', null],
    ['tab between inode and path', line('00000000 0001 01 100\t/x'), null],
  ])('%s', (_what, text, expected) => {
    const { sockets, skipped } = parseUnixTable(`${HEADER}\n${text}\n`);
    if (expected === null) {
      expect(sockets).toEqual([]);
      expect(skipped).toBe(1);
    } else {
      expect(skipped).toBe(0);
      expect(sockets).toHaveLength(1);
      expect(sockets[0]).toMatchObject(expected);
    }
  });

  it('a path holding a newline spills onto a line that is skipped', () => {
    const text = `${HEADER}\n${line('00000000 0001 01 100 /tmp/a')}\nb.sock\n${line('00000000 0001 03 101')}\n`;
    const { sockets, skipped } = parseUnixTable(text);
    expect(sockets.map((s) => [s.inode, s.path])).toEqual([
      [100, '/tmp/a'],
      [101, null],
    ]);
    expect(skipped).toBe(1);
  });

  it('a truncated last line is skipped', () => {
    const { sockets, skipped } = parseUnixTable(`${HEADER}\n${line('00000000 0001 03 101')}\n0000000012345678: 0000`);
    expect(sockets).toHaveLength(1);
    expect(skipped).toBe(1);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['header only', `${HEADER}\n`],
    ['header only, no newline', HEADER],
    ['blank lines', `${HEADER}\n\n  \n`],
  ])('%s → nothing, nothing skipped', (_what, text) => {
    expect(parseUnixTable(text)).toEqual({ sockets: [], skipped: 0 });
  });
});
