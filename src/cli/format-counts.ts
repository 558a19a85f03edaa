// Presenters of counts for the headless outputs (`--summary`, and the JSON text of every
// document), apart from the socket table so that `--once --summary` loads only these.

import type { CountsByGroup, StateCounts } from '../model/aggregate.js';
import { totalOf } from '../model/aggregate.js';
import type { ProtocolGroup } from '../model/types.js';

const GROUP_ORDER: readonly ProtocolGroup[] = ['tcp', 'udp', 'raw', 'unix'];

/** Counts per protocol and state, biggest first. */
export function formatSummary(counts: CountsByGroup): string {
  const lines: string[] = [];
  for (const group of GROUP_ORDER) {
    const c: StateCounts = counts[group];
    const total = totalOf(c);
    if (total === 0 && group === 'raw') continue;
    lines.push(`${group.toUpperCase().padEnd(5)} ${String(total).padStart(8)}`);
    const entries = Object.entries(c).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
    for (const [state, n] of entries) lines.push(`  ${state.padEnd(14)} ${String(n).padStart(7)}`);
  }
  return lines.join('\n');
}

/**
 * JSON.stringify escapes only C0 controls; DEL, C1 controls (U+009B is CSI to a UTF-8 terminal)
 * and bidi/format controls stay raw inside strings. They only ever occur inside string literals,
 * so turning them into \uXXXX keeps the document valid and parsing back to the same strings.
 */
const JSON_UNSAFE = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** JSON text that is inert on a terminal (scripts print `--json` output to one too). */
export function stringifyForTerminal(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
