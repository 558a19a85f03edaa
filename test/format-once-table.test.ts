// The --once table formatter against the plain formulation of its layout (an array of cells per
// row, every column padded to its widest cell up to 60 characters, Recv-Q and Send-Q right-aligned,
// the row's trailing white space trimmed): the fast formatter (one flat cell array, cached cells,
// rows joined in chunks) must print the same text, and its chunks joined with "\n" must be that text.
// Likewise the --json document written in pieces against one JSON.stringify of the whole document.

import { describe, expect, it } from 'vitest';

import { stringifyForTerminal } from '../src/cli/format-counts.js';
import {
  formatJsonDocument,
  formatJsonDocumentChunks,
  formatSocketTable,
  formatSocketTableChunks,
  listenBacklogOf,
  socketToJson,
  type JsonDocumentInput,
  type ListenBacklogs,
} from '../src/cli/format-once.js';
import { countByState } from '../src/model/aggregate.js';
import { safeText } from '../src/model/safe-text.js';
import { stateLabel } from '../src/model/state-info.js';
import type { SocketRecord } from '../src/model/types.js';
import { formatOwner, localEndpoint, peerEndpoint, type SocketExtras } from '../src/view/presenters.js';
import { owner, rec } from './helpers/records.js';
import { makeSnapshot } from './helpers/snapshots.js';

/** The layout as first written: the oracle. */
function referenceTable(sockets: readonly SocketRecord[], backlogs: ListenBacklogs | null, extras: SocketExtras): string {
  const headers = ['Proto', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'User', 'Process'];
  const rows: string[][] = [headers];
  for (const s of sockets) {
    const listener = (s.protocol === 'tcp' || s.protocol === 'tcp6') && s.state === 'LISTEN';
    rows.push([
      s.protocol === 'unix' ? `u_${s.unixType ?? '?'}`.slice(0, 6) : s.protocol,
      stateLabel(s.protocol, s.state),
      String(s.recvQ),
      listener ? String(listenBacklogOf(s, backlogs) ?? '-') : String(s.sendQ),
      localEndpoint(s),
      peerEndpoint(s, extras),
      safeText(s.user, 32),
      formatOwner(s),
    ]);
  }
  const widths = headers.map((_, i) => Math.min(60, Math.max(...rows.map((r) => r[i]!.length))));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : i === 2 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join(' ')
        .trimEnd(),
    )
    .join('\n');
}

const LONG_PATH = `/run/${'very-long-directory/'.repeat(5)}app.sock`;

function sampleSockets(): SocketRecord[] {
  return [
    rec({ state: 'LISTEN', localAddress: '0.0.0.0', localPort: 80, remoteAddress: '0.0.0.0', remotePort: 0, owner: owner(1, 'nginx') }),
    rec({ protocol: 'tcp6', state: 'LISTEN', localAddress: '::', localPort: 443, remoteAddress: '::', remotePort: 0 }),
    rec({ protocol: 'tcp6', localAddress: '::ffff:10.0.0.1', remoteAddress: 'fe80::1', remotePort: 55_000, recvQ: 123_456 }),
    rec({ sendQ: 4_000_000, owner: { pid: 4_194_303, command: 'worker with spaces   ' }, sharedBy: 2 }),
    rec({ owner: { pid: 7, command: '\x1b]0;pwned\x07' }, user: 'evil\x1b[2Juser' }),
    rec({ owner: { pid: 8, command: '   ' } }),
    rec({ owner: { pid: 9, command: 'x'.repeat(100) }, user: 'u'.repeat(50) }),
    rec({ state: 'TIME_WAIT', inode: 0, uid: 0, user: 'root', localPort: 65_535, remotePort: 1 }),
    rec({ protocol: 'udp', state: 'UNCONN', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0, user: '' }),
    rec({ protocol: 'unix', state: 'LISTEN', path: LONG_PATH, inode: 900, owner: owner(10, 'dbus-daemon') }),
    rec({ protocol: 'unix', state: 'CONNECTED', path: null, inode: 901, unixType: 'seqpacket' }),
    rec({ protocol: 'unix', state: 'CONNECTED', path: '/tmp/ünïcödé\u202e.sock', inode: 902, unixType: 'dgram' }),
  ];
}

describe('the --once table', () => {
  const backlogs: ListenBacklogs = new Map([
    ['*:80', 511],
    ['[::]:443', 4096],
  ]);
  const extras: SocketExtras = {
    unixPeers: new Map([[901, { peerInode: 77, peerPid: 11, peerProcess: 'client\x07', peerPath: null }]]),
  };

  it('prints what the plain layout prints, with and without backlogs and UNIX peers', () => {
    const sockets = sampleSockets();
    expect(formatSocketTable(sockets, backlogs, extras)).toBe(referenceTable(sockets, backlogs, extras));
    expect(formatSocketTable(sockets)).toBe(referenceTable(sockets, null, {}));
    expect(formatSocketTable([])).toBe(referenceTable([], null, {}));
  });

  it('columns stop growing at 60 characters: a longer cell pushes only its own row', () => {
    const table = formatSocketTable(sampleSockets()).split('\n');
    const header = table[0]!;
    // The Local column is 60 wide (the long path is longer): "Peer" starts at the same place on
    // the header and on a short row.
    const shortRow = table[1]!;
    expect(header.indexOf('Peer Address:Port')).toBe(shortRow.indexOf('*:*'));
    expect(table.find((l) => l.includes(LONG_PATH))).toBeDefined();
  });

  it('chunks joined with newlines are the whole table, for any chunk size', () => {
    const sockets = Array.from({ length: 5 }, () => sampleSockets()).flat();
    const whole = referenceTable(sockets, backlogs, extras);
    for (const rows of [1, 2, 7, sockets.length, sockets.length + 1, 10_000]) {
      const chunks = formatSocketTableChunks(sockets, backlogs, extras, rows);
      expect(chunks.join('\n')).toBe(whole);
      expect(chunks).toHaveLength(Math.ceil((sockets.length + 1) / rows));
    }
  });
});

/** The document as one JSON.stringify of everything: the oracle. */
function referenceJson(input: JsonDocumentInput): string {
  return stringifyForTerminal({
    takenAt: new Date(input.snapshot.takenAtMs).toISOString(),
    host: input.snapshot.host,
    filter: input.filter,
    counts: input.counts,
    totals: input.totals ?? input.counts,
    counters: input.snapshot.counters,
    skippedLines: input.snapshot.issues.skippedLines,
    warnings: input.warnings,
    ...(input.ratesAsOfMs == null ? {} : { ratesAsOf: new Date(input.ratesAsOfMs).toISOString() }),
    sockets: input.sockets.map((s) => socketToJson(s, input.backlogs ?? null, input.extras)),
  });
}

describe('the --json document in pieces', () => {
  const sockets = Array.from({ length: 3 }, () => sampleSockets()).flat();
  const base: JsonDocumentInput = {
    snapshot: makeSnapshot(sockets),
    counts: countByState(sockets),
    sockets,
    filter: 'port 80 \u202e',
    warnings: ['a \x9b warning'],
    backlogs: new Map([['*:80', 511]]),
    extras: { unixPeers: new Map([[901, { peerInode: 77, peerPid: 11, peerProcess: 'client\u2028', peerPath: null }]]) },
  };

  it('concatenated, the pieces are the document, for any piece size, with and without sockets', () => {
    for (const input of [base, { ...base, ratesAsOfMs: 1_700_000_000_000 }, { ...base, sockets: [] }]) {
      const whole = referenceJson(input);
      expect(formatJsonDocument(input)).toBe(whole);
      for (const size of [1, 2, 5, sockets.length, 10_000]) {
        const pieces = formatJsonDocumentChunks(input, size);
        expect(pieces.join('')).toBe(whole);
        expect(pieces).toHaveLength(2 + Math.ceil(input.sockets.length / size));
      }
      expect(JSON.parse(whole)).toMatchObject({ sockets: { length: input.sockets.length } });
    }
  });
});
