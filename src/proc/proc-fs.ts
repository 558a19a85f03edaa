// The one opener through which every /proc read goes, rooted at a configurable directory
// (default /proc, like ss's PROC_ROOT), so the whole tool runs against a recorded tree.
// Everything here is read-only. Synchronous calls are deliberate: for thousands of tiny
// procfs files they are several times cheaper than the promise-based API.

import fs from 'node:fs';
import path from 'node:path';

export interface ProcFs {
  /** Absolute root, e.g. "/proc". */
  readonly root: string;
  /** Whole file as UTF-8 text (invalid bytes become U+FFFD), or null when missing or unreadable. */
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

export function createProcFs(root: string): ProcFs {
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
        return fs.readFileSync(abs(rel), 'utf8');
      } catch (err) {
        return fail(err);
      }
    },
    async readTextAsync(rel) {
      try {
        return await fs.promises.readFile(abs(rel), 'utf8');
      } catch (err) {
        return fail(err);
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
    return code === 'ENOENT'
      ? `proc root ${procFs.root} does not exist`
      : `cannot read proc root ${procFs.root} (${code ?? 'error'})`;
  }
  const net = procFs.readDir('net');
  if (net === null) return `cannot read ${procFs.root}/net (${procFs.lastError() ?? 'error'}): is this a Linux /proc?`;
  if (!net.includes('tcp') && !net.includes('unix')) {
    return `${procFs.root}/net has neither tcp nor unix: is this a Linux /proc?`;
  }
  return null;
}
