import blessed from 'blessed';
import { describe, expect, it } from 'vitest';

import {
  DATAGRAM_STATES,
  DATAGRAM_STATE_SHORT,
  RAW_STATE_EXPLANATION,
  STATE_COLOR,
  STATE_EXPLANATION,
  TCP_STATES,
  TCP_STATE_EXPLANATION,
  TCP_STATE_SHORT,
  TCP_TRANSITIONS,
  TIMER_LABEL,
  UDP_STATE_EXPLANATION,
  UNIX_STATES,
  UNIX_STATE_EXPLANATION,
  UNIX_STATE_SHORT,
  UNKNOWN_STATE_EXPLANATION,
  explainState,
  protocolGroup,
  stateLabel,
  type StateExplanation,
} from '../src/model/state-info.js';
import type { Protocol, SocketState, TimerKind } from '../src/model/types.js';

// @types/blessed only declares colors.match; convert and colorNames are in lib/colors.js.
const blessedColors = blessed.colors as unknown as {
  convert(color: string): number;
  colorNames: Record<string, number>;
};
/** What blessed's colors.convert returns for a name it does not know. */
const BLESSED_UNKNOWN_COLOR = 0x1ff;

const ALL_PROTOCOLS: readonly Protocol[] = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix'];
const ALL_STATES: readonly SocketState[] = [...new Set<SocketState>([...TCP_STATES, ...DATAGRAM_STATES, ...UNIX_STATES])];
const ALL_TIMERS: readonly TimerKind[] = ['off', 'on', 'keepalive', 'timewait', 'probe'];

function statesOf(protocol: Protocol): readonly SocketState[] {
  switch (protocolGroup(protocol)) {
    case 'tcp':
      return TCP_STATES;
    case 'udp':
    case 'raw':
      return DATAGRAM_STATES;
    case 'unix':
      return UNIX_STATES;
  }
}

function expectComplete(explanation: StateExplanation): void {
  for (const field of ['title', 'meaning', 'cause', 'typicalDuration', 'pileUp'] as const) {
    expect(explanation[field].trim(), field).not.toBe('');
  }
  expect(['client', 'server', 'both', 'either']).toContain(explanation.side);
  if (explanation.action !== undefined) expect(explanation.action.trim()).not.toBe('');
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe('state lists', () => {
  it('list each state once, matching the keys of the exhaustive tables', () => {
    expect(new Set(TCP_STATES).size).toBe(TCP_STATES.length);
    expect(sorted(TCP_STATES)).toEqual(sorted(Object.keys(TCP_STATE_SHORT)));
    expect(sorted(TCP_STATES)).toEqual(sorted(Object.keys(TCP_STATE_EXPLANATION)));
    expect(sorted(DATAGRAM_STATES)).toEqual(sorted(Object.keys(DATAGRAM_STATE_SHORT)));
    expect(sorted(DATAGRAM_STATES)).toEqual(sorted(Object.keys(UDP_STATE_EXPLANATION)));
    expect(sorted(DATAGRAM_STATES)).toEqual(sorted(Object.keys(RAW_STATE_EXPLANATION)));
    expect(sorted(UNIX_STATES)).toEqual(sorted(Object.keys(UNIX_STATE_SHORT)));
    expect(sorted(UNIX_STATES)).toEqual(sorted(Object.keys(UNIX_STATE_EXPLANATION)));
    expect(sorted(ALL_STATES)).toEqual(sorted(Object.keys(STATE_COLOR)));
  });

  it('keeps TCP states in lifecycle order', () => {
    expect(TCP_STATES[0]).toBe('LISTEN');
    expect(TCP_STATES.indexOf('SYN_SENT')).toBeLessThan(TCP_STATES.indexOf('ESTABLISHED'));
    expect(TCP_STATES.indexOf('ESTABLISHED')).toBeLessThan(TCP_STATES.indexOf('FIN_WAIT1'));
    expect(TCP_STATES.indexOf('LAST_ACK')).toBeLessThan(TCP_STATES.indexOf('TIME_WAIT'));
    expect(TCP_STATES.at(-1)).toBe('CLOSE');
  });
});

describe('stateLabel', () => {
  it('gives every state of every protocol a short, non-empty label', () => {
    for (const protocol of ALL_PROTOCOLS) {
      for (const state of statesOf(protocol)) {
        const label = stateLabel(protocol, state);
        expect(label, `${protocol} ${state}`).toMatch(/^[A-Z0-9-]{1,10}$/);
      }
    }
  });

  it.each([
    ['tcp', 'ESTABLISHED', 'ESTAB'],
    ['tcp6', 'TIME_WAIT', 'TIME-WAIT'],
    ['tcp', 'FIN_WAIT1', 'FIN-WAIT-1'],
    ['tcp', 'CLOSE_WAIT', 'CLOSE-WAIT'],
    ['tcp', 'SYN_RECV', 'SYN-RECV'],
    ['udp', 'UNCONN', 'UNCONN'],
    ['udp6', 'ESTABLISHED', 'ESTAB'],
    ['raw', 'UNCONN', 'UNCONN'],
    ['unix', 'LISTENING', 'LISTEN'],
    ['unix', 'CONNECTED', 'ESTAB'],
    ['unix', 'UNCONNECTED', 'UNCONN'],
  ] as const)('%s %s → %s', (protocol, state, label) => {
    expect(stateLabel(protocol, state)).toBe(label);
  });

  it('falls back to the kernel name for a state foreign to the protocol', () => {
    expect(stateLabel('udp', 'TIME_WAIT')).toBe('TIME-WAIT');
    expect(stateLabel('unix', 'LISTEN')).toBe('LISTEN');
  });
});

describe('STATE_COLOR', () => {
  it('checks the probe: blessed rejects unknown colour names', () => {
    expect(blessedColors.convert('no-such-colour')).toBe(BLESSED_UNKNOWN_COLOR);
  });

  it.each(ALL_STATES)('%s has a named blessed colour usable on 8-colour terminals', (state) => {
    const name = STATE_COLOR[state];
    expect(Object.hasOwn(blessedColors.colorNames, name), name).toBe(true);
    const code = blessedColors.convert(name);
    expect(code).not.toBe(BLESSED_UNKNOWN_COLOR);
    expect(code).not.toBe(-1);
    // 0-15 are the ANSI colours; 8-15 fold back onto 1-7 on 8 colours. 0 and 8 (black/gray) would vanish.
    expect(code).toBeGreaterThanOrEqual(1);
    expect(code).toBeLessThanOrEqual(15);
    expect(code % 8).not.toBe(0);
  });

  it('makes the problem states stand out from the healthy ones', () => {
    expect(STATE_COLOR.ESTABLISHED).toBe('green');
    expect(STATE_COLOR.CLOSE_WAIT).not.toBe(STATE_COLOR.ESTABLISHED);
    expect(STATE_COLOR.CLOSE_WAIT).toMatch(/red/);
    expect(STATE_COLOR.SYN_RECV).not.toBe(STATE_COLOR.ESTABLISHED);
    expect(STATE_COLOR.TIME_WAIT).not.toBe(STATE_COLOR.CLOSE_WAIT);
  });
});

describe('explanations', () => {
  it('explain every state of every protocol with all fields filled', () => {
    for (const protocol of ALL_PROTOCOLS) {
      for (const state of statesOf(protocol)) {
        const explanation = explainState(protocol, state);
        expect(explanation, `${protocol} ${state}`).not.toBe(UNKNOWN_STATE_EXPLANATION);
        expectComplete(explanation);
      }
    }
    for (const table of Object.values(STATE_EXPLANATION)) {
      for (const explanation of Object.values(table)) expectComplete(explanation);
    }
    expectComplete(UNKNOWN_STATE_EXPLANATION);
  });

  it('tells connected UDP apart from established TCP', () => {
    expect(explainState('udp', 'ESTABLISHED')).toBe(UDP_STATE_EXPLANATION.ESTABLISHED);
    expect(explainState('tcp6', 'ESTABLISHED')).toBe(TCP_STATE_EXPLANATION.ESTABLISHED);
    expect(explainState('raw6', 'UNCONN')).toBe(RAW_STATE_EXPLANATION.UNCONN);
  });

  it('returns the unknown explanation for a state foreign to the protocol', () => {
    expect(explainState('udp', 'CLOSE_WAIT')).toBe(UNKNOWN_STATE_EXPLANATION);
    expect(explainState('unix', 'ESTABLISHED')).toBe(UNKNOWN_STATE_EXPLANATION);
  });

  const text = (e: StateExplanation): string => [e.title, e.meaning, e.cause, e.typicalDuration, e.pileUp, e.action ?? ''].join(' ');

  it('TIME_WAIT: 60 s, fixed, port exhaustion, tcp_tw_reuse', () => {
    const e = TCP_STATE_EXPLANATION.TIME_WAIT;
    expect(e.typicalDuration).toMatch(/60 s/);
    expect(e.typicalDuration).toMatch(/TCP_TIMEWAIT_LEN/);
    expect(e.meaning).toMatch(/closed first/);
    expect(e.pileUp).toMatch(/ip_local_port_range/);
    expect(e.action).toMatch(/tcp_tw_reuse/);
  });

  it('CLOSE_WAIT: the peer closed and the application has not', () => {
    const e = TCP_STATE_EXPLANATION.CLOSE_WAIT;
    expect(e.meaning).toMatch(/peer has closed/);
    expect(e.meaning).toMatch(/application has not called close\(\)/);
    expect(e.pileUp).toMatch(/application bug/i);
    expect(e.action).toMatch(/process/);
  });

  it('FIN_WAIT2: orphans time out after tcp_fin_timeout', () => {
    const e = TCP_STATE_EXPLANATION.FIN_WAIT2;
    expect(e.typicalDuration).toMatch(/tcp_fin_timeout/);
    expect(e.typicalDuration).toMatch(/60 s/);
    expect(e.typicalDuration).toMatch(/forever/);
  });

  it('handshake and close details', () => {
    expect(text(TCP_STATE_EXPLANATION.SYN_SENT)).toMatch(/tcp_syn_retries.*127 s/);
    expect(text(TCP_STATE_EXPLANATION.SYN_RECV)).toMatch(/tcp_syncookies/);
    expect(text(TCP_STATE_EXPLANATION.SYN_RECV)).toMatch(/accept queue/);
    expect(text(TCP_STATE_EXPLANATION.LISTEN)).toMatch(/Recv-Q/);
    expect(text(TCP_STATE_EXPLANATION.FIN_WAIT1)).toMatch(/tcp_orphan_retries/);
    expect(TCP_STATE_EXPLANATION.SYN_SENT.side).toBe('client');
    expect(TCP_STATE_EXPLANATION.SYN_RECV.side).toBe('server');
    expect(TCP_STATE_EXPLANATION.ESTABLISHED.side).toBe('both');
  });
});

describe('TCP_TRANSITIONS', () => {
  const known = new Set<string>([...TCP_STATES, 'CLOSED']);

  it('references only known states', () => {
    for (const { from, to, event } of TCP_TRANSITIONS) {
      expect(known.has(from), from).toBe(true);
      expect(known.has(to), to).toBe(true);
      expect(event.trim()).not.toBe('');
      expect(from).not.toBe(to);
    }
  });

  it('has no duplicate edges', () => {
    const edges = TCP_TRANSITIONS.map((t) => `${t.from}>${t.to}`);
    expect(new Set(edges).size).toBe(edges.length);
  });

  it('covers every TCP state except the kernel-only NEW_SYN_RECV and CLOSE', () => {
    const seen = new Set<string>(TCP_TRANSITIONS.flatMap((t) => [t.from, t.to]));
    for (const state of TCP_STATES) {
      if (state === 'NEW_SYN_RECV' || state === 'CLOSE') continue;
      expect(seen.has(state), state).toBe(true);
    }
  });

  it.each([
    ['CLOSED', 'LISTEN'],
    ['CLOSED', 'SYN_SENT'],
    ['LISTEN', 'SYN_RECV'],
    ['SYN_SENT', 'ESTABLISHED'],
    ['SYN_RECV', 'ESTABLISHED'],
    ['ESTABLISHED', 'FIN_WAIT1'],
    ['ESTABLISHED', 'CLOSE_WAIT'],
    ['FIN_WAIT1', 'FIN_WAIT2'],
    ['FIN_WAIT1', 'CLOSING'],
    ['FIN_WAIT2', 'TIME_WAIT'],
    ['CLOSING', 'TIME_WAIT'],
    ['CLOSE_WAIT', 'LAST_ACK'],
    ['LAST_ACK', 'CLOSED'],
    ['TIME_WAIT', 'CLOSED'],
  ])('has the edge %s → %s', (from, to) => {
    expect(TCP_TRANSITIONS.some((t) => t.from === from && t.to === to)).toBe(true);
  });

  it('ends TIME_WAIT after 60 s', () => {
    const edge = TCP_TRANSITIONS.find((t) => t.from === 'TIME_WAIT');
    expect(edge?.event).toMatch(/60 s/);
  });
});

describe('TIMER_LABEL', () => {
  it('names every timer', () => {
    expect(sorted(Object.keys(TIMER_LABEL))).toEqual(sorted(ALL_TIMERS));
    for (const timer of ALL_TIMERS) expect(TIMER_LABEL[timer].trim()).not.toBe('');
    expect(TIMER_LABEL.on).toBe('retransmit');
    expect(TIMER_LABEL.probe).toBe('zero-window probe');
  });
});
