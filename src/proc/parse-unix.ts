// parse*: /proc/net/unix text → SocketEntry[]. Pure: text in, data out.
//
// Line format (net/unix/af_unix.c unix_seq_show):
//   "%pK: %08X %08X %08X %04X %02X %5lu" then, for a bound socket, ' ' and the path
//   Num: RefCount Protocol(always 0) Flags(__SO_ACCEPTCON 0x10000 when listening) Type St Inode [Path]
// Type: SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5. St (socket_state): 1 unconnected,
// 2 connecting, 3 connected, 4 disconnecting. Abstract names are printed with a leading '@' and
// their NUL bytes as '@'. The path is copied byte for byte (spaces included, unescaped), so a path
// holding '\n' spills onto a following line, which is then skipped as malformed.
// /proc/net/unix has no uid and no queue sizes. Sockets not yet accept()ed show St 02 and inode 0.

import type { SocketEntry, UnixState, UnixType } from '../model/types.js';
import type { ParsedTable } from './parse-inet.js';

/** uid of UNIX sockets: /proc/net/unix does not carry one (the owner scan may tell). */
export const UNIX_UNKNOWN_UID = -1;

/** __SO_ACCEPTCON (include/linux/net.h): set in Flags for listening sockets. */
const SO_ACCEPTCON = 0x10000;

const UNIX_STATE_BY_CODE: readonly (UnixState | undefined)[] = [
  undefined,
  'UNCONNECTED', // SS_UNCONNECTED
  'CONNECTING', // SS_CONNECTING
  'CONNECTED', // SS_CONNECTED
  'DISCONNECTING', // SS_DISCONNECTING
];

function unixTypeOf(code: number): UnixType {
  switch (code) {
    case 1:
      return 'stream';
    case 2:
      return 'dgram';
    case 5:
      return 'seqpacket';
    default:
      return 'unknown';
  }
}

/** Hex number of exactly `len` digits at text[start], or -1. */
function hexFixed(text: string, start: number, end: number, len: number): number {
  if (end - start !== len) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 32) >= 97 && (c | 32) <= 102) d = (c | 32) - 87;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

const tokStart = new Int32Array(7);
const tokEnd = new Int32Array(7);

/**
 * Parse /proc/net/unix. Never throws: malformed lines (fewer than 7 fields, bad hex, unknown St,
 * inode beyond 2^53) are skipped and counted; the header and blank lines are not counted.
 */
export function parseUnixTable(text: string): ParsedTable {
  const sockets: SocketEntry[] = [];
  let skipped = 0;
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const lineStart = pos;
    pos = eol + 1;

    // The 7 fixed fields, separated by spaces.
    let count = 0;
    let i = lineStart;
    while (i < eol && count < 7) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      tokStart[count] = i;
      while (i < eol && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9) i++;
      tokEnd[count] = i;
      count++;
    }
    if (count === 0) continue; // blank
    if (text.startsWith('Num ', tokStart[0]!)) continue; // header
    const entry = count === 7 ? parseLine(text, i, eol) : null;
    if (entry === null) skipped++;
    else sockets.push(entry);
  }
  return { sockets, skipped };
}

/** Build one entry from the tokens in tokStart/tokEnd; `after` is where the inode ended. */
function parseLine(text: string, after: number, eol: number): SocketEntry | null {
  if (text.charCodeAt(tokEnd[0]! - 1) !== 58 /* : */) return null;
  const flags = hexFixed(text, tokStart[3]!, tokEnd[3]!, 8);
  const type = hexFixed(text, tokStart[4]!, tokEnd[4]!, 4);
  const st = hexFixed(text, tokStart[5]!, tokEnd[5]!, 2);
  if (hexFixed(text, tokStart[1]!, tokEnd[1]!, 8) < 0 || hexFixed(text, tokStart[2]!, tokEnd[2]!, 8) < 0) {
    return null;
  }
  if (flags < 0 || type < 0 || st < 0) return null;
  const inode = parseUDec(text, tokStart[6]!, tokEnd[6]!);
  if (inode < 0) return null;
  const connState = UNIX_STATE_BY_CODE[st];
  if (connState === undefined) return null;
  const state: UnixState = (flags & SO_ACCEPTCON) !== 0 ? 'LISTENING' : connState;

  // The kernel writes exactly one space, then the path verbatim up to the newline.
  // A lone trailing space (never printed by the kernel) is read as "no path".
  let path: string | null = null;
  if (after < eol) {
    if (text.charCodeAt(after) !== 32) return null; // the inode ran into something else
    if (after + 1 < eol) path = text.slice(after + 1, eol);
  }

  return {
    // Sockets still in a listener's accept queue have inode 0 (no struct socket yet); the Num
    // column (the kernel's hashed socket pointer) tells them apart.
    key: inode === 0 ? `unix 0 ${text.slice(tokStart[0]!, tokEnd[0]! - 1)}` : `unix ${inode}`,
    protocol: 'unix',
    state,
    localAddress: '',
    localPort: 0,
    remoteAddress: '',
    remotePort: 0,
    recvQ: 0,
    sendQ: 0,
    timer: 'off',
    timerMs: 0,
    retransmits: 0,
    uid: UNIX_UNKNOWN_UID,
    inode,
    rtoMs: null,
    atoMs: null,
    cwnd: null,
    ssthresh: null,
    drops: null,
    path,
    unixType: unixTypeOf(type),
  };
}

/** Unsigned decimal up to Number.MAX_SAFE_INTEGER, or -1. */
function parseUDec(text: string, start: number, end: number): number {
  if (end <= start || end - start > 16) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}
