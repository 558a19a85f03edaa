// Plays a recording into the dashboard: frames at their recorded pace times a speed, with
// step, seek and pause. Replaces the live poller in `sockscope replay FILE`.

import type { Recording } from '../model/recording.js';
import type { Snapshot } from '../model/types.js';
import { formatDuration } from '../view/text.js';

export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32] as const;

export interface ReplayTarget {
  /** Hand over a frame; `jumped` when it does not follow the previous one (seek, step back). */
  show(snapshot: Snapshot, jumped: boolean): void;
  /** The player's state for the header. */
  label(text: string): void;
  isPaused(): boolean;
  /** The recording cannot be played on (a damaged frame): a one-line message; playback stopped. */
  fail(message: string): void;
}

export class ReplayFeed {
  private index = 0;
  private speedIndex = REPLAY_SPEEDS.indexOf(1);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly recording: Recording,
    private readonly target: ReplayTarget,
  ) {}

  start(): void {
    this.guard(() => {
      this.showFrame(0, true);
      this.scheduleNext();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** One frame forward (.) or back (,). */
  step(frames: 1 | -1): void {
    this.guard(() => this.showFrame(this.index + frames, frames < 0));
  }

  /** A tenth of the recording forward (]) or back ([). */
  seek(direction: 1 | -1): void {
    this.guard(() => this.showFrame(this.index + direction * Math.max(1, Math.round(this.recording.frames / 10)), true));
  }

  /** Play faster (+) or slower (-). */
  changeSpeed(direction: 1 | -1): void {
    this.guard(() => {
      this.speedIndex = Math.max(0, Math.min(REPLAY_SPEEDS.length - 1, this.speedIndex + direction));
      this.publishLabel();
      this.scheduleNext();
    });
  }

  /** The dashboard resumed: play on from here. */
  resume(): void {
    this.guard(() => this.scheduleNext());
  }

  /** Replay keys by character (the dashboard's key map sends its actions to the methods above). */
  handleKey(ch: string | undefined): boolean {
    switch (ch) {
      case '.':
        this.step(1);
        return true;
      case ',':
        this.step(-1);
        return true;
      case ']':
        this.seek(1);
        return true;
      case '[':
        this.seek(-1);
        return true;
      case '+':
      case '=':
        this.changeSpeed(1);
        return true;
      case '-':
      case '_':
        this.changeSpeed(-1);
        return true;
      default:
        return false;
    }
  }

  /**
   * Run one step of playback; a recording that cannot be read on (damaged frame, a record over
   * its size limit) stops playback and is handed to the target as one line.
   */
  private guard(step: () => void): void {
    if (this.stopped) return;
    try {
      step();
    } catch (err) {
      this.stop();
      this.target.fail(err instanceof Error ? err.message : String(err));
    }
  }

  private speed(): number {
    return REPLAY_SPEEDS[this.speedIndex] ?? 1;
  }

  private showFrame(i: number, jumped: boolean): void {
    if (this.recording.frames === 0) return;
    const target = Math.max(0, Math.min(this.recording.frames - 1, i));
    const sequential = target === this.index + 1;
    this.index = target;
    this.target.show(this.recording.snapshotAt(target), jumped || !sequential);
    this.publishLabel();
  }

  private publishLabel(): void {
    const first = this.recording.timeAt(0);
    const last = this.recording.timeAt(this.recording.frames - 1);
    const at = this.recording.timeAt(this.index);
    this.target.label(
      `REPLAY ${formatDuration(at - first)}/${formatDuration(last - first)} frame ${this.index + 1}/${this.recording.frames} ×${this.speed()}${this.index === this.recording.frames - 1 ? ' (end)' : ''}`,
    );
  }

  private scheduleNext(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.target.isPaused() || this.index >= this.recording.frames - 1) return;
    const gap = this.recording.timeAt(this.index + 1) - this.recording.timeAt(this.index);
    this.timer = setTimeout(
      () =>
        this.guard(() => {
          this.showFrame(this.index + 1, false);
          this.scheduleNext();
        }),
      Math.max(10, Math.min(10_000, gap / this.speed())),
    );
  }
}
