// The recording file: "SOCKSCOPE-REC1\n", then records of [4-byte big-endian length][gzip of
// one JSON document]; the first record is the header, each next one a frame. Each record is
// complete on its own, so a recording cut short (crash, disk full) still replays up to its end.

import fs from 'node:fs';
import zlib from 'node:zlib';
import {
  FrameDecoder,
  FrameEncoder,
  KEYFRAME_EVERY,
  RECORDING_VERSION,
  checkFrame,
  type Frame,
  type Recorder,
  type Recording,
  type RecordingHeader,
} from '../model/recording.js';
import type { Snapshot } from '../model/types.js';

const MAGIC = 'SOCKSCOPE-REC1\n';

function record(doc: unknown): Buffer {
  const body = zlib.gzipSync(JSON.stringify(doc), { level: 6 });
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export interface RecorderOptions {
  /** --force: replace FILE when it exists (a regular file or a symlink, which is replaced, not followed). */
  readonly force?: boolean;
}

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'error';

/**
 * Create FILE for writing, never through a symlink and never over an existing file unless
 * `force`: O_CREAT | O_EXCL (which also fails on a symlink, dangling or not) | O_NOFOLLOW, mode
 * 0600 (a recording holds command lines). With force, an existing regular file or symlink is
 * unlinked first (the link itself, never its target); anything else (a directory, a FIFO, a
 * device) is refused. Throws an Error with a one-line message.
 */
function createRecordingFile(file: string, force: boolean): number {
  let existing: fs.Stats | null = null;
  try {
    existing = fs.lstatSync(file);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw new Error(`cannot write recording ${file}: ${errno(err)}`);
  }
  if (existing !== null) {
    const what = existing.isSymbolicLink() ? 'is a symbolic link' : existing.isFile() ? 'exists' : 'exists and is not a regular file';
    if (!force || !(existing.isFile() || existing.isSymbolicLink())) {
      throw new Error(
        `--record ${file} ${what}: not ${existing.isSymbolicLink() ? 'following it' : 'overwriting it'}${existing.isFile() || existing.isSymbolicLink() ? ' (--force replaces it)' : ''}`,
      );
    }
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw new Error(`cannot replace recording ${file}: ${errno(err)}`);
    }
  }
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  try {
    return fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  } catch (err) {
    // EEXIST: something was put there since the check above (a race): still not followed.
    if (errno(err) === 'EEXIST') throw new Error(`--record ${file} exists: not overwriting it (--force replaces it)`);
    throw new Error(`cannot write recording ${file}: ${errno(err)}`);
  }
}

/**
 * Start a recording in a new FILE (see createRecordingFile for what is refused). Throws a clear
 * Error when the file cannot be created.
 */
export function createRecorder(file: string, host: string, startedAtMs: number, options: RecorderOptions = {}): Recorder {
  const fd = createRecordingFile(file, options.force === true);
  const encoder = new FrameEncoder();
  let bytes = 0;
  const put = (buf: Buffer): void => {
    fs.writeSync(fd, buf);
    bytes += buf.length;
  };
  put(Buffer.from(MAGIC));
  put(record({ sockscope: 'recording', version: RECORDING_VERSION, host, startedAtMs } satisfies RecordingHeader));
  let open = true;
  return {
    write(snapshot) {
      if (open) put(record(encoder.encode(snapshot)));
    },
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
    get bytesWritten() {
      return bytes;
    },
  };
}

/** Largest recording file read (bytes): the whole file is held in memory while it plays. */
export const MAX_RECORDING_FILE_BYTES = 1024 * 1024 * 1024;
/**
 * Largest record once gunzipped (bytes): a keyframe of ~1M sockets (~200 bytes of JSON each).
 * zlib stops at this size (maxOutputLength), so a small file cannot unpack to gigabytes.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export interface RecordingLimits {
  readonly maxFileBytes?: number;
  readonly maxRecordBytes?: number;
}

const MIB = 1024 * 1024;
const formatBytes = (n: number): string => (n >= MIB && n % MIB === 0 ? `${n / MIB} MiB` : `${n} bytes`);

/**
 * Read FILE whole, if it is a regular file of at most maxBytes. Opened with O_NONBLOCK so a FIFO
 * does not block the open; fstat on the descriptor decides (no race with a rename).
 */
function readRecordingBytes(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw new Error(`cannot read recording ${file}: ${errno(err)}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`cannot read recording ${file}: not a regular file`);
    if (stat.size > maxBytes)
      throw new Error(`cannot read recording ${file}: ${stat.size} bytes is more than the ${formatBytes(maxBytes)} limit`);
    // Read at most the size fstat saw (+1 to notice a file that grew past the limit meanwhile).
    const data = Buffer.alloc(Math.min(maxBytes + 1, stat.size + 1));
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, data, got, data.length - got, got);
      if (n === 0) break;
      got += n;
      if (got === data.length) break;
    }
    if (got > maxBytes) throw new Error(`cannot read recording ${file}: more than the ${formatBytes(maxBytes)} limit`);
    return data.subarray(0, got);
  } catch (err) {
    if (err instanceof Error && !('code' in err)) throw err;
    throw new Error(`cannot read recording ${file}: ${errno(err)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Open a recording; a bad file gives an Error with a one-line message: not a regular file
 * (a FIFO, /dev/zero), larger than limits.maxFileBytes, not a recording, a damaged header.
 * A damaged frame, or one unpacking to more than limits.maxRecordBytes, throws such an Error
 * when it is read (snapshotAt, timeAt).
 */
export function openRecording(file: string, limits: RecordingLimits = {}): Recording {
  const maxRecordBytes = limits.maxRecordBytes ?? MAX_RECORD_BYTES;
  const data = readRecordingBytes(file, limits.maxFileBytes ?? MAX_RECORDING_FILE_BYTES);
  if (data.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw new Error(`${file} is not a sockscope recording`);
  const spans: [number, number][] = [];
  let at = MAGIC.length;
  while (at + 4 <= data.length) {
    const len = data.readUInt32BE(at);
    if (at + 4 + len > data.length) break; // cut short: keep what is complete
    spans.push([at + 4, at + 4 + len]);
    at += 4 + len;
  }
  const unpack = (i: number): Buffer => {
    const span = spans[i];
    if (span === undefined) throw new Error(`recording ${file}: no record ${i}`);
    try {
      return zlib.gunzipSync(data.subarray(span[0], span[1]), { maxOutputLength: maxRecordBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new Error(`${file}: ${i === 0 ? 'the header' : `frame ${i}`} unpacks to more than the ${formatBytes(maxRecordBytes)} limit`);
      }
      throw new Error(
        `${file}: damaged ${i === 0 ? 'recording header' : `frame ${i}`} (${(err as NodeJS.ErrnoException).code ?? 'bad data'})`,
      );
    }
  };
  const read = (i: number): unknown => {
    const text = unpack(i).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${file}: damaged ${i === 0 ? 'recording header' : `frame ${i}`} (not JSON)`);
    }
  };
  const header = read(0) as RecordingHeader | null;
  if (header === null || typeof header !== 'object') throw new Error(`${file}: damaged recording header`);
  if (header.sockscope !== 'recording' || header.version !== RECORDING_VERSION) {
    throw new Error(`${file}: unsupported recording version ${JSON.stringify(header.version ?? null).slice(0, 20)}`);
  }
  const frames = spans.length - 1;
  const times = new Map<number, number>();
  // Sequential playback decodes each frame once: remember where the decoder stands.
  let decoder: FrameDecoder | null = null;
  let decodedUpTo = -1;
  let current: Snapshot | null = null;
  const frame = (i: number): Frame => checkFrame(read(i + 1), () => `${file}: damaged frame ${i + 1}`);
  return {
    header,
    frames,
    snapshotAt(i) {
      if (frames === 0) throw new Error(`${file}: the recording has no frames`);
      const target = Math.max(0, Math.min(frames - 1, i));
      if (target === decodedUpTo && current !== null) return current;
      let from: number;
      if (decoder !== null && decodedUpTo < target && target - decodedUpTo <= KEYFRAME_EVERY) from = decodedUpTo + 1;
      else {
        decoder = new FrameDecoder();
        from = target - (target % KEYFRAME_EVERY);
      }
      let snapshot: Snapshot | null = null;
      for (let f = from; f <= target; f++) {
        snapshot = decoder.apply(frame(f));
        times.set(f, snapshot.takenAtMs);
      }
      decodedUpTo = target;
      current = snapshot;
      return snapshot as Snapshot;
    },
    timeAt(i) {
      const cached = times.get(i);
      if (cached !== undefined) return cached;
      const t = frame(i).t;
      times.set(i, t);
      return t;
    },
  };
}
