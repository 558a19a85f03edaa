// parse*: kernel counter files → flat maps. Pure: text in, data out.
//   /proc/net/snmp, /proc/net/netstat  (net/ipv4/proc.c snmp_seq_show / netstat_seq_show):
//     line pairs "Tcp: Name1 Name2 …" / "Tcp: v1 v2 …" → {"Tcp.Name1": v1, …}. Values are counts
//     (Tcp.RtoMin/RtoMax in ms, Tcp.MaxConn -1 = no limit); some are u64, kept as (rounded) Numbers.
//   /proc/net/sockstat, sockstat6      (net/ipv4/proc.c sockstat_seq_show, net/ipv6/proc.c):
//     "TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0" → {"TCP.inuse": 1, …} (mem in pages).
//   /proc/sys/net/ipv4/ip_local_port_range: "32768\t60999".

/** Whitespace-separated fields of one line (these files are small; clarity over speed). */
function fieldsOf(line: string): string[] {
  return line.split(/[ \t]+/).filter((f) => f !== '');
}

/** Integer text ("-1", "18446744073709551615") → Number, or null when not an integer. */
function intOf(text: string): number | null {
  return /^-?\d+$/.test(text) ? Number(text) : null;
}

/**
 * Parse /proc/net/snmp or /proc/net/netstat. A header line and the value line right after it
 * must share the "Prefix:" and have the same number of fields; pairs that do not are skipped
 * (resynchronising on the next line), as are single non-integer values.
 */
export function parseSnmpTable(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let i = 0;
  while (i + 1 < lines.length) {
    const names = fieldsOf(lines[i]!);
    const values = fieldsOf(lines[i + 1]!);
    const prefix = names[0];
    if (
      prefix === undefined ||
      !prefix.endsWith(':') ||
      values[0] !== prefix ||
      names.length !== values.length ||
      // A header names things; a value line holds numbers.
      names.length < 2 ||
      intOf(names[1]!) !== null
    ) {
      i++;
      continue;
    }
    const group = prefix.slice(0, -1);
    for (let k = 1; k < names.length; k++) {
      const v = intOf(values[k]!);
      if (v !== null) out[`${group}.${names[k]!}`] = v;
    }
    i += 2;
  }
  return out;
}

/**
 * Parse /proc/net/sockstat or sockstat6: "PREFIX: name value name value …" per line →
 * {"PREFIX.name": value}. Lines with an odd name/value layout keep the pairs that parse.
 */
export function parseSockstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const f = fieldsOf(line);
    const prefix = f[0];
    if (prefix === undefined || !prefix.endsWith(':')) continue;
    const group = prefix.slice(0, -1);
    for (let k = 1; k + 1 < f.length; k += 2) {
      const v = intOf(f[k + 1]!);
      if (v !== null) out[`${group}.${f[k]!}`] = v;
    }
  }
  return out;
}

/** Ephemeral port range from /proc/sys/net/ipv4/ip_local_port_range, or null when malformed. */
export function parsePortRange(text: string): { low: number; high: number } | null {
  const f = fieldsOf(text.trim());
  if (f.length !== 2) return null;
  const low = intOf(f[0]!);
  const high = intOf(f[1]!);
  if (low === null || high === null) return null;
  if (low < 0 || high > 65535 || low > high) return null;
  return { low, high };
}
