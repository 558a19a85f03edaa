// Filter language, step 1 of 3: text → tokens. Pure; every token keeps its 1-based column so
// parse errors can point at it.

import { safeText } from '../model/safe-text.js';

/** A problem in a filter expression, located at a 1-based column of the text. */
export interface FilterError {
  /** 1-based column (UTF-16 code units) of the offending character; text length + 1 for "end of input". */
  readonly column: number;
  /**
   * What was expected and what was found, e.g. "expected a port number after 'port', got 'abc'".
   * Inert text: quoted input has its control, bidi and format characters escaped (\x1b), so the
   * message can be printed to a terminal as it is.
   */
  readonly message: string;
}

export type TokenKind =
  | 'word' //       port, 10.0.0.0/8, [::1]:443, nginx*, syn-sent, 8000-8100, :22
  | 'string' //     "Web Content" or 'a b': a value with spaces; value is the unquoted text
  | 'lparen'
  | 'rparen'
  | 'and' //        and, &&, &
  | 'or' //         or, ||, |
  | 'not' //        not, !
  | 'compare' //    = == != < > <= >=   (value normalised: '==' becomes '=')
  | 'end';

export type CompareSymbol = '=' | '!=' | '<' | '>' | '<=' | '>=';

export interface Token {
  readonly kind: TokenKind;
  /** The text as typed (quotes included for strings; '' for end). */
  readonly text: string;
  /**
   * Normalised value: the unquoted string, the comparison symbol ('==' → '='), 'and'/'or'/'not'
   * for the logical operators in any spelling, the text itself for words and parentheses.
   */
  readonly value: string;
  /** 1-based column of the first character. */
  readonly column: number;
}

export type TokenizeResult = { readonly ok: true; readonly tokens: readonly Token[] } | { readonly ok: false; readonly error: FilterError };

/** Characters that end a word (besides whitespace): operators and parentheses. */
const WORD_BREAK = new Set(['(', ')', '!', '=', '<', '>', '&', '|']);

/** A Map, not an object literal, so words like 'constructor' do not hit Object.prototype. */
const LOGICAL_WORDS: ReadonlyMap<string, 'and' | 'or' | 'not'> = new Map([
  ['and', 'and'],
  ['or', 'or'],
  ['not', 'not'],
]);

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}

/**
 * Split a filter expression into tokens, ending with one 'end' token. Words are maximal runs of
 * characters other than whitespace and `( ) ! = < > & |`, so addresses, CIDRs, globs and ss state
 * names (`syn-sent`) stay whole. `and`/`or`/`not` are recognised case-insensitively; every other
 * word is left for the parser, which knows where keywords may appear.
 */
export function tokenizeFilter(text: string): TokenizeResult {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value: string): void => {
    tokens.push({ kind, text: text.slice(start, end), value, column: start + 1 });
  };

  while (i < text.length) {
    const ch = text[i] as string;
    const next = text[i + 1];
    if (isSpace(ch)) {
      i += 1;
      continue;
    }
    const start = i;
    switch (ch) {
      case '(':
        push('lparen', i, i + 1, '(');
        i += 1;
        continue;
      case ')':
        push('rparen', i, i + 1, ')');
        i += 1;
        continue;
      case '&':
        i += next === '&' ? 2 : 1;
        push('and', start, i, 'and');
        continue;
      case '|':
        i += next === '|' ? 2 : 1;
        push('or', start, i, 'or');
        continue;
      case '!':
        if (next === '=') {
          i += 2;
          push('compare', start, i, '!=');
        } else {
          i += 1;
          push('not', start, i, 'not');
        }
        continue;
      case '=':
        i += next === '=' ? 2 : 1;
        push('compare', start, i, '=');
        continue;
      case '<':
      case '>':
        i += next === '=' ? 2 : 1;
        push('compare', start, i, text.slice(start, i));
        continue;
      case '"':
      case "'": {
        const closing = text.indexOf(ch, i + 1);
        if (closing < 0) {
          return {
            ok: false,
            error: { column: start + 1, message: `unterminated string: expected a closing ${ch} for the one here` },
          };
        }
        i = closing + 1;
        push('string', start, i, text.slice(start + 1, closing));
        continue;
      }
      default: {
        while (i < text.length && !isSpace(text[i] as string) && !WORD_BREAK.has(text[i] as string)) i += 1;
        const word = text.slice(start, i);
        const logical = LOGICAL_WORDS.get(word.toLowerCase());
        push(logical ?? 'word', start, i, logical ?? word);
      }
    }
  }
  tokens.push({ kind: 'end', text: '', value: '', column: text.length + 1 });
  return { ok: true, tokens };
}

/** Longest piece of typed text quoted in an error message (characters, then "…"). */
export const MAX_QUOTED_LENGTH = 80;

/** Typed text as an error message quotes it: inert (controls escaped as \x1b) and bounded. */
export function quoteInput(text: string): string {
  return safeText(text, MAX_QUOTED_LENGTH);
}

/** How a token is named in error messages: 'abc', ')', or "end of input"; inert and bounded. */
export function describeToken(token: Token): string {
  return token.kind === 'end' ? 'end of input' : `'${quoteInput(token.text)}'`;
}
