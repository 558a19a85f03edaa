// Recordings: frames carry only what changed, replay rebuilds the same sockets and counters as
// were recorded (timer countdowns aside), seeking works across keyframes, and a file cut short
// still opens. The live run (this machine's /proc recorded and replayed) is in live-recording.test.ts.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createRecorder, openRecording } from '../src/cli/recording-file.js';
import { FrameDecoder, FrameEncoder, KEYFRAME_EVERY } from '../src/model/recording.js';
import type { Snapshot, SocketRecord } from '../src/model/types.js';
import { rec, snap, withChanges } from './helpers/records.js';

/** What a viewer sees of a socket; timerMs is not carried by unchanged sockets. */
const view = (s: Snapshot): string[] =>
  s.sockets.map((r: SocketRecord) => `${r.key} ${r.state} ${r.recvQ} ${r.sendQ} ${r.owner?.pid ?? '-'} ${r.owner?.command ?? '-'}`).sort();

function sequence(n: number): Snapshot[] {
  const listener = rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, owner: { pid: 42, command: 'nginx' } });
  let live: SocketRecord[] = [listener];
  const out: Snapshot[] = [];
  for (let i = 0; i < n; i++) {
    // every step: one new connection, the oldest non-listener closes every third step, one queue moves
    live = [...live, rec({ localPort: 8080, remotePort: 50_000 + i, owner: { pid: 42, command: 'nginx' } })];
    if (i % 3 === 2) live = live.filter((_s, j) => j !== 1);
    if (live[1] !== undefined) live[1] = withChanges(live[1], { recvQ: i * 10, key: live[1].key });
    out.push({ ...snap(1_000 * i, live), counters: { 'Tcp.ActiveOpens': i, 'Tcp.MaxConn': -1 } });
  }
  return out;
}

/** Folders this file creates under the temp dir, removed when it ends. */
const tmpDirs: string[] = [];
function makeTmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('frame encoding', () => {
  it('replays exactly what was recorded, frame by frame', () => {
    const snaps = sequence(20);
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    for (const s of snaps) {
      const back = dec.apply(enc.encode(s));
      expect(view(back)).toEqual(view(s));
      expect(back.counters).toEqual(s.counters);
      expect(back.takenAtMs).toBe(s.takenAtMs);
    }
  });

  it('carries only changes: an unchanged socket is not re-sent, a timer countdown alone is no change', () => {
    const a = rec({ state: 'TIME_WAIT', timer: 'timewait', timerMs: 50_000, inode: 0 });
    const b = rec();
    const enc = new FrameEncoder();
    const first = enc.encode(snap(0, [a, b]));
    expect(first.k).toBe(true);
    expect(first.u).toHaveLength(2);
    const b2 = withChanges(b, { state: 'CLOSE_WAIT', key: b.key });
    const second = enc.encode(snap(1000, [{ ...a, timerMs: 49_000 }, b2]));
    expect(second.k).toBe(false);
    expect(second.u.map((p) => p[0])).toEqual([b.key]);
    expect(second.r).toEqual([]);
    const third = enc.encode(snap(2000, [b2]));
    expect(third.r).toEqual([a.key]);
    expect(third.u).toEqual([]);
    expect(third.c).toEqual({});
  });
});

describe('recording file', () => {
  const tmp = (): string => path.join(makeTmpDir('sockscope-rec-'), 'session.rec');

  it('round-trips through a file and seeks backwards and across keyframes', () => {
    const file = tmp();
    const snaps = sequence(KEYFRAME_EVERY + 25);
    const r = createRecorder(file, 'testhost', 0);
    for (const s of snaps) r.write(s);
    r.close();
    const rec2 = openRecording(file);
    expect(rec2.header.host).toBe('testhost');
    expect(rec2.frames).toBe(snaps.length);
    for (const i of [0, 1, 2, KEYFRAME_EVERY - 1, KEYFRAME_EVERY, KEYFRAME_EVERY + 24, 5, KEYFRAME_EVERY + 3, 3]) {
      expect(view(rec2.snapshotAt(i)), `frame ${i}`).toEqual(view(snaps[i] as Snapshot));
      expect(rec2.timeAt(i)).toBe(i * 1000);
    }
  });

  it('a recording cut short opens with its complete frames; other files are refused clearly', () => {
    const file = tmp();
    const r = createRecorder(file, 'h', 0);
    for (const s of sequence(5)) r.write(s);
    r.close();
    const data = fs.readFileSync(file);
    fs.writeFileSync(file, data.subarray(0, data.length - 7));
    expect(openRecording(file).frames).toBe(4);
    const notRec = path.join(path.dirname(file), 'x.txt');
    fs.writeFileSync(notRec, 'hello');
    expect(() => openRecording(notRec)).toThrow(/not a sockscope recording/);
    expect(() => openRecording(path.join(path.dirname(file), 'missing'))).toThrow(/cannot read recording .*ENOENT/);
  });
});

/** A recording file built by hand: the magic line, then [length][gzip] records. */
function handmadeRecording(records: readonly Buffer[]): Buffer {
  const parts = [Buffer.from('SOCKSCOPE-REC1\n')];
  for (const body of records) {
    const gz = zlib.gzipSync(body);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(gz.length);
    parts.push(len, gz);
  }
  return Buffer.concat(parts);
}
const HEADER = Buffer.from(JSON.stringify({ sockscope: 'recording', version: 1, host: 'h', startedAtMs: 0 }));

describe('replay limits: every input has a size', () => {
  const dir = (): string => makeTmpDir('sockscope-rec-limits-');
  const MIB = 1024 * 1024;

  it('a record is unpacked up to the per-record limit and no further (a gzip bomb)', () => {
    const d = dir();
    // Zeros compress ~1000:1: a few KB on disk. One byte under/at/over the limit.
    const atLimit = path.join(d, 'at.rec');
    fs.writeFileSync(atLimit, handmadeRecording([HEADER, Buffer.alloc(MIB)]));
    const overLimit = path.join(d, 'over.rec');
    fs.writeFileSync(overLimit, handmadeRecording([HEADER, Buffer.alloc(MIB + 1)]));
    expect(fs.statSync(overLimit).size).toBeLessThan(10 * 1024);
    // At the limit the whole MiB is unpacked, then refused as what it is: not JSON.
    expect(() => openRecording(atLimit, { maxRecordBytes: MIB }).snapshotAt(0)).toThrow(`${atLimit}: damaged frame 1 (not JSON)`);
    // One byte more and zlib stops at the limit.
    const over = openRecording(overLimit, { maxRecordBytes: MIB });
    expect(over.frames).toBe(1);
    expect(() => over.snapshotAt(0)).toThrow(`${overLimit}: frame 1 unpacks to more than the 1 MiB limit`);
    expect(() => over.timeAt(0)).toThrow(/unpacks to more than the 1 MiB limit/);
    // A bomb in the header is refused on opening.
    const headerBomb = path.join(d, 'header.rec');
    fs.writeFileSync(headerBomb, handmadeRecording([Buffer.alloc(2 * MIB)]));
    expect(() => openRecording(headerBomb, { maxRecordBytes: MIB })).toThrow(
      `${headerBomb}: the header unpacks to more than the 1 MiB limit`,
    );
  });

  it('a file over the size limit is refused before it is read', () => {
    const d = dir();
    const file = path.join(d, 'big.rec');
    const r = createRecorder(file, 'h', 0);
    for (const s of sequence(5)) r.write(s);
    r.close();
    const size = fs.statSync(file).size;
    expect(openRecording(file, { maxFileBytes: size }).frames).toBe(5);
    expect(() => openRecording(file, { maxFileBytes: size - 1 })).toThrow(
      `cannot read recording ${file}: ${size} bytes is more than the ${size - 1} bytes limit`,
    );
  });

  it('refuses what is not a regular file: /dev/zero, a FIFO (without blocking on it), a directory', () => {
    expect(() => openRecording('/dev/zero')).toThrow('cannot read recording /dev/zero: not a regular file');
    const d = dir();
    const fifo = path.join(d, 'fifo.rec');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => openRecording(fifo)).toThrow(`cannot read recording ${fifo}: not a regular file`);
    expect(() => openRecording(d)).toThrow(`cannot read recording ${d}: not a regular file`);
  });

  it('damaged frames are one-line errors naming the frame: bad gzip, not JSON, the wrong shape', () => {
    const d = dir();
    const good = { t: 0, k: true, u: [], r: [], c: {}, host: 'h' };
    const cases: [string, Buffer[], RegExp][] = [
      ['shape', [HEADER, Buffer.from(JSON.stringify({ ...good, u: 'x' }))], /: damaged frame 1$/],
      ['socket', [HEADER, Buffer.from(JSON.stringify({ ...good, u: [[1, 2]] }))], /: damaged frame 1$/],
      ['counters', [HEADER, Buffer.from(JSON.stringify({ ...good, c: { a: 'x' } }))], /: damaged frame 1$/],
      ['null', [HEADER, Buffer.from('null')], /: damaged frame 1$/],
    ];
    for (const [name, records, message] of cases) {
      const file = path.join(d, `${name}.rec`);
      fs.writeFileSync(file, handmadeRecording(records));
      expect(() => openRecording(file).snapshotAt(0), name).toThrow(message);
    }
    // Bytes that are not gzip inside a well-framed record.
    const file = path.join(d, 'gzip.rec');
    const data = handmadeRecording([HEADER, Buffer.from(JSON.stringify(good))]);
    data.fill(0x55, data.length - 10);
    fs.writeFileSync(file, data);
    expect(() => openRecording(file).snapshotAt(0)).toThrow(/: damaged frame 1 \(Z_/);
    // The header: garbage, and a JSON value that is not an object.
    fs.writeFileSync(file, handmadeRecording([Buffer.from('{')]));
    expect(() => openRecording(file)).toThrow(`${file}: damaged recording header (not JSON)`);
    fs.writeFileSync(file, handmadeRecording([Buffer.from('7')]));
    expect(() => openRecording(file)).toThrow(`${file}: damaged recording header`);
  });
});

describe('--record refuses to follow symlinks or overwrite files', () => {
  const dir = (): string => makeTmpDir('sockscope-rec-create-');
  const record = (file: string, force = false): void => {
    const r = createRecorder(file, 'h', 0, { force });
    r.write(sequence(1)[0] as Snapshot);
    r.close();
  };

  it('creates a new file readable only by its owner', () => {
    const file = path.join(dir(), 'new.rec');
    record(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(openRecording(file).frames).toBe(1);
  });

  it('an existing file is left untouched unless --force replaces it', () => {
    const file = path.join(dir(), 'old.rec');
    fs.writeFileSync(file, 'precious');
    expect(() => record(file)).toThrow(`--record ${file} exists: not overwriting it (--force replaces it)`);
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');
    record(file, true);
    expect(openRecording(file).frames).toBe(1);
  });

  it('a symlink is never followed: refused, and --force replaces the link itself, not its target', () => {
    const d = dir();
    const target = path.join(d, 'target');
    fs.writeFileSync(target, 'precious');
    const link = path.join(d, 'link.rec');
    fs.symlinkSync(target, link);
    expect(() => record(link)).toThrow(`--record ${link} is a symbolic link: not following it (--force replaces it)`);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious');
    record(link, true);
    expect(fs.lstatSync(link).isFile()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious');
    // A dangling link would have created its target: refused too, nothing created.
    const dangling = path.join(d, 'dangling.rec');
    fs.symlinkSync(path.join(d, 'would-be-created'), dangling);
    expect(() => record(dangling)).toThrow(/is a symbolic link: not following it/);
    expect(fs.existsSync(path.join(d, 'would-be-created'))).toBe(false);
  });

  it('a directory or a FIFO is refused even with --force', () => {
    const d = dir();
    const sub = path.join(d, 'sub');
    fs.mkdirSync(sub);
    expect(() => record(sub, true)).toThrow(`--record ${sub} exists and is not a regular file: not overwriting it`);
    const fifo = path.join(d, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => record(fifo, true)).toThrow(`--record ${fifo} exists and is not a regular file: not overwriting it`);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  });
});
