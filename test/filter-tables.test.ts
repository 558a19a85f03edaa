// protocolsOfFilter: which /proc/net tables a filter can match sockets from. Table-driven on
// parsed filters, then checked against the evaluator: no socket a filter matches may come from a
// table it leaves out. Then the CLI in process: `--once -f tcp…` reads no other table and prints
// what a run reading every table prints.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter, protocolsOfFilter } from '../src/filter/index.js';
import { main, type OutputStream } from '../src/main.js';
import type { Protocol, SocketRecord, SocketState } from '../src/model/types.js';
import { createProcFs, type ProcFs } from '../src/proc/proc-fs.js';
import { REPO_ROOT } from './helpers/tmux.js';

const ALL: readonly Protocol[] = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix'];

function tablesOf(text: string): Protocol[] | null {
  const compiled = compileFilter(text, { servicePort: (name) => (name === 'http' ? 80 : undefined) });
  if (!compiled.ok) throw new Error(`bad filter ${text}`);
  const set = protocolsOfFilter(compiled.ast);
  return set === null ? null : ALL.filter((p) => set.has(p));
}

const CASES: [string, Protocol[] | null][] = [
  ['tcp', ['tcp', 'tcp6']],
  ['tcp6', ['tcp6']],
  ['unix', ['unix']],
  ['inet6', ['tcp6', 'udp6', 'raw6']],
  ['udp and port 53', ['udp', 'udp6']],
  ['port http', ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6']],
  ['sport 1000-2000', ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6']],
  ['tcp or udp', ['tcp', 'tcp6', 'udp', 'udp6']],
  ['proc nginx and tcp and state listening', ['tcp', 'tcp6']],
  ['(tcp or udp) and not udp6', ['tcp', 'tcp6', 'udp', 'udp6']],
  ['unix and port 80', []],
  ['tcp or state listening', null],
  ['not tcp', null],
  ['state established', null],
  ['host 10.0.0.1', null],
  ['src /run/*.sock', null],
  ['user root or pid 1', null],
  ['', null],
];

describe('protocolsOfFilter', () => {
  it.each(CASES)('%j reads %j', (text, tables) => {
    expect(tablesOf(text)).toEqual(tables);
  });

  it('never leaves out a table a matching socket comes from', () => {
    const states: SocketState[] = ['LISTEN', 'ESTABLISHED', 'TIME_WAIT', 'UNCONN'];
    const sockets: SocketRecord[] = [];
    for (const protocol of ALL) {
      for (const state of states) {
        for (const port of [0, 53, 80, 1500]) {
          sockets.push({
            key: `${protocol}-${state}-${port}`,
            protocol,
            state,
            localAddress: protocol === 'unix' ? '' : protocol.endsWith('6') ? '::1' : '10.0.0.1',
            localPort: protocol === 'unix' ? 0 : port,
            remoteAddress: '',
            remotePort: protocol === 'unix' ? 0 : port,
            recvQ: 0,
            sendQ: 0,
            timer: 'off',
            timerMs: 0,
            retransmits: 0,
            uid: 0,
            inode: 1,
            rtoMs: null,
            atoMs: null,
            cwnd: null,
            ssthresh: null,
            drops: null,
            path: protocol === 'unix' ? '/run/a.sock' : null,
            unixType: null,
            owner: { pid: 1, fd: 3, command: 'nginx', commandLine: 'nginx', uid: 0 },
            sharedBy: 0,
            user: 'root',
          } as SocketRecord);
        }
      }
    }
    let matched = 0;
    for (const [text] of CASES) {
      const compiled = compileFilter(text, { servicePort: (name) => (name === 'http' ? 80 : undefined) });
      if (!compiled.ok) throw new Error(text);
      const tables = tablesOf(text);
      for (const s of sockets) {
        if (!compiled.filter(s)) continue;
        matched++;
        if (tables !== null) expect(tables, `${text} matches ${s.key}`).toContain(s.protocol);
      }
    }
    expect(matched).toBeGreaterThan(100); // the check ran on real matches
  });
});

describe('--once with a filter reads only the tables it can match', () => {
  const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
  let base = '';
  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-tables-'));
    fs.mkdirSync(path.join(base, 'net'));
    for (const f of [...ALL, 'snmp', 'netstat']) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(base, 'net', f));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  async function run(argv: string[]): Promise<{ code: number; stdout: string; reads: Set<string> }> {
    const reads = new Set<string>();
    const chunks: string[] = [];
    const out: OutputStream = { isTTY: false, write: (c: string) => (chunks.push(c), true) };
    const recording = (root: string): ProcFs => {
      const fs1 = createProcFs(root);
      return {
        ...fs1,
        readText: (rel) => (reads.add(rel), fs1.readText(rel)),
        readTextAsync: (rel) => (reads.add(rel), fs1.readTextAsync(rel)),
        readBytes: (rel) => (reads.add(rel), fs1.readBytes!(rel)),
        readBytesIntoAsync: (rel, into) => (reads.add(rel), fs1.readBytesIntoAsync!(rel, into)),
      };
    };
    const code = await main(['--once', '--no-processes', ...argv], {
      stdout: out,
      stderr: { isTTY: false, write: () => true },
      stdin: new PassThrough(),
      env: { PROC_ROOT: base },
      platform: 'linux',
      now: () => 1_700_000_000_000,
      monotonicMs: () => 0,
      hostname: () => 'fixture-host',
      readPasswd: () => 'root:x:0:0:root:/root:/bin/sh\n',
      createProcFs: recording,
    });
    return { code, stdout: chunks.join(''), reads };
  }

  it.each([['tcp and state listening'], ['udp or tcp6']])('-f %j', async (filter) => {
    const only = await run(['-f', filter]);
    // The same filter widened by a term no fixture socket matches (user 4242 cannot be narrowed).
    const every = await run(['-f', `(${filter}) or user 4242`]);
    expect([only.code, every.code]).toEqual([0, 0]);
    expect(only.stdout).toBe(every.stdout);
    expect(only.stdout.split('\n').length).toBeGreaterThan(2); // sockets were listed
    const tables = new Set(tablesOf(filter)!.map((p) => `net/${p}`));
    for (const p of ALL) {
      expect(only.reads.has(`net/${p}`), `net/${p}`).toBe(tables.has(`net/${p}`));
      expect(every.reads.has(`net/${p}`), `net/${p}`).toBe(true);
    }
  });

  it('--json still reads every table: its totals count everything', async () => {
    const r = await run(['--json', '-f', 'tcp']);
    expect(r.code).toBe(0);
    for (const p of ALL) expect(r.reads.has(`net/${p}`)).toBe(true);
  });
});
