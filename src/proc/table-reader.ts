// read*: /proc/net tables read with plain synchronous read(2) calls in a thread of their own, the
// buffers handed back without a copy (transferred). procfs answers a read(2) of /proc/net/tcp
// with about one page (seq_file) whatever the buffer, so 100k sockets (~15 MB) take ~3,700 reads:
// through libuv's pool each is a round trip between two threads and a promise on the main
// thread; here they are one loop, as `cat` does, and the main thread sees one message a refresh.
// The buffer a table was read into two refreshes ago goes back to the thread to be read into
// again (zero copy both ways): the collector keeps two per table (see CollectMemory).

import { Worker } from 'node:worker_threads';
import { MAX_TEXT_BYTES, NOT_REGULAR, TOO_LARGE, type BytesIntoResult } from './proc-fs.js';

/** One file to read, relative to the reader's root, into `into` when it is large enough. */
export interface TableReadRequest {
  readonly relPath: string;
  /** A buffer to read into, given away (its memory moves to the reader thread); null: a new one. */
  readonly into: Buffer | null;
}

/** Reads tables in the reader thread. */
export interface TableReader {
  /**
   * Every file asked for, in order: bytes[0, length) (a buffer of its own, which the caller now
   * owns), or the errno code of why not, as ProcFs.readBytesIntoAsync answers. Rejects only when
   * the thread cannot be used (it failed to start or died): the caller reads another way.
   */
  read(requests: readonly TableReadRequest[]): Promise<BytesIntoResult[]>;
  close(): Promise<void>;
}

/** One file's answer from the thread. */
interface ReadReply {
  readonly buffer: ArrayBuffer | null;
  readonly length: number;
  readonly error: string | null;
}

interface ReaderRequest {
  readonly id: number;
  readonly files: readonly { readonly file: string; readonly into: ArrayBuffer | null }[];
  readonly maxBytes: number;
}

interface ReaderReply {
  readonly id: number;
  readonly results: readonly ReadReply[];
}

/**
 * The thread's code (CommonJS, run with `eval`: no file of its own, so it needs nothing from the
 * bundle). The same bounded read as readBoundedIntoAsync (src/proc/proc-fs.ts): regular files
 * only (a FIFO or a device is refused, ENOTREG), at most maxBytes (EFBIG), O_NONBLOCK so opening
 * a FIFO never waits; one buffer doubled as needed, its first size the file's size + 1 when
 * known, else 64 KiB: procfs reports a size of 0, and most of the tables are a header line
 * (udp, raw, an empty tcp6); each keeps two buffers (see CollectMemory), so a first size of 1 MiB
 * held ~10 MB for nothing at 100k sockets. 64 KiB is the least the collector keeps for the next
 * read (wholeBuffer), and a 16 MB table costs 8 doublings once (its buffer is then reused).
 * Indented: under NODE_DEBUG=worker, Node logs this text as continuation lines.
 */
const READER_SOURCE = `
  'use strict';
  const { parentPort } = require('node:worker_threads');
  const fs = require('node:fs');
  const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;
  const FIRST_BYTES = 1 << 16;
  function readOne(file, maxBytes, into) {
    let fd;
    try {
      fd = fs.openSync(file, FLAGS);
    } catch (err) {
      return { buffer: null, length: 0, error: (err && err.code) || 'EIO' };
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return { buffer: null, length: 0, error: '${NOT_REGULAR}' };
      if (st.size > maxBytes) return { buffer: null, length: 0, error: '${TOO_LARGE}' };
      const first = Math.min(maxBytes + 1, st.size > 0 ? st.size + 1 : FIRST_BYTES);
      let buf = into !== null && into.byteLength >= first ? Buffer.from(into) : Buffer.allocUnsafeSlow(first);
      let length = 0;
      for (;;) {
        if (length === buf.length) {
          if (length > maxBytes) return { buffer: null, length: 0, error: '${TOO_LARGE}' };
          const bigger = Buffer.allocUnsafeSlow(Math.min(maxBytes + 1, buf.length * 2));
          buf.copy(bigger, 0, 0, length);
          buf = bigger;
        }
        const n = fs.readSync(fd, buf, length, buf.length - length, null);
        if (n === 0) break;
        length += n;
      }
      if (length > maxBytes) return { buffer: null, length: 0, error: '${TOO_LARGE}' };
      return { buffer: buf.buffer, length, error: null };
    } catch (err) {
      return { buffer: null, length: 0, error: (err && err.code) || 'EIO' };
    } finally {
      fs.closeSync(fd);
    }
  }
  parentPort.on('message', (req) => {
    const results = req.files.map((f) => readOne(f.file, req.maxBytes, f.into));
    const transfer = [];
    for (const r of results) if (r.buffer !== null && !transfer.includes(r.buffer)) transfer.push(r.buffer);
    parentPort.postMessage({ id: req.id, results }, transfer);
  });
`;

/** The ArrayBuffer behind `bytes` when `bytes` covers it whole and nothing else can share it (not Node's pool), else null. */
function ownBuffer(bytes: Buffer | null): ArrayBuffer | null {
  if (bytes === null || bytes.byteOffset !== 0 || bytes.length < 65_536) return null;
  const ab = bytes.buffer;
  return ab instanceof ArrayBuffer && ab.byteLength === bytes.length ? ab : null;
}

/**
 * A reader of files under `root` (a local directory: the thread opens `${root}/${relPath}`). The
 * thread starts on the first read (not with the first frame: its isolate costs ~30 ms of CPU).
 * `maxBytes`: the read cap (ProcFs's, MAX_TEXT_BYTES by default).
 */
export function createTableReader(root: string, maxBytes: number = MAX_TEXT_BYTES): TableReader {
  let worker: Worker | null = null;
  let dead: Error | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: BytesIntoResult[]) => void; reject: (e: Error) => void }>();
  const fail = (err: Error): void => {
    dead ??= err;
    worker = null;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(dead);
    }
  };
  const start = (): Worker => {
    const w = new Worker(READER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (reply: ReaderReply) => {
      const p = pending.get(reply.id);
      if (p === undefined) return;
      pending.delete(reply.id);
      p.resolve(
        reply.results.map((r) =>
          r.buffer === null || r.error !== null
            ? { bytes: null, length: 0, error: r.error ?? 'EIO' }
            : { bytes: Buffer.from(r.buffer, 0, r.buffer.byteLength), length: r.length, error: null },
        ),
      );
    });
    w.on('error', (err) => fail(err));
    w.on('exit', (code) => fail(new Error(`table reader exited (${code})`)));
    return w;
  };
  return {
    read(requests) {
      if (dead !== null) return Promise.reject(dead);
      const w = (worker ??= start());
      const id = nextId++;
      const files = requests.map((r) => ({ file: r.relPath === '' ? root : `${root}/${r.relPath}`, into: ownBuffer(r.into) }));
      const transfer = files.map((f) => f.into).filter((b): b is ArrayBuffer => b !== null);
      return new Promise<BytesIntoResult[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, files, maxBytes } satisfies ReaderRequest, transfer);
      });
    },
    async close() {
      const w = worker;
      dead ??= new Error('table reader closed');
      worker = null;
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(dead);
      }
      if (w !== null) await w.terminate();
    },
  };
}
