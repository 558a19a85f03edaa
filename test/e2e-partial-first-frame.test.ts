// The real binary in tmux over a synthetic /proc tree of 100,000 TCP sockets (--proc-root): its
// first screen is the partial one — the exact counts of every socket (checked against a whole
// parse of the tree's tables) and "loading: N of 100,000 sockets read" over a first window of
// rows — and the full table replaces it. No times are asserted; the waits only bound the test.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { writeSyntheticProcTree } from '../bench/proc-tree.js';
import type { TcpState } from '../src/model/types.js';
import { parseInetTable } from '../src/proc/parse-inet.js';
import { formatCount } from '../src/view/text.js';
import { TmuxSession, hasTmux, socketTableRows } from './helpers/tmux.js';

const SOCKETS = 100_000;
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

let session: TmuxSession | null = null;
afterEach(() => {
  session?.kill();
  session = null;
});

/** Count per TCP state of every line of the tree's tcp and tcp6, by a whole parse (the oracle). */
function statesOf(root: string): Partial<Record<TcpState, number>> {
  const out: Partial<Record<TcpState, number>> = {};
  for (const protocol of ['tcp', 'tcp6'] as const) {
    const parsed = parseInetTable(fs.readFileSync(path.join(root, 'net', protocol), 'utf8'), protocol);
    expect(parsed.skipped).toBe(0);
    for (const s of parsed.sockets) out[s.state as TcpState] = (out[s.state as TcpState] ?? 0) + 1;
  }
  return out;
}

describe.skipIf(!hasTmux)('first frame at 100k sockets (binary in tmux, --proc-root)', () => {
  it('the first screen has the exact counts and the loading marker; then the full table', async () => {
    const tree = writeSyntheticProcTree(os.tmpdir(), { sockets: SOCKETS });
    roots.push(tree.root);
    const states = statesOf(tree.root);
    session = TmuxSession.start({ args: ['--proc-root', tree.root, '--no-processes'], width: 160, height: 45 });
    // The first screen with the socket table on it.
    const first = await session.waitFor((s) => socketTableRows(s).length > 0, 20_000);
    expect(first).toContain('loading: ');
    expect(first).toMatch(/loading: [\d,]+ of 100,000 sockets read; sorted among those/);
    expect(first).toContain(`TCP ${formatCount(SOCKETS)}`);
    const bars: [string, TcpState][] = [
      ['LISTEN', 'LISTEN'],
      ['ESTAB', 'ESTABLISHED'],
      ['FIN-WAIT-2', 'FIN_WAIT2'],
      ['CLOSE-WAIT', 'CLOSE_WAIT'],
      ['TIME-WAIT', 'TIME_WAIT'],
    ];
    for (const [label, state] of bars) {
      const n = states[state] ?? 0;
      expect(n).toBeGreaterThan(0);
      expect(first).toMatch(new RegExp(`│${label}\\s+${formatCount(n).replace('.', '\\.')} `));
    }
    // Then the full table: every socket listed, the view tabs back, the marker gone.
    const full = await session.waitFor((s) => s.includes('/100000') && s.includes('[1:sockets]'), 20_000);
    expect(full).not.toContain('loading');
    expect(socketTableRows(full).length).toBeGreaterThan(10);
    await session.sendKeys('q');
    await session.waitFor('[exit=0]', 10_000);
  });
});
