// Presenters for the non-interactive outputs: `--once` (aligned table), `--json`, `--summary`.
// They receive data and return text; printing is the caller's business.

import type { CountsByGroup } from '../model/aggregate.js';
import { endpointKey, formatEndpoint, unmapIpv4 } from '../model/address.js';
import { safeText } from '../model/safe-text.js';
import { stateLabel } from '../model/state-info.js';
import type { KernelCounters, Snapshot, SocketRecord } from '../model/types.js';
import { stringifyForTerminal } from './format-counts.js';
import { localEndpoint, peerEndpoint, type SocketExtras } from '../view/presenters.js';

/** Listen backlogs by endpointKey ("127.0.0.1:80", "[::1]:80", "*:80" for ss's dual-stack any), from `ss -ltnH`. */
export type ListenBacklogs = ReadonlyMap<string, number>;

const isTcpListener = (s: SocketRecord): boolean => (s.protocol === 'tcp' || s.protocol === 'tcp6') && s.state === 'LISTEN';

/**
 * The backlog limit (connections) of a TCP listener from `ss -ltnH`'s Send-Q, matched the way
 * listener health matches it: the exact endpoint, the IPv4 form of a v4-mapped one, or ss's "*"
 * for a wildcard. null for other sockets or when ss did not report it.
 */
export function listenBacklogOf(s: SocketRecord, backlogs: ListenBacklogs | null): number | null {
  if (backlogs === null || !isTcpListener(s)) return null;
  const wildcard = s.localAddress === '0.0.0.0' || s.localAddress === '::';
  return (
    backlogs.get(endpointKey(s.localAddress, s.localPort)) ??
    backlogs.get(endpointKey(unmapIpv4(s.localAddress), s.localPort)) ??
    (wildcard ? backlogs.get(endpointKey('*', s.localPort)) : undefined) ??
    null
  );
}

const HEADERS = ['Proto', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'User', 'Process'] as const;
/** Columns of the table; the last one (Process) is never padded. */
const COLUMNS = HEADERS.length;
/** Widest a padded column grows (characters); longer cells stay whole and push the row. */
const MAX_COLUMN_WIDTH = 60;
/** Rows per chunk of formatSocketTableChunks (~1 MB of text for tcp rows). */
const ROWS_PER_CHUNK = 8192;
/** PADS[k]: k spaces, k <= MAX_COLUMN_WIDTH + 1 (a pad plus the column separator). */
const PADS: readonly string[] = Array.from({ length: MAX_COLUMN_WIDTH + 2 }, (_, k) => ' '.repeat(k));
/** Decimal text of small queue sizes and ports (most cells), filled on first use. */
const SMALL_NUMBER_TEXT: (string | undefined)[] = new Array<string | undefined>(65536).fill(undefined);

function numberText(n: number): string {
  if (n >= 0 && n < 65536 && Number.isInteger(n)) return (SMALL_NUMBER_TEXT[n] ??= String(n));
  return String(n);
}

/**
 * The host part of formatEndpoint(address, port, protocol) of an inet socket, with its colon
 * ("127.0.0.1:", "[::1]:"), cached per address (the same few addresses repeat on most rows).
 */
function hostText(hosts: Map<string, string>, address: string): string {
  let host = hosts.get(address);
  if (host === undefined) {
    host = `${formatEndpoint(address, 0, 'tcp').slice(0, -2)}:`;
    hosts.set(address, host);
  }
  return host;
}

/** formatEndpoint(address, port, protocol) of an inet socket: its host text, then the port ("*" for 0). */
function endpointText(hosts: Map<string, string>, address: string, port: number): string {
  return hostText(hosts, address) + portText(port);
}

const portText = (port: number): string => (port === 0 ? '*' : numberText(port));

/** Per-call caches of the cells many rows share: the strings are the same as without them. */
interface CellCaches {
  readonly hosts: Map<string, string>;
  readonly users: Map<string, string>;
  readonly commands: Map<string, string>;
}

/** safeText(user, 32), cached per user. */
function userText(users: Map<string, string>, user: string): string {
  let text = users.get(user);
  if (text === undefined) {
    text = safeText(user, 32);
    users.set(user, text);
  }
  return text;
}

/**
 * An aligned table like `ss -tanp`, one socket per line, states by ss's short names (ESTAB,
 * TIME-WAIT) as on the dashboard. A TCP LISTEN row shows its backlog limit in Send-Q as ss does
 * (its accept queue is Recv-Q): from `backlogs` when given, "-" when it is not known (/proc's
 * tx_queue is always 0 for a listener).
 */
export function formatSocketTable(
  sockets: readonly SocketRecord[],
  backlogs: ListenBacklogs | null = null,
  extras: SocketExtras = {},
): string {
  return formatSocketTableChunks(sockets, backlogs, extras).join('\n');
}

/**
 * formatSocketTable as consecutive pieces of at most `rowsPerChunk` lines each: joined with "\n"
 * they are exactly formatSocketTable's text. At 100k sockets the table is ~10 MB: written a
 * piece at a time it never exists whole, and no array per row or per cell is built.
 */
export function formatSocketTableChunks(
  sockets: readonly SocketRecord[],
  backlogs: ListenBacklogs | null = null,
  extras: SocketExtras = {},
  rowsPerChunk = ROWS_PER_CHUNK,
): string[] {
  return finishSocketTable(prepareSocketTable(sockets), backlogs, extras, rowsPerChunk);
}

/**
 * The column widths of a socket table's rows that their owners cannot change, taken before the
 * owners are known (see prepareSocketTable); finishSocketTable completes it.
 */
export interface PreparedSocketTable {
  readonly sockets: readonly SocketRecord[];
  /** Rows left for finishSocketTable (UNIX sockets, TCP listeners), by index in `sockets`. */
  readonly deferred: number[];
  /** Widest cell of each column so far (the header's included). */
  readonly widths: number[];
  readonly caches: CellCaches;
}

/**
 * The widths of columns Proto to User over every inet row that is not a TCP listener: none of
 * them depends on the socket's owner (User is the uid /proc/net prints), on UNIX peers or on
 * listen backlogs. Only widths are kept: the cells are made again as each row is written
 * (cached lookups), so that no cell of 100k rows is held in between. `--once` takes them while
 * the owner worker is still scanning. The sockets' records may then be joined with their owners
 * in place (owner, sharedBy, and uid/user of sockets whose table has no uid: UNIX) before
 * finishSocketTable.
 */
export function prepareSocketTable(sockets: readonly SocketRecord[]): PreparedSocketTable {
  const widths: number[] = HEADERS.map((title) => title.length);
  const caches: CellCaches = { hosts: new Map(), users: new Map(), commands: new Map() };
  const deferred: number[] = [];
  let w0 = widths[0]!;
  let w1 = widths[1]!;
  let w2 = widths[2]!;
  let w3 = widths[3]!;
  let w4 = widths[4]!;
  let w5 = widths[5]!;
  let w6 = widths[6]!;
  for (let i = 0; i < sockets.length; i++) {
    const s = sockets[i]!;
    if (s.protocol === 'unix' || isTcpListener(s)) {
      deferred.push(i);
      continue;
    }
    w0 = Math.max(w0, s.protocol.length);
    w1 = Math.max(w1, stateLabel(s.protocol, s.state).length);
    w2 = Math.max(w2, numberText(s.recvQ).length);
    w3 = Math.max(w3, numberText(s.sendQ).length);
    w4 = Math.max(w4, hostText(caches.hosts, s.localAddress).length + portText(s.localPort).length);
    w5 = Math.max(w5, hostText(caches.hosts, s.remoteAddress).length + portText(s.remotePort).length);
    w6 = Math.max(w6, userText(caches.users, s.user).length);
  }
  widths.splice(0, 7, w0, w1, w2, w3, w4, w5, w6);
  return { sockets, deferred, widths, caches };
}

/**
 * The rest of a prepared table: the cells of the rows prepareSocketTable left (UNIX sockets, TCP
 * listeners) and their widths, then every row with its Process cell from the records as they
 * are now, `rowsPerChunk` lines a piece (see formatSocketTableChunks). Uses up `table`.
 */
export function finishSocketTable(
  table: PreparedSocketTable,
  backlogs: ListenBacklogs | null = null,
  extras: SocketExtras = {},
  rowsPerChunk = ROWS_PER_CHUNK,
): string[] {
  const { sockets, deferred, widths, caches } = table;
  /** Cells of the deferred rows (Proto to User), in the order of `deferred`. */
  const deferredCells: string[][] = [];
  for (const i of deferred) {
    const s = sockets[i]!;
    const unix = s.protocol === 'unix';
    const row = [
      unix ? `u_${s.unixType ?? '?'}`.slice(0, 6) : s.protocol,
      stateLabel(s.protocol, s.state),
      numberText(s.recvQ),
      isTcpListener(s) ? String(listenBacklogOf(s, backlogs) ?? '-') : numberText(s.sendQ),
      unix ? localEndpoint(s) : endpointText(caches.hosts, s.localAddress, s.localPort),
      unix ? peerEndpoint(s, extras) : endpointText(caches.hosts, s.remoteAddress, s.remotePort),
      userText(caches.users, s.user),
    ];
    for (let c = 0; c < COLUMNS - 1; c++) if (row[c]!.length > widths[c]!) widths[c] = row[c]!.length;
    deferredCells.push(row);
  }
  for (let c = 0; c < COLUMNS; c++) widths[c] = Math.min(MAX_COLUMN_WIDTH, widths[c]!);
  const [w0, w1, w2, w3, w4, w5, w6] = widths as [number, number, number, number, number, number, number];
  const chunks: string[] = [];
  const rows: string[] = [];
  const add = (row: string): void => {
    rows.push(row);
    if (rows.length === rowsPerChunk) {
      chunks.push(rows.join('\n'));
      rows.length = 0;
    }
  };
  add(headerRow(widths));
  let next = 0; // the next deferred row's place in `deferred`
  for (let i = 0; i < sockets.length; i++) {
    const s = sockets[i]!;
    let line: string;
    if (i === deferred[next]) line = paddedCells(deferredCells[next++]!, widths);
    else {
      // The cells prepareSocketTable measured, made again from the same caches.
      line =
        left(s.protocol, w0) +
        left(stateLabel(s.protocol, s.state), w1) +
        right(numberText(s.recvQ), w2) +
        right(numberText(s.sendQ), w3) +
        left(endpointText(caches.hosts, s.localAddress, s.localPort), w4) +
        left(endpointText(caches.hosts, s.remoteAddress, s.remotePort), w5) +
        left(userText(caches.users, s.user), w6);
    }
    const last = ownerText(caches.commands, s);
    // As trimEnd() of the whole row: only the last cell can end in white space (the others are padded).
    const tail = last.trimEnd();
    add(tail === '' ? (line + last).trimEnd() : line + tail);
  }
  if (rows.length > 0 || chunks.length === 0) chunks.push(rows.join('\n'));
  return chunks;
}

/** A left-aligned cell padded to `width`, and the column separator. */
function left(cell: string, width: number): string {
  const gap = width - cell.length;
  return gap > 0 ? cell + PADS[gap + 1] : `${cell} `;
}

/** A right-aligned cell (Recv-Q, Send-Q) padded to `width`, and the column separator. */
function right(cell: string, width: number): string {
  const gap = width - cell.length;
  return gap > 0 ? PADS[gap] + cell + ' ' : `${cell} `;
}

/** Cells Proto to User padded as their columns are (Recv-Q and Send-Q right-aligned), each with its separator. */
function paddedCells(cells: readonly string[], widths: readonly number[]): string {
  let line = '';
  for (let c = 0; c < COLUMNS - 1; c++) line += c === 2 || c === 3 ? right(cells[c]!, widths[c]!) : left(cells[c]!, widths[c]!);
  return line;
}

/** The header line: the titles padded as the columns are, trimmed as every row is. */
function headerRow(widths: readonly number[]): string {
  const title = HEADERS[COLUMNS - 1];
  return paddedCells(HEADERS, widths) + title;
}

/** formatOwner(s) with the command's safeText cached per command. */
function ownerText(commands: Map<string, string>, s: SocketRecord): string {
  const owner = s.owner;
  if (owner === null) return '-';
  let command = commands.get(owner.command);
  if (command === undefined) {
    command = safeText(owner.command, 64);
    commands.set(owner.command, command);
  }
  const pid = numberText(owner.pid);
  return s.sharedBy > 0 ? `${pid}/${command} +${s.sharedBy}` : `${pid}/${command}`;
}

/**
 * The JSON socket record: stable field names that scripts rely on. States keep their kernel
 * names (ESTABLISHED, TIME_WAIT); `backlog` is a TCP listener's backlog limit (from `ss -ltnH`),
 * null for other sockets or when unknown.
 */
export function socketToJson(s: SocketRecord, backlogs: ListenBacklogs | null = null, extras: SocketExtras = {}): Record<string, unknown> {
  const json: Record<string, unknown> = {
    protocol: s.protocol,
    state: s.state,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    recvQ: s.recvQ,
    sendQ: s.sendQ,
    backlog: listenBacklogOf(s, backlogs),
    inode: s.inode,
    uid: s.uid,
    user: s.user,
    pid: s.owner?.pid ?? null,
    process: s.owner?.command ?? null,
    commandLine: s.owner?.commandLine ?? null,
    fd: s.owner?.fd ?? null,
    sharedBy: s.sharedBy,
    timer: s.timer,
    timerMs: s.timerMs,
    retransmits: s.retransmits,
    rtoMs: s.rtoMs,
    atoMs: s.atoMs,
    cwnd: s.cwnd,
    ssthresh: s.ssthresh,
    drops: s.drops,
    path: s.path,
    unixType: s.unixType,
  };
  // Present when ss could be read: a UNIX socket's peer (null fields when it has none or the
  // peer's holder is unknown), a TCP connection's rates (null until it was seen twice).
  if (extras.unixPeers !== undefined && s.protocol === 'unix') {
    const p = extras.unixPeers.get(s.inode);
    json['peerInode'] = p?.peerInode ?? null;
    json['peerPid'] = p?.peerPid ?? null;
    json['peerProcess'] = p?.peerProcess ?? null;
  }
  if (extras.rates !== undefined && (s.protocol === 'tcp' || s.protocol === 'tcp6')) {
    const r = extras.rates.get(s.key);
    json['sendBytesPerSec'] = r?.sendBytesPerSec ?? null;
    json['recvBytesPerSec'] = r?.recvBytesPerSec ?? null;
    json['retransPerSec'] = r?.retransPerSec ?? null;
    json['rttMs'] = r?.rttMs ?? null;
    json['rttVarMs'] = r?.rttVarMs ?? null;
    json['bytesAcked'] = r?.bytesAcked ?? null;
    json['bytesReceived'] = r?.bytesReceived ?? null;
  }
  return json;
}

export interface JsonDocumentInput {
  readonly snapshot: Snapshot;
  /** Sockets per protocol and state among those the filter selects (all without a filter). */
  readonly counts: CountsByGroup;
  /** Sockets per protocol and state among everything read; counts when not given. */
  readonly totals?: CountsByGroup;
  readonly sockets: readonly SocketRecord[];
  readonly backlogs?: ListenBacklogs | null;
  readonly filter: string | null;
  readonly warnings: readonly string[];
  readonly extras?: SocketExtras;
  /** When the counters behind the rates were read, ms since epoch (older than takenAt when spaced out). */
  readonly ratesAsOfMs?: number | null;
}

export function formatJsonDocument(input: JsonDocumentInput): string {
  return formatJsonDocumentChunks(input).join('');
}

/** Sockets per piece of formatJsonDocumentChunks (~2 MB of JSON). */
const SOCKETS_PER_JSON_CHUNK = 4096;

/**
 * formatJsonDocument in consecutive pieces (concatenated, they are its text): the document up
 * to the sockets array, the sockets `socketsPerChunk` at a time, then the end. At 1,000,000
 * sockets the document is ~500 MB, about V8's longest string: written a piece at a time it is
 * never one string.
 */
export function formatJsonDocumentChunks(input: JsonDocumentInput, socketsPerChunk = SOCKETS_PER_JSON_CHUNK): string[] {
  const { snapshot, sockets } = input;
  const counters: KernelCounters = snapshot.counters;
  // `sockets` is the last member: the text ends in "[]}".
  const shell = stringifyForTerminal({
    takenAt: new Date(snapshot.takenAtMs).toISOString(),
    host: snapshot.host,
    filter: input.filter,
    counts: input.counts,
    totals: input.totals ?? input.counts,
    counters,
    skippedLines: snapshot.issues.skippedLines,
    warnings: input.warnings,
    ...(input.ratesAsOfMs == null ? {} : { ratesAsOf: new Date(input.ratesAsOfMs).toISOString() }),
    sockets: [],
  });
  const pieces = [shell.slice(0, -3)];
  for (let from = 0; from < sockets.length; from += socketsPerChunk) {
    const part = sockets.slice(from, from + socketsPerChunk).map((s) => socketToJson(s, input.backlogs ?? null, input.extras));
    // An array's JSON is its elements' JSON joined with commas, between brackets.
    const json = stringifyForTerminal(part);
    pieces.push(from === 0 ? json.slice(0, -1) : `,${json.slice(1, -1)}`);
  }
  pieces.push(sockets.length === 0 ? '[]}' : ']}');
  return pieces;
}
