import { defineConfig } from 'vitest/config';

// Two tiers, both run by `npm test`:
// - unit: pure code, recorded /proc text, headless blessed screens, fake /proc trees in a temp
//   folder, the CLI in process. No real sockets, no child processes: safe to run in parallel.
// - live: real loopback sockets read back from this machine's /proc (with ss as the oracle), the
//   built binary spawned or driven in tmux, sshd, unshare. They see every socket on the machine
//   and compete for the CPU, so they run one file at a time.
// A test file belongs to LIVE_TESTS when any test in it does one of the live things above.
const LIVE_TESTS = [
  'test/bundle.test.ts', // spawns the single-file build, in tmux too
  'test/cli-once-output.test.ts', // spawns bin/sockscope, with a listener of its own
  'test/cli-peers.test.ts', // spawns the binary against UNIX peers in two processes and a paced loopback stream
  'test/cli.test.ts', // spawns bin/sockscope against this machine's /proc
  'test/e2e-dashboard.test.ts', // the binary in tmux
  'test/e2e-error-exits.test.ts', // the binary, in tmux for the dashboard cases
  'test/e2e-htop-keys.test.ts', // the binary in tmux, with loopback sockets and ss as the oracle
  'test/e2e-live.test.ts', // the binary in tmux, with loopback connections
  'test/e2e-partial-first-frame.test.ts', // the binary in tmux over a 100k synthetic tree
  'test/e2e-rates.test.ts', // the binary in tmux, a paced loopback stream, ss
  'test/e2e-remote-ports.test.ts', // the binary in tmux, client TIME_WAITs on loopback, ss as the oracle
  'test/e2e-signals.test.ts', // the binary in tmux, signals
  'test/e2e-troubled.test.ts', // the binary in tmux on a troubled loopback server, ss as the oracle
  'test/fuzz-serve-http.test.ts', // real HTTP connections to serve's server on loopback
  'test/injection.test.ts', // spawns the binary (and tmux) on hostile names
  'test/live-churn.test.ts', // this machine's /proc under socket churn
  'test/live-close-wait-pile.test.ts', // a CLOSE_WAIT pile on loopback, read from /proc
  'test/live-findings.test.ts', // loopback sockets in real states
  'test/live-recording.test.ts', // records this machine's /proc while sockets come and go
  'test/live-retrans.test.ts', // tc tbf on a namespace's loopback, ss through nsenter
  'test/live-snapshot.test.ts', // loopback sockets, ss as the oracle
  'test/live-ss.test.ts', // a paced loopback stream and UNIX peers between two processes, ss as the oracle
  'test/loadgen.test.ts', // the benchmark's socket populations (worker processes)
  'test/netns.test.ts', // unshare, a listener in another namespace
  'test/owner-source.test.ts', // the built owner worker on this machine's /proc
  'test/proc-tree-limits.test.ts', // spawns bin/sockscope over hostile proc trees
  'test/read-owners.test.ts', // owner scans of this machine's /proc, a child as nobody
  'test/serve-hardening.test.ts', // spawns `sockscope serve`, idle and hostile connections
  'test/serve-rates.test.ts', // spawns `sockscope serve` over a paced loopback stream
  'test/serve.test.ts', // spawns `sockscope serve`, scrapes it over HTTP
  'test/ssh.test.ts', // a private sshd on 127.0.0.1
];

const shared = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: LIVE_TESTS,
        },
      },
      {
        test: {
          ...shared,
          name: 'live',
          // After the unit tier has finished, alone and one file at a time.
          sequence: { groupOrder: 1 },
          include: LIVE_TESTS,
          fileParallelism: false,
        },
      },
    ],
  },
});
