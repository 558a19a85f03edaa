// Network namespaces: the ProcFs view for --pid, namespace discovery for --all-netns and the
// owner filter, on a hand-built /proc tree; then live, with processes started by `unshare -n`
// in new network namespaces and the real binary (root and util-linux needed, skipped otherwise).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNetnsJson, formatNetnsTable, netnsWarnings } from '../src/cli/all-netns.js';
import {
  collectNetnsCounts,
  createNetnsPidFilter,
  createNetnsProcFs,
  formatNetnsLabel,
  listNetworkNamespaces,
  openNetnsTarget,
  parseNetnsInode,
} from '../src/proc/netns.js';
import { createProcFs, type ProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
/** One /proc/net/tcp line: local 127.0.0.1:port, state (hex), inode. */
function tcpLine(i: number, port: number, state: string, inode: number): string {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return `   ${i}: 0100007F:${hexPort} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}
const UNIX_HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path\n';

/**
 * A /proc tree: pid 1 and 30 in net:[111] (host), pid 20 in net:[222] (a container), pid 40 with
 * an unreadable ns link (a dangling directory: no ns/), self → 30.
 */
function buildTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-netns-'));
  const proc = (pid: number, comm: string, ns: string | null, tcp: string, fds: Record<number, string>): void => {
    const dir = path.join(root, String(pid));
    fs.mkdirSync(path.join(dir, 'net'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'fd'));
    fs.writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
    fs.writeFileSync(path.join(dir, 'cmdline'), `${comm}\0`);
    fs.writeFileSync(path.join(dir, 'status'), 'Name:\tx\nUid:\t0\t0\t0\t0\n');
    fs.writeFileSync(path.join(dir, 'net', 'tcp'), tcp);
    fs.writeFileSync(path.join(dir, 'net', 'unix'), UNIX_HEADER);
    if (ns !== null) {
      fs.mkdirSync(path.join(dir, 'ns'));
      fs.symlinkSync(ns, path.join(dir, 'ns', 'net'));
    }
    for (const [fd, target] of Object.entries(fds)) fs.symlinkSync(target, path.join(dir, 'fd', fd));
  };
  const hostTcp = TCP_HEADER + tcpLine(0, 22, '0A', 5001) + tcpLine(1, 80, '0A', 5002) + tcpLine(2, 80, '01', 5003);
  const containerTcp = TCP_HEADER + tcpLine(0, 8080, '0A', 6001) + tcpLine(1, 8080, '06', 0);
  proc(1, 'init', 'net:[111]', hostTcp, { 3: 'socket:[5001]' });
  proc(30, 'sockscope', 'net:[111]', hostTcp, { 3: 'socket:[5002]', 4: 'socket:[5003]', 5: 'socket:[6001]' });
  proc(20, 'nginx', 'net:[222]', containerTcp, { 3: 'socket:[6001]', 4: '/dev/null' });
  proc(40, 'secret', null, hostTcp, {});
  fs.symlinkSync('30', path.join(root, 'self'));
  fs.mkdirSync(path.join(root, 'net'));
  fs.writeFileSync(path.join(root, 'net', 'tcp'), hostTcp);
  fs.writeFileSync(path.join(root, 'net', 'unix'), UNIX_HEADER);
  return root;
}

/** A ProcFs that records the paths asked for and answers from a map. */
function recordingProcFs(files: Record<string, string>): ProcFs & { asked: string[] } {
  const asked: string[] = [];
  const answer = (rel: string): string | null => {
    asked.push(rel);
    return files[rel] ?? null;
  };
  return {
    root: '/fake',
    asked,
    readText: answer,
    readTextAsync: (rel) => Promise.resolve(answer(rel)),
    readDir: (rel) => (answer(rel) === null ? null : []),
    readLink: answer,
    statSize: (rel) => (answer(rel) === null ? null : 0),
    statUid: (rel) => (answer(rel) === null ? null : 0),
    lastError: () => 'ENOENT',
  };
}

describe('createNetnsProcFs', () => {
  it.each([
    ['net/tcp', '77/net/tcp'],
    ['net', '77/net'],
    ['net/snmp', '77/net/snmp'],
    ['network', 'network'],
    ['1/fd', '1/fd'],
    ['1/net/tcp', '1/net/tcp'],
    ['', ''],
    ['sys/net/ipv4/ip_local_port_range', 'sys/net/ipv4/ip_local_port_range'],
  ])('%j is read from %j', (asked, read) => {
    const base = recordingProcFs({});
    createNetnsProcFs(base, 77).readText(asked);
    expect(base.asked).toEqual([read]);
  });

  it('maps every kind of read, keeps the root and passes errors through', async () => {
    const base = recordingProcFs({ '5/net/tcp': 'x', '5/net': 'dir' });
    const view = createNetnsProcFs(base, 5);
    expect(view.root).toBe('/fake');
    expect(view.readText('net/tcp')).toBe('x');
    expect(await view.readTextAsync('net/tcp')).toBe('x');
    expect(view.readDir('net')).toEqual([]);
    expect(view.readLink('net/tcp')).toBe('x');
    expect(view.statSize('net/udp')).toBeNull();
    expect(view.lastError()).toBe('ENOENT');
    expect(view.stat).toBeUndefined(); // the base has none: callers fall back to statSize
  });
});

describe('namespaces on a hand-built tree', () => {
  let root = '';
  let procFs: ProcFs;
  beforeAll(() => {
    root = buildTree();
    procFs = createProcFs(root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('parses namespace ids', () => {
    expect(parseNetnsInode('net:[4026531840]')).toBe(4026531840);
    expect(parseNetnsInode('mnt:[1]')).toBeNull();
  });

  it('lists each namespace once, labelled by its lowest pid, counting unreadable links', () => {
    const listing = listNetworkNamespaces(procFs);
    expect(listing.namespaces.map((n) => [n.id, n.pids, n.command, n.current])).toEqual([
      ['net:[111]', [1, 30], 'init', true],
      ['net:[222]', [20], 'nginx', false],
    ]);
    expect(listing.unreadableProcesses).toBe(0); // ENOENT: like a process that exited
  });

  it('counts states per namespace through /proc/<pid>/net', () => {
    const rows = collectNetnsCounts(procFs);
    expect(rows.map((r) => [r.netns.id, r.pid, r.command, r.counts.tcp])).toEqual([
      ['net:[111]', 1, 'init', { LISTEN: 2, ESTABLISHED: 1 }],
      ['net:[222]', 20, 'nginx', { LISTEN: 1, TIME_WAIT: 1 }],
    ]);
  });

  it('formats the per-namespace table and JSON', () => {
    const rows = collectNetnsCounts(procFs);
    const table = formatNetnsTable(rows).split('\n');
    expect(table[0]).toMatch(/^NETNS\s+PID\s+PROCESS\s+PROCS\s+TCP\s+ESTAB\s+LISTEN\s+TIME-WAIT\s+CLOSE-WAIT\s+.*UDP\s+RAW\s+UNIX$/);
    expect(table[1]).toMatch(/^net:\[111\] \*\s+1\s+init\s+2\s+3\s+1\s+2\s+0\s+0\s/);
    expect(table[2]).toMatch(/^net:\[222\]\s+20\s+nginx\s+1\s+2\s+0\s+1\s+1\s+0\s/);
    expect(table.at(-1)).toBe('* the namespace sockscope runs in');
    const doc = JSON.parse(formatNetnsJson({ takenAtMs: 0, host: 'h', rows, unreadableProcesses: 2, warnings: ['w'] })) as {
      namespaces: {
        netns: string;
        inode: number | null;
        pid: number;
        process: string;
        processes: number;
        totals: { tcp: number };
        counts: { tcp: Record<string, number> };
      }[];
      unreadableProcesses: number;
    };
    expect(doc.namespaces[1]).toMatchObject({
      netns: 'net:[222]',
      inode: 222,
      pid: 20,
      process: 'nginx',
      processes: 1,
      totals: { tcp: 2 },
    });
    expect(doc.namespaces[1]?.counts.tcp['LISTEN']).toBe(1);
    expect(doc.unreadableProcesses).toBe(2);
    expect(netnsWarnings(2, rows)[0]).toMatch(/2 processes could not be read/);
  });

  it('filters owners to the target namespace', () => {
    const filter = createNetnsPidFilter(procFs, 20);
    expect(filter).not.toBeNull();
    expect([1, 20, 30, 40].filter((p) => filter?.(p) === true)).toEqual([20]);
    const view = createNetnsProcFs(procFs, 20);
    const scoped = createOwnerScanner(view, { pidFilter: filter ?? undefined }).scan(new Set([6001, 5002]));
    // Socket 6001 is held by pid 20 (nginx) and by pid 30 (passed to the host): only 20 is in net:[222].
    expect(scoped.lookup(6001)?.pid).toBe(20);
    expect(scoped.lookup(6001)?.command).toBe('nginx');
    expect(scoped.sharedBy(6001)).toBe(0);
    expect(scoped.lookup(5002)).toBeNull();
    expect(scoped.stats.scannedProcesses).toBe(1);
    const all = createOwnerScanner(view).scan(new Set([6001]));
    expect(all.sharedBy(6001)).toBe(1);
  });

  it('has no filter when the target link cannot be read', () => {
    expect(createNetnsPidFilter(procFs, 40)).toBeNull();
  });

  it('opens a --pid target, or says why not', () => {
    const target = openNetnsTarget(procFs, 20);
    expect(target.ok).toBe(true);
    if (!target.ok) return;
    expect(target.label).toBe('net:[222] via pid 20 (nginx)');
    expect(target.procFs.readText('net/tcp')).toContain(':1F90 ');
    expect(openNetnsTarget(procFs, 99999)).toEqual({ ok: false, message: 'no process with pid 99999' });
    expect(formatNetnsLabel(null, 7, '')).toBe('net:[?] via pid 7');
  });
});

// ---- live ----------------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'sockscope');
const hasUnshare = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = spawnSync('unshare', ['-n', '--', 'true'], { stdio: 'ignore' });
  return probe.status === 0 && fs.existsSync(path.join(here, '..', 'dist', 'src', 'main.js'));
})();

/** Run the real binary; stdout, stderr and the exit code. */
function runBin(args: readonly string[]): { stdout: string; stderr: string; code: number | null } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

/** A node process listening on 127.0.0.1:<free port> inside a new network namespace. */
function startInNewNetns(): Promise<{ child: ChildProcess; pid: number; port: number }> {
  const script = 'const s=require("net").createServer(()=>{}).listen(0,"127.0.0.1",()=>console.log(process.pid+" "+s.address().port))';
  // unshare execs sh, which execs node: one pid all along, the namespace's only process.
  const child = spawn('unshare', ['-n', '--', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" -e '${script}'`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`unshare exited (${code})`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+) (\d+)\n/.exec(out);
      if (m !== null) resolve({ child, pid: Number(m[1]), port: Number(m[2]) });
    });
  });
}

describe.skipIf(!hasUnshare)('live: processes in new network namespaces (unshare -n)', () => {
  let inner: { child: ChildProcess; pid: number; port: number };
  let second: { child: ChildProcess; pid: number; port: number };
  const host = net.createServer();
  let hostPort = 0;

  beforeAll(async () => {
    inner = await startInNewNetns();
    second = await startInNewNetns();
    hostPort = await new Promise<number>((resolve) => host.listen(0, '127.0.0.1', () => resolve((host.address() as net.AddressInfo).port)));
  });
  afterAll(() => {
    inner?.child.kill();
    second?.child.kill();
    host.close();
  });

  it('the process really is in another namespace', () => {
    expect(inner.pid).toBe(inner.child.pid);
    expect(fs.readlinkSync(`/proc/${inner.pid}/ns/net`)).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
  });

  it('--pid shows only that namespace: its listener, owned by it, and not the host listener', () => {
    const r = runBin(['--pid', String(inner.pid), '--once', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      sockets: { protocol: string; state: string; localPort: number; pid: number | null; process: string | null }[];
    };
    const tcp = doc.sockets.filter((s) => s.protocol.startsWith('tcp'));
    expect(tcp).toEqual([expect.objectContaining({ state: 'LISTEN', localPort: inner.port, pid: inner.pid, process: 'node' })]);
    expect(doc.sockets.some((s) => s.localPort === hostPort)).toBe(false);
    expect(doc.sockets.some((s) => s.localPort === second.port && s.pid === second.pid)).toBe(false);
  });

  it('--pid --once prints the table of that namespace', () => {
    const r = runBin(['--pid', String(inner.pid), '--once', '-f', 'proto tcp']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^tcp\\s+LISTEN .*127\\.0\\.0\\.1:${inner.port} .* ${inner.pid}/node$`));
  });

  it('the host view still has the host listener and not the namespace listener', () => {
    const r = runBin(['--once', '--json', '-f', `sport ${hostPort} or sport ${inner.port}`, '-n']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { sockets: { localPort: number; state: string }[] };
    const ports = doc.sockets.filter((s) => s.state === 'LISTEN').map((s) => s.localPort);
    expect(ports).toContain(hostPort);
    if (hostPort !== inner.port) expect(ports).not.toContain(inner.port);
  });

  it('--all-netns --once --json lists both namespaces, labelled by their process, with one listener each', () => {
    const r = runBin(['--all-netns', '--once', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      namespaces: {
        netns: string;
        pid: number;
        process: string;
        processes: number;
        current: boolean;
        counts: { tcp: Record<string, number> };
      }[];
    };
    for (const p of [inner, second]) {
      const id = fs.readlinkSync(`/proc/${p.pid}/ns/net`);
      const row = doc.namespaces.find((n) => n.netns === id);
      expect(row).toMatchObject({ pid: p.pid, process: 'node', processes: 1, current: false });
      expect(row?.counts.tcp).toEqual({ LISTEN: 1 });
    }
    const own = doc.namespaces.find((n) => n.current);
    expect(own?.netns).toBe(fs.readlinkSync('/proc/self/ns/net'));
    expect(new Set(doc.namespaces.map((n) => n.netns)).size).toBe(doc.namespaces.length);
  });

  it('--all-netns --once prints a table row per namespace', () => {
    const r = runBin(['--all-netns', '--once']);
    expect(r.code, r.stderr).toBe(0);
    const id = fs.readlinkSync(`/proc/${inner.pid}/ns/net`).replace(/[[\]]/g, '\\$&');
    expect(r.stdout).toMatch(new RegExp(`^${id}\\s+${inner.pid}\\s+node\\s+1\\s+1\\s+0\\s+1\\s`, 'm'));
  });

  it('--pid of a process that does not exist: one line, exit 1', () => {
    const r = runBin(['--pid', '999999999', '--once']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sockscope: no process with pid 999999999\n');
    expect(r.stdout).toBe('');
  });
});

describe.skipIf(!fs.existsSync(path.join(here, '..', 'dist', 'src', 'main.js')))('usage errors', () => {
  it.each([
    [['--pid', 'abc', '--once'], /--pid/],
    [['--pid', '0', '--once'], /--pid/],
    [['--pid', '1', '--all-netns', '--once'], /do not go together/],
    [['--all-netns'], /add --once/],
    [['--all-netns', '--once', '-f', 'port 1'], /does not take --filter/],
  ])('%j: one line, exit 2', (args, message) => {
    const r = runBin(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
