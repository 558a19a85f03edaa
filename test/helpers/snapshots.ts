// Hand-built Snapshot objects for dashboard tests, and a headless dashboard to show them on: a
// blessed screen over injected streams (output with columns/rows/isTTY) wired the way run-dashboard.ts wires
// the real one (keypress → handleKey, resize → render), without a poller: tests hand snapshots
// over with onSnapshot. Socket records come from records.ts (rec).

import { PassThrough, Writable } from 'node:stream';
import blessed from 'blessed';
import { Dashboard, type DashboardOptions } from '../../src/ui/dashboard.js';
import { handleKey, type ReplayControls } from '../../src/ui/keys.js';
import type { Theme } from '../../src/ui/widgets.js';
import { displayWidth } from '../../src/view/text.js';
import type { KernelCounters, Snapshot, SocketRecord } from '../../src/model/types.js';
import { rec } from './records.js';

export interface SnapshotOptions {
  readonly takenAtMs?: number;
  readonly host?: string;
  readonly counters?: KernelCounters;
  readonly skippedLines?: number;
}

/** A snapshot of `sockets`; the rest is empty unless given. */
export function makeSnapshot(sockets: readonly SocketRecord[], options: SnapshotOptions = {}): Snapshot {
  const skipped = options.skippedLines ?? 0;
  return {
    takenAtMs: options.takenAtMs ?? 1_700_000_000_000,
    host: options.host ?? 'testhost',
    sockets,
    counters: options.counters ?? { 'Tcp.ActiveOpens': 10, 'Tcp.PassiveOpens': 5 },
    issues: { skippedLines: skipped, files: skipped === 0 ? {} : { 'net/tcp': skipped } },
    owners: { enabled: true, unreadableProcesses: 0, scannedProcesses: 1, linksRead: 0, durationMs: 0 },
    cost: { readMs: 0, parseMs: 0, ownersMs: 0, rows: sockets.length },
  };
}

/**
 * `count` TCP ESTABLISHED sockets in a predictable display order (the default sort is state,
 * protocol, local port, then peer): row k is local port 1000 + ⌊k/2⌋, peer 10.0.0.(1 + k%2):80.
 */
export function manySockets(count: number): SocketRecord[] {
  const half = Math.ceil(count / 2);
  const out: SocketRecord[] = [];
  for (let i = 0; i < count; i++) {
    const k = i < half ? 2 * i : 2 * (i - half) + 1;
    out.push(rec({ localPort: 1000 + Math.floor(k / 2), remoteAddress: `10.0.0.${1 + (k % 2)}`, remotePort: 80, inode: 5_000_000 + i }));
  }
  return out;
}

/** Local and peer text of row k of manySockets, as the table prints them. */
export function manyRowText(k: number): { local: string; peer: string } {
  return { local: `127.0.0.1:${1000 + Math.floor(k / 2)}`, peer: `10.0.0.${1 + (k % 2)}:80` };
}

export const COLOR_THEME: Theme = { color: true, ascii: false, colors256: true };
export const MONO_THEME: Theme = { color: false, ascii: false, colors256: true };
export const ASCII_THEME: Theme = { color: true, ascii: true, colors256: true };

export interface HeadlessOptions {
  readonly width?: number;
  readonly height?: number;
  readonly theme?: Theme;
  readonly filterText?: string;
  /** Replaying a recording: the footer and help list the replay keys (set `replay` on the result). */
  readonly replay?: boolean;
  /** Service name → port for the filter prompts (what main.ts passes from /etc/services). */
  readonly servicePort?: (name: string) => number | undefined;
  /** As run-dashboard at 100k: a view switched to from this many sockets on is made in slices (setImmediate between). */
  readonly deferFromSockets?: number;
}

/** One screen cell as blessed keeps it: [attributes, character]. */
export type Cell = readonly [attr: number, ch: string];

export interface Headless {
  readonly screen: blessed.Widgets.Screen;
  /** blessed's screen buffer (screen.lines, untyped in @types/blessed): rows of cells. */
  cells(): readonly (readonly Cell[])[];
  readonly dashboard: Dashboard;
  readonly input: PassThrough;
  /** Every byte written to the terminal so far. */
  bytes(): Buffer;
  /** The screen as text, one string per row, trailing spaces trimmed (a wide character is one string character). */
  lines(): string[];
  text(): string;
  /** Type into the terminal (keys as a terminal sends them), then let blessed handle it. */
  press(data: string): Promise<void>;
  resize(width: number, height: number): Promise<void>;
  quits: number;
  /** Where replay keys go (a ReplayFeed), as run-dashboard wires it; null when live. */
  replay: ReplayControls | null;
  destroy(): void;
}

/** Wait for the next turn of the event loop: keys and output bytes arrive asynchronously. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A Dashboard on a headless blessed screen, drawn once (the loading line). */
export function createHeadless(options: HeadlessOptions = {}): Headless {
  const chunks: Buffer[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    }),
    { columns: options.width ?? 80, rows: options.height ?? 24, isTTY: true },
  );
  const theme = options.theme ?? COLOR_THEME;
  const screen = blessed.screen({
    input: input as never,
    output: output as never,
    terminal: 'xterm-256color',
    smartCSR: true,
    useBCE: true,
    fullUnicode: !theme.ascii,
    forceUnicode: !theme.ascii,
    warnings: false,
    autoPadding: true,
  });
  const dashboardOptions: DashboardOptions = {
    intervalMs: 1000,
    filterText: options.filterText ?? '',
    theme,
    timeZoneOffsetMin: 0,
    fetchTcpInfo: () => Promise.resolve(null),
    onIntervalChange: () => undefined,
    onQuit: () => {
      headless.quits++;
    },
    replay: options.replay ?? false,
    ...(options.servicePort === undefined ? {} : { servicePort: options.servicePort }),
    ...(options.deferFromSockets === undefined
      ? {}
      : { deferFromSockets: options.deferFromSockets, pause: () => new Promise<void>((resolve) => setImmediate(resolve)) }),
  };
  const dashboard = new Dashboard(screen, dashboardOptions);
  screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) =>
    handleKey(dashboard, ch, key, headless.replay),
  );
  screen.on('resize', () => dashboard.render());
  dashboard.render();
  const cells = (): readonly (readonly Cell[])[] => (screen as unknown as { lines: Cell[][] }).lines;
  // '\x03' fills the second cell of a wide character (blessed's placeholder, never drawn).
  const lines = (): string[] =>
    cells().map((row) =>
      row
        .map((cell) => (cell[1] === '\x03' ? '' : cell[1]))
        .join('')
        .trimEnd(),
    );
  const headless: Headless = {
    screen,
    cells,
    dashboard,
    input,
    bytes: () => Buffer.concat(chunks),
    lines,
    text: () => lines().join('\n'),
    async press(data) {
      input.write(data);
      await settle();
      await settle();
    },
    async resize(width, height) {
      output.columns = width;
      output.rows = height;
      output.emit('resize');
      await settle();
    },
    quits: 0,
    replay: null,
    destroy() {
      dashboard.destroy();
      screen.destroy();
    },
  };
  return headless;
}

/** blessed cell attribute: flags << 18 | fg << 9 | bg; flag 8 is inverse, colour 0x1ff the default. */
export function cellFlags(attr: number): number {
  return (attr >> 18) & 0x1ff;
}
export function cellFg(attr: number): number {
  return (attr >> 9) & 0x1ff;
}

/**
 * Columns a terminal advances for one screen row: each cell's character at its display width
 * (wide characters two, blessed's '\x03' placeholders zero). Equal to the screen width when
 * blessed and the terminal agree on every character.
 */
export function terminalColumns(cells: readonly Cell[]): number {
  return cells.reduce((n, [, ch]) => n + (ch === '\x03' ? 0 : displayWidth(ch)), 0);
}

/** Rows of the screen drawn inverse across the table (the selection bar), as text. */
export function inverseRows(h: Headless): { row: number; text: string }[] {
  const out: { row: number; text: string }[] = [];
  h.cells().forEach((cells, row) => {
    // The selection bar starts right after the left border.
    const first = cells[1];
    if (first !== undefined && cells[0]?.[1] === '│' && (cellFlags(first[0]) & 8) !== 0) {
      out.push({
        row,
        text: cells
          .map((c) => c[1])
          .join('')
          .trimEnd(),
      });
    }
  });
  return out;
}
