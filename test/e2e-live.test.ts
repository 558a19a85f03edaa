// End-to-end against the live /proc: the test opens real loopback sockets (a listener held by a
// child `node -e` process, so it has its own pid, and clients held by this process, one of them
// half-closed for CLOSE_WAIT), runs the real bin/sockscope in tmux and finds them on screen with
// their owner. Then SIGTERM must restore the terminal. Nothing asserts a timing.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmuxSession, hasTmux, socketTableRows } from './helpers/tmux.js';

const MARKER = 'sockscope-e2e-listener';

// The child listens on an ephemeral port, prints it, and keeps every accepted socket open.
// allowHalfOpen: a FIN from the client leaves the server side in CLOSE_WAIT (it never ends).
const LISTENER_SCRIPT = `
const net = require('node:net');
const held = [];
const server = net.createServer({ allowHalfOpen: true }, (s) => { held.push(s); s.on('error', () => {}); s.resume(); });
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

const isLinux = process.platform === 'linux';

describe.skipIf(!hasTmux || !isLinux)('dashboard on the live /proc', () => {
  let child: ChildProcess | null = null;
  let port = 0;
  const clients: net.Socket[] = [];
  let session: TmuxSession | null = null;

  beforeAll(async () => {
    const c = spawn(process.execPath, ['-e', LISTENER_SCRIPT, MARKER], { stdio: ['ignore', 'pipe', 'inherit'] });
    child = c;
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      c.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^(\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      c.on('exit', (code) => reject(new Error(`listener exited early (${code})`)));
    });
    const connect = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
        s.on('error', reject);
        clients.push(s);
      });
    await connect();
    await connect();
    const halfClosed = await connect();
    halfClosed.end(); // FIN from us: our side FIN_WAIT2, the child's side CLOSE_WAIT
  });

  afterAll(() => {
    session?.kill();
    for (const s of clients) s.destroy();
    child?.kill('SIGTERM');
  });

  it('shows LISTEN, ESTAB and CLOSE-WAIT for the port with the owning pid; details; SIGTERM restores the terminal', async () => {
    const childPid = child?.pid ?? 0;
    expect(childPid).toBeGreaterThan(0);
    session = TmuxSession.start({ width: 160, height: 45, args: ['-i', '0.5'] });
    const s = session;
    await s.waitFor(/shown \d+/, 30_000);

    await s.sendKeys('p');
    await s.waitFor('Port — Enter apply');
    await s.sendKeys(String(port), 'Enter');
    // Owners come from a scan of /proc/*/fd: wait until the child's pid is on its rows.
    const command = path.basename(process.execPath).slice(0, 15); // comm: the binary's name, 15 chars
    const ownerOf = `${childPid}/${command}`;
    const listenRe = new RegExp(`^│tcp\\s+LISTEN\\s+\\d+\\s+\\d+ 127\\.0\\.0\\.1:${port}\\s+\\*:\\*\\s+${ownerOf}\\s`);
    const serverEstabRe = new RegExp(`^│tcp\\s+ESTAB\\s+\\d+\\s+\\d+ 127\\.0\\.0\\.1:${port}\\s+127\\.0\\.0\\.1:\\d+\\s+${ownerOf}\\s`);
    const closeWaitRe = new RegExp(`^│tcp\\s+CLOSE-WAIT\\s+\\d+\\s+\\d+ 127\\.0\\.0\\.1:${port}\\s+127\\.0\\.0\\.1:\\d+\\s+${ownerOf}\\s`);
    const clientEstabRe = new RegExp(`^│tcp\\s+ESTAB\\s+\\d+\\s+\\d+ 127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:${port}\\s+${process.pid}/`);
    const finWaitRe = new RegExp(`^│tcp\\s+FIN-WAIT-2\\s+\\d+\\s+\\d+ 127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:${port}\\s+${process.pid}/`);
    const screen = await s.waitFor((sc) => {
      const rows = socketTableRows(sc);
      return (
        sc.includes(`filter: port ${port}`) &&
        rows.filter((r) => listenRe.test(r)).length === 1 &&
        rows.filter((r) => serverEstabRe.test(r)).length === 2 &&
        rows.filter((r) => closeWaitRe.test(r)).length === 1 &&
        rows.filter((r) => clientEstabRe.test(r)).length === 2 &&
        rows.filter((r) => finWaitRe.test(r)).length === 1
      );
    }, 30_000);
    // Ours are exactly these seven (on a shared machine another 127.0.0.x pair may reuse the port
    // number as its ephemeral port: those rows match the filter too, and are left alone).
    const ours = socketTableRows(screen).filter((r) => r.includes(`127.0.0.1:${port} `));
    expect(ours).toHaveLength(7);
    for (const r of socketTableRows(screen)) expect(r).toContain(`:${port} `);

    // Sorted by state, LISTEN is the first row: its details show the child's pid and command line.
    await s.sendKeys('Enter');
    const details = await s.waitFor((sc) => sc.includes('Details') && sc.includes(MARKER), 15_000);
    expect(details).toMatch(new RegExp(`pid / command\\s+${childPid} / ${command}\\b`));
    expect(details).toMatch(/command line\s+\S*node -e/);
    expect(details).toContain(`127.0.0.1:${port}  →  *:*`);

    // SIGTERM to the sockscope process itself (the pane's shell is its parent).
    const pid = s.sockscopePid();
    expect(pid).not.toBeNull();
    process.kill(pid ?? 0, 'SIGTERM');
    const after = await s.waitFor(/\[exit=\d+\]/, 15_000);
    expect(after).toContain('[exit=143]');
    expect(s.display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    expect(after).not.toContain('Details');
  });
});
