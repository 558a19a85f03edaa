// Presenters shared by the dashboard and the non-interactive outputs (`--once` table, details):
// one socket's endpoints and owner as text. Strings from the system pass through safeText here.

import { safeText } from '../model/safe-text.js';
import type { SocketRecord } from '../model/types.js';

/** "1.2.3.4:80", "[::1]:443", "*:*" for unbound, the path (or "*") for unix sockets. */
export function formatEndpoint(address: string, port: number, protocol: SocketRecord['protocol']): string {
  if (protocol === 'unix') return '';
  const host = address === '0.0.0.0' || address === '::' ? '*' : address.includes(':') ? `[${address}]` : address;
  return `${host}:${port === 0 ? '*' : String(port)}`;
}

export function localEndpoint(s: SocketRecord): string {
  return s.protocol === 'unix' ? safeText(s.path ?? '*', 200) : formatEndpoint(s.localAddress, s.localPort, s.protocol);
}

export function peerEndpoint(s: SocketRecord): string {
  return s.protocol === 'unix' ? '*' : formatEndpoint(s.remoteAddress, s.remotePort, s.protocol);
}

/** "1234/nginx", plus "+2" when the socket is shared with other processes; "-" when unknown. */
export function formatOwner(s: SocketRecord): string {
  if (s.owner === null) return '-';
  const shared = s.sharedBy > 0 ? ` +${s.sharedBy}` : '';
  return `${s.owner.pid}/${safeText(s.owner.command, 64)}${shared}`;
}
