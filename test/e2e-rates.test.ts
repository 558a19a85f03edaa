// End-to-end: the dashboard's header shows the TCP throughput from ss (tx/rx bytes/s) for a
// paced 1 MB/s loopback stream, within 20%. The filter shows only the stream, so ss is asked for
// its ports only. Live /proc, needs ss and tmux. Build first.

import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxSession, hasTmux } from './helpers/tmux.js';
import { hasSs, startPacedStream } from './helpers/paced-stream.js';

const children: ChildProcess[] = [];
const sessions: TmuxSession[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of sessions) s.kill();
});

/** "2.00 MB/s" → bytes per second. */
function bytesPerSec(value: string, unit: string): number {
  return Number(value) * ({ 'B/s': 1, 'kB/s': 1e3, 'MB/s': 1e6, 'GB/s': 1e9 } as Record<string, number>)[unit]!;
}

describe.skipIf(!hasTmux || !hasSs)('dashboard header throughput (live)', { timeout: 120_000 }, () => {
  it('tx and rx of a paced 1 MB/s stream read within 20% of it', async () => {
    const RATE = 1_000_000;
    const { child: stream, port: port } = await startPacedStream(RATE, 120000);
    children.push(stream);
    const s = TmuxSession.start({ width: 160, height: 40, args: ['--no-processes', '--filter', `port ${port}`] });
    sessions.push(s);
    const re = /tx ([\d.]+) (B\/s|kB\/s|MB\/s|GB\/s) rx ([\d.]+) (B\/s|kB\/s|MB\/s|GB\/s)/;
    const screen = await s.waitFor((sc) => re.test(sc) || /\[exit=\d+\]/.test(sc), 60_000);
    const m = re.exec(screen);
    expect(m, screen).not.toBeNull();
    const tx = bytesPerSec(m![1]!, m![2]!);
    const rx = bytesPerSec(m![3]!, m![4]!);
    expect(tx).toBeGreaterThan(RATE * 0.8);
    expect(tx).toBeLessThan(RATE * 1.2);
    expect(rx).toBeGreaterThan(RATE * 0.8);
    expect(rx).toBeLessThan(RATE * 1.2);
    await s.sendKeys('q');
    await s.waitFor('[exit=0]', 10_000);
  });
});
