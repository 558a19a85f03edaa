// /proc that is not what it should be, at the level of a whole snapshot: a missing tcp6 (IPv6
// disabled), empty tables, a table cut short mid-line, lines that do not parse. The snapshot
// holds every valid line, says how many were skipped and where, and nothing throws.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectSnapshot, collectSnapshotAsync } from '../src/proc/collect-snapshot.js';
import { collectStateCounts } from '../src/proc/collect-counts.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { countByState } from '../src/model/aggregate.js';

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
