// Terminal faults, end to end: the real binary in tmux on a recorded /proc, then signals from
// outside. Every exit restores the normal screen and the cursor; a stop from outside (SIGTSTP)
// leaves the terminal usable and SIGCONT brings the dashboard back. Nothing asserts a timing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TmuxSession, hasTmux } from './helpers/tmux.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');

/** A recorded /proc tree: net/* from the fixtures, no processes. */
function recordedTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-signals-'));
  fs.mkdirSync(path.join(root, 'net'));
  for (const name of ['tcp', 'tcp6', 'udp', 'udp6', 'unix', 'snmp', 'netstat']) {
    const from = path.join(FIXTURES, name);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(root, 'net', name));
  }
  return root;
}

describe.skipIf(!hasTmux || process.platform !== 'linux')('signals and terminal faults', () => {
  let tree = '';
  const sessions: TmuxSession[] = [];
  beforeAll(() => {
    tree = recordedTree();
  });
  afterAll(() => {
    for (const s of sessions) s.kill();
    fs.rmSync(tree, { recursive: true, force: true });
  });

  async function started(): Promise<{ s: TmuxSession; pid: number }> {
    const s = TmuxSession.start({ args: ['--proc-root', tree, '--no-processes'], width: 80, height: 24 });
    sessions.push(s);
    await s.waitFor(/Sockets|By port|TCP states/, 20_000);
    const pid = s.sockscopePid();
    expect(pid).not.toBeNull();
    expect(s.display('#{alternate_on}')).toBe('1');
    return { s, pid: pid ?? 0 };
  }

  it.each([
    ['SIGHUP', 129],
    ['SIGINT', 130],
    ['SIGQUIT', 131],
  ] as const)('%s: exits %d with the normal screen and the cursor back', async (signal, code) => {
    const { s, pid } = await started();
    process.kill(pid, signal);
    const after = await s.waitFor(/\[exit=\d+\]/, 15_000);
    expect(after).toContain(`[exit=${code}]`);
    expect(s.display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('the window title is left alone: never set, so nothing is left behind on exit', async () => {
    // TMUX empty: blessed writes title sequences straight to the pane (inside tmux it would wrap
    // them for the outer terminal), where they set #{pane_title}.
    const s = TmuxSession.start({ args: ['--proc-root', tree, '--no-processes'], env: { TMUX: '' }, width: 80, height: 24 });
    sessions.push(s);
    await s.waitFor(/Sockets|By port|TCP states/, 20_000);
    const before = s.display('#{pane_title}');
    expect(before).not.toBe('sockscope');
    await s.sendKeys('q');
    await s.waitFor(/\[exit=0\]/, 15_000);
    expect(s.display('#{pane_title}')).toBe(before);
  });

  it('SIGTSTP from outside: the terminal is left usable; SIGCONT brings the dashboard back', async () => {
    const { s, pid } = await started();
    process.kill(pid, 'SIGTSTP');
    // Stopped: the normal screen is back while it is stopped.
    const deadline = Date.now() + 15_000;
    while (s.display('#{alternate_on}') !== '0' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(s.display('#{alternate_on}')).toBe('0');
    expect(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0]).toBe('T');
    process.kill(pid, 'SIGCONT');
    await s.waitFor(/Sockets|TCP states/, 15_000);
    const back = Date.now() + 15_000;
    while (s.display('#{alternate_on}') !== '1' && Date.now() < back) await new Promise((r) => setTimeout(r, 100));
    expect(s.display('#{alternate_on}')).toBe('1');
    // Still answering keys after the stop.
    await s.sendKeys('?');
    await s.waitFor(/Help/, 10_000);
    await s.sendKeys('Escape');
    await s.sendKeys('q');
    const after = await s.waitFor(/\[exit=\d+\]/, 15_000);
    expect(after).toContain('[exit=0]');
    expect(s.display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('Ctrl-Z stops like any terminal program, and continuing (fg) redraws', async () => {
    const { s, pid } = await started();
    await s.sendKeys('C-z');
    const deadline = Date.now() + 15_000;
    const state = (): string | undefined => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    while ((state() !== 'T' || s.display('#{alternate_on}') !== '0') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(state()).toBe('T');
    expect(s.display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    process.kill(pid, 'SIGCONT'); // what the shell's fg sends
    await s.waitFor(/Sockets|TCP states/, 15_000);
    await s.sendKeys('q');
    const after = await s.waitFor(/\[exit=\d+\]/, 15_000);
    expect(after).toContain('[exit=0]');
    expect(s.display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('a resize storm ends in a correct frame at the final size', async () => {
    const { s } = await started();
    for (const [w, h] of [
      [100, 30],
      [40, 10],
      [160, 45],
      [61, 17],
      [90, 26],
      [50, 12],
      [80, 24],
    ] as const)
      s.resize(w, h);
    const screen = await s.waitFor((sc) => /Sockets/.test(sc) && !/too small/.test(sc), 15_000);
    const lines = screen.split('\n');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(lines.some((l) => /^┌─ TCP states/.test(l))).toBe(true);
    await s.sendKeys('q');
    await s.waitFor('[exit=0]', 15_000);
  });
});
