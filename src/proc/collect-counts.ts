// collectStateCounts: counts per protocol and state without building socket records — the
// `--summary` path. TCP tables (the big ones) are counted by reading only the state column;
// the others are parsed (they are small on almost every machine).

import type { CountsByGroup } from '../model/aggregate.js';
import { PROTOCOL_GROUP } from '../model/aggregate.js';
import type { Protocol } from '../model/types.js';
import { NET_TABLES } from './collect-snapshot.js';
import { countTcpStatesFast, countTcpStatesInBytes, parseInetTable } from './parse-inet.js';
import { parseUnixTable } from './parse-unix.js';
import { describeReadError, readBytesResultAsync, readTextResultAsync, type ProcFs } from './proc-fs.js';

export interface StateCountsResult {
  readonly counts: CountsByGroup;
  /** Skipped (unparsable) lines per file. */
  readonly files: Readonly<Record<string, number>>;
  /** Tables that exist but could not be read, file → reason (as Snapshot.issues.unreadable). */
  readonly unreadable: Readonly<Record<string, string>>;
}

export function collectStateCounts(procFs: ProcFs, protocols: readonly Protocol[] = NET_TABLES): StateCountsResult {
  const tally = newTally();
  for (const protocol of protocols) {
    const text = procFs.readText(`net/${protocol}`);
    addTable(tally, protocol, text, text === null ? (procFs.lastError() ?? 'EIO') : null);
  }
  return tally;
}

/**
 * collectStateCounts with every table read at once in libuv's pool (tcp and tcp6 are produced
 * by the kernel in parallel), the TCP tables counted from their bytes (no text decoded). Same
 * result as collectStateCounts.
 */
export async function collectStateCountsAsync(procFs: ProcFs, protocols: readonly Protocol[] = NET_TABLES): Promise<StateCountsResult> {
  const reads = await Promise.all(
    protocols.map(async (protocol): Promise<[Buffer | string | null, string | null]> => {
      const path = `net/${protocol}`;
      if (protocol === 'tcp' || protocol === 'tcp6') {
        const { bytes, error } = await readBytesResultAsync(procFs, path);
        return [bytes, error];
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

/** Add one table (its text, or for tcp/tcp6 possibly its bytes) to the counts; a null content was not read. */
function addTable(
  tally: { counts: CountsByGroup; files: Record<string, number>; unreadable: Record<string, string> },
  protocol: Protocol,
  content: Buffer | string | null,
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
    const fast = typeof content === 'string' ? countTcpStatesFast(content) : countTcpStatesInBytes(content);
    for (const [state, n] of Object.entries(fast.counts) as [keyof typeof fast.counts, number][]) {
      if (n > 0) group[state] = (group[state] ?? 0) + n;
    }
    skipped = fast.skipped;
  } else {
    const text = typeof content === 'string' ? content : content.toString('utf8');
    const parsed = protocol === 'unix' ? parseUnixTable(text) : parseInetTable(text, protocol);
    for (const s of parsed.sockets) group[s.state] = (group[s.state] ?? 0) + 1;
    skipped = parsed.skipped;
  }
  if (skipped > 0) tally.files[`net/${protocol}`] = skipped;
}
