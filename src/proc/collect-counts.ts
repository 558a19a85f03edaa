// collectStateCounts: counts per protocol and state without building socket records — the
// `--summary` path. TCP tables (the big ones) are counted by reading only the state column;
// the others are parsed (they are small on almost every machine).

import type { CountsByGroup } from '../model/aggregate.js';
import { PROTOCOL_GROUP } from '../model/aggregate.js';
import type { Protocol } from '../model/types.js';
import { NET_TABLES } from './collect-snapshot.js';
import { countTcpStatesFast, parseInetTable } from './parse-inet.js';
import { parseUnixTable } from './parse-unix.js';
import { describeReadError, type ProcFs } from './proc-fs.js';

export interface StateCountsResult {
  readonly counts: CountsByGroup;
  /** Skipped (unparsable) lines per file. */
  readonly files: Readonly<Record<string, number>>;
  /** Tables that exist but could not be read, file → reason (as Snapshot.issues.unreadable). */
  readonly unreadable: Readonly<Record<string, string>>;
}

export function collectStateCounts(procFs: ProcFs, protocols: readonly Protocol[] = NET_TABLES): StateCountsResult {
  const counts: CountsByGroup = { tcp: {}, udp: {}, raw: {}, unix: {} };
  const files: Record<string, number> = {};
  const unreadable: Record<string, string> = {};
  for (const protocol of protocols) {
    const text = procFs.readText(`net/${protocol}`);
    if (text === null) {
      const error = procFs.lastError() ?? 'EIO';
      if (error !== 'ENOENT' && error !== 'ENOTDIR') unreadable[`net/${protocol}`] = describeReadError(error);
      continue;
    }
    const group = counts[PROTOCOL_GROUP[protocol]];
    let skipped: number;
    if (protocol === 'tcp' || protocol === 'tcp6') {
      const fast = countTcpStatesFast(text);
      for (const [state, n] of Object.entries(fast.counts) as [keyof typeof fast.counts, number][]) {
        if (n > 0) group[state] = (group[state] ?? 0) + n;
      }
      skipped = fast.skipped;
    } else {
      const parsed = protocol === 'unix' ? parseUnixTable(text) : parseInetTable(text, protocol);
      for (const s of parsed.sockets) group[s.state] = (group[s.state] ?? 0) + 1;
      skipped = parsed.skipped;
    }
    if (skipped > 0) files[`net/${protocol}`] = skipped;
  }
  return { counts, files, unreadable };
}
