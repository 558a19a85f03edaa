// The help overlay: the key map's bindings (src/view/key-map.ts), then a short guide to the
// states (same texts as the details pane) and the columns. The footer reads the same map.

import { STATE_EXPLANATION, TCP_STATES, TCP_STATE_SHORT } from '../model/state-info.js';
import type { PromptKind, ViewName } from './ui-state.js';
import { wrap } from './details-view.js';
import { footerKeyRows, helpKeyRows } from './key-map.js';

/** The key section's rows: the key map's documented bindings (replay keys only when replaying). */
export function helpKeys(replay = false): readonly (readonly [string, string])[] {
  return helpKeyRows(replay);
}

/** The footer's keys for this screen, from the key map. */
export function footerKeys(
  view: ViewName,
  detailsOpen: boolean,
  paused: boolean,
  options: {
    readonly helpOpen?: boolean;
    readonly replay?: boolean;
    readonly hasFindings?: boolean;
    readonly prompt?: PromptKind | null;
    readonly sortMenuOpen?: boolean;
  } = {},
): readonly (readonly [string, string])[] {
  return footerKeyRows({
    view,
    detailsOpen,
    paused,
    helpOpen: options.helpOpen ?? false,
    replay: options.replay ?? false,
    hasFindings: options.hasFindings ?? false,
    prompt: options.prompt ?? null,
    sortMenuOpen: options.sortMenuOpen ?? false,
  });
}

/** `label` in a column `labelWidth` wide, `text` wrapped beside it so every line fits `width`. */
function labelled(label: string, labelWidth: number, text: string, width: number): string[] {
  const body = wrap(text, Math.max(20, width - 2 - labelWidth), '');
  return body.map((l, i) => `  ${(i === 0 ? label : '').padEnd(labelWidth)}${l}`);
}

export function helpLines(width: number, replay = false): string[] {
  const keys = helpKeys(replay);
  const lines: string[] = [replay ? '# Keys (replaying a recording)' : '# Keys'];
  const keyWidth = Math.max(...keys.map(([k]) => k.length)) + 2;
  for (const [k, what] of keys) lines.push(...labelled(k, keyWidth, what, width));
  lines.push('', '# TCP states (Enter on a socket explains its state in full)');
  for (const state of TCP_STATES) lines.push(...labelled(TCP_STATE_SHORT[state], 12, STATE_EXPLANATION.tcp[state].meaning, width));
  lines.push('', '# Columns');
  lines.push(...labelled('Recv-Q, Send-Q', 16, 'bytes queued; for LISTEN, Recv-Q is connections waiting for accept()', width));
  lines.push(...labelled('Age', 16, 'time since sockscope first saw the socket (">" = already open at start)', width));
  lines.push(...labelled('Process', 16, 'pid/name of the owner; "-" = unknown (not root) or no process (TIME_WAIT)', width));
  return lines;
}
