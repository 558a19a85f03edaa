// The by-process view's UNIX peers reach the screen: on a headless 80x24 dashboard the selected
// process's note names its peers (the column is dropped there), and on a wide one the column too.

import { afterEach, describe, expect, it } from 'vitest';
import { rec } from './helpers/records.js';
import { createHeadless, makeSnapshot, type Headless } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;
const appd = { pid: 100, command: 'appd' };
const journald = { pid: 345, command: 'systemd-journal' };
const sockets = [
  rec({ protocol: 'unix', state: 'CONNECTED', inode: 10, owner: appd }),
  rec({ protocol: 'unix', state: 'CONNECTED', inode: 11, owner: appd }),
  rec({ protocol: 'unix', state: 'CONNECTED', inode: 20, path: '/run/systemd/journal/stdout', owner: journald }),
  rec({ protocol: 'unix', state: 'CONNECTED', inode: 21, path: '/run/systemd/journal/stdout', owner: journald }),
  rec({ localPort: 40000, remotePort: 80, inode: 30, owner: appd }),
];
const peers = new Map([
  [10, { peerInode: 20, peerPid: 345, peerProcess: 'systemd-journal', peerPath: '/run/systemd/journal/stdout' }],
  [11, { peerInode: 21, peerPid: 345, peerProcess: 'systemd-journal', peerPath: '/run/systemd/journal/stdout' }],
  [20, { peerInode: 10, peerPid: 100, peerProcess: 'appd', peerPath: null }],
  [21, { peerInode: 11, peerPid: 100, peerProcess: 'appd', peerPath: null }],
]);

const open: Headless[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.destroy();
});

async function processesView(width: number, height: number): Promise<Headless> {
  const h = createHeadless({ width, height });
  open.push(h);
  h.dashboard.onSnapshot(makeSnapshot(sockets, { takenAtMs: T0 }));
  h.dashboard.setUnixPeers(peers);
  await h.press('4');
  return h;
}

describe('UNIX peers in the by-process view, on screen', () => {
  it('80x24: the selected process (appd, the most sockets) has its note; ↓ moves it to journald', async () => {
    const h = await processesView(80, 24);
    const note = (): string | undefined => h.lines().find((l) => l.includes('UNIX peers of'));
    expect(note()).toContain('UNIX peers of 100/appd: → 345/systemd-journal (2) /run/systemd/journal/stdout');
    await h.press('\x1b[B');
    expect(note()).toContain('UNIX peers of 345/systemd-journal: → 100/appd (2) /run/systemd/journal/stdout');
  });

  it('140x30: the UNIX peers column names the peer of every process', async () => {
    const h = await processesView(140, 30);
    const lines = h.lines();
    expect(lines.some((l) => /PID Command .*UNIX peers/.test(l))).toBe(true);
    expect(lines.find((l) => /^\W*100 appd /.test(l))).toMatch(/345\/systemd-journal \(2\)/);
    expect(lines.find((l) => /^\W*345 systemd-journal /.test(l))).toMatch(/100\/appd \(2\)/);
  });
});
