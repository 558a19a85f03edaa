// Which /proc/net tables a filter can match sockets from, so a mode that shows only matching
// sockets reads no other table (`tcp and state established` needs neither unix nor udp). Always a
// superset: a node that cannot be narrowed (not, state, address, path, owner, user) allows every
// table.

import type { Protocol } from '../model/types.js';
import { PROTOCOLS_OF_WORD, type FilterNode } from './ast.js';

/** Ports exist only on inet sockets: `port` and ranges never match a UNIX socket. */
const INET: ReadonlySet<Protocol> = new Set<Protocol>(['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6']);

/** The protocols whose sockets NODE can match; null when it may match any. */
export function protocolsOfFilter(node: FilterNode): ReadonlySet<Protocol> | null {
  switch (node.kind) {
    case 'proto':
      return new Set<Protocol>(PROTOCOLS_OF_WORD[node.name]);
    case 'port':
    case 'port-range':
      return INET;
    case 'and': {
      let acc: ReadonlySet<Protocol> | null = null;
      for (const operand of node.operands) {
        const p = protocolsOfFilter(operand);
        if (p === null) continue;
        if (acc === null) {
          acc = p;
          continue;
        }
        const both = new Set<Protocol>();
        for (const x of acc) if (p.has(x)) both.add(x);
        acc = both;
      }
      return acc;
    }
    case 'or': {
      const acc = new Set<Protocol>();
      for (const operand of node.operands) {
        const p = protocolsOfFilter(operand);
        if (p === null) return null;
        for (const x of p) acc.add(x);
      }
      return acc;
    }
    case 'all':
    case 'not':
    case 'state':
    case 'address':
    case 'path':
    case 'proc':
    case 'pid':
    case 'user':
    case 'uid':
      return null;
  }
}
