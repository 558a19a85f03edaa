// End-to-end: the dashboard's header shows the TCP throughput from ss (tx/rx bytes/s) for a
// paced 1 MB/s loopback stream, within 20%. The filter shows only the stream, so ss is asked for
// its ports only. Live /proc, needs ss and tmux. Build first.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxSession, hasTmux } from './helpers/tmux.js';

const hasSs = ((): boolean => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
})();

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
    const stream = spawn(
      process.execPath,
      [
        '-e',
        `const net=require('net');const s=net.createServer(c=>c.on('data',()=>{})).listen(0,'127.0.0.1',()=>{const c=net.connect(s.address().port,'127.0.0.1',()=>{const t0=Date.now();let sent=0;setInterval(()=>{const due=Math.floor(${RATE}*(Date.now()-t0)/1000)-sent;if(due>0){c.write(Buffer.alloc(due,120));sent+=due}},20);console.log(s.address().port)})});setTimeout(()=>{},120000)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(stream);
    const port = await new Promise<number>((resolve) => stream.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
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
