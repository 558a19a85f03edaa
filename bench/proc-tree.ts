// A synthetic /proc tree (for --proc-root) of any size, written in the kernel's formats, so the
// modes can be timed at sizes no loopback population reaches on this machine (1,000,000
// sockets: ~150 MB of net/tcp text). Lines follow get_tcp4_sock / get_tcp6_sock (full, 17
// fields, padded to 149 columns) and get_timewait4_sock (short, 12 fields) exactly, as in
// test/fixtures/proc-text/recorded/tcp.
//
// Mix (like bench/loadgen.ts): 80% ESTABLISHED (pairs, both ends), 5% CLOSE_WAIT, 5% FIN_WAIT2,
// 10% TIME_WAIT, plus one listener per 4,000 sockets; 90% in net/tcp, 10% in net/tcp6.

import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createProcFs } from '../src/proc/proc-fs.js';

export const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ';
export const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

export const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/** 127.0.0.x as the kernel prints it (host order, little-endian). */
export const v4 = (last: number): string => `${hex(last & 0xff, 2)}00007F`;
/** ::1 as printed in /proc/net/tcp6. */
export const V6_LOOPBACK = '00000000000000000000000001000000';

export interface ProcTreeSpec {
  readonly sockets: number;
}

export interface ProcTreeResult {
  readonly root: string;
  readonly tcpBytes: number;
  readonly sockets: number;
}

/** One data line (without sl), as the kernel would print it for socket number i. */
function socketLine(i: number, v6: boolean, listeners: number): { body: string; short: boolean } {
  const addr = v6 ? (): string => V6_LOOPBACK : (k: number): string => v4(1 + (k % 37));
  const inode = 1_000_000 + i;
  const r = i % 20;
  if (i < listeners) {
    return {
      body: `${addr(i)}:${hex(10_000 + i, 4)} ${v6 ? '0'.repeat(32) : '00000000'}:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`,
      short: false,
    };
  }
  // Unique endpoints per socket (tcp6 has one address, so the local port also moves every
  // 60,000 sockets, when the remote port wraps).
  const local = `${addr(i)}:${hex(10_000 + ((i + Math.floor(i / 60_000)) % listeners), 4)}`;
  const remote = `${addr(i + 1)}:${hex(1024 + (i % 60_000), 4)}`;
  if (r < 2) {
    // TIME_WAIT: a short timewait line, inode 0, the timer counting down
    return {
      body: `${local} ${remote} 06 00000000:00000000 03:${hex(100 + (i % 5900), 8)} 00000000     0        0 0 3 0000000000000000`,
      short: true,
    };
  }
  const st = r === 2 ? '08' : r === 3 ? '05' : '01';
  return {
    body: `${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1`,
    short: false,
  };
}

function writeTable(file: string, header: string, from: number, to: number, v6: boolean, listeners: number): number {
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  try {
    let chunk = `${header}\n`;
    for (let i = from, sl = 0; i < to; i++, sl++) {
      const { body } = socketLine(i, v6, listeners);
      const line = `${String(sl).padStart(4)}: ${body}`;
      chunk += `${line.padEnd(v6 ? 0 : 149)}\n`;
      if (chunk.length > 1 << 20) {
        bytes += fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    bytes += fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** Write net/{tcp,tcp6,udp,unix,snmp} for spec.sockets TCP sockets under a new directory of `parent`. */
export function writeSyntheticProcTree(parent: string, spec: ProcTreeSpec): ProcTreeResult {
  const root = fs.mkdtempSync(path.join(parent, `sockscope-tree-${spec.sockets}-`));
  const net = path.join(root, 'net');
  fs.mkdirSync(net);
  const listeners = Math.max(1, Math.ceil(spec.sockets / 4000));
  const v4Count = Math.round(spec.sockets * 0.9);
  let tcpBytes = writeTable(path.join(net, 'tcp'), TCP_HEADER, 0, v4Count, false, listeners);
  tcpBytes += writeTable(path.join(net, 'tcp6'), TCP6_HEADER, v4Count, spec.sockets, true, listeners);
  fs.writeFileSync(
    path.join(net, 'udp'),
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n',
  );
  fs.writeFileSync(path.join(net, 'unix'), 'Num       RefCount Protocol Flags    Type St Inode Path\n');
  fs.writeFileSync(path.join(net, 'snmp'), 'Tcp: ActiveOpens PassiveOpens\nTcp: 0 0\n');
  return { root, tcpBytes, sockets: spec.sockets };
}

/** The same tree again with a fraction of the TCP lines changed (timers moved), as a next refresh would see. */
export function touchSyntheticProcTree(tree: ProcTreeResult, everyNth: number): void {
  const file = path.join(tree.root, 'net', 'tcp');
  const lines = fs.readFileSync(file, 'latin1').split('\n');
  for (let i = 1; i < lines.length; i += everyNth) lines[i] = lines[i]!.replace(' 03:', ' 03:').replace(/ 00:00000000 /, ' 02:00000100 ');
  fs.writeFileSync(file, lines.join('\n'), 'latin1');
}

/** Collection deps over a synthetic tree: no owners, uids as names, a fixed host name. */
export function syntheticCollectDeps(root: string) {
  return {
    procFs: createProcFs(root),
    owners: null,
    userName: (uid: number) => String(uid),
    hostname: () => 'synthetic',
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
  };
}
