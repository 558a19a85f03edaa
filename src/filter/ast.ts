// Filter language: the AST that parseFilter builds and the evaluator compiles, and the words the
// language knows (protocols, state spellings, keywords). Pure data and types.

import type { Protocol } from '../model/types.js';

/** Which end of a socket a predicate looks at: local (src/sport), remote (dst/dport) or either. */
export type Side = 'local' | 'remote' | 'either';

/** Port comparisons; `!=` is parsed as `not (… = …)`. */
export type PortOp = '=' | '<' | '>' | '<=' | '>=';

/** ss's socket states (its lower-case names; `listen` rather than ss's `listening`). */
export type SsState =
  | 'established'
  | 'syn-sent'
  | 'syn-recv'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'time-wait'
  | 'closed'
  | 'close-wait'
  | 'last-ack'
  | 'listen'
  | 'closing';

/** ss's state groups (ss(8) "STATE-FILTER"). */
export type StateGroup = 'all' | 'connected' | 'synchronized' | 'bucket' | 'big';

/** Canonical state name in the AST; every accepted spelling is turned into one of these. */
export type StateName = SsState | StateGroup;

export type ProtoName = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'raw' | 'raw6' | 'unix' | 'inet' | 'inet6';

export type FilterNode =
  /** The empty filter: matches every socket. Only ever the whole AST. */
  | { readonly kind: 'all' }
  | { readonly kind: 'and'; readonly operands: readonly FilterNode[] }
  | { readonly kind: 'or'; readonly operands: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly operand: FilterNode }
  | { readonly kind: 'port'; readonly side: Side; readonly op: PortOp; readonly port: number }
  /** Inclusive range, low ≤ high. */
  | { readonly kind: 'port-range'; readonly side: Side; readonly low: number; readonly high: number }
  | { readonly kind: 'state'; readonly name: StateName }
  /**
   * IP address or CIDR. `address` is the address as typed (lower-cased, without brackets, prefix
   * or port); `prefixLength` is 32 / 128 when none was given; `port` comes from `1.2.3.4:80`.
   */
  | {
      readonly kind: 'address';
      readonly side: Side;
      readonly family: 'ipv4' | 'ipv6';
      readonly address: string;
      readonly prefixLength: number;
      readonly port: number | null;
    }
  /** UNIX socket path (exact or glob), from `src /run/*.sock` or `host @abstract`. */
  | { readonly kind: 'path'; readonly pattern: string }
  /** Owner command name (/proc/<pid>/comm), exact or glob with `*` and `?`. */
  | { readonly kind: 'proc'; readonly pattern: string }
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'user'; readonly name: string }
  | { readonly kind: 'uid'; readonly uid: number }
  | { readonly kind: 'proto'; readonly name: ProtoName };

// ---------------------------------------------------------------------------------------------
// Vocabulary

/** Which /proc/net tables each protocol word selects. */
export const PROTOCOLS_OF_WORD = {
  tcp: ['tcp', 'tcp6'],
  tcp6: ['tcp6'],
  udp: ['udp', 'udp6'],
  udp6: ['udp6'],
  raw: ['raw', 'raw6'],
  raw6: ['raw6'],
  unix: ['unix'],
  inet: ['tcp', 'udp', 'raw'],
  inet6: ['tcp6', 'udp6', 'raw6'],
} as const satisfies Record<ProtoName, readonly Protocol[]>;

/** Every protocol word, in PROTOCOLS_OF_WORD's order (for suggestions and messages). */
export const PROTO_NAMES: readonly ProtoName[] = Object.keys(PROTOCOLS_OF_WORD) as ProtoName[];

/**
 * Every spelling `state` accepts, after lower-casing and turning '_' into '-' (so the kernel's
 * SYN_SENT and FIN_WAIT1 arrive as syn-sent and fin-wait1). Kernel names, ss names, ss groups
 * and short forms. UNIX kernel names map the way ss maps UNIX states (CONNECTING → syn-sent,
 * DISCONNECTING → closing, UNCONNECTED → closed). What each canonical name matches is decided
 * by SS_STATE_OF in evaluate.ts.
 */
export const STATE_WORDS: ReadonlyMap<string, StateName> = new Map<string, StateName>([
  ['established', 'established'],
  ['estab', 'established'],
  ['syn-sent', 'syn-sent'],
  ['connecting', 'syn-sent'],
  ['syn-recv', 'syn-recv'],
  ['new-syn-recv', 'syn-recv'],
  ['fin-wait-1', 'fin-wait-1'],
  ['fin-wait1', 'fin-wait-1'],
  ['fin-wait-2', 'fin-wait-2'],
  ['fin-wait2', 'fin-wait-2'],
  ['time-wait', 'time-wait'],
  ['timewait', 'time-wait'],
  ['tw', 'time-wait'],
  ['closed', 'closed'],
  ['close', 'closed'],
  ['unconn', 'closed'],
  ['unconnected', 'closed'],
  ['close-wait', 'close-wait'],
  ['cw', 'close-wait'],
  ['last-ack', 'last-ack'],
  ['listen', 'listen'],
  ['listening', 'listen'],
  ['closing', 'closing'],
  ['disconnecting', 'closing'],
  ['all', 'all'],
  ['connected', 'connected'],
  ['synchronized', 'synchronized'],
  ['bucket', 'bucket'],
  ['big', 'big'],
]);

/** Keywords that start a predicate. */
export const FILTER_KEYWORDS = ['port', 'sport', 'dport', 'state', 'host', 'src', 'dst', 'proc', 'pid', 'user', 'proto'] as const;
export type FilterKeyword = (typeof FILTER_KEYWORDS)[number];
