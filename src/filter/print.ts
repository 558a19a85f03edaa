// Filter language: AST → text, the normalised form shown as the active filter. Pure.

import type { FilterNode, Side } from './ast.js';

const PORT_KEYWORD: Readonly<Record<Side, string>> = { either: 'port', local: 'sport', remote: 'dport' };
const ADDRESS_KEYWORD: Readonly<Record<Side, string>> = { either: 'host', local: 'src', remote: 'dst' };

/** A value as it must be typed to come back as one word: quoted when it would not lex as one. */
function quoteValue(value: string): string {
  const plain = value !== '' && /^[^\s()!=<>&|"']+$/.test(value) && !['and', 'or', 'not'].includes(value.toLowerCase());
  if (plain) return value;
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/**
 * Normalised text of an AST, for showing the active filter: canonical keywords and state names,
 * `not` for `!=`, parentheses only where precedence needs them. Parsing the result gives the same
 * AST back. The empty filter describes as ''.
 */
export function describeFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'all':
      return '';
    case 'and':
      return node.operands.map((o) => (o.kind === 'or' ? `(${describeFilter(o)})` : describeFilter(o))).join(' and ');
    case 'or':
      return node.operands.map(describeFilter).join(' or ');
    case 'not': {
      const inner = describeFilter(node.operand);
      return node.operand.kind === 'and' || node.operand.kind === 'or' ? `not (${inner})` : `not ${inner}`;
    }
    case 'port':
      return node.op === '=' ? `${PORT_KEYWORD[node.side]} ${node.port}` : `${PORT_KEYWORD[node.side]} ${node.op} ${node.port}`;
    case 'port-range':
      return `${PORT_KEYWORD[node.side]} ${node.low}-${node.high}`;
    case 'state':
      return `state ${node.name}`;
    case 'address': {
      const full = node.family === 'ipv4' ? 32 : 128;
      const cidr = node.prefixLength === full ? node.address : `${node.address}/${node.prefixLength}`;
      const text = node.port === null ? cidr : node.family === 'ipv6' ? `[${cidr}]:${node.port}` : `${cidr}:${node.port}`;
      return `${ADDRESS_KEYWORD[node.side]} ${text}`;
    }
    case 'path':
      return `src ${quoteValue(node.pattern)}`;
    case 'proc':
      return `proc ${quoteValue(node.pattern)}`;
    case 'pid':
      return `pid ${node.pid}`;
    case 'user':
      return `user ${quoteValue(node.name)}`;
    case 'uid':
      return `user ${node.uid}`;
    case 'proto':
      return `proto ${node.name}`;
  }
}
