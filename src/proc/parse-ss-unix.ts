// parse*: the text of `ss -xH` (iproute2): which UNIX socket is connected to which. The kernel's
// /proc/net/unix does not carry the peer; ss asks sock_diag (UNIX_DIAG_PEER) and prints
//   u_str ESTAB 0 0 /run/x.sock 32935 * 32930 [users:(("node",pid=9193,fd=30))]
// i.e. Netid State Recv-Q Send-Q LOCAL-PATH LOCAL-INODE PEER-PATH PEER-INODE. A path may contain
// spaces, so the line is read from both ends: four tokens from the left, the inodes from the right.

export interface SsUnixPeer {
  /** Socket inode of this end (as in /proc/net/unix). */
  readonly inode: number;
  /** Socket inode of the other end; 0 when ss reports none. */
  readonly peerInode: number;
}

export interface SsUnixTable {
  readonly peers: SsUnixPeer[];
  readonly skipped: number;
}

const LEFT = /^\s*(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+/;
// LOCAL-PATH? LOCAL-INODE PEER-PATH PEER-INODE, then maybe "users:((…))" or other -e/-p fields.
const RIGHT = /\s(\d+)\s+\S+\s+(\d+)(?:\s+(?:users|ino|uid|sk|cgroup|skmem):.*)?\s*$/;

/** Parse `ss -xH` (or -xpH) output into inode → peer inode pairs. */
export function parseSsUnixTable(text: string): SsUnixTable {
  const peers: SsUnixPeer[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^(Netid|State)\s/.test(line)) continue;
    if (/^\s/.test(line)) continue; // continuation lines of -e/-m output
    const left = LEFT.exec(line);
    if (left === null || !left[1]!.startsWith('u_')) {
      skipped++;
      continue;
    }
    // Anchor the inodes after the four left tokens so the Recv-Q/Send-Q digits are never taken.
    const right = RIGHT.exec(` ${line.slice(left[0].length)}`);
    if (right === null) {
      skipped++;
      continue;
    }
    const inode = Number(right[1]);
    const peerInode = Number(right[2]);
    if (!Number.isSafeInteger(inode) || !Number.isSafeInteger(peerInode)) {
      skipped++;
      continue;
    }
    peers.push({ inode, peerInode });
  }
  return { peers, skipped };
}
