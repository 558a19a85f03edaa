// collectStateCounts: counts per protocol and state without building socket records — the
// `--summary` path. TCP tables (the big ones) are counted by reading only the state column;
// the others are parsed (they are small on almost every machine). Over --ssh
// (collectStateCountsAsync with a StateTallySource) the remote side counts the TCP state column
// itself and sends a few lines per table instead of the table.

import type { CountsByGroup } from '../model/aggregate.js';
import { PROTOCOL_GROUP } from '../model/aggregate.js';
import type { Protocol } from '../model/types.js';
import { NET_TABLES } from './collect-snapshot.js';
import { countTcpStatesFast, parseInetTable, parseTcpStateTally, type TcpStateCounts } from './parse-inet.js';
import { parseUnixTable } from './parse-unix.js';
import { describeReadError, readTextResultAsync, type ProcFs, type TextReadResult } from './proc-fs.js';

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

/** One table's contribution: its TCP state counts, or its text to parse, or why it is absent. */
type TableInput =
  | { readonly kind: 'tcp'; readonly counts: TcpStateCounts }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'missing'; readonly error: string };

function accumulate(inputs: readonly (readonly [Protocol, TableInput])[]): StateCountsResult {
  const counts: CountsByGroup = { tcp: {}, udp: {}, raw: {}, unix: {} };
  const files: Record<string, number> = {};
  const unreadable: Record<string, string> = {};
  for (const [protocol, input] of inputs) {
    if (input.kind === 'missing') {
      if (input.error !== 'ENOENT' && input.error !== 'ENOTDIR') unreadable[`net/${protocol}`] = describeReadError(input.error);
      continue;
    }
    const group = counts[PROTOCOL_GROUP[protocol]];
    let skipped: number;
    if (input.kind === 'tcp') {
      for (const [state, n] of Object.entries(input.counts.counts) as [keyof TcpStateCounts['counts'], number][]) {
        if (n > 0) group[state] = (group[state] ?? 0) + n;
      }
      skipped = input.counts.skipped;
    } else {
      const parsed = protocol === 'unix' ? parseUnixTable(input.text) : parseInetTable(input.text, protocol);
      for (const s of parsed.sockets) group[s.state] = (group[s.state] ?? 0) + 1;
      skipped = parsed.skipped;
    }
    if (skipped > 0) files[`net/${protocol}`] = skipped;
  }
  return { counts, files, unreadable };
}

const isTcp = (protocol: Protocol): boolean => protocol === 'tcp' || protocol === 'tcp6';

export function collectStateCounts(procFs: ProcFs, protocols: readonly Protocol[] = NET_TABLES): StateCountsResult {
  return accumulate(
    protocols.map((protocol): [Protocol, TableInput] => {
      const text = procFs.readText(`net/${protocol}`);
      if (text === null) return [protocol, { kind: 'missing', error: procFs.lastError() ?? 'EIO' }];
      return [protocol, isTcp(protocol) ? { kind: 'tcp', counts: countTcpStatesFast(text) } : { kind: 'text', text }];
    }),
  );
}

/** The same with async reads (every table at once); TCP tables tallied by `tally` when given. */
export async function collectStateCountsAsync(
  procFs: ProcFs,
  protocols: readonly Protocol[] = NET_TABLES,
  tally: StateTallySource | null = null,
): Promise<StateCountsResult> {
  const inputs = await Promise.all(
    protocols.map(async (protocol): Promise<[Protocol, TableInput]> => {
      const rel = `net/${protocol}`;
      if (isTcp(protocol) && tally !== null) {
        const lines = await tally.tallyTcpStatesAsync(rel);
        if (lines.text === null) return [protocol, { kind: 'missing', error: lines.error ?? 'ENOENT' }];
        return [protocol, { kind: 'tcp', counts: parseTcpStateTally(lines.text) }];
      }
      const { text, error } = await readTextResultAsync(procFs, rel);
      if (text === null) return [protocol, { kind: 'missing', error: error ?? 'ENOENT' }];
      return [protocol, isTcp(protocol) ? { kind: 'tcp', counts: countTcpStatesFast(text) } : { kind: 'text', text }];
    }),
  );
  return accumulate(inputs);
}
