// collectStateCounts: counts per protocol and state without building socket records — the
// `--summary` path. TCP tables (the big ones) are counted by reading only the state column;
// the others are parsed (they are small on almost every machine). Over --ssh
// (collectStateCountsAsync with a StateTallySource) the remote side counts the TCP state column
// itself and sends a line per state instead of the table.

import type { CountsByGroup } from '../model/aggregate.js';
import { PROTOCOL_GROUP } from '../model/aggregate.js';
import type { Protocol } from '../model/types.js';
import { NET_TABLES } from './collect-snapshot.js';
import {
  TcpStateCounter,
  countTcpStatesFast,
  countTcpStatesInBytes,
  parseInetTable,
  parseTcpStateTally,
  type TcpStateCounts,
} from './parse-inet.js';
import { parseUnixTable } from './parse-unix.js';
import { describeReadError, readBytes, readTextResultAsync, type ProcFs, type TextReadResult } from './proc-fs.js';

export interface StateCountsResult {
  readonly counts: CountsByGroup;
  /** Skipped (unparsable) lines per file. */
  readonly files: Readonly<Record<string, number>>;
  /** Tables that exist but could not be read, file → reason (as Snapshot.issues.unreadable). */
  readonly unreadable: Readonly<Record<string, string>>;
}

/** Counts the st column of a TCP table where the table is (over --ssh: on the remote host). */
export interface StateTallySource {
  /** "<st> <count>" lines of net/tcp or net/tcp6 (parseTcpStateTally) as text, or why not. */
  tallyTcpStatesAsync(rel: string): Promise<TextReadResult>;
}

/**
 * Counts per protocol and state of every table. The TCP tables are counted from their bytes when
 * the ProcFs can give them (no text decoded: countTcpStatesInBytes), else from their text. Read
 * one after the other: procfs answers each read(2) with ~4 KB, and the ~4,000 reads of a 100k
 * table through libuv's pool (collectStateCountsAsync) cost more CPU than reading tcp and tcp6
 * at once saves.
 */
export function collectStateCounts(procFs: ProcFs, protocols: readonly Protocol[] = NET_TABLES): StateCountsResult {
  const tally = newTally();
  for (const protocol of protocols) {
    const path = `net/${protocol}`;
    const tcp = protocol === 'tcp' || protocol === 'tcp6';
    const content =
      tcp && procFs.readChunks !== undefined ? countTcpStatesStreamed(procFs, path) : tcp ? readBytes(procFs, path) : procFs.readText(path);
    addTable(tally, protocol, content, content === null ? (procFs.lastError() ?? 'EIO') : null);
  }
  return tally;
}

/**
 * The state counts of a TCP table read a piece at a time (ProcFs.readChunks): ~0.1 s less CPU at
 * 100k sockets than reading the ~15 MB table into one buffer first (the buffer doubled from 64 KiB
 * and copied each time, and the kernel writing into fresh pages). null when it could not be read.
 */
function countTcpStatesStreamed(procFs: ProcFs, path: string): TcpStateCounts | null {
  const counter = new TcpStateCounter();
  const ok = procFs.readChunks!(path, (bytes, end, last) => counter.add(bytes, 0, end, last));
  return ok ? counter.result() : null;
}

/**
 * collectStateCounts over a ProcFs whose reads are asynchronous (--ssh), every table at once; the
 * TCP tables counted by `remoteTally` where they are when given. Same result as collectStateCounts.
 */
export async function collectStateCountsAsync(
  procFs: ProcFs,
  protocols: readonly Protocol[] = NET_TABLES,
  remoteTally: StateTallySource | null = null,
): Promise<StateCountsResult> {
  const reads = await Promise.all(
    protocols.map(async (protocol): Promise<[TableContent | null, string | null]> => {
      const path = `net/${protocol}`;
      if ((protocol === 'tcp' || protocol === 'tcp6') && remoteTally !== null) {
        const { text, error } = await remoteTally.tallyTcpStatesAsync(path);
        return [text === null ? null : parseTcpStateTally(text), error];
      }
      const { text, error } = await readTextResultAsync(procFs, path);
      return [text, error];
    }),
  );
  const tally = newTally();
  protocols.forEach((protocol, i) => {
    const [content, error] = reads[i]!;
    addTable(tally, protocol, content, content === null ? (error ?? 'EIO') : null);
  });
  return tally;
}

function newTally(): { counts: CountsByGroup; files: Record<string, number>; unreadable: Record<string, string> } {
  return { counts: { tcp: {}, udp: {}, raw: {}, unix: {} }, files: {}, unreadable: {} };
}

/** A table's text, or for tcp/tcp6 its bytes or its counts already made. */
type TableContent = Buffer | string | TcpStateCounts;

/** Add one table to the counts; a null content was not read. */
function addTable(
  tally: { counts: CountsByGroup; files: Record<string, number>; unreadable: Record<string, string> },
  protocol: Protocol,
  content: TableContent | null,
  error: string | null,
): void {
  if (content === null) {
    const code = error ?? 'EIO';
    if (code !== 'ENOENT' && code !== 'ENOTDIR') tally.unreadable[`net/${protocol}`] = describeReadError(code);
    return;
  }
  const group = tally.counts[PROTOCOL_GROUP[protocol]];
  let skipped: number;
  if (protocol === 'tcp' || protocol === 'tcp6') {
    const fast =
      typeof content === 'string' ? countTcpStatesFast(content) : Buffer.isBuffer(content) ? countTcpStatesInBytes(content) : content;
    for (const [state, n] of Object.entries(fast.counts) as [keyof typeof fast.counts, number][]) {
      if (n > 0) group[state] = (group[state] ?? 0) + n;
    }
    skipped = fast.skipped;
  } else {
    if (!(typeof content === 'string' || Buffer.isBuffer(content))) return; // counts come only for tcp/tcp6
    const text = typeof content === 'string' ? content : content.toString('utf8');
    const parsed = protocol === 'unix' ? parseUnixTable(text) : parseInetTable(text, protocol);
    for (const s of parsed.sockets) group[s.state] = (group[s.state] ?? 0) + 1;
    skipped = parsed.skipped;
  }
  if (skipped > 0) tally.files[`net/${protocol}`] = skipped;
}
