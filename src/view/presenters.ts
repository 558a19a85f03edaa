// Presenters shared by the dashboard and the non-interactive outputs (`--once` table, details):
// one socket's endpoints and owner as text. Strings from the system pass through safeText here.

import { formatEndpoint } from '../model/address.js';
import type { ConnRate } from '../model/conn-rates.js';
import { safeText } from '../model/safe-text.js';
import type { SocketRecord } from '../model/types.js';
import type { UnixPeer } from '../model/unix-peers.js';

/** What `ss` adds to a snapshot, when it could be read: UNIX peers by inode, TCP rates by socket key. */
export interface SocketExtras {
  readonly unixPeers?: ReadonlyMap<number, UnixPeer>;
  readonly rates?: ReadonlyMap<string, ConnRate>;
}

/** A UNIX socket's other end: "PATH INODE" like ss ("*" when unnamed), then "PID/PROCESS" when known. */
export function formatUnixPeer(p: UnixPeer): string {
  const who = p.peerPid === null ? '' : ` ${p.peerPid}/${safeText(p.peerProcess ?? '', 64)}`;
  return `${safeText(p.peerPath ?? '*', 120)} ${p.peerInode}${who}`;
}

export function localEndpoint(s: SocketRecord): string {
  return s.protocol === 'unix' ? safeText(s.path ?? '*', 200) : formatEndpoint(s.localAddress, s.localPort, s.protocol);
}

export function peerEndpoint(s: SocketRecord, extras: SocketExtras = {}): string {
  if (s.protocol !== 'unix') return formatEndpoint(s.remoteAddress, s.remotePort, s.protocol);
  const peer = extras.unixPeers?.get(s.inode);
  return peer === undefined ? '*' : formatUnixPeer(peer);
}

/** "1234/nginx", plus "+2" when the socket is shared with other processes; "-" when unknown. */
export function formatOwner(s: SocketRecord): string {
  if (s.owner === null) return '-';
  const shared = s.sharedBy > 0 ? ` +${s.sharedBy}` : '';
  return `${s.owner.pid}/${safeText(s.owner.command, 64)}${shared}`;
}
