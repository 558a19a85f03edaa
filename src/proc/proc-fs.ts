// The one opener through which every /proc read goes, rooted at a configurable directory
// (default /proc, like ss's PROC_ROOT), so the whole tool runs against a recorded tree.
// Everything here is read-only. Synchronous calls are deliberate: for thousands of tiny
// procfs files they are several times cheaper than the promise-based API.

import fs from 'node:fs';
import path from 'node:path';

export interface ProcFs {
  /** Absolute root, e.g. "/proc". */
  readonly root: string;
  /**
   * Whole file as UTF-8 text (invalid bytes become U+FFFD), or null when missing or unreadable
   * (errno in `lastError`). Bounded: only regular files (procfs files are regular files of size
   * 0) are read, in chunks, up to a size cap: a FIFO, a device (/dev/zero) or a file over the cap
   * fails with ENOTREG / EFBIG instead of hanging or filling memory.
   */
  readText(relPath: string): string | null;
  /**
   * The same, off the main thread (libuv's pool): the kernel spends ~0.4 s producing
   * /proc/net/tcp at 100k sockets, and the dashboard must stay responsive meanwhile.
   */
  readTextAsync(relPath: string): Promise<string | null>;
  /** Entry names of a directory, or null when missing/unreadable (errno in `lastError`). */
  readDir(relPath: string): string[] | null;
  /** Target of a symlink, or null. */
  readLink(relPath: string): string | null;
  /** Size field of stat(2) (for /proc/<pid>/fd: the number of open fds on Linux >= 6.2), or null. */
  statSize(relPath: string): number | null;
  /** Owner uid of a path, or null. */
  statUid(relPath: string): number | null;
  /**
   * Size, owner uid and inode number from one stat(2) call (follows symlinks), or null.
   * Optional so hand-made fakes need not provide it; callers fall back to statSize.
   */
  stat?(relPath: string): ProcStat | null;
  /** errno code of the last failed call ("EACCES", "ENOENT", …), for permission hints. */
  lastError(): string | null;
  /**
   * readTextAsync with its own error code (lastError is shared by concurrent reads). Optional so
   * hand-made fakes need not provide it: see readTextResultAsync.
   */
  readTextResultAsync?(relPath: string): Promise<TextReadResult>;
  /**
   * readText without decoding: the file's bytes, for readers that scan a table without building
   * strings (--summary), or null (errno in `lastError`). Optional: see readBytes below.
   */
  readBytes?(relPath: string): Buffer | null;
  /** readBytes off the main thread (libuv's pool), with its own error code. Optional: see readBytesResultAsync below. */
  readBytesResultAsync?(relPath: string): Promise<BytesReadResult>;
  /**
   * readTextResultAsync without decoding, into a buffer the caller keeps from one refresh to the
   * next (`into`, or a new one when it is null or too small): the file is bytes[0, length). A
   * refresh then allocates neither a buffer nor a string for a table. Optional: see
   * readBytesIntoAsync below.
   */
  readBytesIntoAsync?(relPath: string, into: Buffer | null): Promise<BytesIntoResult>;
  /**
   * The file's bytes through one small buffer, for readers that need a line at a time (--summary's
   * state counts): no buffer the size of the table, grown and copied as it is read. `take(bytes,
   * end, last)` gets bytes[0, end) after each read and returns how many of them it used; the rest
   * (an unfinished line) moves to the buffer's start for the next read, and the buffer doubles
   * when a line fills it. At the end of the file `last` is true and everything must be used.
   * false when the file could not be read whole (errno in `lastError`; `take` may have seen
   * part of it). Bounded as readText. Optional: hand-made fakes need not provide it.
   */
  readChunks?(relPath: string, take: (bytes: Buffer, end: number, last: boolean) => number): boolean;
}

/** readBytesResultAsync's answer: the bytes, or the errno code of why not (as TextReadResult). */
export interface BytesReadResult {
  readonly bytes: Buffer | null;
  readonly error: string | null;
}

/** A read into a reused buffer: the file is bytes[0, length); bytes null on error (errno code in `error`). */
export interface BytesIntoResult {
  readonly bytes: Buffer | null;
  readonly length: number;
  readonly error: string | null;
}

/** A read that says why it failed: error is an errno code ("ENOENT", "EACCES", "ENOTREG", "EFBIG"). */
export interface TextReadResult {
  readonly text: string | null;
  readonly error: string | null;
}

/**
 * Largest file readText reads, bytes: 1,000,000 TCP sockets are ~150 MB of /proc/net/tcp text;
 * V8's longest string is 2^29 - 24 characters (~536 MB), so the cap stays below it.
 */
export const MAX_TEXT_BYTES = 500_000_000;

/**
 * First buffer for a file of unknown size (procfs reports 0), bytes; doubled as needed. A procfs
 * table answers each read(2) with about a page whatever is asked (seq_file), so this sets only
 * how often the buffer grows. Most files read this way are a few lines (snmp, sockstat, sysctls,
 * an empty udp table): 64 KiB, not the 1 MiB it was, which every refresh allocated for each of
 * them; a 100k-socket table grows to its size in 8 doublings.
 */
const READ_CHUNK_BYTES = 1 << 16;

/** errno-like codes for the two refusals of a bounded read. */
export const NOT_REGULAR = 'ENOTREG';
export const TOO_LARGE = 'EFBIG';

export interface ProcFsOptions {
  /** Size cap of readText / readTextAsync, bytes (default MAX_TEXT_BYTES). */
  readonly maxTextBytes?: number;
}

/** open(2) flags: O_NONBLOCK so opening a FIFO does not wait for a writer; O_NOCTTY for ttys. */
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

function refusal(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** fstat of an open file, refused unless it is a regular file of at most maxBytes (its size may be 0: procfs). */
function checkBounded(fd: number, file: string, maxBytes: number): fs.Stats {
  const st = fs.fstatSync(fd);
  if (!st.isFile()) throw refusal(NOT_REGULAR, `${file} is not a regular file`);
  if (st.size > maxBytes) throw refusal(TOO_LARGE, `${file} is larger than ${maxBytes} bytes`);
  return st;
}

/** Read a whole regular file, at most maxBytes, into one growing buffer (procfs files report st_size 0). */
export function readBoundedSync(file: string, maxBytes: number): string {
  return readBoundedBytesSync(file, maxBytes).toString('utf8');
}

/** readBoundedSync without decoding: the file's bytes (a view of the read buffer). */
export function readBoundedBytesSync(file: string, maxBytes: number): Buffer {
  const fd = fs.openSync(file, OPEN_FLAGS);
  try {
    const st = checkBounded(fd, file, maxBytes);
    // A regular file of known size: one read of size + 1 (the extra byte confirms EOF).
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, st.size > 0 ? st.size + 1 : READ_CHUNK_BYTES));
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (length > maxBytes) throw refusal(TOO_LARGE, `${file} is larger than ${maxBytes} bytes`);
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw refusal(TOO_LARGE, `${file} is larger than ${maxBytes} bytes`);
    return buf.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/** ProcFs.readChunks of a file (see there): throws as readBoundedBytesSync. */
function readChunksSync(file: string, maxBytes: number, take: (bytes: Buffer, end: number, last: boolean) => number): void {
  const fd = fs.openSync(file, OPEN_FLAGS);
  try {
    checkBounded(fd, file, maxBytes);
    let buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let kept = 0;
    let total = 0;
    for (;;) {
      if (kept === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, kept);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, kept, buf.length - kept, null);
      total += n;
      if (total > maxBytes) throw refusal(TOO_LARGE, `${file} is larger than ${maxBytes} bytes`);
      if (n === 0) {
        take(buf, kept, true);
        return;
      }
      const end = kept + n;
      const used = take(buf, end, false);
      kept = end - used;
      if (kept > 0 && used > 0) buf.copy(buf, 0, used, end);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The same, off the main thread (every read(2) in libuv's pool). */
export async function readBoundedAsync(file: string, maxBytes: number): Promise<string> {
  return (await readBoundedBytesAsync(file, maxBytes)).toString('utf8');
}

/** readBoundedAsync without decoding: the file's bytes (a view of the read buffer). */
export async function readBoundedBytesAsync(file: string, maxBytes: number): Promise<Buffer> {
  const { bytes, length } = await readBoundedIntoAsync(file, maxBytes, null);
  return bytes.subarray(0, length);
}

/**
 * readBoundedAsync without decoding, into `into` when it is large enough (else a new buffer,
 * doubled as needed): the file is bytes[0, length) of the buffer returned.
 */
export async function readBoundedIntoAsync(
  file: string,
  maxBytes: number,
  into: Buffer | null,
): Promise<{ bytes: Buffer; length: number }> {
  const handle = await fs.promises.open(file, OPEN_FLAGS);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw refusal(NOT_REGULAR, `${file} is not a regular file`);
    if (st.size > maxBytes) throw refusal(TOO_LARGE, `${file} is larger than ${maxBytes} bytes`);
    // One buffer, doubled as needed: a procfs table answers a read(2) with about one page
    // (seq_file), so a fresh chunk per read would allocate thousands of them. A regular file of
    // known size: size + 1 (the extra byte confirms EOF).
    const first = Math.min(maxBytes + 1, st.size > 0 ? st.size + 1 : READ_CHUNK_BYTES);
    let buf = into !== null && into.length >= first ? into : Buffer.allocUnsafe(first);
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (length > maxBytes) throw refusal(TOO_LARGE, `${file} is larger than ${maxBytes} bytes`);
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw refusal(TOO_LARGE, `${file} is larger than ${maxBytes} bytes`);
    return { bytes: buf, length };
  } finally {
    await handle.close();
  }
}

/**
 * ProcFs.readBytesIntoAsync of any ProcFs: the precise one when it has it, else its text
 * (readTextResultAsync) encoded into a new buffer (fakes, --ssh).
 */
export async function readBytesIntoAsync(procFs: ProcFs, relPath: string, into: Buffer | null): Promise<BytesIntoResult> {
  if (procFs.readBytesIntoAsync !== undefined) return procFs.readBytesIntoAsync(relPath, into);
  const { text, error } = await readTextResultAsync(procFs, relPath);
  if (text === null) return { bytes: null, length: 0, error };
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, length: bytes.length, error: null };
}

/** readTextResultAsync of any ProcFs: the precise one when it has it, else readTextAsync + lastError. */
export async function readTextResultAsync(procFs: ProcFs, relPath: string): Promise<TextReadResult> {
  if (procFs.readTextResultAsync !== undefined) return procFs.readTextResultAsync(relPath);
  const text = await procFs.readTextAsync(relPath);
  return { text, error: text === null ? (procFs.lastError() ?? 'EIO') : null };
}

/** ProcFs.readBytes of any ProcFs: the bytes when it has the method, else its text (decoded already). */
export function readBytes(procFs: ProcFs, relPath: string): Buffer | string | null {
  return procFs.readBytes !== undefined ? procFs.readBytes(relPath) : procFs.readText(relPath);
}

/**
 * ProcFs.readBytesResultAsync of any ProcFs: the bytes when it has the method, else its text
 * (decoded already, e.g. over --ssh), or why neither.
 */
export async function readBytesResultAsync(
  procFs: ProcFs,
  relPath: string,
): Promise<{ readonly content: Buffer | string | null; readonly error: string | null }> {
  if (procFs.readBytesResultAsync !== undefined) {
    const { bytes, error } = await procFs.readBytesResultAsync(relPath);
    return { content: bytes, error };
  }
  const { text, error } = await readTextResultAsync(procFs, relPath);
  return { content: text, error };
}

/** One-line reason for a failed table read, for warnings ("permission denied", "not a regular file"). */
export function describeReadError(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case NOT_REGULAR:
      return 'not a regular file';
    case TOO_LARGE:
      return `larger than ${MAX_TEXT_BYTES / 1_000_000} MB`;
    case 'EISDIR':
      return 'is a directory';
    case 'ENOENT':
      return 'missing';
    default:
      return code;
  }
}

/** The stat(2) fields the readers use. */
export interface ProcStat {
  /** st_size: bytes; for /proc/<pid>/fd the number of open fds on Linux >= 6.2 (0 before). */
  readonly size: number;
  readonly uid: number;
  /** st_ino: a /proc/<pid>/… entry gets a fresh inode number when the pid is reused. */
  readonly ino: number;
}

export const DEFAULT_PROC_ROOT = '/proc';

/** Pick the proc root: explicit option, then $PROC_ROOT, then /proc. */
export function resolveProcRoot(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(option ?? env['PROC_ROOT'] ?? DEFAULT_PROC_ROOT);
}

export function createProcFs(root: string, options: ProcFsOptions = {}): ProcFs {
  const maxBytes = options.maxTextBytes ?? MAX_TEXT_BYTES;
  let lastError: string | null = null;
  const abs = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  const fail = (err: unknown): null => {
    lastError = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return null;
  };
  return {
    root,
    readText(rel) {
      try {
        return readBoundedSync(abs(rel), maxBytes);
      } catch (err) {
        return fail(err);
      }
    },
    async readTextAsync(rel) {
      try {
        return await readBoundedAsync(abs(rel), maxBytes);
      } catch (err) {
        return fail(err);
      }
    },
    async readTextResultAsync(rel) {
      try {
        return { text: await readBoundedAsync(abs(rel), maxBytes), error: null };
      } catch (err) {
        return { text: null, error: (err as NodeJS.ErrnoException).code ?? 'EIO' };
      }
    },
    readBytes(rel) {
      try {
        return readBoundedBytesSync(abs(rel), maxBytes);
      } catch (err) {
        return fail(err);
      }
    },
    readChunks(rel, take) {
      try {
        readChunksSync(abs(rel), maxBytes, take);
        return true;
      } catch (err) {
        fail(err);
        return false;
      }
    },
    async readBytesIntoAsync(rel, into) {
      try {
        const { bytes, length } = await readBoundedIntoAsync(abs(rel), maxBytes, into);
        return { bytes, length, error: null };
      } catch (err) {
        return { bytes: null, length: 0, error: (err as NodeJS.ErrnoException).code ?? 'EIO' };
      }
    },
    async readBytesResultAsync(rel) {
      try {
        return { bytes: await readBoundedBytesAsync(abs(rel), maxBytes), error: null };
      } catch (err) {
        return { bytes: null, error: (err as NodeJS.ErrnoException).code ?? 'EIO' };
      }
    },
    readDir(rel) {
      try {
        return fs.readdirSync(abs(rel));
      } catch (err) {
        return fail(err);
      }
    },
    readLink(rel) {
      try {
        return fs.readlinkSync(abs(rel));
      } catch (err) {
        return fail(err);
      }
    },
    statSize(rel) {
      try {
        return fs.statSync(abs(rel)).size;
      } catch (err) {
        return fail(err);
      }
    },
    statUid(rel) {
      try {
        return fs.statSync(abs(rel)).uid;
      } catch (err) {
        return fail(err);
      }
    },
    stat(rel) {
      try {
        const st = fs.statSync(abs(rel));
        return { size: st.size, uid: st.uid, ino: st.ino };
      } catch (err) {
        return fail(err);
      }
    },
    lastError: () => lastError,
  };
}

/** Check that a proc root looks usable: it must hold net/tcp or net/unix. Returns an error text or null. */
export function checkProcRoot(procFs: ProcFs): string | null {
  try {
    const st = fs.statSync(procFs.root);
    if (!st.isDirectory()) return `proc root ${procFs.root} is not a directory`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `proc root ${procFs.root} does not exist` : `cannot read proc root ${procFs.root} (${code ?? 'error'})`;
  }
  const net = procFs.readDir('net');
  if (net === null) return `cannot read ${procFs.root}/net (${procFs.lastError() ?? 'error'}): is this a Linux /proc?`;
  if (!net.includes('tcp') && !net.includes('unix')) {
    return `${procFs.root}/net has neither tcp nor unix: is this a Linux /proc?`;
  }
  return null;
}
