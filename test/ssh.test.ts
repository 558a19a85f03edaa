// --ssh for real. First the protocol over a local `sh` standing in for the remote one (framing,
// pipelining, binary text, banners, timeouts, a shell that goes away), then the real binary
// against a private sshd started by this file on 127.0.0.1 with generated keys: --once --json
// must find a listener this test opened, with this process as owner, and agree with a local run;
// a bad port is one line and exit 1; the dashboard in tmux shows "via ssh" and the listener, q
// restores the terminal, and a dropped connection ends it with one line. The sshd part skips
// itself when sshd (openssh-server) or ssh is missing or will not start (.ci/run installs them).

import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSshOption, checkSshTarget, sshArgs } from '../src/proc/ssh/args.js';
import { SshError, SshSyncReadError } from '../src/proc/ssh/errors.js';
import { openSshProcFs, type SshProcFs } from '../src/proc/ssh/proc-fs.js';
import { sshFailureLine } from '../src/proc/ssh/protocol.js';
import { createRemoteOwnerSource } from '../src/proc/remote-owners.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { NET_TABLES, wantedInodes } from '../src/proc/collect-snapshot.js';
import { collectStateCounts, collectStateCountsAsync } from '../src/proc/collect-counts.js';
import { parseInetTable } from '../src/proc/parse-inet.js';
import { REPO_ROOT, TmuxSession, hasTmux, socketTableRows } from './helpers/tmux.js';

const isLinux = process.platform === 'linux';
const hasTool = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
const hasGzip = hasTool('gzip');
const hasMd5sum = hasTool('md5sum');

/**
 * A local `sh` in place of `ssh host sh`, optionally after some commands (a banner, a fake cat).
 * It leads its own process group, killed whole when sh ends: the commands of a compressed answer
 * run in a pipeline beside the shell, and one that never ends (the trickle test's loop feeding
 * gzip) would outlive the shell the session kills.
 */
function localShell(prelude = ''): () => ChildProcessWithoutNullStreams {
  return () => {
    const child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    child.on('exit', () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    });
    if (prelude !== '') child.stdin.write(`${prelude}\n`);
    return child;
  };
}

function listen(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.on('error', () => undefined));
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port;

describe('argument checks', () => {
  it.each([
    ['db1', true],
    ['bob@db1.example.com', true],
    ['root@127.0.0.1', true],
    ['bob@::1', true],
    ['fe80::1%eth0', true],
    ['bob@[::1]', false], // ssh wants bob@::1
    ['-oProxyCommand=sh', false],
    ['bob@-p', false],
    ['bob@db1 sh', false],
    ["db1';reboot'", false],
    ['', false],
  ])('target %j ok=%s', (target, ok) => {
    expect(checkSshTarget(target) === null).toBe(ok);
  });

  it.each([
    ['Port=2222', true],
    ['IdentityFile=/tmp/k', true],
    ['StrictHostKeyChecking=accept-new', true],
    ['Port 2222', false],
    ['=x', false],
    ['ProxyCommand=a\nb', false],
  ])('ssh option %j ok=%s', (option, ok) => {
    expect(checkSshOption(option) === null).toBe(ok);
  });

  it('ssh argv: no tty, forced BatchMode before the user options, defaults after, -- before the host, sh last', () => {
    const args = sshArgs('bob@db1', ['Port=2222', 'BatchMode=no']);
    expect(args[0]).toBe('-T');
    expect(args.indexOf('BatchMode=yes')).toBeLessThan(args.indexOf('BatchMode=no')); // ssh keeps the first
    expect(args.indexOf('Port=2222')).toBeLessThan(args.indexOf('ServerAliveInterval=15'));
    expect(args.slice(-3)).toEqual(['--', 'bob@db1', 'sh']);
  });

  it.each([
    [
      "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\r\nroot@127.0.0.1: Permission denied (publickey).\r\n",
      'root@127.0.0.1: Permission denied (publickey).',
    ],
    ['ssh: connect to host 127.0.0.1 port 1: Connection refused\n', 'connect to host 127.0.0.1 port 1: Connection refused'],
    ['ssh: Could not resolve hostname nope: Name or service not known\n', 'Could not resolve hostname nope: Name or service not known'],
    ['Host key verification failed.\n', 'Host key verification failed.'],
    ['evil \x1b[2J text\n', 'evil [2J text'],
    ['Warning: only a warning\n', null],
    ['', null],
  ])('failure line of %j', (stderr, line) => {
    expect(sshFailureLine(stderr)).toBe(line);
  });
});

describe.skipIf(!isLinux)('the protocol over a local sh', () => {
  const opened: SshProcFs[] = [];
  const open = async (prelude = '', timeoutMs?: number): Promise<SshProcFs> => {
    const fs1 = await openSshProcFs('tester@localhost', {
      spawnShell: localShell(prelude),
      preload: ['sys/kernel/ostype', 'sys/net/core/somaxconn', 'no/such/file'],
      readPasswd: true,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
    opened.push(fs1);
    return fs1;
  };
  afterAll(async () => {
    for (const f of opened) await f.close();
  });

  it('reads text, NUL bytes and missing files; many requests in flight come back in order', async () => {
    const remote = await open();
    expect(remote.hostname).toBe(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    expect(remote.root).toBe('ssh://tester@localhost/proc');
    expect(remote.passwd).toBe(fs.readFileSync('/etc/passwd', 'utf8'));
    const files = ['sys/kernel/ostype', '1/cmdline', 'sys/kernel/osrelease', 'self/nonexistent'];
    const expected = files.map((f) => {
      try {
        return fs.readFileSync(`/proc/${f}`, 'utf8');
      } catch {
        return null;
      }
    });
    const many = await Promise.all(Array.from({ length: 40 }, (_, i) => remote.readTextAsync(files[i % files.length] ?? '')));
    // 1/cmdline holds NULs: compared as text, byte for byte.
    many.forEach((text, i) => expect(text).toBe(expected[i % files.length]));
    expect(remote.lastError()).toBe('ENOENT');
    // Paths are only fixed names and numbers: anything else is refused without asking.
    expect(await remote.readTextAsync("net/tcp'; echo pwned; '")).toBeNull();
    expect(remote.lastError()).toBe('EINVAL');
  });

  it('sync reads answer only the preloaded files and otherwise throw', async () => {
    const remote = await open();
    expect(remote.readText('sys/kernel/ostype')).toBe('Linux\n');
    expect(remote.readText('sys/net/core/somaxconn')).toBe(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    expect(remote.readText('no/such/file')).toBeNull();
    expect(() => remote.readText('net/tcp')).toThrow(SshSyncReadError);
    expect(() => remote.readDir('')).toThrow(SshSyncReadError);
    expect(() => remote.readLink('1/fd/0')).toThrow(SshSyncReadError);
  });

  it('skips what the login prints before the first answer (rc files of some shells)', async () => {
    const remote = await open("echo 'Welcome to db1'; printf 'no newline at the end'");
    expect(await remote.readTextAsync('sys/kernel/ostype')).toBe('Linux\n');
  });

  it('a remote side that is not Linux is one clear error', async () => {
    const fakeCat = `cat() { if [ "$1" = /proc/sys/kernel/ostype ]; then echo Darwin; else command cat "$@"; fi; }`;
    await expect(openSshProcFs('mac@host', { spawnShell: localShell(fakeCat) })).rejects.toThrow(
      /^ssh to mac@host failed: the remote host is not Linux/,
    );
  });

  it('a shell that exits before answering: the reason, not a hang', async () => {
    await expect(
      openSshProcFs('nologin@host', { spawnShell: localShell("echo 'This account is currently not available.'; exit 1") }),
    ).rejects.toThrow('ssh to nologin@host failed: the remote shell ended with status 1: This account is currently not available.');
  });

  it('a request without an answer times out, kills the shell, and every later request fails at once', async () => {
    const remote = await open('', 400);
    const stalled = remote.exec(() => 'sleep 5');
    await expect(stalled).rejects.toThrow(/^no answer from tester@localhost over ssh for 0 s/);
    await expect(remote.readTextAsync('sys/kernel/ostype')).rejects.toBeInstanceOf(SshError);
  });

  it('a login that never answers fails the start-up with one line', async () => {
    await expect(openSshProcFs('slow@host', { spawnShell: localShell('exec sleep 30'), startTimeoutMs: 300 })).rejects.toThrow(
      /^ssh to slow@host failed: no answer from slow@host over ssh/,
    );
  });

  it('a connection that ends mid-session fails the pending and later requests with one line', async () => {
    // Plain: a compressed answer's command runs in a pipeline, where `exit` ends only its subshell.
    const remote = await openSshProcFs('tester@localhost', { spawnShell: localShell(), compress: false });
    opened.push(remote);
    await expect(remote.exec(() => 'exit 3')).rejects.toThrow(
      'ssh connection to tester@localhost lost: the remote shell ended with status 3',
    );
    await expect(remote.readTextAsync('net/tcp')).rejects.toThrow(/lost/);
  });

  it('a remote that floods one answer is given up at the reply cap: no more than the cap and one chunk were taken', async () => {
    const maxReplyBytes = 1024 * 1024;
    let received = 0;
    let child: ChildProcessWithoutNullStreams | null = null;
    const remote = await openSshProcFs('flood@host', {
      spawnShell: () => {
        child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
        // Counts every byte read from the pipe (this listener runs before the session's).
        child.stdout.on('data', (d: Buffer) => (received += d.length));
        return child;
      },
      maxReplyBytes,
      compress: false, // plain answers here; compressed ones below
    });
    opened.push(remote);
    received = 0; // the start-up's answers are not part of this one
    // `yes` never ends and every byte would re-arm the inactivity timer (exec: the "remote" sh
    // becomes yes, so killing it ends the flood as killing ssh would).
    const outcome = await remote
      .exec(() => 'exec yes')
      .then(
        () => ({ message: 'answered', receivedBytes: received }),
        (err: unknown) => ({ message: err instanceof Error ? err.message : String(err), receivedBytes: received }),
      );
    expect(outcome.message).toBe('the answer from flood@host over ssh was larger than 1 MiB: giving up');
    expect(outcome.receivedBytes).toBeGreaterThan(maxReplyBytes);
    expect(outcome.receivedBytes).toBeLessThanOrEqual(maxReplyBytes + 64 * 1024);
    await expect(remote.readTextAsync('sys/kernel/ostype')).rejects.toBeInstanceOf(SshError);
    // The shell was killed, not left flooding.
    const shell = child as ChildProcessWithoutNullStreams | null;
    if (shell !== null && shell.exitCode === null && shell.signalCode === null) await new Promise((r) => shell.once('close', r));
    expect(shell?.signalCode).toBe('SIGTERM');
  });

  it('answers up to the cap still arrive whole, in pipelined order', async () => {
    const remote = await openSshProcFs('tester@localhost', { spawnShell: localShell(), maxReplyBytes: 256 * 1024 });
    opened.push(remote);
    // Four replies of 200 KiB each in flight at once: each under the cap, together over it.
    const replies = await Promise.all([1, 2, 3, 4].map((i) => remote.exec(() => `head -c ${200 * 1024} /dev/zero | tr '\\0' '${i}'`)));
    replies.forEach((r, i) => expect(r.text).toBe(String(i + 1).repeat(200 * 1024)));
  });

  it('an answer that trickles in forever (re-arming the inactivity timer) meets its deadline', async () => {
    const remote = await openSshProcFs('trickle@host', { spawnShell: localShell(), timeoutMs: 30_000, replyDeadlineMs: 800 });
    opened.push(remote);
    await expect(remote.exec(() => 'while :; do printf x; sleep 0.1; done')).rejects.toThrow(
      /^the answer from trickle@host over ssh took more than 1 s: giving up$/,
    );
  });

  describe('compression and unchanged files', () => {
    const RECORDED = path.join(REPO_ROOT, 'test', 'fixtures', 'proc-text', 'recorded');
    let tree = '';
    let noGzipBin = '';
    beforeAll(() => {
      // A remote /proc: the recorded tables, plus a large tcp table (1.5 MB, 10k lines).
      tree = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-ssh-tree-'));
      fs.mkdirSync(path.join(tree, 'net'));
      for (const f of ['tcp6', 'udp', 'udp6', 'unix', 'snmp', 'netstat'])
        fs.copyFileSync(path.join(RECORDED, f), path.join(tree, 'net', f));
      const recorded = fs.readFileSync(path.join(RECORDED, 'tcp'), 'utf8').split('\n');
      const header = recorded[0] ?? '';
      const body = recorded.slice(1).filter((l) => l.trim() !== '');
      const lines = Array.from({ length: 10_000 }, (_, i) => body[i % body.length]!.replace(/^\s*\d+:/, `${String(i).padStart(4)}:`));
      fs.writeFileSync(path.join(tree, 'net', 'tcp'), `${header}\n${lines.join('\n')}\n`);
      // A PATH with what the protocol runs but neither gzip nor md5sum.
      noGzipBin = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-ssh-bin-'));
      for (const tool of ['cat', 'find', 'ls', 'head', 'tr']) {
        const found = ['/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
        if (found !== undefined) fs.symlinkSync(found, path.join(noGzipBin, tool));
      }
    });
    afterAll(() => {
      fs.rmSync(tree, { recursive: true, force: true });
      fs.rmSync(noGzipBin, { recursive: true, force: true });
    });
    const FILES = ['net/tcp', 'net/tcp6', 'net/udp', 'net/udp6', 'net/unix', 'net/snmp', 'net/netstat', 'net/raw'];

    /** Read FILES over a session; the texts and the bytes received for them. */
    const readAll = async (remote: SshProcFs): Promise<{ texts: (string | null)[]; receivedBytes: number }> => {
      const before = remote.byteCounts().receivedBytes;
      const texts = await Promise.all(FILES.map((f) => remote.readTextAsync(f)));
      return { texts, receivedBytes: remote.byteCounts().receivedBytes - before };
    };
    const onDisk = (rel: string): string | null =>
      fs.existsSync(path.join(tree, rel)) ? fs.readFileSync(path.join(tree, rel), 'utf8') : null;

    it.skipIf(!hasGzip)('with gzip on the remote side: the same texts as plain, in a tenth of the bytes', async () => {
      const plain = await openSshProcFs('tester@localhost', { spawnShell: localShell(), remoteProcRoot: tree, compress: false });
      const packed = await openSshProcFs('tester@localhost', { spawnShell: localShell(), remoteProcRoot: tree, skipUnchanged: false });
      opened.push(plain, packed);
      expect(plain.link.compressed).toBe(false);
      expect(packed.link.compressed).toBe(true);
      const a = await readAll(plain);
      const b = await readAll(packed);
      expect(b.texts).toEqual(a.texts);
      expect(b.texts).toEqual(FILES.map(onDisk));
      expect(plain.lastError()).toBe('ENOENT'); // net/raw is not in the tree
      expect(packed.lastError()).toBe('ENOENT');
      const rawBytes = FILES.map(onDisk).reduce((n, t) => n + (t?.length ?? 0), 0);
      expect(a.receivedBytes).toBeGreaterThanOrEqual(rawBytes);
      expect(b.receivedBytes).toBeLessThan(rawBytes / 10);
      // Scripts with their own output go through the same path: NUL bytes, an exit status.
      expect(await packed.exec(() => "printf 'a\\0b'; (exit 7)")).toMatchObject({ text: 'a\0b', status: 7 });
      expect((await packed.exec(() => 'cat /proc/1/cmdline')).text).toBe(fs.readFileSync('/proc/1/cmdline', 'utf8'));
    });

    it('without gzip and md5sum on the remote PATH: plain text, every file sent, the same texts', async () => {
      const remote = await openSshProcFs('tester@localhost', { spawnShell: localShell(`PATH=${noGzipBin}`), remoteProcRoot: tree });
      opened.push(remote);
      expect(remote.link).toEqual({ compressed: false, skipUnchanged: false });
      const first = await readAll(remote);
      const second = await readAll(remote);
      expect(second.texts).toEqual(FILES.map(onDisk));
      expect(second.receivedBytes).toBeGreaterThanOrEqual(first.texts.reduce((n, t) => n + (t?.length ?? 0), 0));
    });

    it.skipIf(!hasGzip || !hasMd5sum)('unchanged files are not sent again; changed ones are, small or large', async () => {
      const remote = await openSshProcFs('tester@localhost', { spawnShell: localShell(), remoteProcRoot: tree });
      opened.push(remote);
      expect(remote.link).toEqual({ compressed: true, skipUnchanged: true });
      const first = await readAll(remote);
      const again = await readAll(remote);
      expect(again.texts).toEqual(first.texts);
      // Framed "unchanged" answers: a few dozen bytes each, however large the files.
      expect(again.receivedBytes).toBeLessThan(FILES.length * 80);
      const tcpFile = path.join(tree, 'net', 'tcp');
      const unixFile = path.join(tree, 'net', 'unix');
      const original = { tcp: fs.readFileSync(tcpFile, 'utf8'), unix: fs.readFileSync(unixFile, 'utf8') };
      try {
        // Rounds of changes: every read gives what is on disk at that moment, whether the remote
        // was asked to compare (small files, a large one that did not change) or not.
        for (let round = 0; round < 10; round++) {
          if (round % 3 !== 2) fs.writeFileSync(tcpFile, original.tcp.replace(/^(\s*\d+: [0-9A-F]{4})/m, `$1${round}`));
          fs.writeFileSync(unixFile, `${original.unix}${round % 2 === 0 ? '' : 'ffff: 00000002 00000000 00010000 0001 01 99 /tmp/x\n'}`);
          const now = await readAll(remote);
          expect(now.texts).toEqual(FILES.map(onDisk));
        }
      } finally {
        fs.writeFileSync(tcpFile, original.tcp);
        fs.writeFileSync(unixFile, original.unix);
      }
      expect(await remote.readTextAsync('net/tcp')).toBe(original.tcp);
      // A file that went away is missing, not served from the copy.
      fs.renameSync(path.join(tree, 'net', 'udp'), path.join(tree, 'net', 'udp.gone'));
      try {
        expect(await remote.readTextAsync('net/udp')).toBeNull();
        expect(remote.lastError()).toBe('ENOENT');
      } finally {
        fs.renameSync(path.join(tree, 'net', 'udp.gone'), path.join(tree, 'net', 'udp'));
      }
    });

    it('--summary counts: the TCP state column counted there (awk) gives the local counts in a few bytes', async () => {
      const local = collectStateCounts(createProcFs(tree));
      expect(Object.values(local.counts.tcp).reduce((a, b) => a + b, 0)).toBeGreaterThan(10_000);
      const remote = await openSshProcFs('tester@localhost', { spawnShell: localShell(), remoteProcRoot: tree, compress: false });
      opened.push(remote);
      expect(remote.stateTally).not.toBeNull();
      const tallied = await remote.stateTally!.tallyTcpStatesAsync('net/tcp');
      expect(tallied.text!.length).toBeLessThan(200); // a line per state, for a 1.5 MB table
      expect(await remote.stateTally!.tallyTcpStatesAsync('net/nope')).toEqual({ text: null, error: 'ENOENT' });
      expect(await collectStateCountsAsync(remote, NET_TABLES, remote.stateTally)).toEqual(local);
      // Without awk (nor gzip) there: whole tables, the same counts.
      const bare = await openSshProcFs('tester@localhost', { spawnShell: localShell(`PATH=${noGzipBin}`), remoteProcRoot: tree });
      opened.push(bare);
      expect(bare.stateTally).toBeNull();
      expect(await collectStateCountsAsync(bare, NET_TABLES, bare.stateTally)).toEqual(local);
    });

    it.skipIf(!hasGzip)('a compressed answer that unpacks past the cap is refused with one line, after few bytes', async () => {
      const remote = await openSshProcFs('bomb@host', { spawnShell: localShell(), maxReplyBytes: 1024 * 1024 });
      opened.push(remote);
      const before = remote.byteCounts().receivedBytes;
      // 2 MiB of zeros: a few KiB once gzipped, twice the cap once unpacked.
      await expect(remote.exec(() => `head -c ${2 * 1024 * 1024} /dev/zero`)).rejects.toThrow(
        /^the answer from bomb@host over ssh unpacks to more than 1 MiB: giving up$/,
      );
      expect(remote.byteCounts().receivedBytes - before).toBeLessThan(64 * 1024);
      await expect(remote.readTextAsync('sys/kernel/ostype')).rejects.toBeInstanceOf(SshError);
      // Just under the cap is fine on a new session.
      const ok = await openSshProcFs('tester@localhost', { spawnShell: localShell(), maxReplyBytes: 1024 * 1024 });
      opened.push(ok);
      expect((await ok.exec(() => `head -c ${1024 * 1024 - 100} /dev/zero`)).text).toHaveLength(1024 * 1024 - 100);
    });

    it('a gzip there whose output does not unpack here: one line, the session given up', async () => {
      // A "gzip" that passes the round-trip probe but copies its input unchanged.
      const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-ssh-fakegzip-'));
      try {
        fs.writeFileSync(path.join(fake, 'gzip'), '#!/bin/sh\nexec cat\n', { mode: 0o755 });
        const remote = await openSshProcFs('odd@host', { spawnShell: localShell(`PATH=${fake}:$PATH`), remoteProcRoot: tree });
        opened.push(remote);
        expect(remote.link.compressed).toBe(true);
        await expect(remote.readTextAsync('net/unix')).rejects.toThrow(
          /^the answer from odd@host over ssh could not be unpacked \(Z_DATA_ERROR\): giving up$/,
        );
      } finally {
        fs.rmSync(fake, { recursive: true, force: true });
      }
    });
  });

  it.skipIf(process.getuid?.() !== 0)('as another user, the processes it may not read are counted as unreadable', async () => {
    const remote = await openSshProcFs('nobody@localhost', {
      spawnShell: () => spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'], uid: 65534, gid: 65534, cwd: '/' }),
    });
    opened.push(remote);
    const lookup = await createRemoteOwnerSource(remote).scan(new Set());
    expect(lookup.stats.unreadableProcesses).toBeGreaterThan(0); // at least this test's own process (root)
    expect(lookup.stats.scannedProcesses).toBeGreaterThan(lookup.stats.unreadableProcesses);
  });

  it('the remote owner source over it finds the same owners as the local scanner', async () => {
    const server = await listen();
    try {
      const remote = await open();
      const port = portOf(server);
      const tcp = parseInetTable((await remote.readTextAsync('net/tcp')) ?? '', 'tcp').sockets;
      const mine = tcp.filter((s) => s.localPort === port && s.state === 'LISTEN');
      expect(mine).toHaveLength(1);
      const wanted = wantedInodes(tcp);
      const remoteLookup = await createRemoteOwnerSource(remote).scan(wanted);
      const localLookup = createOwnerScanner(createProcFs('/proc')).scan(wanted);
      const inode = mine[0]?.inode ?? 0;
      expect(remoteLookup.lookup(inode)).toMatchObject({ pid: process.pid });
      expect(remoteLookup.lookup(inode)).toEqual(localLookup.lookup(inode));
      expect(remoteLookup.stats.linksRead).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });
});

// ---- a private sshd -----------------------------------------------------------------------------

interface Sshd {
  readonly port: number;
  readonly user: string;
  readonly dir: string;
  readonly pid: number;
  /** --ssh-option arguments for sockscope. */
  readonly options: string[];
  stop(): void;
}

const SSHD = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((p) => fs.existsSync(p)) ?? null;
const hasSsh = spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  const server = await listen();
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Start sshd -D on 127.0.0.1 with keys in a temp dir; null (with the reason logged) when it cannot. */
async function startSshd(): Promise<Sshd | null> {
  if (SSHD === null || !hasSsh || !isLinux) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-sshd-'));
  const keygen = (file: string): boolean =>
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { stdio: 'ignore' }).status === 0;
  if (!keygen(path.join(dir, 'host_ed25519')) || !keygen(path.join(dir, 'client_ed25519'))) return null;
  fs.copyFileSync(path.join(dir, 'client_ed25519.pub'), path.join(dir, 'authorized_keys'));
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_ed25519`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      `PidFile ${dir}/sshd.pid`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PrintMotd no',
      '',
    ].join('\n'),
  );
  // sshd refuses to start as root without its privilege separation directory.
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const child = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config'), '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const listening = await new Promise<boolean>((resolve) => {
    const deadline = setTimeout(() => resolve(false), 10_000);
    const check = setInterval(() => {
      if (/Server listening on/.test(log)) done(true);
    }, 50);
    const done = (ok: boolean): void => {
      clearTimeout(deadline);
      clearInterval(check);
      resolve(ok);
    };
    child.on('exit', () => done(false));
  });
  const user = os.userInfo().username;
  const stop = (): void => {
    if (child.exitCode === null) child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (!listening || child.pid === undefined) {
    process.stderr.write(`ssh.test: sshd did not start, skipping: ${log.trim().split('\n').pop() ?? ''}\n`);
    stop();
    return null;
  }
  const options = [
    `Port=${port}`,
    `IdentityFile=${dir}/client_ed25519`,
    'IdentitiesOnly=yes',
    `UserKnownHostsFile=${dir}/known_hosts`,
    'GlobalKnownHostsFile=/dev/null',
    'StrictHostKeyChecking=accept-new',
  ];
  // One login to be sure the keys work (root logins may be forbidden by the environment).
  const probe = spawnSync('ssh', [...options.flatMap((o) => ['-o', o]), '-o', 'BatchMode=yes', '-T', `${user}@127.0.0.1`, 'true'], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (probe.status !== 0) {
    process.stderr.write(`ssh.test: cannot log in to the test sshd, skipping: ${(probe.stderr ?? '').trim()}\n`);
    stop();
    return null;
  }
  return { port, user, dir, pid: child.pid, options, stop };
}

const sshd = await startSshd();
// At file level: the sshd is stopped even when its describe block is filtered out (-t).
afterAll(() => sshd?.stop());

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const v of ['PROC_ROOT', 'NO_COLOR', 'SOCKSCOPE_DEBUG', 'SOCKSCOPE_STATS_FILE']) delete env[v];
  return env;
}

function run(args: readonly string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/sockscope', ...args],
      { cwd: REPO_ROOT, env: cleanEnv(), encoding: 'utf8', maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

interface JsonSocket {
  protocol: string;
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  inode: number;
  pid: number | null;
  user: string;
}

describe.skipIf(sshd === null)('--ssh against a private sshd on 127.0.0.1', () => {
  const s = sshd as Sshd;
  const sshArgv = (): string[] => ['--ssh', `${s.user}@127.0.0.1`, ...s.options.flatMap((o) => ['--ssh-option', o])];
  let server: net.Server | null = null;
  let port = 0;
  const clients: net.Socket[] = [];
  const sessions: TmuxSession[] = [];

  beforeAll(async () => {
    server = await listen();
    port = portOf(server);
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const c = net.connect({ host: '127.0.0.1', port }, () => resolve());
        c.on('error', reject);
        clients.push(c);
      });
    }
  });

  afterAll(() => {
    for (const t of sessions) t.kill();
    for (const c of clients) c.destroy();
    server?.close();
  });

  it('--once --json lists the test listener with this process as owner, as a local run does', async () => {
    const filter = `sport = :${port} or dport = :${port}`;
    const remote = await run([...sshArgv(), '--once', '--json', '-f', filter]);
    expect(remote.stderr).toBe('');
    expect(remote.code).toBe(0);
    const local = await run(['--once', '--json', '-f', filter]);
    expect(local.code).toBe(0);
    const remoteDoc = JSON.parse(remote.stdout) as { host: string; sockets: JsonSocket[] };
    const localDoc = JSON.parse(local.stdout) as { host: string; sockets: JsonSocket[] };
    expect(remoteDoc.host).toBe(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());

    const listener = remoteDoc.sockets.find((x) => x.state === 'LISTEN' && x.localPort === port);
    expect(listener).toMatchObject({ protocol: 'tcp', localAddress: '127.0.0.1', pid: process.pid, user: os.userInfo().username });
    // Same machine: both runs see the same sockets of the test's port, with the same owners.
    // (Only 127.0.0.1:port: other test files may use the same port number on 127.0.0.x.)
    const ours = (x: JsonSocket): boolean =>
      (x.localAddress === '127.0.0.1' && x.localPort === port) || (x.remoteAddress === '127.0.0.1' && x.remotePort === port);
    const key = (x: JsonSocket): string =>
      `${x.protocol} ${x.state} ${x.localAddress}:${x.localPort} ${x.remoteAddress}:${x.remotePort} ${x.inode} ${x.pid}`;
    const remoteOurs = remoteDoc.sockets.filter(ours);
    expect(remoteOurs.map(key).sort()).toEqual(localDoc.sockets.filter(ours).map(key).sort());
    // The listener and both ends of the two connections, all held by this process.
    expect(remoteOurs.filter((x) => x.state === 'ESTABLISHED' && x.pid === process.pid)).toHaveLength(4);
    expect(remoteOurs.filter((x) => x.state === 'LISTEN')).toHaveLength(1);
  });

  it('--once --summary and --json streaming work over the same session; SIGINT ends the stream', async () => {
    const summary = await run([...sshArgv(), '--once', '--summary']);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toMatch(/^TCP\s+\d+/m);
    // Counted on the remote side (awk there): this test's listener is among the LISTEN sockets.
    const summaryJson = await run([...sshArgv(), '--once', '--summary', '--json']);
    expect(summaryJson.code).toBe(0);
    const doc = JSON.parse(summaryJson.stdout) as { counts: { tcp: Record<string, number> }; sockets: unknown[]; counters: object };
    expect(doc.counts.tcp['LISTEN']).toBeGreaterThanOrEqual(1);
    expect(doc.sockets).toEqual([]);
    expect(Object.keys(doc.counters).length).toBeGreaterThan(0);
    // A --summary stream over ssh: documents separated by blank lines until SIGINT.
    const stream = spawn(process.execPath, ['bin/sockscope', ...sshArgv(), '--summary', '-i', '0.2'], { cwd: REPO_ROOT, env: cleanEnv() });
    let streamed = '';
    stream.stdout.on('data', (d: Buffer) => (streamed += d.toString()));
    const streamExit = new Promise<number | null>((resolve) => stream.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 300 && (streamed.match(/^TCP\s+\d+/gm) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    stream.kill('SIGINT');
    expect(await streamExit).toBe(0);
    expect((streamed.match(/^TCP\s+\d+/gm) ?? []).length).toBeGreaterThanOrEqual(2);

    const child = spawn(process.execPath, ['bin/sockscope', ...sshArgv(), '--json', '-i', '0.2', '-f', `sport = :${port}`], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 300 && out.split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines)
      expect((JSON.parse(line) as { sockets: JsonSocket[] }).sockets.some((x) => x.localPort === port && x.pid === process.pid)).toBe(true);
  });

  it('a port with no sshd, an unknown key or a bad option: one line, exit 1 (2 for usage), no stack trace', async () => {
    const refused = await run(['--ssh', `${s.user}@127.0.0.1`, '--ssh-option', `Port=${await freePort()}`, '--once', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(`^sockscope: ssh to ${s.user}@127\\.0\\.0\\.1 failed: connect to host 127\\.0\\.0\\.1 port \\d+: Connection refused\\n$`),
    );

    const withoutKey = [`Port=${s.port}`, 'IdentitiesOnly=yes', `IdentityFile=${s.dir}/absent`, `UserKnownHostsFile=${s.dir}/known_hosts`];
    const noKey = await run(['--ssh', `${s.user}@127.0.0.1`, ...withoutKey.flatMap((o) => ['--ssh-option', o]), '--once']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^sockscope: ssh to .* failed: .*Permission denied \(publickey.*\n$/);

    const usage = await run(['--ssh', '-oProxyCommand=touch /tmp/x', '--once']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    for (const r of [refused, noKey, usage]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  describe.skipIf(!hasTmux)('the dashboard over ssh in tmux', () => {
    it('shows "via ssh", the listener after p <port>; q restores the terminal', async () => {
      const t = TmuxSession.start({ width: 160, height: 40, args: [...sshArgv(), '-i', '0.5'] });
      sessions.push(t);
      const header = await t.waitFor(/shown \d+/, 30_000);
      expect(header.split('\n')[0]).toContain(`via ssh ${s.user}@127.0.0.1`);
      await t.sendKeys('p');
      await t.waitFor('Port — Enter apply');
      await t.sendKeys(String(port), 'Enter');
      const listenRe = new RegExp(`^│tcp\\s+LISTEN\\s+\\d+\\s+\\d+ 127\\.0\\.0\\.1:${port}\\s+\\*:\\*\\s+${process.pid}/`);
      // Owners come with the first refresh after the filter: wait for the listener's row under it.
      const screen = await t.waitFor(
        (sc) => sc.includes(`filter: port ${port}`) && socketTableRows(sc).some((r) => listenRe.test(r)),
        20_000,
      );
      const rows = socketTableRows(screen);
      expect(rows.length).toBeGreaterThanOrEqual(5); // LISTEN and both ends of the two connections
      for (const row of rows) expect(row).toContain(`:${port} `);
      await t.sendKeys('q');
      const after = await t.waitFor('[exit=0]');
      expect(after).not.toContain('sockscope:');
      expect(t.display('#{alternate_on}')).toBe('0');
      t.kill();
    });

    it('a connection dropped mid-session ends the dashboard with one line, terminal restored', async () => {
      const t = TmuxSession.start({ width: 120, height: 30, args: [...sshArgv(), '-i', '0.3'] });
      sessions.push(t);
      await t.waitFor(/shown \d+/, 30_000);
      // Every connection of our sshd belongs to this dashboard now: end them on the server side.
      const children = fs
        .readFileSync(`/proc/${s.pid}/task/${s.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter((p) => p !== '');
      expect(children.length).toBeGreaterThan(0);
      for (const pid of children) process.kill(Number(pid), 'SIGTERM');
      const after = await t.waitFor('[exit=1]', 30_000);
      expect(after).toMatch(/sockscope: .*ssh connection to .* lost: /);
      expect(t.display('#{alternate_on}')).toBe('0');
      t.kill();
    });
  });
});
