// read* over ssh (--ssh [user@]host): a ProcFs whose reads are requests to one remote shell kept
// open for the whole session (protocol.ts), with nothing installed on the remote side.
//
// Only the async ProcFs methods work over a pipe. The sync ones answer from files read once at
// start (`preload`: the net sysctls) and otherwise throw, so a code path that would silently read
// the local machine instead fails loudly.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ProcFs } from '../proc-fs.js';
import { checkSshOption, checkSshTarget, sshArgs } from './args.js';
import { SshError, SshSyncReadError } from './errors.js';
import { DEFAULT_SSH_REPLY_DEADLINE_MS, RemoteSession, catCommand, type RemoteShell } from './protocol.js';

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
  try {
    await session.exec(() => ':');
    const check = await session.exec((sep) =>
      [
        `cat /proc/sys/kernel/ostype; printf '\\n%s\\n' '${sep}'`,
        `cat /proc/sys/kernel/hostname; printf '\\n%s\\n' '${sep}'`,
        `cat /proc/net/tcp >/dev/null && echo ok`,
      ].join('\n'),
    );
    const [ostype = '', host = '', tcp = ''] = check.text.split(`\n${check.sep}\n`);
    if (ostype.trim() !== 'Linux') {
      throw new SshError(`ssh to ${target} failed: the remote host is not Linux (no /proc/sys/kernel/ostype saying Linux)`);
    }
    if (tcp.trim() !== 'ok') throw new SshError(`ssh to ${target} failed: cannot read /proc/net/tcp on the remote host`);
    if (host.trim() !== '') hostname = host.trim();
    const reads = preload.map(async (rel) => {
      const r = await session.exec(() => catCommand(`/proc/${rel}`));
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
  return createSshProcFs(session, target, hostname, passwd, preloaded);
}

function createSshProcFs(
  session: RemoteSession,
  target: string,
  hostname: string,
  passwd: string | null,
  preloaded: ReadonlyMap<string, string | null>,
): SshProcFs {
  let lastError: string | null = null;
  const syncRead = (what: string, rel: string): never => {
    throw new SshSyncReadError(`${what} /proc/${rel} cannot be done synchronously over ssh (a code path missed the async collector)`);
  };
  return {
    root: `ssh://${target}/proc`,
    target,
    hostname,
    passwd,
    exec: (script) => session.exec(script),
    readText(rel) {
      if (preloaded.has(rel)) return preloaded.get(rel) ?? null;
      return syncRead('reading', rel);
    },
    async readTextAsync(rel) {
      if (!REL_PATH_RE.test(rel)) {
        lastError = 'EINVAL';
        return null;
      }
      const reply = await session.exec(() => catCommand(`/proc/${rel}`));
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
