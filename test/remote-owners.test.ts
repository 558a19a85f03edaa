// Owner mapping over ssh without ssh: the listing parsers on recorded GNU find and ls -lq output
// (table-driven), the process-info reply, the join (primary owner, sharedBy), and the owner source
// against a scripted RemoteShell (what it asks, what it caches).

import { describe, expect, it } from 'vitest';
import {
  FIND_PROBE,
  GNU_FIND_LISTING,
  LS_LISTING,
  buildOwnerLookup,
  createRemoteOwnerSource,
  parseProcessInfoReply,
  parseSocketFdListing,
  processInfoScript,
  type RemoteProcessInfo,
  type SocketFdListing,
} from '../src/proc/remote-owners.js';
import type { RemoteReply, RemoteShell } from '../src/proc/ssh/protocol.js';
import type { OwnerScanStats } from '../src/model/types.js';

// Recorded with GNU findutils 4.9 (Debian 12) as root; the U lines as user nobody.
const GNU_FIND_OUTPUT = `D /proc/1/fd 34459
S /proc/1/fd/7 socket:[6421]
S /proc/1/fd/9 socket:[6430]
D /proc/1055/fd 1845
D /proc/21803/fd 6912400
S /proc/21803/fd/3 socket:[6912388]
S /proc/21803/fd/4 socket:[6912390]
U /proc/2211/fd
U /proc/2212/fd
D /proc/29374/fd 7012231
S /proc/29374/fd/19 socket:[7012102]
S /proc/29375/fd/3 socket:[6421]
D /proc/29375/fd 7012240
`;

// GNU coreutils 9.1 `ls -lq /proc/<pid>/fd` inside the fallback loop.
const LS_OUTPUT = `D /proc/1/fd
total 0
lrwx------ 1 root root 64 Nov 24 16:29 0 -> /dev/null
lrwx------ 1 root root 64 Nov 24 16:29 7 -> socket:[6421]
lrwx------ 1 root root 64 Nov 24 16:29 9 -> socket:[6430]
l-wx------ 1 root root 64 Nov 24 16:29 12 -> pipe:[6441430]
U /proc/2211/fd
D /proc/21803/fd
total 0
lrwx------ 1 root root 64 Nov 24 17:16 3 -> socket:[6912388]
lr-x------ 1 root root 64 Nov 24 17:16 4
`;

// busybox 1.36 ls -l: columns padded differently, same "<fd> -> <target>" ending.
const BUSYBOX_LS_OUTPUT = `D /proc/412/fd
lrwx------    1 root     root            64 Jan  1 00:00 0 -> /dev/console
lrwx------    1 root     root            64 Jan  1 00:00 5 -> socket:[8812]
D /proc/413/fd
U /proc/500/fd
`;

describe('parseSocketFdListing', () => {
  const cases: {
    name: string;
    text: string;
    sockets: [number, number, number][];
    processes: [number, number][];
    unreadable: number;
  }[] = [
    {
      name: 'GNU find: S, D (with dir inode) and U lines, in any order',
      text: GNU_FIND_OUTPUT,
      sockets: [
        [1, 7, 6421],
        [1, 9, 6430],
        [21803, 3, 6912388],
        [21803, 4, 6912390],
        [29374, 19, 7012102],
        [29375, 3, 6421],
      ],
      processes: [
        [1, 34459],
        [1055, 1845],
        [21803, 6912400],
        [29374, 7012231],
        [29375, 7012240],
      ],
      unreadable: 2,
    },
    {
      name: 'ls -lq fallback: socket links under their D section; files, pipes and unreadable links ignored',
      text: LS_OUTPUT,
      sockets: [
        [1, 7, 6421],
        [1, 9, 6430],
        [21803, 3, 6912388],
      ],
      processes: [
        [1, -1],
        [21803, -1],
      ],
      unreadable: 1,
    },
    {
      name: 'busybox ls -l columns',
      text: BUSYBOX_LS_OUTPUT,
      sockets: [[412, 5, 8812]],
      processes: [
        [412, -1],
        [413, -1],
      ],
      unreadable: 1,
    },
    {
      name: 'a file named " -> socket:[999]" is not a socket (two arrows); -q joined its newline',
      text: `D /proc/7/fd
lr-x------ 1 eve eve 64 Nov 24 17:21 9 -> /tmp/evil?lrwx 1 r r 64 Jan 1 00:00 7 -> socket:[999]
lr-x------ 1 eve eve 64 Nov 24 17:21 8 -> /tmp/x 3 -> socket:[998]
`,
      sockets: [],
      processes: [[7, -1]],
      unreadable: 0,
    },
    {
      name: 'ls lines after a U section belong to nobody',
      text: `U /proc/8/fd
lrwx------ 1 root root 64 Nov 24 16:29 7 -> socket:[6421]
`,
      sockets: [],
      processes: [],
      unreadable: 1,
    },
    {
      name: 'garbage, CRLF, malformed S lines and empty input',
      text: 'S /proc/x/fd/1 socket:[2]\r\nS /proc/1/fd/1 socket:[]\nS /proc/1/fd/1 pipe:[3]\nfind: ‘/proc/9/fd’: Permission denied\nD /proc/3/fd 17\r\n\n',
      sockets: [],
      processes: [[3, 17]],
      unreadable: 0,
    },
    { name: 'empty', text: '', sockets: [], processes: [], unreadable: 0 },
  ];
  it.each(cases)('$name', ({ text, sockets, processes, unreadable }) => {
    const listing = parseSocketFdListing(text);
    expect(listing.sockets.map((s) => [s.pid, s.fd, s.inode])).toEqual(sockets);
    expect([...listing.processes]).toEqual(processes);
    expect(listing.unreadable).toBe(unreadable);
  });
});

describe('processInfoScript / parseProcessInfoReply', () => {
  const SEP = 'sockscope-sep-00112233445566778899aabb';
  const part = (pid: number, comm: string, cmdline: string, status: string): string =>
    `\n${SEP} ${pid}\n${comm}\n${SEP}\n${cmdline}\n${SEP}\n${status}`;

  it('builds a loop over numeric pids only', () => {
    const script = processInfoScript([12, 345, -1, Number.NaN, 1.5], SEP);
    expect(script).toMatch(/^for p in 12 345; do /);
    expect(script).toContain(`cat "/proc/$p/comm"`);
    expect(script).toContain(`'${SEP}'`);
  });

  const cases: { name: string; text: string; expected: [number, RemoteProcessInfo][] }[] = [
    {
      name: 'comm, cmdline with NULs, Uid of status',
      text: part(
        812,
        'nginx\n',
        'nginx: master process /usr/sbin/nginx\0-g\0daemon off;\0',
        'Name:\tnginx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n',
      ),
      expected: [[812, { command: 'nginx', commandLine: 'nginx: master process /usr/sbin/nginx -g daemon off;', uid: 0 }]],
    },
    {
      name: 'several pids; a comm holding a newline and marker-like text stays one field',
      text:
        part(1, 'systemd\n', '/sbin/init\0', 'Uid:\t0\t0\t0\t0\n') +
        part(4242, 'ev\nil sockscope-sep-x 9\n', 'a\0', 'Uid:\t1000\t1000\t1000\t1000\n'),
      expected: [
        [1, { command: 'systemd', commandLine: '/sbin/init', uid: 0 }],
        [4242, { command: 'ev\nil sockscope-sep-x 9', commandLine: 'a', uid: 1000 }],
      ],
    },
    {
      name: 'a process gone meanwhile: empty parts, uid -1',
      text: part(77, '', '', ''),
      expected: [[77, { command: '', commandLine: '', uid: -1 }]],
    },
    { name: 'nothing', text: '', expected: [] },
  ];
  it.each(cases)('$name', ({ text, expected }) => {
    expect([...parseProcessInfoReply(text, SEP)]).toEqual(expected);
  });
});

describe('buildOwnerLookup', () => {
  const stats: OwnerScanStats = { enabled: true, unreadableProcesses: 0, scannedProcesses: 0, linksRead: 0, durationMs: 0 };
  const listing: SocketFdListing = {
    sockets: [
      { pid: 300, fd: 4, inode: 10 },
      { pid: 200, fd: 9, inode: 10 },
      { pid: 200, fd: 5, inode: 10 },
      { pid: 300, fd: 6, inode: 11 },
      { pid: 400, fd: 3, inode: 12 },
    ],
    processes: new Map([
      [200, 1],
      [300, 2],
      [400, 3],
    ]),
    unreadable: 0,
  };
  const infos = new Map<number, RemoteProcessInfo>([
    [200, { command: 'a', commandLine: 'a -x', uid: 5 }],
    [300, { command: 'b', commandLine: 'b', uid: 6 }],
  ]);
  const lookup = buildOwnerLookup(listing, new Set([10, 11, 99]), (pid) => infos.get(pid), stats);

  it.each([
    { inode: 10, owner: { pid: 200, fd: 5, command: 'a', commandLine: 'a -x', uid: 5 }, shared: 2 },
    { inode: 11, owner: { pid: 300, fd: 6, command: 'b', commandLine: 'b', uid: 6 }, shared: 0 },
    { inode: 12, owner: null, shared: 0 }, // not wanted
    { inode: 99, owner: null, shared: 0 }, // wanted, nobody holds it
  ])('inode $inode', ({ inode, owner, shared }) => {
    expect(lookup.lookup(inode)).toEqual(owner);
    expect(lookup.sharedBy(inode)).toBe(shared);
  });

  it('a holder without info still has its pid and fd', () => {
    const l = buildOwnerLookup(listing, new Set([12]), () => undefined, stats);
    expect(l.lookup(12)).toEqual({ pid: 400, fd: 3, command: '', commandLine: '', uid: -1 });
  });
});

/** A RemoteShell answering from a script of listings, recording what it was asked. */
function scriptedShell(listings: string[], probe = 'gnu\n'): { shell: RemoteShell; asked: string[] } {
  const asked: string[] = [];
  const SEP = 'sockscope-sep-test';
  const shell: RemoteShell = {
    exec(script) {
      const text = script(SEP);
      asked.push(text);
      const reply = (t: string): Promise<RemoteReply> => Promise.resolve({ text: t, status: 0, sep: SEP });
      if (text === FIND_PROBE) return reply(probe);
      if (text === GNU_FIND_LISTING || text === LS_LISTING) return reply(listings.shift() ?? '');
      const m = /^for p in ([\d ]+); do/.exec(text);
      if (m === null) throw new Error(`unexpected script: ${text}`);
      const pids = (m[1] ?? '').trim().split(' ').map(Number);
      return reply(pids.map((p) => `\n${SEP} ${p}\ncomm${p}\n\n${SEP}\ncmd\0${p}\0\n${SEP}\nUid:\t${p}\t0\t0\t0\n`).join(''));
    },
  };
  return { shell, asked };
}

describe('createRemoteOwnerSource', () => {
  it('probes once, lists once per scan, reads info only for new (or reused) pids holding wanted sockets', async () => {
    const { shell, asked } = scriptedShell([
      'D /proc/10/fd 100\nS /proc/10/fd/3 socket:[500]\nD /proc/20/fd 200\nS /proc/20/fd/4 socket:[501]\nU /proc/30/fd\n',
      'D /proc/10/fd 100\nS /proc/10/fd/3 socket:[500]\nD /proc/20/fd 200\nS /proc/20/fd/4 socket:[501]\n',
      // pid 20 reused (new dir inode), pid 10 gone
      'D /proc/20/fd 999\nS /proc/20/fd/4 socket:[501]\n',
    ]);
    const source = createRemoteOwnerSource(shell, { now: () => 0 });
    const first = await source.scan(new Set([500, 501]));
    expect(asked.map((a) => a.slice(0, 12))).toEqual([FIND_PROBE.slice(0, 12), GNU_FIND_LISTING.slice(0, 12), 'for p in 10 ']);
    expect(first.lookup(500)).toEqual({ pid: 10, fd: 3, command: 'comm10', commandLine: 'cmd 10', uid: 10 });
    expect(first.stats).toEqual({ enabled: true, unreadableProcesses: 1, scannedProcesses: 3, linksRead: 2, durationMs: 0 });

    asked.length = 0;
    const second = await source.scan(new Set([500, 501]));
    expect(asked).toEqual([GNU_FIND_LISTING]); // everything cached
    expect(second.lookup(501)?.command).toBe('comm20');

    asked.length = 0;
    const third = await source.scan(new Set([500, 501]));
    expect(asked[0]).toBe(GNU_FIND_LISTING);
    expect(asked[1]).toMatch(/^for p in 20; do/); // inode changed: read again
    expect(third.lookup(500)).toBeNull();
    expect(third.lookup(501)?.pid).toBe(20);
  });

  it('falls back to the ls loop when find has no -printf (busybox)', async () => {
    const { shell, asked } = scriptedShell([BUSYBOX_LS_OUTPUT], 'find: unrecognized: -readable\n');
    const source = createRemoteOwnerSource(shell);
    const lookup = await source.scan(new Set([8812]));
    expect(asked[1]).toBe(LS_LISTING);
    expect(lookup.lookup(8812)).toMatchObject({ pid: 412, fd: 5, command: 'comm412', uid: 412 });
    expect(lookup.stats.unreadableProcesses).toBe(1);
  });

  it('prime lists once and learns every socket holder, after the first snapshot; the next scan then asks only for the listing', async () => {
    const listing = 'D /proc/10/fd 100\nS /proc/10/fd/3 socket:[500]\nD /proc/20/fd 200\nS /proc/20/fd/4 socket:[501]\n';
    const { shell, asked } = scriptedShell([listing, listing]);
    const source = createRemoteOwnerSource(shell, { mode: 'gnu-find' });
    expect(source.primeAfterFirstSnapshot).toBe(true);
    await source.prime?.();
    expect(asked[0]).toBe(GNU_FIND_LISTING);
    expect(asked[1]).toMatch(/^for p in 10 20; do/);
    asked.length = 0;
    const lookup = await source.scan(new Set([500, 501]));
    expect(asked).toEqual([GNU_FIND_LISTING]);
    expect(lookup.lookup(501)).toMatchObject({ pid: 20, command: 'comm20' });
  });

  it('a prime over a failing link resolves (the next table read reports the failure)', async () => {
    const shell: RemoteShell = { exec: () => Promise.reject(new Error('link down')) };
    await expect(createRemoteOwnerSource(shell, { mode: 'gnu-find' }).prime?.()).resolves.toBeUndefined();
  });

  it('asks for no info when no wanted socket has a holder', async () => {
    const { shell, asked } = scriptedShell(['D /proc/10/fd 1\nS /proc/10/fd/3 socket:[7]\n']);
    const source = createRemoteOwnerSource(shell, { mode: 'gnu-find' });
    const lookup = await source.scan(new Set([8]));
    expect(asked).toEqual([GNU_FIND_LISTING]);
    expect(lookup.lookup(8)).toBeNull();
  });
});
