// read*/parse*: the backlog limit of every TCP listener, which /proc/net/tcp does not carry
// (its tx_queue column is 0 for LISTEN sockets). `ss -ltnH` gets it over netlink (inet_diag
// idiag_wqueue = sk_max_ack_backlog) and prints it as Send-Q; Recv-Q is the accept queue now
// (sk_ack_backlog). Run without a shell, with a timeout. ss answers for its own network
// namespace: callers reading another namespace or a recorded tree should not use this.

import { execFile } from 'node:child_process';
import { endpointKey } from '../model/address.js';

/** One LISTEN line of `ss -ltnH`. */
export interface SsListenLine {
  /** Local address as ss prints it, without brackets or %interface; '*' for a dual-stack "any". */
  readonly address: string;
  readonly port: number;
  /** Connections waiting for accept() (sk_ack_backlog). */
  readonly recvQ: number;
  /** The backlog limit: min(listen() argument, net.core.somaxconn) (sk_max_ack_backlog). */
  readonly sendQ: number;
}

const LOCAL = /^(?:\[([^\]]+)\]|([^\s[\]]*?))(?:%[^:\s]+)?:(\d{1,5}|\*)$/;
const NUMBER = /^\d+$/;

/**
 * One line of `ss -ltnH` ("LISTEN 0 128 0.0.0.0:22 0.0.0.0:*"; ss leaves the State column out
 * when a state filter is given, so fields are found from the local address backwards: the two
 * numbers just before it are Recv-Q and Send-Q). Null for anything else.
 */
export function parseSsListenLine(line: string): SsListenLine | null {
  const f = line.trim().split(/\s+/);
  for (let i = 2; i < f.length; i++) {
    const m = LOCAL.exec(f[i]!);
    if (m === null) continue;
    const recvQ = f[i - 2]!;
    const sendQ = f[i - 1]!;
    if (!NUMBER.test(recvQ) || !NUMBER.test(sendQ) || m[3] === '*') return null;
    const port = Number(m[3]);
    if (port > 65535) return null;
    const address = (m[1] ?? m[2] ?? '').toLowerCase();
    if (address === '') return null;
    return { address, port, recvQ: Number(recvQ), sendQ: Number(sendQ) };
  }
  return null;
}

/**
 * `ss -ltnH` output → backlog limit per listener endpoint (endpointKey: "127.0.0.1:80",
 * "[::1]:80", "*:80"). SO_REUSEPORT siblings share an endpoint: the largest limit is kept.
 */
export function parseSsListenBacklogs(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const l = parseSsListenLine(line);
    if (l === null) continue;
    const key = endpointKey(l.address, l.port);
    out.set(key, Math.max(out.get(key) ?? 0, l.sendQ));
  }
  return out;
}

/**
 * Backlog limits of this namespace's TCP listeners from `ss -ltnH`; an empty map when ss is not
 * installed, fails or times out (callers then fall back to somaxconn as an upper bound).
 */
export function readListenBacklogs(timeoutMs = 10_000, command = 'ss'): Promise<Map<string, number>> {
  return new Promise((resolve) => {
    execFile(command, ['-ltnH'], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, shell: false }, (err, stdout) => {
      resolve(err ? new Map() : parseSsListenBacklogs(stdout));
    });
  });
}
