// read*: user names for uids, from /etc/passwd text. /etc/passwd is not under /proc, so the
// caller passes the reader (main.ts reads /etc/passwd; tests pass a string).

export interface UserNames {
  /** Login name of a uid, or the uid as text when it has none. */
  nameOf(uid: number): string;
}

/**
 * Parse passwd(5) text: "name:password:uid:gid:gecos:home:shell" per line. Comments, blank,
 * NIS ("+"/"-") and malformed lines are skipped; for a repeated uid the first name wins, as
 * getpwuid(3) returns the first match.
 */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    const name = fields[0] ?? '';
    const uidText = fields[2] ?? '';
    if (fields.length < 4 || name === '' || !/^\d{1,10}$/.test(uidText)) continue;
    const uid = Number(uidText);
    if (!names.has(uid)) names.set(uid, name);
  }
  return names;
}

/**
 * Names read lazily on the first lookup. A uid not found triggers one re-read (users added
 * while running), at most once per distinct unknown uid, so a missing name costs little.
 */
export function createUserNames(readPasswd: () => string | null): UserNames {
  let names: Map<number, string> | null = null;
  const missed = new Set<number>();
  const load = (): Map<number, string> => {
    const text = readPasswd();
    return text === null ? new Map() : parsePasswd(text);
  };
  return {
    nameOf(uid) {
      names ??= load();
      let name = names.get(uid);
      if (name === undefined && !missed.has(uid)) {
        missed.add(uid);
        names = load();
        name = names.get(uid);
      }
      return name ?? String(uid);
    },
  };
}
