// What the composition root (src/main.ts) hands to the headless modes: the injected services
// (streams, clocks, signals, readers) and the context built once from the options. The modes
// import these types from here, never from main.ts.

import type { CompiledFilter } from '../filter/index.js';
import type { AsyncOwnerSource, CollectDeps } from '../proc/collect-snapshot.js';
import type { Protocol } from '../model/types.js';
import type { ServiceTable } from '../proc/parse-services.js';
import type { ProcFs } from '../proc/proc-fs.js';
import type { ReadBoundedText } from '../proc/read-services.js';
import type { RunCommand } from '../proc/read-ss-info.js';
import type { SshProcFs } from '../proc/ssh/proc-fs.js';
import type { CliOptions } from './options.js';

export interface OutputStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface Services {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  readonly now: () => number;
  readonly monotonicMs: () => number;
  readonly hostname: () => string;
  /** Text of /etc/passwd for user names (not under /proc), or null. */
  readonly readPasswd: () => string | null;
  readonly createProcFs: (root: string) => ProcFs;
  /** Where process-wide signals are subscribed (process by default). */
  readonly signals: Pick<NodeJS.Process, 'on' | 'off' | 'once'>;
  /** Send a signal to this process (the dashboard's Ctrl-Z stops it this way). */
  readonly raiseSignal: (signal: NodeJS.Signals) => void;
  /** Bounded reads of files outside /proc (/etc/services); absent: the real file system. */
  readonly readBoundedText?: ReadBoundedText;
  /** Runs `ss` (no shell); absent: the real one. */
  readonly runCommand?: RunCommand;
}

/** Everything a mode needs, built once. */
export interface AppContext {
  readonly options: CliOptions;
  readonly services: Services;
  readonly procFs: ProcFs;
  readonly collectDeps: CollectDeps;
  readonly filterText: string | null;
  readonly filter: CompiledFilter | null;
  /**
   * The only /proc/net tables the filter can match sockets from (protocolsOfFilter), or
   * null/absent for all: modes that show matching sockets only read no other table.
   */
  readonly filterProtocols?: ReadonlySet<Protocol> | null;
  /**
   * Which network namespace is shown, for the dashboard header: null for sockscope's own,
   * "net:[4026532281] via pid 1234 (nginx)" with --pid (the process name is untrusted text).
   */
  readonly scopeLabel: string | null;
  /**
   * --ssh: the remote host's /proc (only its async reads work) and the owner source reading over
   * the same session. The modes then collect with collectSnapshotAsync. Absent or null: this machine.
   */
  readonly remote?: RemoteContext | null;
  /** /etc/services, read on first use (service names in the filter and next to ports). */
  readonly serviceTable?: () => ServiceTable;
  /**
   * --pid: a one-line message once that process is gone (its /proc/PID/net cannot be read, or
   * its pid now lives in another namespace), else null. Absent or null without --pid.
   */
  readonly targetGone?: (() => string | null) | null;
}

/** What --ssh adds to the context (see AppContext.remote). */
export interface RemoteContext {
  readonly procFs: SshProcFs;
  /** null with --no-processes. */
  readonly owners: AsyncOwnerSource | null;
}
