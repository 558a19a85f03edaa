// End-to-end: many short client connections to a loopback listener, each closed by its client
// first, leave TIME_WAITs on the client side. The by-port view (view 2) lists their remote port
// under CLIENT SIDE with the TIME-W count that `ss -tan state time-wait dport = :P` gives.
// Live /proc, needs ss and tmux. Build first.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { hasSs } from './helpers/paced-stream.js';
import { TmuxSession, hasTmux } from './helpers/tmux.js';

const children: ChildProcess[] = [];
const sessions: TmuxSession[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of sessions) s.kill();
});

const CONNECTIONS = 40;
// A listener that ends each connection once its client has ended it (the client closes first,
// so TIME_WAIT stays with the client); CONNECTIONS clients connect and end at once. Prints the
// port when every connection is closed on both sides, then holds the listener open.
const CHURN = `
const net = require('net');
const n = Number(process.argv[1]);
let closed = 0;
const server = net.createServer((c) => { c.on('end', () => c.end()); c.on('error', () => {}); c.resume(); });
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  for (let i = 0; i < n; i++) {
    const c = net.connect(port, '127.0.0.1', () => c.end());
    c.on('error', () => {});
    c.resume();
    c.on('close', () => { if (++closed === n) console.log(port); });
  }
});
setTimeout(() => process.exit(0), 120000);
`;

/** TIME_WAIT sockets to remote port `port`, as ss counts them. */
function ssTimeWaitTo(port: number): number {
  const out = execFileSync('ss', ['-Htan', 'state', 'time-wait', 'dport', '=', `:${port}`], { encoding: 'utf8', timeout: 10_000 });
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

/** The cell of `row` under the right-aligned column titled `title` on `header` (same screen columns). */
function cellUnder(header: string, row: string, title: string): string {
  const at = header.indexOf(title);
  if (at < 0) throw new Error(`no ${title} column in: ${header}`);
  const end = at + title.length + 1; // the title may carry a sort mark (▲▼) after it
  return row.slice(0, end).trim().split(/\s+/).at(-1) ?? '';
}

describe.skipIf(!hasTmux || !hasSs)('by port: client-side TIME_WAIT per remote port (live)', { timeout: 120_000 }, () => {
  it('the remote port row shows the TIME-W count that ss gives', async () => {
    const child = spawn(process.execPath, ['-e', CHURN, String(CONNECTIONS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`churn exited early (${code})`)));
    });
    const before = ssTimeWaitTo(port);
    expect(before).toBe(CONNECTIONS);

    const s = TmuxSession.start({ width: 80, height: 24, args: ['--no-processes', '--filter', `dport ${port}`] });
    sessions.push(s);
    await s.waitFor(/shown \d/, 60_000);
    await s.sendKeys('2');
    const screen = await s.waitFor((sc) => sc.includes(`→${port}`) && sc.includes('CLIENT SIDE'), 30_000);
    const lines = screen.split('\n').map((l) => l.replace(/[│┃|]/g, ' '));
    const header = lines.find((l) => /\bPort\b.*\bTIME-W/.test(l)) ?? '';
    const row = lines.find((l) => l.includes(`→${port}`)) ?? '';
    const after = ssTimeWaitTo(port);
    // TIME_WAIT lasts 60 s and nothing new was opened: ss gave the same count before and after.
    expect(after).toBe(before);
    expect(cellUnder(header, row, 'TIME-W'), screen).toBe(String(after));
    expect(cellUnder(header, row, 'Total'), screen).toBe(String(after));
    await s.sendKeys('q');
    await s.waitFor('[exit=0]', 10_000);
  });
});
