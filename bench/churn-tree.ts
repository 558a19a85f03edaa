// A synthetic /proc/net/tcp{,6} that changes from one round to the next the way a busy host's
// does, for timing the dashboard's per-refresh work where turnover matters (a static tree reuses
// every line). Per round at N sockets: ~2.5% of the connections close and as many open (each
// slot lives 20–59 rounds, then its successor gets a new inode and remote port), a connection
// spends the last 2 rounds of its life in CLOSE_WAIT or FIN_WAIT2 (state changes), and every
// TIME_WAIT line's timer moves (10% of the lines change text, as on a live host). Line formats
// as bench/proc-tree.ts (the kernel's get_tcp4_sock / get_timewait4_sock). Written to a
// temporary file and renamed, so a reader never sees half a table.

import fs from 'node:fs';
import path from 'node:path';
import { TCP6_HEADER, TCP_HEADER, V6_LOOPBACK, hex, v4 } from './proc-tree.js';

export interface ChurnTree {
  readonly root: string;
  readonly sockets: number;
}

/** The line (without sl) of slot i at `round`. */
function churnLine(i: number, round: number, v6: boolean, listeners: number): string {
  const addr = v6 ? (): string => V6_LOOPBACK : (k: number): string => v4(1 + (k % 37));
  if (i < listeners) {
    return `${addr(i)}:${hex(10_000 + i, 4)} ${v6 ? '0'.repeat(32) : '00000000'}:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${1_000_000 + i} 1 0000000000000000 100 0 0 10 0`;
  }
  const life = 20 + (i % 40);
  const age = round + ((i * 7919) % life);
  const generation = Math.floor(age / life);
  const inLife = age % life;
  // 22 bits of slot, the rest generation: unique inodes across rounds.
  const inode = 2_000_000 + i + generation * 4_194_304;
  const local = `${addr(i)}:${hex(10_000 + (i % listeners), 4)}`;
  const remote = `${addr(i + 1)}:${hex(1024 + ((i + generation * 7) % 60_000), 4)}`;
  const r = i % 20;
  if (r < 2)
    return `${local} ${remote} 06 00000000:00000000 03:${hex(100 + ((i + round * 100) % 5900), 8)} 00000000     0        0 0 3 0000000000000000`;
  const st = inLife >= life - 2 ? (r % 2 === 0 ? '08' : '05') : '01';
  return `${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1`;
}

function writeTable(file: string, header: string, from: number, to: number, v6: boolean, listeners: number, round: number): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    let chunk = `${header}\n`;
    for (let i = from, sl = 0; i < to; i++, sl++) {
      const line = `${String(sl).padStart(4)}: ${churnLine(i, round, v6, listeners)}`;
      chunk += `${line.padEnd(v6 ? 0 : 149)}\n`;
      if (chunk.length > 1 << 20) {
        fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Write the tables of `round` (the other files once, at round 0). */
export function writeChurnRound(tree: ChurnTree, round: number): void {
  const net = path.join(tree.root, 'net');
  const listeners = Math.max(1, Math.ceil(tree.sockets / 4000));
  const v4Count = Math.round(tree.sockets * 0.9);
  writeTable(path.join(net, 'tcp'), TCP_HEADER, 0, v4Count, false, listeners, round);
  writeTable(path.join(net, 'tcp6'), TCP6_HEADER, v4Count, tree.sockets, true, listeners, round);
}

/** A new churning tree under `parent`, at round 0. */
export function createChurnTree(parent: string, sockets: number): ChurnTree {
  const root = fs.mkdtempSync(path.join(parent, `sockscope-churn-${sockets}-`));
  const net = path.join(root, 'net');
  fs.mkdirSync(net);
  fs.writeFileSync(
    path.join(net, 'udp'),
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n',
  );
  fs.writeFileSync(path.join(net, 'unix'), 'Num       RefCount Protocol Flags    Type St Inode Path\n');
  fs.writeFileSync(path.join(net, 'snmp'), 'Tcp: ActiveOpens PassiveOpens\nTcp: 0 0\n');
  const tree = { root, sockets };
  writeChurnRound(tree, 0);
  return tree;
}
