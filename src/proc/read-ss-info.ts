// read*: run `ss` (iproute2) for what /proc/net does not carry: per-connection tcp_info
// counters (`ss -tinH`) and UNIX socket peers (`ss -xH`). Never through a shell: a fixed
// argument list, a timeout, and a cap on the bytes read (ss prints ~600 bytes per TCP
// connection: 100k connections are ~60 MB). Inside `--pid PID` the command runs in that
// process's network namespace through `nsenter --net=/proc/PID/ns/net` (root only).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SsTcpParser, type SsTcpTable } from './parse-ss-tcp.js';
import { parseSsUnixTable, type SsUnixPeer } from './parse-ss-unix.js';

/** What one run of a command gave back. */
export interface CommandOutput {
  /** '' when the output went to `onStdout` (streamed). */
  readonly stdout: string;
  /** True when the output reached maxBytes and the command was stopped there. */
  readonly truncated: boolean;
  /** True when every byte went to `onStdout` as it came (limits.onStdout given and honoured). */
  readonly streamed?: boolean;
}

/** Limits of one command; `onStdout`: take the output a chunk at a time (not kept, not decoded). */
export interface CommandLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly onStdout?: (chunk: Buffer) => void;
}

export type CommandResult = { readonly ok: true; readonly output: CommandOutput } | { readonly ok: false; readonly message: string };

/** Runs one command without a shell; injected so tests can replay recorded output. */
export type RunCommand = (file: string, args: readonly string[], limits: CommandLimits) => Promise<CommandResult>;

/** Bytes of the one buffer a streamed command's output is read into (a pipe or socket read gives at most ~64 KiB). */
const STREAM_READ_BYTES = 64 * 1024;

/**
 * stdout for a command whose output is taken a chunk at a time (`onStdout`), read into one
 * buffer of ours instead of a new one per read: a connected pair of UNIX stream sockets (a
 * listener on a path in a fresh 0700 directory, removed as soon as the pair is connected), one
 * end the command's stdout, ours read with net's `onread` into `buffer`. A pipe's stream
 * allocates a 64 KiB buffer per read, which V8 frees only at its next GC: `ss -tinH` at 100k
 * connections prints ~48 MB, and as the parse allocates next to nothing on V8's heap, ~30 MB of
 * those chunks pile up before a collection; malloc keeps that memory afterwards (live dashboard at
 * 100k: the process's brk heap 44 MB with ss, 6 MB without). null when the pair cannot be made
 * (no writable temporary directory, a path too long for a UNIX socket): the caller uses a pipe.
 */
async function socketStdout(
  buffer: Buffer,
  onChunk: (chunk: Buffer) => void,
): Promise<{ readonly childEnd: net.Socket; readonly ours: net.Socket } | null> {
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-out-'));
  } catch {
    return null;
  }
  const server = net.createServer({ pauseOnConnect: true });
  let ours: net.Socket | null = null;
  try {
    const file = path.join(dir, 'o');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
    const accepted = new Promise<net.Socket>((resolve, reject) => {
      server.once('connection', resolve);
      server.once('error', reject);
    });
    const reader = net.connect({
      path: file,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          onChunk((buf as Buffer).subarray(0, n));
          return true;
        },
      },
    });
    ours = reader;
    const connected = new Promise<void>((resolve, reject) => {
      reader.once('connect', resolve);
      reader.once('error', reject);
    });
    const [childEnd] = await Promise.all([accepted, connected]);
    // Only our own connection can be accepted: the directory is ours alone (mkdtemp: 0700).
    return { childEnd, ours: reader };
  } catch {
    ours?.destroy();
    return null;
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** spawn() without a shell; stdout kept up to maxBytes (then the child is killed), stderr's first 4 KiB for the message. */
export const runCommand: RunCommand = async (file, args, { timeoutMs, maxBytes, onStdout }) => {
  if (onStdout === undefined) return runCommandWith(file, args, { timeoutMs, maxBytes }, null);
  // The chunk handler is set once the pair exists (its reads start only when the command writes).
  let deliver: (chunk: Buffer) => void = () => undefined;
  const pair = await socketStdout(Buffer.allocUnsafe(STREAM_READ_BYTES), (chunk) => deliver(chunk));
  return runCommandWith(file, args, { timeoutMs, maxBytes, onStdout }, pair, (d) => (deliver = d));
};

function runCommandWith(
  file: string,
  args: readonly string[],
  { timeoutMs, maxBytes, onStdout }: CommandLimits,
  pair: { readonly childEnd: net.Socket; readonly ours: net.Socket } | null,
  setDeliver?: (deliver: (chunk: Buffer) => void) => void,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(file, [...args], { shell: false, stdio: ['ignore', pair === null ? 'pipe' : pair.childEnd, 'pipe'] });
    } catch (err) {
      pair?.ours.destroy();
      pair?.childEnd.destroy();
      resolve({ ok: false, message: `${file}: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    // The command has its own copy of the socket now: ours would keep the output open after it exits.
    pair?.childEnd.destroy();
    const chunks: Buffer[] = [];
    let bytes = 0;
    let truncated = false;
    let stderr = '';
    let settled = false;
    const finish = (r: CommandResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      pair?.ours.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, message: `${file} took longer than ${timeoutMs} ms` });
    }, timeoutMs);
    const onData = (c: Buffer): void => {
      if (truncated || settled) return;
      const room = maxBytes - bytes;
      if (c.length >= room) {
        if (onStdout !== undefined) onStdout(c.subarray(0, room));
        else chunks.push(c.subarray(0, room));
        bytes = maxBytes;
        truncated = true;
        child.kill('SIGKILL');
        // Nothing more is read: what the command still prints is not ours to keep.
        pair?.ours.destroy();
        outputEnded();
        return;
      }
      if (onStdout !== undefined) onStdout(c);
      else chunks.push(c);
      bytes += c.length;
    };
    // Through the socket pair, the output can still be arriving when the command has exited
    // (and the command's 'close' does not wait for it): done when both have ended.
    let outputDone = pair === null;
    let closedWith: { code: number | null } | null = null;
    const outputEnded = (): void => {
      outputDone = true;
      if (closedWith !== null) closed(closedWith.code);
    };
    if (pair === null) child.stdout!.on('data', onData);
    else {
      setDeliver?.(onData);
      pair.ours.on('end', outputEnded);
      pair.ours.on('close', outputEnded);
      pair.ours.on('error', outputEnded);
    }
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString('utf8').slice(0, 4096 - stderr.length);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish({ ok: false, message: err.code === 'ENOENT' ? `${file} is not installed` : `${file}: ${err.message}` });
    });
    const closed = (code: number | null): void => {
      if (!outputDone) {
        closedWith = { code };
        return;
      }
      if (onStdout !== undefined && (truncated || code === 0)) {
        // The reader drops a cut last line itself (it has every byte already).
        finish({ ok: true, output: { stdout: '', truncated, streamed: true } });
        return;
      }
      const stdout = Buffer.concat(chunks).toString('utf8');
      if (truncated) {
        // Drop the last, cut line: a half-printed socket line would parse into a wrong tuple.
        const lastNl = stdout.lastIndexOf('\n');
        finish({ ok: true, output: { stdout: lastNl < 0 ? '' : stdout.slice(0, lastNl + 1), truncated: true } });
      } else if (code === 0) finish({ ok: true, output: { stdout, truncated: false } });
      else
        finish({
          ok: false,
          message: `${file} exited with ${code ?? 'a signal'}${stderr.trim() === '' ? '' : `: ${stderr.trim().split('\n')[0]}`}`,
        });
    };
    child.on('close', closed);
  });
}

export interface SsOptions {
  /** Run inside this process's network namespace (`--pid`); null = our own. */
  readonly netnsPid: number | null;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** The /proc the namespace link is found under (only /proc makes sense to nsenter). */
  readonly procRoot: string;
}

/** 100k connections take ss 1–3 s on a quiet 2-core machine, more under load: a generous timeout, the cadence keeps the cost down. */
export const DEFAULT_SS_OPTIONS: SsOptions = { netnsPid: null, timeoutMs: 30_000, maxBytes: 128 * 1024 * 1024, procRoot: '/proc' };

/** [file, args] for one ss call, wrapped in nsenter for another namespace. */
export function ssCommand(ssArgs: readonly string[], netnsPid: number | null, procRoot = '/proc'): [string, string[]] {
  if (netnsPid === null) return ['ss', [...ssArgs]];
  if (!Number.isSafeInteger(netnsPid) || netnsPid <= 0) throw new RangeError(`bad pid ${netnsPid}`);
  return ['nsenter', [`--net=${procRoot}/${netnsPid}/ns/net`, '--', 'ss', ...ssArgs]];
}

/** Why ss cannot be used here, or null when it can (checked before the first read). */
export function ssUnavailableReason(o: { procRoot: string; remote: boolean; uid: number; netnsPid: number | null }): string | null {
  if (o.remote) return 'rates need ss on this machine; not read over ssh';
  if (o.procRoot !== '/proc') return `rates come from the live kernel (ss), not from ${o.procRoot}`;
  if (o.netnsPid !== null && o.uid !== 0) return 'rates inside --pid need root (nsenter --net)';
  return null;
}

export interface TcpInfoReading {
  /** Every connection ss printed, in columns. */
  readonly table: SsTcpTable;
  readonly truncated: boolean;
  /** Wall clock when ss was started, ms since epoch. */
  readonly takenAtMs: number;
  /** How long the read took, ms (ss plus parsing). */
  readonly costMs: number;
  /** Of which this thread spent parsing, ms (wall time of synchronous work: its CPU). */
  readonly parseMs: number;
}

export type SsReadResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

export interface SsDeps {
  readonly run: RunCommand;
  readonly now: () => number;
  readonly monotonicMs: () => number;
}

/** ss state filter: the default (connected: no LISTEN, no TIME-WAIT, which carry no traffic). */
export const SS_TCP_ARGS: readonly string[] = ['-tinH'];

/** One `ss -tinH` (optionally restricted by extra ss filter arguments) parsed. */
export async function readSsTcpInfo(
  deps: SsDeps,
  options: SsOptions,
  filterArgs: readonly string[] = [],
): Promise<SsReadResult<TcpInfoReading>> {
  const takenAtMs = deps.now();
  const t0 = deps.monotonicMs();
  const [file, args] = ssCommand([...SS_TCP_ARGS, ...filterArgs], options.netnsPid, options.procRoot);
  // Parsed as ss prints (100k connections: ~48 MB, never one string), a chunk at a time on this
  // thread, into columns (no object per connection): what that costs is kept (parseMs), to budget
  // the reads by CPU.
  const parser = new SsTcpParser();
  let parseMs = 0;
  const onStdout = (chunk: Buffer): void => {
    const c0 = deps.monotonicMs();
    parser.push(chunk);
    parseMs += deps.monotonicMs() - c0;
  };
  const r = await deps.run(file, args, { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes, onStdout });
  if (!r.ok) return r;
  const c0 = deps.monotonicMs();
  if (r.output.streamed !== true) parser.push(Buffer.from(r.output.stdout, 'utf8'));
  const table = parser.end(r.output.streamed === true && r.output.truncated);
  parseMs += deps.monotonicMs() - c0;
  return {
    ok: true,
    value: {
      table,
      truncated: r.output.truncated,
      takenAtMs,
      costMs: deps.monotonicMs() - t0,
      parseMs,
    },
  };
}

/** One `ss -xH` parsed: which UNIX socket inode is connected to which. */
export async function readSsUnixPeers(deps: SsDeps, options: SsOptions): Promise<SsReadResult<readonly SsUnixPeer[]>> {
  const [file, args] = ssCommand(['-xH'], options.netnsPid, options.procRoot);
  const r = await deps.run(file, args, { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes });
  if (!r.ok) return r;
  return { ok: true, value: parseSsUnixTable(r.output.stdout).peers };
}

/**
 * ss filter arguments keeping only connections with one of these local or remote ports
 * (`( sport = :80 or dport = :80 … )`), for reading only what the filter shows. Ports are
 * numbers, so nothing untrusted reaches ss's parser. Empty list → no restriction.
 */
export function ssPortFilterArgs(ports: readonly number[]): string[] {
  const clean = [...new Set(ports.filter((p) => Number.isInteger(p) && p > 0 && p <= 65535))].sort((a, b) => a - b);
  if (clean.length === 0) return [];
  const terms: string[] = [];
  for (const p of clean) {
    if (terms.length > 0) terms.push('or');
    terms.push('sport', '=', `:${p}`, 'or', 'dport', '=', `:${p}`);
  }
  return ['(', ...terms, ')'];
}
