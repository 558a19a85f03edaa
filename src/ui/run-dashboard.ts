// Starts the full-screen dashboard: one blessed screen over the injected streams, one poller
// that collects a snapshot per interval and hands it over whole, key bindings that become
// reducer actions, and a terminal that is always restored (quit, signals, errors).

import blessed from 'blessed';
import type { AppContext } from '../main.js';
import { collectSnapshotAsync, type AsyncCollectDeps } from '../proc/collect-snapshot.js';
import { createWorkerOwnerSource } from '../proc/owner-source.js';
import { createOwnerScanner } from '../proc/read-owners.js';
import { readTcpInfo } from '../proc/read-tcp-info.js';
import { Dashboard } from './dashboard.js';
import { handleKey } from './keys.js';

/** blessed reads its own bundled terminfo best for these; others degrade to plain xterm. */
export function chooseTerminal(term: string | undefined): string {
  const t = (term ?? '').toLowerCase();
  if (t === '' || t === 'dumb') return 'xterm';
  if (/256col/.test(t)) return 'xterm-256color';
  if (/^(xterm|screen|tmux|rxvt|linux|vt\d+|ansi)/.test(t)) return t.startsWith('vt') ? t : 'xterm';
  return 'xterm';
}

export function isUtf8Locale(env: NodeJS.ProcessEnv): boolean {
  const locale = env['LC_ALL'] || env['LC_CTYPE'] || env['LANG'] || '';
  return /utf-?8/i.test(locale);
}

export function wantsColor(env: NodeJS.ProcessEnv, option: boolean): boolean {
  return option && (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '');
}

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export function runDashboard(ctx: AppContext): Promise<number> {
  const { services, options } = ctx;
  const utf8 = isUtf8Locale(services.env);
  const theme = { color: wantsColor(services.env, options.color), ascii: !utf8 };
  const screen = blessed.screen({
    input: services.stdin as never,
    output: services.stdout as never,
    terminal: chooseTerminal(services.env['TERM']),
    smartCSR: true,
    useBCE: true,
    fullUnicode: utf8,
    forceUnicode: utf8,
    warnings: false,
    title: 'sockscope',
    autoPadding: true,
  });

  const owners = options.processes ? createWorkerOwnerSource(ctx.procFs.root, () => createOwnerScanner(ctx.procFs)) : null;
  const deps: AsyncCollectDeps = { ...ctx.collectDeps, owners };

  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let collecting = false;
    let intervalMs = options.intervalMs;
    let finished = false;

    const finish = (code: number, message?: string): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      dashboard.destroy();
      void owners?.close();
      for (const [sig, fn] of handlers) services.signals.off(sig, fn);
      try {
        screen.destroy();
      } catch {
        // the terminal may already be gone (SIGHUP): nothing left to restore
      }
      if (message !== undefined) services.stderr.write(`sockscope: ${message}\n`);
      resolve(code);
    };

    const dashboard = new Dashboard(screen, {
      intervalMs,
      filterText: ctx.filterText ?? '',
      theme,
      timeZoneOffsetMin: new Date().getTimezoneOffset(),
      fetchTcpInfo: (s) => readTcpInfo(s),
      onIntervalChange: (ms) => {
        intervalMs = ms;
        schedule(ms);
      },
      onQuit: () => finish(0),
    });

    // One poller: the next collection is scheduled when this one has been handed over, so
    // refreshes never overlap however long a busy machine takes.
    const tick = (): void => {
      timer = undefined;
      collecting = true;
      const started = services.monotonicMs();
      collectSnapshotAsync(deps).then(
        (snapshot) => {
          collecting = false;
          if (finished) return;
          dashboard.onSnapshot(snapshot);
          schedule(Math.max(0, intervalMs - (services.monotonicMs() - started)));
        },
        (err: unknown) => finish(1, `collecting sockets failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    };
    const schedule = (ms: number): void => {
      if (finished || collecting) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(tick, ms);
    };

    const handlers: [string, (...args: unknown[]) => void][] = [
      ['SIGTERM', () => finish(SIGNAL_EXIT['SIGTERM'] ?? 1)],
      ['SIGINT', () => finish(SIGNAL_EXIT['SIGINT'] ?? 1)],
      ['SIGHUP', () => finish(SIGNAL_EXIT['SIGHUP'] ?? 1)],
      ['uncaughtException', (err) => finish(1, `internal error: ${err instanceof Error ? err.message : String(err)}`)],
      [
        'SIGTSTP',
        () => {
          // Stopped from outside (kill -TSTP): leave the terminal usable, come back on SIGCONT.
          const resume = screen.program.pause();
          services.signals.once('SIGCONT', () => {
            resume();
            screen.alloc();
            dashboard.render();
          });
          process.kill(process.pid, 'SIGSTOP');
        },
      ],
    ];
    for (const [sig, fn] of handlers) services.signals.on(sig, fn);
    services.stdout.on?.('error', () => finish(0));

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      if (key?.full === 'C-z') {
        screen.program.sigtstp(() => {
          screen.alloc();
          dashboard.render();
        });
        return;
      }
      handleKey(dashboard, ch, key);
    });
    screen.on('resize', () => dashboard.render());

    dashboard.render();
    // First snapshot right away (the loading line is drawn first).
    timer = setTimeout(tick, 0);
  });
}
