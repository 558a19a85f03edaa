// Reads of the TCP tables into one buffer sized beforehand, for a snapshot taken once (`--once`).
// ProcFs.readBytes cannot know a procfs table's size (st_size is 0): it starts at 64 KiB and
// doubles, so at 100k sockets the ~15 MB of net/tcp go through buffers of 64 KiB … 16 MB, each
// copied into the next, and the kernel and the copies touch ~31 MB of fresh pages. The
// number of sockets is in net/sockstat and net/sockstat6 (a few lines): a buffer for that many
// lines is taken at once, and the table is read into it a piece at a time (ProcFs.readChunks).
// A buffer larger than the table costs nothing more: pages never written are never touched.

import { parseSockstat } from './parse-counters.js';
import type { ProcFs } from './proc-fs.js';

/** Bytes per line of net/tcp (padded to 149 columns and "\n") and of net/tcp6 (up to ~180). */
const TCP_LINE_BYTES = 150;
const TCP6_LINE_BYTES = 180;
/** Room beyond the estimate: the header, sockets opened meanwhile, request socks (not in sockstat). */
const SPARE_LINES = 1024;

/**
 * `procFs` with a readBytes that reads net/tcp and net/tcp6 into a buffer sized from
 * net/sockstat(6), doubled only if the table outgrew the estimate; other paths, and every path
 * when the counts cannot be read or the ProcFs cannot read in pieces, as procFs.readBytes reads
 * them. The same bytes either way.
 */
export function withSizedTableReads(procFs: ProcFs): ProcFs {
  const readChunks = procFs.readChunks?.bind(procFs);
  const readBytes = procFs.readBytes?.bind(procFs);
  if (readChunks === undefined || readBytes === undefined) return procFs;
  let sizes: { tcp: number; tcp6: number } | null | undefined;
  return {
    ...procFs,
    readBytes(relPath) {
      const table = relPath === 'net/tcp' ? 'tcp' : relPath === 'net/tcp6' ? 'tcp6' : null;
      if (table === null) return readBytes(relPath);
      sizes ??= tableSizes(procFs);
      if (sizes === null) return readBytes(relPath);
      return readInto(readChunks, relPath, sizes[table]);
    },
  };
}

/** Estimated bytes of net/tcp and net/tcp6 from the socket counts, or null when they cannot be read. */
function tableSizes(procFs: ProcFs): { tcp: number; tcp6: number } | null {
  const v4 = procFs.readText('net/sockstat');
  if (v4 === null) return null;
  const v6 = procFs.readText('net/sockstat6');
  const inuse = countOf(v4, 'TCP:', 'inuse');
  const tw = countOf(v4, 'TCP:', 'tw');
  const inuse6 = v6 === null ? 0 : countOf(v6, 'TCP6:', 'inuse');
  if (inuse === null || tw === null || inuse6 === null) return null;
  // TIME_WAIT sockets are counted for both families together: each table gets room for all of them.
  return { tcp: (inuse + tw + SPARE_LINES) * TCP_LINE_BYTES, tcp6: (inuse6 + tw + SPARE_LINES) * TCP6_LINE_BYTES };
}

/** The number after `field` on the line starting with `label` ("TCP: inuse 5 orphan 0 tw 2 …"), or null (parseSockstat's pairs). */
export function countOf(text: string, label: string, field: string): number | null {
  const n = parseSockstat(text)[`${label.replace(/:$/, '')}.${field}`];
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** The file read a piece at a time into a buffer of `size` bytes (doubled when too small), or null (lastError). */
function readInto(readChunks: NonNullable<ProcFs['readChunks']>, relPath: string, size: number): Buffer | null {
  let out = Buffer.allocUnsafe(Math.max(size, 1 << 16));
  let length = 0;
  const ok = readChunks(relPath, (bytes, end) => {
    if (length + end > out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, length + end));
      out.copy(bigger, 0, 0, length);
      out = bigger;
    }
    bytes.copy(out, length, 0, end);
    length += end;
    return end;
  });
  return ok ? out.subarray(0, length) : null;
}
