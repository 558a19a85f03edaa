// The binary's UNIX peers (--once table and --json) and per-connection rates (--json stream),
// against a UNIX server and client in two processes and a paced loopback stream. Build first.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/tmux.js';
import { hasSs, startPacedStream } from './helpers/paced-stream.js';

const children: ChildProcess[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'sockscope-cli-peers-'));
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  for (const v of ['PROC_ROOT', 'NO_COLOR', 'SOCKSCOPE_DEBUG']) delete e[v];
  return e;
}

function startNode(script: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve) => child.stdout?.once('data', () => resolve(child)));
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/sockscope', ...args],
      { cwd: REPO_ROOT, env: env(), encoding: 'utf8', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

interface JsonSocket {
  protocol: string;
  inode: number;
  pid: number | null;
  path: string | null;
  state: string;
  localPort: number;
  remotePort: number;
  peerInode?: number | null;
  peerPid?: number | null;
  peerProcess?: string | null;
  sendBytesPerSec?: number | null;
  recvBytesPerSec?: number | null;
  rttMs?: number | null;
}

describe.skipIf(!hasSs)('UNIX peers in --once and --json', () => {
  it("the client's socket names the server's inode and pid; the table shows it in the Peer column", async () => {
    const sock = path.join(dir, 'app.sock');
    const server = await startNode(
      "require('net').createServer(()=>{}).listen(process.argv[1],()=>console.log('up'));setTimeout(()=>{},60000)",
      [sock],
    );
    const client = await startNode("const c=require('net').connect(process.argv[1],()=>console.log('up'));setTimeout(()=>{},60000)", [
      sock,
    ]);

    const r = await run(['--once', '--json', '--filter', 'unix']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { sockets: JsonSocket[]; warnings: string[] };
    expect(doc.warnings).toEqual([]);
    const serverEnd = doc.sockets.find((s) => s.pid === server.pid && s.path === sock && s.state === 'CONNECTED');
    expect(serverEnd).toBeDefined();
    expect(serverEnd?.peerPid).toBe(client.pid);
    const clientEnd = doc.sockets.find((s) => s.inode === serverEnd?.peerInode);
    expect(clientEnd).toMatchObject({ pid: client.pid, peerInode: serverEnd?.inode, peerPid: server.pid, peerProcess: 'node' });

    const table = await run(['--once', '--filter', 'unix']);
    const line = table.stdout
      .split('\n')
      .find((l) => l.includes(` ${client.pid}/node`) && l.includes(`${sock} ${serverEnd?.inode} ${server.pid}/node`));
    expect(line, table.stdout).toBeDefined();
    // The whole table (owners and ss -xH read while the tables are read, joined after): the same row.
    const whole = await run(['--once']);
    expect(whole.code, whole.stderr).toBe(0);
    // (Columns are as wide as their widest cell: compared without the padding.)
    const cells = (l: string | undefined): string => (l ?? '').trim().split(/ +/).join(' ');
    expect(whole.stdout.split('\n').map(cells)).toContain(cells(line));
  });

  it('a recorded tree has no peer fields and no warning', async () => {
    // A /proc tree with net/ holding the recorded tables (and one recorded UNIX socket table).
    const root = path.join(dir, 'proc');
    mkdirSync(path.join(root, 'net'), { recursive: true });
    const recorded = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
    for (const f of readdirSync(recorded)) copyFileSync(path.join(recorded, f), path.join(root, 'net', f));
    const r = await run(['--once', '--json', '--proc-root', root]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { sockets: JsonSocket[]; warnings: string[] };
    expect(doc.sockets.some((s) => s.protocol === 'unix')).toBe(true);
    expect(doc.sockets.some((s) => 'peerInode' in s || 'sendBytesPerSec' in s)).toBe(false);
    expect(doc.warnings.some((w) => w.includes('unavailable'))).toBe(false);
  });
});

describe.skipIf(!hasSs)('--json stream carries per-connection rates', { timeout: 90_000 }, () => {
  it('a paced 1 MB/s stream reads within 20% of 1 MB/s once the counters were read twice', async () => {
    const RATE = 1_000_000;
    const { child: stream, port: serverPort } = await startPacedStream(RATE, 90000);
    children.push(stream);
    // A filter showing only the stream: ss is then asked for those ports only (cheap even when
    // the machine holds 100k other connections).
    const child = spawn(process.execPath, ['bin/sockscope', '--json', '--interval', '1.5', '--filter', `port ${serverPort}`], {
      cwd: REPO_ROOT,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    // ss runs on its own cadence (spaced when it is slow on a busy machine): read documents
    // until one carries a rate for the stream's sender, at most 15.
    const docs: { sockets: JsonSocket[]; ratesAsOf?: string }[] = [];
    const hasRate = (doc: { sockets: JsonSocket[] }): boolean =>
      doc.sockets.some((s) => s.pid === stream.pid && (s.sendBytesPerSec ?? 0) > 0);
    await new Promise<void>((resolve) => {
      let buf = '';
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          docs.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
          if (hasRate(docs[docs.length - 1]!) || docs.length === 15) resolve();
        }
      });
    });
    child.kill('SIGTERM');
    const last = docs[docs.length - 1]!;
    expect(last.ratesAsOf).toBeDefined();
    const sender = last.sockets.find((s) => s.pid === stream.pid && (s.sendBytesPerSec ?? 0) > 0);
    expect(sender, JSON.stringify(last.sockets.filter((s) => s.pid === stream.pid))).toBeDefined();
    expect(sender!.sendBytesPerSec).toBeGreaterThan(RATE * 0.8);
    expect(sender!.sendBytesPerSec).toBeLessThan(RATE * 1.2);
    const receiver = last.sockets.find(
      (s) => s.pid === stream.pid && s.localPort === sender!.remotePort && s.remotePort === sender!.localPort,
    );
    expect(receiver!.recvBytesPerSec).toBeGreaterThan(RATE * 0.8);
    expect(receiver!.recvBytesPerSec).toBeLessThan(RATE * 1.2);
    // The first document has counters but no rate yet.
    const firstSender = docs[0]!.sockets.find((s) => s.pid === stream.pid && s.localPort === sender!.localPort);
    expect(firstSender?.sendBytesPerSec).toBeNull();
  });
});

describe('ss failures are warnings, not errors (in-process main with an injected ss)', () => {
  /** main(args) with every external command failing with `message`; what it printed and ran. */
  async function mainWithFailingSs(
    args: string[],
    message: string,
  ): Promise<{ code: number; out: string; err: string; calls: string[][] }> {
    const { main } = await import('../src/main.js');
    let out = '';
    let err = '';
    const calls: string[][] = [];
    const code = await main(args, {
      stdout: { write: (s: string) => ((out += s), true) },
      stderr: { write: (s: string) => ((err += s), true) },
      runCommand: async (file, cmdArgs) => {
        calls.push([file, ...cmdArgs]);
        return { ok: false, message };
      },
    });
    return { code, out, err, calls };
  }

  it('--once --json: exit 0, the document without peer fields, one warning naming the cause', async () => {
    const { code, out, err, calls } = await mainWithFailingSs(['--once', '--json', '--filter', 'unix'], 'ss is not installed');
    expect(code).toBe(0);
    expect(calls).toEqual([['ss', '-xH']]);
    const doc = JSON.parse(out) as { sockets: JsonSocket[]; warnings: string[] };
    expect(doc.warnings).toContain('UNIX peers unavailable: ss is not installed');
    expect(doc.sockets.some((s) => 'peerInode' in s)).toBe(false);
    expect(err).toContain('sockscope: UNIX peers unavailable: ss is not installed\n');
  });

  it('--once (the table): ss -xH run once, its failure one warning', async () => {
    const { code, err, calls } = await mainWithFailingSs(['--once'], 'ss is not installed');
    expect(code).toBe(0);
    expect(calls).toEqual([['ss', '-xH']]);
    expect(err).toContain('sockscope: UNIX peers unavailable: ss is not installed\n');
  });

  it('no UNIX socket shown: ss is not run', async () => {
    const { code, calls } = await mainWithFailingSs(['--once', '--json', '--filter', 'tcp'], 'unexpected');
    expect(code).toBe(0);
    expect(calls).toEqual([]);
  });
});
