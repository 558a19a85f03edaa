// Errors of the --ssh data source. Kept apart so that code which only tells them apart
// (`instanceof SshError`) does not load the ssh protocol, child_process or crypto.

/** A failure to talk to the remote host, with a one-line message meant for the user. */
export class SshError extends Error {
  override readonly name = 'SshError';
}

/** Thrown by the sync ProcFs methods over ssh: a code path that must use the async collector. */
export class SshSyncReadError extends Error {
  override readonly name = 'SshSyncReadError';
}
