// A framed remote-shell protocol over one `ssh -T host sh` (or any child with stdin/stdout): every
// request is a short POSIX sh command written to the remote sh's stdin; its answer on stdout is
// framed by a line holding a random marker and the command's exit status:
//
//   { cat '/proc/net/tcp'
//   } </dev/null 2>/dev/null; printf '\n%s %s\n' 'sockscope-<24 hex>' "$?"
//
// The reply is every byte before "\n<marker> ", so the text itself may hold anything (NULs of
// /proc/<pid>/cmdline, lines that look like markers but are not: a marker is drawn afresh for
// each request and never appears in any process's argv, printf being a shell builtin). Requests
// are written as soon as they are made and the remote sh runs them one after the other, so the
// replies come back in request order (a FIFO): the reads of one refresh share one round trip.
//
// Compressed (when the remote has a working gzip, see `compress`): the command's output and its
// exit status go through `gzip -1` there and are unpacked here, capped at maxReplyBytes:
//
//   { { cat '/proc/net/tcp'
//   } </dev/null 2>/dev/null; printf '\n%s\n' "$?"; } | gzip -1 -c 2>/dev/null
//   printf '\n%s %s\n' 'sockscope-<24 hex>' "$?"
//
// The gzip stream is framed like text (a marker drawn afresh cannot occur in it but by chance:
// 2^-96); it unpacks to "<output>\n<status>\n".

import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { SshError } from './errors.js';

/**
 * Default cap on one reply (bytes): /proc/net/tcp6 of 1M sockets is ~150 MiB (150 bytes a line).
 * A remote that answers with more (endless output) is given up, not buffered.
 */
export const DEFAULT_SSH_MAX_REPLY_BYTES = 256 * 1024 * 1024;

/**
 * Default deadline for one reply (ms from when it is the one awaited): bytes trickling in keep
 * the inactivity timer from firing, not this one.
 */
export const DEFAULT_SSH_REPLY_DEADLINE_MS = 120_000;

/** One framed answer of the remote shell. */
export interface RemoteReply {
  /** What the command wrote on stdout, as UTF-8 (invalid bytes become U+FFFD). */
  readonly text: string;
  /** Exit status of the command's last step ($?). */
  readonly status: number;
  /** The separator word the script was given. */
  readonly sep: string;
  /** MD5 of the output's bytes (hex), when asked for with ExecOptions.digest. */
  readonly md5?: string;
}

export interface ExecOptions {
  /** Also compute the MD5 of the output's bytes, as `md5sum` prints it (RemoteReply.md5). */
  readonly digest?: boolean;
}

/** A remote shell that runs one script per request. */
export interface RemoteShell {
  /**
   * Run `script(sep)` on the remote sh. `sep` is a fresh random word the script may print to
   * separate parts of its answer (it cannot occur in file contents). Rejects with an SshError
   * when the connection is lost or times out; once that happened every later call rejects too.
   */
  exec(script: (sep: string) => string, options?: ExecOptions): Promise<RemoteReply>;
}

/** Bytes moved over the link since the session started (the ssh child's stdin and stdout). */
export interface LinkByteCounts {
  /** Written to the remote sh (requests). */
  readonly sentBytes: number;
  /** Read from it (answers, compressed or not, with their framing). */
  readonly receivedBytes: number;
  /** Answers once unpacked (equals the framed text size without compression). */
  readonly unpackedBytes: number;
}

/**
 * Prints "gzip" when the remote has a gzip that round-trips (`gzip -1 -c` then `gzip -dc`).
 * Run once at start; every later answer is compressed when it did.
 */
export const GZIP_PROBE = `[ "$(printf ok | gzip -1 -c 2>/dev/null | gzip -dc 2>/dev/null)" = ok ] && echo gzip`;

/** Quote one word for POSIX sh. */
export function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The remote command that prints one file; exit status 2 when missing, 13 when unreadable. */
export function catCommand(absPath: string): string {
  const q = shQuote(absPath);
  return `cat ${q} || if [ -e ${q} ]; then (exit 13); else (exit 2); fi`;
}

/**
 * The one line worth showing from ssh's stderr: the last line that is not a warning or debug
 * chatter ("Permission denied (publickey).", "ssh: connect to host … Connection refused"),
 * without the "ssh: " prefix and with control characters removed (the text may come from afar).
 */
export function sshFailureLine(stderr: string): string | null {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim())
    .filter((l) => l !== '' && !/^(Warning:|debug\d?:|Pseudo-terminal|\*\*)/i.test(l));
  const last = lines[lines.length - 1];
  if (last === undefined) return null;
  const text = last.replace(/^ssh:\s*/, '');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

const INITIAL_BUFFER_BYTES = 64 * 1024;

const formatMiB = (bytes: number): string => (bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`);

interface Pending {
  /** "\n<marker> " as bytes. */
  readonly end: Buffer;
  readonly sep: string;
  /** The answer is a gzip stream of "<output>\n<status>\n". */
  readonly compressed: boolean;
  readonly digest: boolean;
  readonly resolve: (reply: RemoteReply) => void;
  readonly reject: (err: Error) => void;
}

/** The framing and the queue over one child process's stdin/stdout. */
export class RemoteSession implements RemoteShell {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly target: string;
  /** Current inactivity limit (longer during start-up). */
  timeoutMs: number;
  private readonly pending: Pending[] = [];
  /** Bytes received and not yet consumed: buf[0, used). Grows by doubling. */
  private buf = Buffer.alloc(INITIAL_BUFFER_BYTES);
  private used = 0;
  /** Where the head request's marker search resumes. */
  private searchFrom = 0;
  private stderrTail = '';
  /** Why ssh ended, once it did (not after close()). */
  endReason: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** The head request's absolute deadline (replyDeadlineMs), armed when it becomes the head. */
  private deadline: NodeJS.Timeout | undefined;
  private deadlineFor: Pending | undefined;
  private readonly maxReplyBytes: number;
  /** Current deadline of one reply (at least the start-up timeout during start-up). */
  replyDeadlineMs: number;
  private failure: SshError | null = null;
  private closing = false;
  private readonly exited: Promise<void>;
  /** Pipe every later answer through the remote gzip (set once GZIP_PROBE said so). */
  compress = false;
  private sentBytes = 0;
  private receivedBytes = 0;
  private unpackedBytes = 0;

  constructor(
    child: ChildProcessWithoutNullStreams,
    target: string,
    timeoutMs: number,
    limits: { readonly maxReplyBytes?: number | undefined; readonly replyDeadlineMs?: number | undefined } = {},
  ) {
    this.child = child;
    this.target = target;
    this.timeoutMs = timeoutMs;
    this.maxReplyBytes = limits.maxReplyBytes ?? DEFAULT_SSH_MAX_REPLY_BYTES;
    this.replyDeadlineMs = limits.replyDeadlineMs ?? DEFAULT_SSH_REPLY_DEADLINE_MS;
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the end of what ssh said: the reason of a failure is its last line.
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4096);
    });
    child.stdin.on('error', () => undefined); // EPIPE when ssh is gone: reported by 'close'
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        resolve();
        if (this.closing) {
          this.fail(new SshError(`ssh connection to ${this.target} was closed`));
          return;
        }
        // 255: ssh's own failure (its last stderr line says why). Otherwise the remote side
        // ended: a login shell that refuses (nologin prints on stdout), or sh killed there.
        const said = sshFailureLine(this.stderrTail);
        const printed = sshFailureLine(this.buf.toString('utf8', Math.max(0, this.used - 4096), this.used));
        this.endReason =
          signal !== null
            ? `ssh was killed by ${signal}`
            : code === 255
              ? (said ?? 'ssh exited with status 255')
              : `the remote shell ended with status ${code ?? '?'}${printed !== null || said !== null ? `: ${printed ?? said}` : ''}`;
        this.fail(new SshError(`ssh connection to ${this.target} lost: ${this.endReason}`));
      });
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'ssh was not found: is OpenSSH (the ssh client) installed?' : err.message;
      this.fail(new SshError(`ssh to ${this.target} failed: ${why}`));
    });
  }

  exec(script: (sep: string) => string, options: ExecOptions = {}): Promise<RemoteReply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const marker = `sockscope-${randomBytes(12).toString('hex')}`;
    const sep = `sockscope-sep-${randomBytes(12).toString('hex')}`;
    const compressed = this.compress;
    const run = `{ ${script(sep)}\n} </dev/null 2>/dev/null`;
    const command = compressed
      ? `{ ${run}; printf '\\n%s\\n' "$?"; } | gzip -1 -c 2>/dev/null; printf '\\n%s %s\\n' '${marker}' "$?"\n`
      : `${run}; printf '\\n%s %s\\n' '${marker}' "$?"\n`;
    return new Promise<RemoteReply>((resolve, reject) => {
      this.pending.push({ end: Buffer.from(`\n${marker} `), sep, compressed, digest: options.digest === true, resolve, reject });
      if (this.pending.length === 1) this.armTimer();
      this.sentBytes += Buffer.byteLength(command);
      this.child.stdin.write(command);
    });
  }

  /** Bytes moved so far (see LinkByteCounts). */
  byteCounts(): LinkByteCounts {
    return { sentBytes: this.sentBytes, receivedBytes: this.receivedBytes, unpackedBytes: this.unpackedBytes };
  }

  async close(graceMs = 2_000): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.child.stdin.end(); // the remote sh reads EOF and exits; then ssh exits
    }
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    const kill = setTimeout(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    }, graceMs);
    await this.exited;
    clearTimeout(kill);
  }

  /**
   * Kill ssh without waiting (a dead link: EOF on stdin may never reach the remote side), and stop
   * reading: whatever still writes to the pipe (the commands of a compressed answer run in a
   * pipeline, beside the shell) gets EPIPE, as remote commands do when ssh goes away.
   */
  private abort(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    this.child.stdout.destroy();
    this.child.stderr.destroy();
  }

  private fail(err: SshError): void {
    if (this.failure === null) this.failure = err;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.deadline = undefined;
    this.deadlineFor = undefined;
    // What was received is of no use any more: give the memory back.
    this.buf = Buffer.alloc(0);
    this.used = 0;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }

  private armTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armDeadline();
    if (this.pending.length === 0 || this.failure !== null) return;
    this.timer = setTimeout(() => {
      this.fail(
        new SshError(`no answer from ${this.target} over ssh for ${Math.round(this.timeoutMs / 1000)} s: the connection seems dead`),
      );
      this.abort();
    }, this.timeoutMs);
  }

  /** (Re)arm the absolute deadline when the awaited request changed. */
  private armDeadline(): void {
    const head = this.pending[0];
    if (head === this.deadlineFor && this.failure === null) return;
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.deadline = undefined;
    this.deadlineFor = undefined;
    if (head === undefined || this.failure !== null) return;
    this.deadlineFor = head;
    this.deadline = setTimeout(() => {
      this.fail(
        new SshError(`the answer from ${this.target} over ssh took more than ${Math.round(this.replyDeadlineMs / 1000)} s: giving up`),
      );
      this.abort();
    }, this.replyDeadlineMs);
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== null) return; // given up: ssh is being killed, its output is not wanted
    this.receivedBytes += chunk.length;
    if (this.used + chunk.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.used + chunk.length) size *= 2;
      // Never more than the cap and one chunk (see the check after drain()): the step that would
      // reach the cap goes straight there, so at most one large copy is ever made.
      if (size >= this.maxReplyBytes) size = Math.max(this.used + chunk.length, this.maxReplyBytes + INITIAL_BUFFER_BYTES);
      // Uninitialised: only buf[0, used) is ever read, and untouched pages cost no memory.
      const grown = Buffer.allocUnsafe(size);
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.used);
    this.used += chunk.length;
    this.drain();
    // What is left is the awaited reply's beginning. It may not grow past maxReplyBytes (a remote
    // flooding endless output): at most maxReplyBytes + one chunk are ever held.
    if (this.pending.length > 0 && this.used > this.maxReplyBytes) {
      this.fail(new SshError(`the answer from ${this.target} over ssh was larger than ${formatMiB(this.maxReplyBytes)}: giving up`));
      this.abort();
      return;
    }
    this.armTimer(); // bytes arrived: the link is alive
  }

  /** Hand out every complete reply at the front of the buffer. */
  private drain(): void {
    for (;;) {
      const head = this.pending[0];
      if (head === undefined) {
        // Bytes nobody asked for (a login banner before the first request is handled by the
        // first request, see openSshProcFs): drop them.
        this.used = 0;
        this.searchFrom = 0;
        return;
      }
      const data = this.buf.subarray(0, this.used);
      const at = data.indexOf(head.end, this.searchFrom);
      if (at < 0) {
        this.searchFrom = Math.max(0, this.used - head.end.length);
        return;
      }
      const statusStart = at + head.end.length;
      const nl = data.indexOf(0x0a, statusStart);
      if (nl < 0) {
        this.searchFrom = at;
        return;
      }
      const status = Number(data.toString('latin1', statusStart, nl));
      // A compressed answer is copied out (the buffer is reused) and unpacked off this thread.
      const packed = head.compressed ? Buffer.from(data.subarray(0, at)) : null;
      const text = packed === null ? data.toString('utf8', 0, at) : '';
      const md5 = packed === null && head.digest ? createHash('md5').update(data.subarray(0, at)).digest('hex') : undefined;
      if (packed === null) this.unpackedBytes += at;
      // Keep what follows (the next replies) at the front.
      this.buf.copy(this.buf, 0, nl + 1, this.used);
      this.used -= nl + 1;
      this.searchFrom = 0;
      // Give back the memory of one huge reply (a /proc/net/tcp of 100k sockets) once read.
      if (this.buf.length > 4 * INITIAL_BUFFER_BYTES && this.used < INITIAL_BUFFER_BYTES) {
        const small = Buffer.alloc(INITIAL_BUFFER_BYTES);
        this.buf.copy(small, 0, 0, this.used);
        this.buf = small;
      }
      this.pending.shift();
      if (packed !== null) this.unpack(head, packed, status);
      else head.resolve({ text, status: Number.isInteger(status) ? status : -1, sep: head.sep, ...(md5 === undefined ? {} : { md5 }) });
    }
  }

  /**
   * Unpack a compressed answer (zlib in libuv's pool), at most maxReplyBytes: more, or a damaged
   * stream, or a gzip that failed there, gives the session up as an oversized plain answer does.
   */
  private unpack(head: Pending, packed: Buffer, gzipStatus: number): void {
    const giveUp = (why: string): void => {
      this.fail(new SshError(`the answer from ${this.target} over ssh ${why}: giving up`));
      this.abort();
      head.reject(this.failure ?? new SshError(why));
    };
    if (gzipStatus !== 0) {
      giveUp(`could not be compressed there (gzip exited with status ${gzipStatus})`);
      return;
    }
    // The status line adds at most a few bytes to the output proper.
    zlib.gunzip(packed, { maxOutputLength: this.maxReplyBytes + 16 }, (err, bytes) => {
      if (err !== null) {
        giveUp(
          (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
            ? `unpacks to more than ${formatMiB(this.maxReplyBytes)}`
            : `could not be unpacked (${(err as NodeJS.ErrnoException).code ?? 'damaged data'})`,
        );
        return;
      }
      // "<output>\n<status>\n"
      const last = bytes.length >= 2 ? bytes.lastIndexOf(0x0a, bytes.length - 2) : -1;
      const status = last < 0 ? NaN : Number(bytes.toString('latin1', last + 1, bytes.length - 1));
      if (last < 0 || !Number.isInteger(status)) {
        giveUp('has no exit status once unpacked');
        return;
      }
      if (last > this.maxReplyBytes) {
        giveUp(`unpacks to more than ${formatMiB(this.maxReplyBytes)}`);
        return;
      }
      this.unpackedBytes += last;
      const output = bytes.subarray(0, last);
      const md5 = head.digest ? createHash('md5').update(output).digest('hex') : undefined;
      head.resolve({ text: output.toString('utf8'), status, sep: head.sep, ...(md5 === undefined ? {} : { md5 }) });
    });
  }
}
