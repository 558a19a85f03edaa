// withSizedTableReads (the TCP tables of `--once` read into a buffer sized from net/sockstat)
// against ProcFs.readBytes: the same bytes when the estimate is right, too small (the buffer
// grows), absent or unreadable, and the same failures.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { createProcFs } from '../src/proc/proc-fs.js';
import { countOf, withSizedTableReads } from '../src/proc/sized-reads.js';

const RECORDED = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures/proc-text/recorded');
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-sized-'));
  roots.push(root);
  fs.mkdirSync(path.join(root, 'net'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, 'net', name), text);
  return root;
}

const recorded = (name: string): string => fs.readFileSync(path.join(RECORDED, name), 'utf8');

/** net/tcp with its data lines repeated `times` over: ~150 bytes a line. */
function bigTcp(times: number): string {
  const [header, ...lines] = recorded('tcp').trimEnd().split('\n');
  return `${[header, ...Array.from({ length: times }, () => lines).flat()].join('\n')}\n`;
}

const sockstat = (inuse: number, tw: number): string =>
  `sockets: used ${inuse}\nTCP: inuse ${inuse} orphan 0 tw ${tw} alloc ${inuse} mem 1\nUDP: inuse 0 mem 0\n`;

const sameBytes = (root: string): void => {
  const plain = createProcFs(root);
  const sized = withSizedTableReads(createProcFs(root));
  for (const rel of ['net/tcp', 'net/tcp6', 'net/udp', 'net/unix']) {
    const a = plain.readBytes!(rel);
    const b = sized.readBytes!(rel);
    expect(b === null ? null : b.toString('latin1')).toBe(a === null ? null : a.toString('latin1'));
  }
};

describe('withSizedTableReads', () => {
  it('reads the same bytes as readBytes when sockstat counts the sockets', () => {
    const tcp = bigTcp(2_000);
    const lines = tcp.split('\n').length;
    sameBytes(tree({ tcp, tcp6: recorded('tcp6'), udp: recorded('udp'), sockstat: sockstat(lines, 0), sockstat6: 'TCP6: inuse 3\n' }));
  });

  it('grows the buffer when the table outgrew the counts (1 MB of table, counted as none)', () => {
    const tcp = bigTcp(2_000);
    expect(tcp.length).toBeGreaterThan(1_000_000);
    sameBytes(tree({ tcp, tcp6: recorded('tcp6'), sockstat: sockstat(0, 0) }));
  });

  it('falls back to readBytes without sockstat or with one it cannot read, and fails as it does', () => {
    sameBytes(tree({ tcp: bigTcp(10), tcp6: recorded('tcp6') }));
    sameBytes(tree({ tcp: bigTcp(10), sockstat: 'TCP: inuse many\n' }));
    // A table missing (tcp6 here) or not a regular file: null, and the same lastError.
    const root = tree({ tcp: bigTcp(10), sockstat: sockstat(10, 0) });
    fs.mkdirSync(path.join(root, 'net', 'tcp6'));
    const sized = withSizedTableReads(createProcFs(root));
    expect(sized.readBytes!('net/tcp6')).toBeNull();
    expect(sized.lastError()).toBe('ENOTREG');
    expect(sized.readBytes!('net/raw')).toBeNull();
    expect(sized.lastError()).toBe('ENOENT');
  });

  it('countOf reads a field of a sockstat line', () => {
    const text = recorded('sockstat');
    expect(countOf(text, 'TCP:', 'inuse')).toBe(Number(/TCP: inuse (\d+)/.exec(text)![1]));
    expect(countOf('TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1\n', 'TCP:', 'tw')).toBe(2);
    expect(countOf('TCP6: inuse 4\n', 'TCP:', 'inuse')).toBeNull();
    expect(countOf('TCP: inuse -1\n', 'TCP:', 'inuse')).toBeNull();
    expect(countOf('TCP: orphan 1\n', 'TCP:', 'inuse')).toBeNull();
  });
});
