// read* over ssh (--ssh [user@]host): a ProcFs whose reads are requests to one remote shell kept
// open for the whole session (protocol.ts), with nothing installed on the remote side.
//
// Only the async ProcFs methods work over a pipe. The sync ones answer from files read once at
// start (`preload`: the net sysctls) and otherwise throw, so a code path that would silently read
// the local machine instead fails loudly.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { StateTallySource } from '../collect-counts.js';
import type { ProcFs } from '../proc-fs.js';
import { checkSshOption, checkSshTarget, sshArgs } from './args.js';
import { SshError, SshSyncReadError } from './errors.js';
import {
  DEFAULT_SSH_REPLY_DEADLINE_MS,
  GZIP_PROBE,
  RemoteSession,
  catCommand,
  shQuote,
  type LinkByteCounts,
  type RemoteShell,
} from './protocol.js';

/** Default: a request that gets no byte of its answer for this long means the link is dead. */
export const DEFAULT_SSH_TIMEOUT_MS = 10_000;
/** Default inactivity limit during start-up (login and the first answers), ms. */
export const DEFAULT_SSH_START_TIMEOUT_MS = 30_000;

export interface SshOptions {
  /** Extra `-o KEY=VALUE` options for ssh (--ssh-option), in order. */
  readonly sshOptions?: readonly string[];
  /** ms without a byte of a pending answer before the connection is given up. */
  readonly timeoutMs?: number;
  /**
   * The same during start-up (login, the first answers), default 30 s: ssh's ConnectTimeout
   * bounds the TCP connection, but a login may take longer than a read (slow PAM, DNS).
   */
  readonly startTimeoutMs?: number;
  /** Largest reply accepted (bytes), default DEFAULT_SSH_MAX_REPLY_BYTES. */
  readonly maxReplyBytes?: number;
  /** Longest one reply may take (ms), however steadily bytes arrive; default DEFAULT_SSH_REPLY_DEADLINE_MS. */
  readonly replyDeadlineMs?: number;
  /** Files relative to /proc read once at start, answered afterwards by the sync readText. */
  readonly preload?: readonly string[];
  /** Also read this file outside /proc at start (/etc/passwd, for user names). */
  readonly readPasswd?: boolean;
  /** Compress answers with the remote gzip when it has one (default true; plain text otherwise). */
  readonly compress?: boolean;
  /**
   * Send a /proc/net file only when it changed (default true): the request carries the MD5 of
   * the copy held here and the remote `md5sum` answers "unchanged" when it matches. Off when
   * the remote has no md5sum.
   */
  readonly skipUnchanged?: boolean;
  /**
   * Where the remote /proc is (default /proc): a synthetic tree there for benchmarks and tests.
   * The start-up check (ostype, hostname, net/tcp) still reads the real /proc.
   */
  readonly remoteProcRoot?: string;
  /**
   * Start the remote shell. Default: spawn ssh (no local shell) with sshArgs(target, options).
   * Tests pass a local `sh` to exercise the protocol without an sshd.
   */
  readonly spawnShell?: (target: string) => ChildProcessWithoutNullStreams;
}

export interface SshProcFs extends ProcFs, RemoteShell {
  /** "[user@]host" as given. */
  readonly target: string;
  /** /proc/sys/kernel/hostname of the remote host, read at start. */
  readonly hostname: string;
  /** The remote /etc/passwd read at start (with readPasswd), or null. */
  readonly passwd: string | null;
  /** What the remote side offers, as found at start (gzip used, md5sum for skipping unchanged files). */
  readonly link: { readonly compressed: boolean; readonly skipUnchanged: boolean };
  /** Bytes moved over the link since start. */
  byteCounts(): LinkByteCounts;
  /**
   * Counts of the TCP state column made on the remote host (awk), for --summary: a few bytes
   * per table instead of the table. null when the remote has no awk.
   */
  readonly stateTally: StateTallySource | null;
  /** End the session: the remote sh gets EOF and exits; ssh is terminated if it lingers. */
  close(): Promise<void>;
}

/** A path below /proc built from fixed names and numbers only ("net/tcp", "123/comm"). */
const REL_PATH_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

/** A short hint after the usual start-up failures that the user can fix on this side. */
function startHint(reason: string): string {
  if (/Host key verification failed/i.test(reason)) {
    return ' (unknown host key: connect once with ssh, or add --ssh-option StrictHostKeyChecking=accept-new)';
  }
  if (/Permission denied/i.test(reason)) return ' (sockscope never asks for passwords: use a key or ssh-agent)';
  return '';
}

/** errno-like code for the exit status of catCommand. */
function errorCodeOf(status: number): string {
  return status === 2 ? 'ENOENT' : status === 13 ? 'EACCES' : 'EIO';
}

/**
 * Connect and check: a first request absorbs whatever the login prints (rc files of some
 * shells), then one request reads /proc/sys/kernel/ostype, the hostname and /proc/net/tcp (the
 * start-up check), plus the preloaded files. Rejects with an SshError holding one line, e.g.
 * "ssh to bob@db1 failed: Permission denied (publickey)."
 */
export async function openSshProcFs(target: string, options: SshOptions = {}): Promise<SshProcFs> {
  const bad = checkSshTarget(target);
  if (bad !== null) throw new SshError(`--ssh: ${bad}`);
  for (const opt of options.sshOptions ?? []) {
    const badOpt = checkSshOption(opt);
    if (badOpt !== null) throw new SshError(`--ssh-option: ${badOpt}`);
  }
  const child =
    options.spawnShell?.(target) ??
    spawn('ssh', sshArgs(target, options.sshOptions ?? []), {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group: Ctrl-C in the terminal (--json streaming) reaches sockscope, which
      // then closes the session, rather than killing ssh under it.
      detached: true,
      shell: false,
    });
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_SSH_START_TIMEOUT_MS;
  const replyDeadlineMs = options.replyDeadlineMs ?? DEFAULT_SSH_REPLY_DEADLINE_MS;
  // A login may take longer than a read: the start-up timeout bounds the first answers too.
  const session = new RemoteSession(child, target, startTimeoutMs, {
    maxReplyBytes: options.maxReplyBytes,
    replyDeadlineMs: Math.max(replyDeadlineMs, startTimeoutMs),
  });
  const startFailure = (err: unknown): SshError => {
    if (err instanceof SshError && /^ssh to /.test(err.message)) return err;
    const why = session.endReason ?? (err instanceof Error ? err.message : String(err));
    return new SshError(`ssh to ${target} failed: ${why}${startHint(why)}`);
  };

  const preload = (options.preload ?? []).filter((rel) => REL_PATH_RE.test(rel));
  let hostname = target.replace(/^.*@/, '');
  let passwd: string | null = null;
  const preloaded = new Map<string, string | null>();
  let skipUnchanged = false;
  let hasAwk = false;
  const procRoot = (options.remoteProcRoot ?? '/proc').replace(/\/+$/, '');
  try {
    await session.exec(() => ':');
    const check = await session.exec((sep) =>
      [
        `cat /proc/sys/kernel/ostype; printf '\\n%s\\n' '${sep}'`,
        `cat /proc/sys/kernel/hostname; printf '\\n%s\\n' '${sep}'`,
        `cat /proc/net/tcp >/dev/null && echo ok; printf '\\n%s\\n' '${sep}'`,
        `${GZIP_PROBE}; command -v md5sum >/dev/null 2>&1 && echo md5sum; command -v awk >/dev/null 2>&1 && echo awk`,
      ].join('\n'),
    );
    const [ostype = '', host = '', tcp = '', tools = ''] = check.text.split(`\n${check.sep}\n`);
    if (ostype.trim() !== 'Linux') {
      throw new SshError(`ssh to ${target} failed: the remote host is not Linux (no /proc/sys/kernel/ostype saying Linux)`);
    }
    if (tcp.trim() !== 'ok') throw new SshError(`ssh to ${target} failed: cannot read /proc/net/tcp on the remote host`);
    if (host.trim() !== '') hostname = host.trim();
    const found = new Set(tools.split('\n').map((l) => l.trim()));
    session.compress = options.compress !== false && found.has('gzip');
    skipUnchanged = options.skipUnchanged !== false && found.has('md5sum');
    hasAwk = found.has('awk');
    const reads = preload.map(async (rel) => {
      const r = await session.exec(() => catCommand(`${procRoot}/${rel}`));
      preloaded.set(rel, r.status === 0 ? r.text : null);
    });
    if (options.readPasswd === true) {
      reads.push(
        session
          .exec(() => catCommand('/etc/passwd'))
          .then((r) => {
            passwd = r.status === 0 ? r.text : null;
          }),
      );
    }
    await Promise.all(reads);
  } catch (err) {
    const failure = startFailure(err);
    await session.close(500).catch(() => undefined);
    throw failure;
  }
  session.timeoutMs = options.timeoutMs ?? DEFAULT_SSH_TIMEOUT_MS;
  session.replyDeadlineMs = replyDeadlineMs;
  return createSshProcFs(session, { target, hostname, passwd, preloaded, procRoot, skipUnchanged, hasAwk });
}

/** A copy of a /proc/net file as last received, to answer "unchanged" replies. */
interface HeldFile {
  readonly md5: string;
  readonly text: string;
  /** Reads since the remote last said "unchanged" (0: it did at the last read, or the copy is new). */
  readsSinceSame: number;
}

/** Exit status of the "unchanged" answer (cat's are 0, 2, 13). */
const UNCHANGED_STATUS = 100;

/**
 * A changed file costs the remote kernel two passes when checked (md5sum, then the copy sent):
 * a large file that changed at its last read is sent without asking, and checked again at every
 * CHECK_EVERY-th read. Small files are always checked.
 */
const ALWAYS_CHECK_BELOW_BYTES = 256 * 1024;
const CHECK_EVERY = 8;

function shouldCheck(held: HeldFile): boolean {
  return held.readsSinceSame === 0 || held.text.length < ALWAYS_CHECK_BELOW_BYTES || held.readsSinceSame % CHECK_EVERY === 0;
}

interface SessionFacts {
  readonly target: string;
  readonly hostname: string;
  readonly passwd: string | null;
  readonly preloaded: ReadonlyMap<string, string | null>;
  readonly procRoot: string;
  readonly skipUnchanged: boolean;
  readonly hasAwk: boolean;
}

/**
 * Prints "<st> <count>" per state code of a /proc/net/tcp text (column 4 after the header line);
 * exit status 2 when the file is missing, 13 when unreadable, as catCommand.
 */
function stateTallyCommand(absPath: string): string {
  const q = shQuote(absPath);
  return `awk 'NR > 1 && NF > 0 { n[$4]++ } END { for (s in n) print s, n[s] }' < ${q} || if [ -e ${q} ]; then (exit 13); else (exit 2); fi`;
}

function createSshProcFs(session: RemoteSession, facts: SessionFacts): SshProcFs {
  const { target, hostname, passwd, preloaded, procRoot, skipUnchanged, hasAwk } = facts;
  let lastError: string | null = null;
  /** rel → last copy, for files below net/ only (a bounded set of names) when skipUnchanged. */
  const held = new Map<string, HeldFile>();
  const readFile = async (rel: string): Promise<{ text: string | null; status: number }> => {
    const path = `${procRoot}/${rel}`;
    const keep = skipUnchanged && rel.startsWith('net/');
    const before = keep ? held.get(rel) : undefined;
    const ask = before !== undefined && shouldCheck(before);
    if (before !== undefined) before.readsSinceSame += 1;
    const reply = await session.exec(
      () =>
        ask
          ? `if [ "$(md5sum < ${shQuote(path)})" = '${before.md5}  -' ]; then (exit ${UNCHANGED_STATUS}); else ${catCommand(path)}; fi`
          : catCommand(path),
      { digest: keep },
    );
    if (reply.status === UNCHANGED_STATUS && before !== undefined) {
      before.readsSinceSame = 0;
      return { text: before.text, status: 0 };
    }
    if (reply.status !== 0) {
      held.delete(rel);
      return { text: null, status: reply.status };
    }
    if (keep && reply.md5 !== undefined) {
      const same = before !== undefined && before.md5 === reply.md5;
      held.set(rel, { md5: reply.md5, text: reply.text, readsSinceSame: same ? 0 : (before?.readsSinceSame ?? 0) });
    }
    return { text: reply.text, status: 0 };
  };
  const syncRead = (what: string, rel: string): never => {
    throw new SshSyncReadError(`${what} /proc/${rel} cannot be done synchronously over ssh (a code path missed the async collector)`);
  };
  return {
    root: `ssh://${target}/proc`,
    target,
    hostname,
    passwd,
    link: { compressed: session.compress, skipUnchanged },
    byteCounts: () => session.byteCounts(),
    stateTally: hasAwk
      ? {
          async tallyTcpStatesAsync(rel) {
            if (!REL_PATH_RE.test(rel)) return { text: null, error: 'EINVAL' };
            const reply = await session.exec(() => stateTallyCommand(`${procRoot}/${rel}`));
            return reply.status === 0 ? { text: reply.text, error: null } : { text: null, error: errorCodeOf(reply.status) };
          },
        }
      : null,
    exec: (script, options) => session.exec(script, options),
    readText(rel) {
      if (preloaded.has(rel)) return preloaded.get(rel) ?? null;
      return syncRead('reading', rel);
    },
    async readTextAsync(rel) {
      if (!REL_PATH_RE.test(rel)) {
        lastError = 'EINVAL';
        return null;
      }
      const reply = await readFile(rel);
      if (reply.status === 0) return reply.text;
      lastError = errorCodeOf(reply.status);
      return null;
    },
    readDir: (rel) => syncRead('listing', rel),
    readLink: (rel) => syncRead('reading the link', rel),
    statSize: (rel) => syncRead('stat of', rel),
    statUid: (rel) => syncRead('stat of', rel),
    lastError: () => lastError,
    close: () => session.close(),
  };
}
