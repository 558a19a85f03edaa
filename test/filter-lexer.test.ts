import { describe, expect, it } from 'vitest';

import { tokenizeFilter, type TokenKind } from '../src/filter/lexer.js';

/** [kind, text, column] per token, the final 'end' token left out. */
type Row = readonly [TokenKind, string, number];

function lex(text: string): Row[] {
  const r = tokenizeFilter(text);
  if (!r.ok) throw new Error(`unexpected lex error: ${r.error.message}`);
  const last = r.tokens[r.tokens.length - 1];
  expect(last).toEqual({ kind: 'end', text: '', value: '', column: text.length + 1 });
  return r.tokens.slice(0, -1).map((t) => [t.kind, t.text, t.column] as const);
}

describe('tokenizeFilter: token tables', () => {
  const cases: readonly (readonly [string, readonly Row[]])[] = [
    ['', []],
    ['   \t ', []],
    [
      'port 80',
      [
        ['word', 'port', 1],
        ['word', '80', 6],
      ],
    ],
    [
      '  port   80  ',
      [
        ['word', 'port', 3],
        ['word', '80', 10],
      ],
    ],
    [':443', [['word', ':443', 1]]],
    [
      'port 8000-8100',
      [
        ['word', 'port', 1],
        ['word', '8000-8100', 6],
      ],
    ],
    [
      'sport = :443',
      [
        ['word', 'sport', 1],
        ['compare', '=', 7],
        ['word', ':443', 9],
      ],
    ],
    [
      'sport==443',
      [
        ['word', 'sport', 1],
        ['compare', '==', 6],
        ['word', '443', 8],
      ],
    ],
    [
      'dport!=:22',
      [
        ['word', 'dport', 1],
        ['compare', '!=', 6],
        ['word', ':22', 8],
      ],
    ],
    [
      'dport >= 1024',
      [
        ['word', 'dport', 1],
        ['compare', '>=', 7],
        ['word', '1024', 10],
      ],
    ],
    [
      'a<b>c<=d',
      [
        ['word', 'a', 1],
        ['compare', '<', 2],
        ['word', 'b', 3],
        ['compare', '>', 4],
        ['word', 'c', 5],
        ['compare', '<=', 6],
        ['word', 'd', 8],
      ],
    ],
    [
      'sport eq 443',
      [
        ['word', 'sport', 1],
        ['word', 'eq', 7],
        ['word', '443', 10],
      ],
    ],
    [
      'state syn-sent',
      [
        ['word', 'state', 1],
        ['word', 'syn-sent', 7],
      ],
    ],
    [
      'state SYN_SENT',
      [
        ['word', 'state', 1],
        ['word', 'SYN_SENT', 7],
      ],
    ],
    [
      'host 10.0.0.0/8',
      [
        ['word', 'host', 1],
        ['word', '10.0.0.0/8', 6],
      ],
    ],
    [
      'dst [::1]:443',
      [
        ['word', 'dst', 1],
        ['word', '[::1]:443', 5],
      ],
    ],
    [
      'src fe80::/10',
      [
        ['word', 'src', 1],
        ['word', 'fe80::/10', 5],
      ],
    ],
    [
      'src 127.0.0.1:8080',
      [
        ['word', 'src', 1],
        ['word', '127.0.0.1:8080', 5],
      ],
    ],
    [
      'proc ngin*',
      [
        ['word', 'proc', 1],
        ['word', 'ngin*', 6],
      ],
    ],
    [
      'tcp and udp',
      [
        ['word', 'tcp', 1],
        ['and', 'and', 5],
        ['word', 'udp', 9],
      ],
    ],
    [
      'tcp AND udp Or Not unix',
      [
        ['word', 'tcp', 1],
        ['and', 'AND', 5],
        ['word', 'udp', 9],
        ['or', 'Or', 13],
        ['not', 'Not', 16],
        ['word', 'unix', 20],
      ],
    ],
    [
      'tcp&&udp||!unix',
      [
        ['word', 'tcp', 1],
        ['and', '&&', 4],
        ['word', 'udp', 6],
        ['or', '||', 9],
        ['not', '!', 11],
        ['word', 'unix', 12],
      ],
    ],
    [
      'tcp & udp | unix',
      [
        ['word', 'tcp', 1],
        ['and', '&', 5],
        ['word', 'udp', 7],
        ['or', '|', 11],
        ['word', 'unix', 13],
      ],
    ],
    [
      '!(tcp)',
      [
        ['not', '!', 1],
        ['lparen', '(', 2],
        ['word', 'tcp', 3],
        ['rparen', ')', 6],
      ],
    ],
    [
      '((port 1))',
      [
        ['lparen', '(', 1],
        ['lparen', '(', 2],
        ['word', 'port', 3],
        ['word', '1', 8],
        ['rparen', ')', 9],
        ['rparen', ')', 10],
      ],
    ],
    [
      'proc "Web Content"',
      [
        ['word', 'proc', 1],
        ['string', '"Web Content"', 6],
      ],
    ],
    [
      "user 'a b' x",
      [
        ['word', 'user', 1],
        ['string', "'a b'", 6],
        ['word', 'x', 12],
      ],
    ],
    [
      'proc "it\'s"',
      [
        ['word', 'proc', 1],
        ['string', '"it\'s"', 6],
      ],
    ],
    [
      'android and',
      [
        ['word', 'android', 1],
        ['and', 'and', 9],
      ],
    ],
    [
      'nota order',
      [
        ['word', 'nota', 1],
        ['word', 'order', 6],
      ],
    ],
    [
      'constructor toString',
      [
        ['word', 'constructor', 1],
        ['word', 'toString', 13],
      ],
    ],
    [
      'port\t80\nor\r\n22',
      [
        ['word', 'port', 1],
        ['word', '80', 6],
        ['or', 'or', 9],
        ['word', '22', 13],
      ],
    ],
  ];
  it.each(cases)('%j', (text, expected) => {
    expect(lex(text)).toEqual(expected);
  });
});

describe('tokenizeFilter: normalised values', () => {
  const cases: readonly (readonly [string, string, string])[] = [
    // [text, kind of first token, value of first token]
    ['==', 'compare', '='],
    ['=', 'compare', '='],
    ['!=', 'compare', '!='],
    ['>=', 'compare', '>='],
    ['&&', 'and', 'and'],
    ['AND', 'and', 'and'],
    ['||', 'or', 'or'],
    ['!', 'not', 'not'],
    ['NOT', 'not', 'not'],
    ['"a b"', 'string', 'a b'],
    ["''", 'string', ''],
    ['Port', 'word', 'Port'],
  ];
  it.each(cases)('%j → %s %j', (text, kind, value) => {
    const r = tokenizeFilter(text);
    expect(r.ok && r.tokens[0]).toMatchObject({ kind, value });
  });
});

describe('tokenizeFilter: errors', () => {
  const cases: readonly (readonly [string, number, string])[] = [
    ['proc "abc', 6, 'unterminated string'],
    ["user 'x", 6, "closing '"],
    ['"', 1, 'unterminated string'],
    ['proc "a" "b', 10, 'unterminated string'],
  ];
  it.each(cases)('%j → column %i', (text, column, message) => {
    const r = tokenizeFilter(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.column).toBe(column);
    expect(r.error.message).toContain(message);
  });
});
