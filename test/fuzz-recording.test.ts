// Fuzz: the recording reader, through its public functions only (openRecording, then every
// snapshotAt and timeAt), on recordings made by createRecorder and then damaged: bytes flipped,
// cut short, inserted, a record's length field overwritten, a record replaced by valid gzip of
// damaged JSON or of JSON of the wrong shape. Reading either works or throws a plain Error whose
// one-line message names the file — never a TypeError, a SyntaxError or a RangeError from deep
// inside. Seed and runs: test/helpers/fuzz.ts.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRecorder, openRecording } from '../src/cli/recording-file.js';
import type { SocketRecord } from '../src/model/types.js';
import { FUZZ_TIMEOUT_MS, fuzzRuns } from './helpers/fuzz.js';
import { rec, snap } from './helpers/records.js';

const MAGIC_LENGTH = 'SOCKSCOPE-REC1\n'.length;

let dir = '';
let base: Buffer = Buffer.alloc(0);
/** [start, end) of each record's gzip body in `base` (record 0 is the header). */
let bodies: [number, number][] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-fuzz-rec-'));
  const file = path.join(dir, 'base.rec');
  const recorder = createRecorder(file, 'fuzzhost', 1_700_000_000_000);
  const sockets: SocketRecord[] = [
    rec({ localPort: 80, state: 'LISTEN', owner: { pid: 1, command: 'nginx', commandLine: 'nginx', uid: 0, fd: 3 } }),
    rec({ localPort: 40000, remotePort: 443 }),
    rec({ protocol: 'unix', state: 'CONNECTED', path: '/run/x.sock' }),
  ];
  for (let i = 0; i < 6; i++) {
    const now = [
      ...sockets.slice(0, 1 + (i % 3)),
      rec({ localPort: 50000 + i, remotePort: 5432, state: i % 2 === 0 ? 'ESTABLISHED' : 'TIME_WAIT' }),
    ];
    recorder.write({ ...snap(1_700_000_000_000 + i * 1000, now), counters: { 'Tcp.ActiveOpens': i * 3, 'Tcp.OutRsts': i } });
  }
  recorder.close();
  base = fs.readFileSync(file);
  bodies = [];
  for (let at = MAGIC_LENGTH; at + 4 <= base.length;) {
    const len = base.readUInt32BE(at);
    bodies.push([at + 4, at + 4 + len]);
    at += 4 + len;
  }
  expect(openRecording(file).frames).toBe(6);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Replace record `i`'s body (and its length field) by `body`. */
function withRecord(data: Buffer, i: number, body: Buffer): Buffer {
  const [start, end] = bodies[i] as [number, number];
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([data.subarray(0, start - 4), len, body, data.subarray(end)]);
}

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'length'; record: number; value: number }
  | { kind: 'json-text'; record: number; text: string }
  | { kind: 'json-value'; record: number; value: unknown }
  | { kind: 'frame-field'; record: number; field: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('length' as const), record: fc.nat(6), value: fc.oneof(fc.nat(64), fc.constant(0xffffffff), fc.nat()) }),
  fc.record({
    kind: fc.constant('json-text' as const),
    record: fc.nat(6),
    text: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', '{', 'null', '[]', '{"t":1}', '"x"')),
  }),
  fc.record({ kind: fc.constant('json-value' as const), record: fc.nat(6), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({
    kind: fc.constant('frame-field' as const),
    record: fc.integer({ min: 1, max: 6 }),
    field: fc.constantFrom('t', 'k', 'u', 'r', 'c', 'host'),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constant([[1, 2, 3]]),
      fc.constant([['k', 'tcp']]),
      fc.constant([null]),
      fc.constant({ a: 'b' }),
    ),
  }),
);

function apply(data: Buffer, m: Mutation): Buffer {
  const at = (n: number) => (data.length === 0 ? 0 : n % data.length);
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(data);
      const i = at(m.at);
      out[i] = (out[i] ?? 0) ^ m.xor;
      return out;
    }
    case 'cut':
      return data.subarray(0, at(m.at));
    case 'insert': {
      const i = at(m.at);
      return Buffer.concat([data.subarray(0, i), Buffer.from(m.bytes), data.subarray(i)]);
    }
    case 'length': {
      const out = Buffer.from(data);
      const [start] = bodies[m.record] as [number, number];
      if (start - 4 + 4 <= out.length) out.writeUInt32BE(m.value >>> 0, start - 4);
      return out;
    }
    case 'json-text':
      return withRecord(data, m.record, zlib.gzipSync(m.text));
    case 'json-value':
      return withRecord(data, m.record, zlib.gzipSync(JSON.stringify(m.value)));
    case 'frame-field': {
      const [start, end] = bodies[m.record] as [number, number];
      // The frame as recorded (earlier mutations may have damaged `data` there), one field changed.
      const doc = JSON.parse(zlib.gunzipSync(base.subarray(start, end)).toString('utf8')) as Record<string, unknown>;
      doc[m.field] = m.value;
      return withRecord(data, m.record, zlib.gzipSync(JSON.stringify(doc)));
    }
  }
}

/** Open and read every frame; a thrown error must be a plain one-line Error naming the file. */
function readAll(file: string): { ok: true; frames: number } | { ok: false; message: string } {
  try {
    const r = openRecording(file);
    for (let i = 0; i < r.frames; i++) {
      const s = r.snapshotAt(i);
      expect(Array.isArray(s.sockets)).toBe(true);
      expect(typeof r.timeAt(i)).toBe('number');
    }
    // Out of range asks are clamped or refused cleanly too.
    if (r.frames > 0) r.snapshotAt(r.frames + 5);
    return { ok: true, frames: r.frames };
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(Error);
    const e = err as Error;
    expect(e.constructor, `${e.name}: ${e.message}`).toBe(Error);
    expect(e.message).not.toContain('\n');
    expect(e.message).toContain(file);
    return { ok: false, message: e.message };
  }
}

describe('fuzz: recording reader', () => {
  it(
    'damaged recordings: read completely, or a clean one-line error naming the file',
    () => {
      let n = 0;
      const outcomes = { ok: 0, error: 0 };
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
          const data = mutations.reduce(apply, base);
          const file = path.join(dir, `m${n++}.rec`);
          fs.writeFileSync(file, data);
          try {
            outcomes[readAll(file).ok ? 'ok' : 'error'] += 1;
          } finally {
            fs.rmSync(file, { force: true });
          }
        }),
        { numRuns: fuzzRuns(150) },
      );
      // Both ways out were taken: the mutations reach the reader's inner paths.
      expect(outcomes.ok).toBeGreaterThan(0);
      expect(outcomes.error).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'arbitrary bytes, with or without the magic line: a clean error, never a crash',
    () => {
      let n = 0;
      fc.assert(
        fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), (magic, bytes) => {
          const file = path.join(dir, `a${n++}.rec`);
          fs.writeFileSync(file, Buffer.concat([magic ? base.subarray(0, MAGIC_LENGTH) : Buffer.alloc(0), Buffer.from(bytes)]));
          try {
            readAll(file);
          } finally {
            fs.rmSync(file, { force: true });
          }
        }),
        { numRuns: fuzzRuns(150) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
