// The ssh command line of --ssh [user@]host: checks of the target and of --ssh-option values
// (run while parsing options, so this module imports nothing), and the argv given to ssh.

/** Options always passed to ssh, before the user's (ssh keeps the first value it sees). */
const FORCED_SSH_OPTIONS = [
  // No password or passphrase prompt in the middle of a full-screen dashboard: keys or an agent.
  'BatchMode=yes',
  // The session only reads: no forwarding set up by the user's ~/.ssh/config for interactive use.
  'ClearAllForwardings=yes',
  'ForwardAgent=no',
  'ForwardX11=no',
  'PermitLocalCommand=no',
];

/** Options after the user's, so --ssh-option can change them. */
const DEFAULT_SSH_OPTIONS = ['ServerAliveInterval=15', 'ConnectTimeout=10'];

/**
 * "[user@]host": a login name and a host name, IPv4 or IPv6 as ssh takes it (bob@::1, no
 * brackets); never an option (leading '-') nor anything a shell would read specially.
 */
const TARGET_RE = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]*@)?(?:[A-Za-z0-9_][A-Za-z0-9._-]*|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?)$/;

/** Check an --ssh target; returns an error text or null. */
export function checkSshTarget(target: string): string | null {
  if (TARGET_RE.test(target)) return null;
  return `expected [user@]host, e.g. bob@db1 or db1.example.com (got ${JSON.stringify(target)})`;
}

/** KEY=VALUE for `ssh -o` (--ssh-option); returns an error text or null. */
export function checkSshOption(option: string): string | null {
  if (/^[A-Za-z][A-Za-z0-9]*=[^\n\r\0]*$/.test(option)) return null;
  return `expected an ssh_config option as KEY=VALUE, e.g. Port=2222 or IdentityFile=~/.ssh/id_ed25519 (got ${JSON.stringify(option)})`;
}

/** The argv of ssh (after the program name): `ssh -T -o … -- target sh`. */
export function sshArgs(target: string, userOptions: readonly string[] = []): string[] {
  const o = (list: readonly string[]): string[] => list.flatMap((opt) => ['-o', opt]);
  return ['-T', ...o(FORCED_SSH_OPTIONS), ...o(userOptions), ...o(DEFAULT_SSH_OPTIONS), '--', target, 'sh'];
}
