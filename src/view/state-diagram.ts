// buildStateDiagramView: the TCP state machine drawn as text, with the live count in each
// state, for the "States" view. Pure. Fits 80x24: 18 lines, 72 columns. The template below is
// the drawing; `{STATE....}` marks where a state's box goes, as wide as the placeholder.

import { STATE_COLOR, TCP_STATE_SHORT, type StateColor } from '../model/state-info.js';
import type { TcpState } from '../model/types.js';
import { fitText, formatCount } from './text.js';
import { toAscii } from './ascii-fallback.js';

export interface DiagramSegment {
  readonly text: string;
  readonly color: StateColor | null;
  /** The state this segment is the box of, for selection highlighting. */
  readonly state: TcpState | null;
}

export type DiagramLine = readonly DiagramSegment[];

// Arrows and lines in Unicode; toAscii() maps them for non-UTF-8 terminals.
const TEMPLATE: readonly string[] = [
  ' active open (client)                             passive open (server)',
  '                      ┌──────────── CLOSED ───────────┐',
  '     connect(): SYN → ▼                               ▼ ← listen()',
  '              {SYN_SENT........}             {LISTEN..........}',
  '                      │                               │ SYN in, SYN+ACK out',
  '    SYN+ACK in, ACK → │                      {SYN_RECV........}',
  '                      │                               │ ACK in',
  '                      └───►{ESTABLISHED.....}◄────────┘',
  '                              │           │',
  '           close(): FIN out → ▼           ▼ ← FIN in, ACK out',
  '              {FIN_WAIT1..........}   {CLOSE_WAIT......}',
  '               │ ACK in          │ FIN in         │ app close(): FIN out',
  '               ▼                 ▼                ▼',
  '              {FIN_WAIT2......} {CLOSING...} {LAST_ACK........}',
  ' FIN in, ACK → │                 │ ACK in         │ ACK in → CLOSED',
  '               ▼                 │',
  '              {TIME_WAIT......}◄─┘',
  '               └── after 60 s ──► CLOSED',
];

/** States drawn, in the order the selection moves through them. */
export const DIAGRAM_STATES: readonly TcpState[] = [
  'LISTEN',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT1',
  'CLOSE_WAIT',
  'FIN_WAIT2',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
];

/** "[ESTAB      12.3k]": label left, count right, brackets, `width` wide. */
function box(state: TcpState, count: number, width: number): string {
  const inner = width - 2;
  const n = formatCount(count);
  const label = fitText(TCP_STATE_SHORT[state], Math.max(1, inner - n.length - 1));
  return `[${label}${' '.repeat(Math.max(1, inner - label.length - n.length))}${n}]`;
}

/** The diagram with live counts; the widget draws the selected state's box inverse (segment.state). */
export function buildStateDiagramView(counts: Readonly<Partial<Record<TcpState, number>>>, useAscii: boolean): DiagramLine[] {
  return TEMPLATE.map((row) => {
    const out: DiagramSegment[] = [];
    let rest = useAscii ? toAscii(row) : row;
    for (;;) {
      const m = /\{([A-Z_0-9]+)\.*\}/.exec(rest);
      if (m === null) break;
      if (m.index > 0) out.push({ text: rest.slice(0, m.index), color: null, state: null });
      const state = m[1] as TcpState;
      // NEW_SYN_RECV request socks are shown with SYN_RECV, as the kernel's /proc does.
      const count = (counts[state] ?? 0) + (state === 'SYN_RECV' ? (counts.NEW_SYN_RECV ?? 0) : 0);
      out.push({ text: box(state, count, m[0].length), color: STATE_COLOR[state], state });
      rest = rest.slice(m.index + m[0].length);
    }
    if (rest !== '') out.push({ text: rest, color: null, state: null });
    return out;
  });
}
