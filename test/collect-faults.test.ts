// /proc that is not what it should be, at the level of a whole snapshot: a missing tcp6 (IPv6
// disabled), empty tables, a table cut short mid-line, lines that do not parse. The snapshot
// holds every valid line, says how many were skipped and where, and nothing throws.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectSnapshot, collectSnapshotAsync, createLiveCollector } from '../src/proc/collect-snapshot.js';
import { writeSyntheticProcTree } from '../bench/proc-tree.js';
import { collectStateCounts } from '../src/proc/collect-counts.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { countByState } from '../src/model/aggregate.js';
import { compileFilter } from '../src/filter/index.js';
import { execFileSync } from 'node:child_process';

const RECORDED = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures/proc-text/recorded');
const tmpRoots: string[] = [];

function tree(files: Record<string, string | null>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-faults-'));
  tmpRoots.push(root);
  fs.mkdirSync(path.join(root, 'net'));
  for (const [name, text] of Object.entries(files)) if (text !== null) fs.writeFileSync(path.join(root, 'net', name), text);
  return root;
}

const recorded = (name: string): string => fs.readFileSync(path.join(RECORDED, name), 'utf8');

const deps = (root: string) => ({
  procFs: createProcFs(root),
  owners: null,
  userName: (uid: number) => String(uid),
  hostname: () => 'h',
  now: () => 1_000,
  monotonicMs: () => 0,
});

afterAll(() => {
  for (const r of tmpRoots) fs.rmSync(r, { recursive: true, force: true });
});

describe('collecting from a damaged /proc', () => {
  const tcp = recorded('tcp');
  const tcpLines = tcp.split('\n').filter((l) => l.trim() !== '').length - 1; // minus the header

  it('no tcp6 (IPv6 disabled), empty udp, no raw: the IPv4 sockets are all there, nothing skipped', () => {
    const root = tree({ tcp, udp: '', unix: recorded('unix'), snmp: recorded('snmp') });
    const snap = collectSnapshot(deps(root));
    expect(snap.sockets.filter((s) => s.protocol === 'tcp')).toHaveLength(tcpLines);
    expect(snap.sockets.some((s) => s.protocol === 'tcp6' || s.protocol === 'udp')).toBe(false);
    expect(snap.issues.skippedLines).toBe(0);
    expect(snap.counters['Tcp.ActiveOpens']).toBeGreaterThan(0);
    // netstat missing: the snmp counters alone.
    expect(snap.counters['TcpExt.ListenDrops']).toBeUndefined();
  });

  it('a table cut short mid-line and lines that do not parse: valid lines kept, the rest counted per file', () => {
    const cut = tcp.slice(0, tcp.lastIndexOf('\n', tcp.length - 2) + 40); // last line cut after 40 characters
    const junk = `${cut}\n   9: not a socket line at all\n  10: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n`;
    const root = tree({ tcp: junk, tcp6: recorded('tcp6') });
    const snap = collectSnapshot(deps(root));
    expect(snap.sockets.filter((s) => s.protocol === 'tcp')).toHaveLength(tcpLines - 1);
    expect(snap.issues.files['net/tcp']).toBe(3);
    expect(snap.issues.skippedLines).toBe(3);
    // The fast --summary path skips the same broken lines (it reads the state column only).
    const fast = collectStateCounts(createProcFs(root));
    expect(fast.files['net/tcp']).toBeGreaterThanOrEqual(1);
  });

  it('the async collector gives the same picture', async () => {
    const root = tree({ tcp, tcp6: '', unix: '' });
    const sync = collectSnapshot(deps(root));
    const async = await collectSnapshotAsync({ ...deps(root), owners: null });
    expect(countByState(async.sockets)).toEqual(countByState(sync.sockets));
  });

  it('an empty net/ directory gives an empty snapshot, not an error', () => {
    const root = tree({});
    const snap = collectSnapshot(deps(root));
    expect(snap.sockets).toEqual([]);
    expect(snap.counters).toEqual({});
  });
});

const tcpRows = (): { header: string; rows: string[] } => {
  const lines = recorded('tcp')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return { header: lines[0]!, rows: lines.slice(1) };
};

describe('a socket listed twice in one read of a table (chunked reads under churn)', () => {
  it('is kept once, as its later line says', () => {
    const { header, rows } = tcpRows();
    // Row 5 (inode 36451, ESTABLISHED) listed again later as CLOSE_WAIT; row 9 (TIME_WAIT,
    // inode 0: identified by its key) listed again with less time left.
    const again5 = rows[5]!.replace(/^(\s*\d+: \S+ \S+) 01 /, '$1 08 ');
    const again9 = rows[9]!.replace('03:00001713', '03:00001700');
    const root = tree({ tcp: [header, ...rows, again5, again9].join('\n') });
    const snap = collectSnapshot(deps(root));
    const tcp = snap.sockets.filter((s) => s.protocol === 'tcp');
    expect(tcp).toHaveLength(rows.length);
    expect(new Set(tcp.map((s) => s.key)).size).toBe(rows.length);
    expect(tcp.find((s) => s.inode === 36451)?.state).toBe('CLOSE_WAIT');
    expect(tcp.find((s) => s.state === 'TIME_WAIT')?.timerMs).toBe(0x1700 * 10);
    expect(snap.cost.duplicateRows).toBe(2);
    expect(snap.cost.rows).toBe(snap.sockets.length);
  });
});

describe('TIME_WAIT rows have no owner and no user', () => {
  it('uid -1, user empty, owner null: `user root` and `user 0` do not match them', () => {
    const root = tree({ tcp: recorded('tcp') });
    const snap = collectSnapshot({ ...deps(root), userName: (uid: number) => (uid === 0 ? 'root' : String(uid)) });
    const tw = snap.sockets.filter((s) => s.state === 'TIME_WAIT');
    expect(tw).toHaveLength(1);
    expect(tw[0]).toMatchObject({ uid: -1, user: '', owner: null });
    for (const text of ['user root', 'user 0']) {
      const compiled = compileFilter(text);
      if (!compiled.ok) throw new Error(text);
      const matched = snap.sockets.filter(compiled.filter);
      expect(matched.some((s) => s.state === 'TIME_WAIT')).toBe(false);
      // The other sockets of the recording are root's (uid 0): they still match.
      expect(matched.length).toBe(snap.sockets.length - 1);
    }
  });
});

describe('tables that cannot be read: bounded, and said', () => {
  const fifoTree = (): string => {
    const root = tree({ tcp6: recorded('tcp6') });
    execFileSync('mkfifo', [path.join(root, 'net', 'tcp')]);
    fs.symlinkSync('/dev/zero', path.join(root, 'net', 'udp'));
    fs.mkdirSync(path.join(root, 'net', 'raw'));
    return root;
  };

  it('a FIFO, /dev/zero and a directory are refused at once (sync, async and --summary paths)', async () => {
    const root = fifoTree();
    const expected = { 'net/tcp': 'not a regular file', 'net/udp': 'not a regular file', 'net/raw': 'not a regular file' };
    const sync = collectSnapshot(deps(root));
    expect(sync.issues.unreadable).toEqual(expected);
    expect(sync.sockets.filter((s) => s.protocol === 'tcp6')).toHaveLength(5);
    const async = await collectSnapshotAsync({ ...deps(root), owners: null });
    expect(async.issues.unreadable).toEqual(expected);
    expect(collectStateCounts(createProcFs(root)).unreadable).toEqual(expected);
  });

  it('a table over the size cap is refused after reading at most the cap', async () => {
    const tcp = recorded('tcp');
    const root = tree({ tcp, tcp6: recorded('tcp6') });
    const procFs = createProcFs(root, { maxTextBytes: tcp.length - 1 });
    const snap = collectSnapshot({ ...deps(root), procFs });
    expect(snap.issues.unreadable).toEqual({ 'net/tcp': 'larger than 500 MB' });
    expect(snap.sockets.some((s) => s.protocol === 'tcp')).toBe(false);
    expect(procFs.readText('net/tcp6')).toBe(recorded('tcp6'));
    expect(await procFs.readTextAsync('net/tcp')).toBeNull();
    expect(procFs.lastError()).toBe('EFBIG');
    // At exactly the cap it is read.
    expect(createProcFs(root, { maxTextBytes: tcp.length }).readText('net/tcp')).toBe(tcp);
  });

  it('a missing table is not a warning', () => {
    const snap = collectSnapshot(deps(tree({ tcp: recorded('tcp') })));
    expect(snap.issues.unreadable).toBeUndefined();
  });
});

describe('refreshes reuse the records of unchanged lines', () => {
  it('the same record objects when the table did not change; new ones only for changed lines', async () => {
    const { header, rows } = tcpRows();
    const root = tree({ tcp: [header, ...rows].join('\n') });
    const d = deps(root); // one ProcFs across refreshes, as the dashboard keeps
    // The first snapshot of a ProcFs parses every line; the second reuses them all.
    const a = collectSnapshot(d);
    expect(a.cost.reusedRows).toBe(0);
    const b = collectSnapshot(d);
    expect(b.cost.reusedRows).toBe(rows.length);
    for (let i = 0; i < a.sockets.length; i++) expect(b.sockets[i]).toBe(a.sockets[i]);
    // Row 16's timer moves, row 3 closes (later sl numbers shift).
    const changed = rows[16]!.replace('02:00001CFB', '02:00001C00');
    const next = [...rows.slice(0, 3), ...rows.slice(4, 16), changed, ...rows.slice(17)].map((r, i) =>
      r.replace(/^\s*\d+:/, `${String(i).padStart(4)}:`),
    );
    fs.writeFileSync(path.join(root, 'net', 'tcp'), [header, ...next].join('\n'));
    const c = await collectSnapshotAsync({ ...d, owners: null });
    expect(c.cost.reusedRows).toBe(rows.length - 2);
    const byKey = new Map(b.sockets.map((s) => [s.key, s] as const));
    for (const s of c.sockets) {
      if (s.localPort === 0x46b1) expect(s).not.toBe(byKey.get(s.key));
      else expect(s).toBe(byKey.get(s.key));
    }
  });

  it('refresh after refresh into the same two buffers, the table shrinking and growing: what a fresh parse gives', async () => {
    const { header, rows } = tcpRows();
    const renumber = (rs: readonly string[]): string =>
      [header, ...rs.map((r, i) => r.replace(/^\s*\d+:/, `${String(i).padStart(4)}:`))].join('\n');
    const root = tree({ tcp: renumber(rows), tcp6: recorded('tcp6') });
    const d = { ...deps(root), owners: null };
    const versions = [
      rows.slice(0, 5), // shorter than what the buffers held: stale bytes after the end
      rows,
      rows.map((r, i) => (i % 3 === 0 ? r.replace(/ 00:00000000 /, ' 02:00000123 ') : r)),
      [...rows.slice(10), ...rows.slice(0, 10)],
      [],
      rows.slice(2),
    ];
    let last = await collectSnapshotAsync(d);
    for (const version of versions) {
      fs.writeFileSync(path.join(root, 'net', 'tcp'), renumber(version));
      const snap = await collectSnapshotAsync(d);
      const fresh = await collectSnapshotAsync({ ...deps(root), owners: null });
      expect(snap.sockets).toEqual(fresh.sockets);
      // Unchanged lines keep their records.
      const before = new Map(last.sockets.map((r) => [r.key, r] as const));
      const kept = snap.sockets.filter((r) => before.get(r.key) === r).length;
      expect(kept).toBe(snap.cost.reusedRows);
      last = snap;
    }
  });

  it('after a partial first snapshot (large tables parsed in chunks), the next refresh reuses every unchanged line', async () => {
    const t = writeSyntheticProcTree(os.tmpdir(), { sockets: 20_000 });
    tmpRoots.push(t.root);
    const collector = createLiveCollector({ ...deps(t.root), owners: null });
    let partials = 0;
    const first = await collector.collect(() => partials++);
    expect(partials).toBe(1);
    const second = await collector.collect();
    expect(second.cost.reusedRows).toBe(first.sockets.length);
    const fresh = await collectSnapshotAsync({ ...deps(t.root), owners: null });
    expect(second.sockets).toEqual(fresh.sockets);
  });

  it('a record whose owner changed is rebuilt', () => {
    const root = tree({ tcp: recorded('tcp') });
    const procFs = createProcFs(root);
    let pid = 100;
    const owners = {
      scan: () => ({
        stats: { enabled: true, unreadableProcesses: 0, scannedProcesses: 1, linksRead: 0, durationMs: 0 },
        lookup: (inode: number) => (inode === 36451 ? { pid, command: 'srv', commandLine: 'srv', uid: 0, fd: 3 } : null),
        sharedBy: () => 0,
        detail: undefined as never,
      }),
    };
    const d = { ...deps(root), procFs, owners: owners as never };
    collectSnapshot(d);
    const a = collectSnapshot(d);
    pid = 200;
    const b = collectSnapshot(d);
    const find = (snap: typeof a) => snap.sockets.find((s) => s.inode === 36451)!;
    expect(find(a).owner?.pid).toBe(100);
    expect(find(b).owner?.pid).toBe(200);
    expect(b.cost.reusedRows).toBe(b.sockets.length - 1);
  });
});
