// The recording file: "SOCKSCOPE-REC1\n", then records of [4-byte big-endian length][gzip of
// one JSON document]; the first record is the header, each next one a frame. Each record is
// complete on its own, so a recording cut short (crash, disk full) still replays up to its end.

import fs from 'node:fs';
import zlib from 'node:zlib';
import { FrameDecoder, FrameEncoder, KEYFRAME_EVERY, RECORDING_VERSION, type Frame, type RecordingHeader } from '../model/recording.js';
import type { Snapshot } from '../model/types.js';

const MAGIC = 'SOCKSCOPE-REC1\n';

function record(doc: unknown): Buffer {
  const body = zlib.gzipSync(JSON.stringify(doc), { level: 6 });
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export interface Recorder {
  write(snapshot: Snapshot): void;
  close(): void;
  readonly bytesWritten: number;
}

/** Start a recording (truncates FILE). Throws a clear Error when the file cannot be written. */
export function createRecorder(file: string, host: string, startedAtMs: number): Recorder {
  let fd: number;
  try {
    fd = fs.openSync(file, 'w');
  } catch (err) {
    throw new Error(`cannot write recording ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
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

export interface Recording {
  readonly header: RecordingHeader;
  readonly frames: number;
  /** The snapshot at frame i (0-based), decoded from the nearest keyframe before it. */
  snapshotAt(i: number): Snapshot;
  /** takenAtMs of frame i without decoding it fully (cached after first decode). */
  timeAt(i: number): number;
}

/** Open a recording; a bad file gives an Error with a one-line message. */
export function openRecording(file: string): Recording {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read recording ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (data.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw new Error(`${file} is not a sockscope recording`);
  const spans: [number, number][] = [];
  let at = MAGIC.length;
  while (at + 4 <= data.length) {
    const len = data.readUInt32BE(at);
    if (at + 4 + len > data.length) break; // cut short: keep what is complete
    spans.push([at + 4, at + 4 + len]);
    at += 4 + len;
  }
  const read = (i: number): unknown => {
    const span = spans[i];
    if (span === undefined) throw new Error(`recording ${file}: no record ${i}`);
    return JSON.parse(zlib.gunzipSync(data.subarray(span[0], span[1])).toString('utf8'));
  };
  let header: RecordingHeader;
  try {
    header = read(0) as RecordingHeader;
  } catch {
    throw new Error(`${file}: damaged recording header`);
  }
  if (header.sockscope !== 'recording' || header.version !== RECORDING_VERSION) throw new Error(`${file}: unsupported recording version ${String(header.version)}`);
  const frames = spans.length - 1;
  const times = new Map<number, number>();
  // Sequential playback decodes each frame once: remember where the decoder stands.
  let decoder: FrameDecoder | null = null;
  let decodedUpTo = -1;
  let current: Snapshot | null = null;
  const frame = (i: number): Frame => read(i + 1) as Frame;
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
