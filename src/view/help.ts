// The key map as data: the footer shows the main keys, the help overlay lists them all, and a
// short guide to the states follows (same texts as the details pane).

import { STATE_EXPLANATION, TCP_STATES, TCP_STATE_SHORT } from '../model/state-info.js';
import type { ViewName } from './ui-state.js';
import { wrap } from './details-view.js';

export const HELP_KEYS: readonly (readonly [string, string])[] = [
  ['q, Ctrl-C', 'quit'],
  ['?', 'this help (Esc closes)'],
  ['/', 'filter: port 5432, state close-wait, proc nginx, dst 10.0.0.0/8 … (and, or, not)'],
  ['p', 'quick filter by port'],
  ['s', 'quick filter by state: estab, tw, cw, listen, syn-recv, … (several: "cw tw")'],
  ['c', 'clear the filter'],
  ['Tab, Shift-Tab', 'next / previous view'],
  ['1 2 3 4 5 6 7', 'views: sockets, by port, by peer, by process, TCP state diagram, findings, compare with marker'],
  ['m', 'drop a named marker ("ramp start"); view 7 compares now with it'],
  ['↑ ↓, j k', 'move the selection'],
  ['PgUp PgDn, Home End, g G', 'page, first, last'],
  ['< >', 'sort by the previous / next column'],
  ['r', 'reverse the sort order'],
  ['Enter', 'details of a socket; in a grouped view, its sockets'],
  ['Esc', 'back: close details/help/prompt, leave a drill-down'],
  ['P (in details)', 'all sockets of this process'],
  ['D (in details)', 'all sockets to this peer'],
  ['space', 'pause / resume the picture (collection goes on)'],
  ['+ -', 'refresh faster / slower'],
];

export function footerKeys(view: ViewName, detailsOpen: boolean, paused: boolean): readonly (readonly [string, string])[] {
  if (detailsOpen) return [['Esc', 'back'], ['q', 'quit'], ['P', 'process'], ['D', 'peer'], ['↑↓', 'scroll']];
  // q and ? first: the footer is cut at the right on narrow terminals.
  return [
    ['q', 'quit'],
    ['?', 'help'],
    ['/', 'filter'],
    ['p', 'port'],
    ['s', 'state'],
    ['Tab', view === 'sockets' ? 'views' : 'next view'],
    ['Enter', view === 'sockets' ? 'details' : view === 'states' ? 'sockets' : 'drill'],
    ['<>', 'sort'],
    ['space', paused ? 'resume' : 'pause'],
    ['+-', 'speed'],
  ];
}

/** `label` in a column `labelWidth` wide, `text` wrapped beside it so every line fits `width`. */
function labelled(label: string, labelWidth: number, text: string, width: number): string[] {
  const body = wrap(text, Math.max(20, width - 2 - labelWidth), '');
  return body.map((l, i) => `  ${(i === 0 ? label : '').padEnd(labelWidth)}${l}`);
}

export function helpLines(width: number): string[] {
  const lines: string[] = ['# Keys'];
  const keyWidth = Math.max(...HELP_KEYS.map(([k]) => k.length)) + 2;
  for (const [k, what] of HELP_KEYS) lines.push(...labelled(k, keyWidth, what, width));
  lines.push('', '# TCP states (Enter on a socket explains its state in full)');
  for (const state of TCP_STATES) lines.push(...labelled(TCP_STATE_SHORT[state], 12, STATE_EXPLANATION.tcp[state].meaning, width));
  lines.push('', '# Columns');
  lines.push(...labelled('Recv-Q, Send-Q', 16, 'bytes queued; for LISTEN, Recv-Q is connections waiting for accept()', width));
  lines.push(...labelled('Age', 16, 'time since sockscope first saw the socket (">" = already open at start)', width));
  lines.push(...labelled('Process', 16, 'pid/name of the owner; "-" = unknown (not root) or no process (TIME_WAIT)', width));
  return lines;
}
