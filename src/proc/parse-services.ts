// parse*: /etc/services (services(5)): "name port/protocol [aliases…] [# comment]".
// Gives name → port for the filter (`port http`) and port → name for the view (":5432 postgresql").

export interface ServiceTable {
  /** Lowercased name or alias → port; a name listed for several ports keeps its tcp entry (else the first). */
  readonly portOf: ReadonlyMap<string, number>;
  /** Port → the first name listed for it (tcp preferred), for display next to well-known ports. */
  readonly nameOf: ReadonlyMap<number, string>;
  /** Lines that did not parse (not counting blanks and comments). */
  readonly skipped: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+\-/]*$/;
/** Entries kept: a bound on what a large or hostile file can make us hold. */
export const MAX_SERVICE_ENTRIES = 20_000;

export function parseServices(text: string): ServiceTable {
  const portOf = new Map<string, number>();
  const portProto = new Map<string, string>();
  const nameOf = new Map<number, string>();
  const nameProto = new Map<number, string>();
  let skipped = 0;
  let entries = 0;
  for (const rawLine of text.split('\n')) {
    const hash = rawLine.indexOf('#');
    const line = (hash >= 0 ? rawLine.slice(0, hash) : rawLine).trim();
    if (line === '') continue;
    const [name, portProtoText, ...aliases] = line.split(/\s+/);
    const m = /^(\d{1,5})\/([a-z0-9]+)$/i.exec(portProtoText ?? '');
    if (name === undefined || !NAME.test(name) || m === null || Number(m[1]) > 65535) {
      skipped++;
      continue;
    }
    if (++entries > MAX_SERVICE_ENTRIES) break;
    const port = Number(m[1]);
    const proto = m[2]!.toLowerCase();
    for (const n of [name, ...aliases.filter((a) => NAME.test(a))]) {
      const key = n.toLowerCase();
      if (!portOf.has(key) || (proto === 'tcp' && portProto.get(key) !== 'tcp')) {
        portOf.set(key, port);
        portProto.set(key, proto);
      }
    }
    if (!nameOf.has(port) || (proto === 'tcp' && nameProto.get(port) !== 'tcp')) {
      nameOf.set(port, name);
      nameProto.set(port, proto);
    }
  }
  return { portOf, nameOf, skipped };
}

export const EMPTY_SERVICES: ServiceTable = { portOf: new Map(), nameOf: new Map(), skipped: 0 };
