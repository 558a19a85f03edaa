import { describe, expect, it } from 'vitest';

import { countUnixPeersByProcess, countUnixTalks, joinUnixPeers } from '../src/model/unix-peers.js';
import { rec } from './helpers/records.js';

describe('joinUnixPeers', () => {
  const server = rec({ protocol: 'unix', inode: 10, path: '/run/app.sock', owner: { pid: 100, command: 'appd' } });
  const client = rec({ protocol: 'unix', inode: 11, owner: { pid: 200, command: 'curl' } });
  const orphan = rec({ protocol: 'unix', inode: 12, owner: { pid: 300, command: 'x' } });
  const tcp = rec({ inode: 13 });

  it('each end gets the other inode and, when known, its owner and path', () => {
    const peers = joinUnixPeers(
      [server, client, orphan, tcp],
      [
        { inode: 10, peerInode: 11 },
        { inode: 11, peerInode: 10 },
        { inode: 12, peerInode: 99 }, // peer not in this snapshot (another namespace)
        { inode: 13, peerInode: 10 }, // not a unix socket: ignored
      ],
    );
    expect(peers.get(11)).toEqual({ peerInode: 10, peerPid: 100, peerProcess: 'appd', peerPath: '/run/app.sock' });
    expect(peers.get(10)).toEqual({ peerInode: 11, peerPid: 200, peerProcess: 'curl', peerPath: null });
    expect(peers.get(12)).toEqual({ peerInode: 99, peerPid: null, peerProcess: null, peerPath: null });
    expect(peers.has(13)).toBe(false);
  });

  it('peer inode 0 (ss reports no peer) is no peer', () => {
    expect(joinUnixPeers([server], [{ inode: 10, peerInode: 0 }]).size).toBe(0);
  });

  it('countUnixTalks counts each pair once, between the two processes', () => {
    const c2 = rec({ protocol: 'unix', inode: 14, owner: { pid: 200, command: 'curl' } });
    const s2 = rec({ protocol: 'unix', inode: 15, path: '/run/app.sock', owner: { pid: 100, command: 'appd' } });
    const all = [server, client, c2, s2];
    const peers = joinUnixPeers(all, [
      { inode: 10, peerInode: 11 },
      { inode: 11, peerInode: 10 },
      { inode: 14, peerInode: 15 },
      { inode: 15, peerInode: 14 },
    ]);
    expect(countUnixTalks(all, peers)).toEqual([
      { pid: 100, process: 'appd', peerPid: 200, peerProcess: 'curl', connections: 2, path: '/run/app.sock' },
    ]);
  });

  describe('countUnixPeersByProcess', () => {
    const appd = { pid: 100, command: 'appd' };
    const curl = { pid: 200, command: 'curl' };
    const all = [
      rec({ protocol: 'unix', inode: 10, path: '/run/app.sock', owner: appd }),
      rec({ protocol: 'unix', inode: 11, owner: curl }),
      rec({ protocol: 'unix', inode: 15, path: '/run/app.sock', owner: appd }),
      rec({ protocol: 'unix', inode: 14, owner: curl }),
      // curl talks to itself over a socketpair: one connection, not two.
      rec({ protocol: 'unix', inode: 20, owner: curl }),
      rec({ protocol: 'unix', inode: 21, owner: curl }),
      // Its peer is in another namespace: no holder known, left out.
      rec({ protocol: 'unix', inode: 30, owner: curl }),
    ];
    const peers = joinUnixPeers(all, [
      { inode: 10, peerInode: 11 },
      { inode: 11, peerInode: 10 },
      { inode: 14, peerInode: 15 },
      { inode: 15, peerInode: 14 },
      { inode: 20, peerInode: 21 },
      { inode: 21, peerInode: 20 },
      { inode: 30, peerInode: 999 },
    ]);

    it("lists, for each process, the holders of its sockets' other ends, most connections first", () => {
      const by = countUnixPeersByProcess(all, peers);
      expect(by.get('100')).toEqual([{ peerPid: 200, peerProcess: 'curl', connections: 2, path: '/run/app.sock' }]);
      expect(by.get('200')).toEqual([
        { peerPid: 100, peerProcess: 'appd', connections: 2, path: '/run/app.sock' },
        { peerPid: 200, peerProcess: 'curl', connections: 1, path: null },
      ]);
      expect(by.size).toBe(2);
    });

    it('counts only the sockets shown (a filter), from their own side', () => {
      const shown = all.filter((s) => s.inode === 11 || s.inode === 21);
      const by = countUnixPeersByProcess(shown, peers);
      expect(by.has('100')).toBe(false);
      expect(by.get('200')).toEqual([
        { peerPid: 100, peerProcess: 'appd', connections: 1, path: '/run/app.sock' },
        { peerPid: 200, peerProcess: 'curl', connections: 1, path: null },
      ]);
    });
  });
});
