// Ask `ss` for one connection's tcp_info (rtt, cwnd, bytes, retransmits, delivery rate), which
// /proc/net/tcp does not carry. Never through a shell: the arguments are built from the parsed
// numeric address and port fields, and the call has a timeout.

import { execFile } from 'node:child_process';
import { parseSsTcpInfo, type TcpInfo } from '../model/tcp-info.js';
import type { SocketRecord } from '../model/types.js';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f:.]+$/i;

/** ss filter arguments for exactly this tuple, or null when the address is not a plain IP. */
export function ssTupleArgs(s: SocketRecord): string[] | null {
  if (s.protocol !== 'tcp' && s.protocol !== 'tcp6') return null;
  const ep = (addr: string, port: number): string | null => {
    if (!Number.isInteger(port) || port < 0 || port > 65535) return null;
    if (IPV4.test(addr)) return `${addr}:${port}`;
    if (IPV6.test(addr)) return `[${addr}]:${port}`;
    return null;
  };
  const src = ep(s.localAddress, s.localPort);
  const dst = ep(s.remoteAddress, s.remotePort);
  if (src === null || dst === null) return null;
  return ['-tinH', 'state', 'all', 'src', src, 'dst', dst];
}

export function readTcpInfo(s: SocketRecord, timeoutMs = 2000): Promise<TcpInfo | null> {
  const args = ssTupleArgs(s);
  if (args === null) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile('ss', args, { timeout: timeoutMs, maxBuffer: 256 * 1024, shell: false }, (err, stdout) => {
      resolve(err ? null : parseSsTcpInfo(stdout));
    });
  });
}
