// The filter language used by `--filter EXPR` and the dashboard's `/` prompt:
// tokenizeFilter (lexer.ts) → parseFilter (parser.ts) → compileFilterAst (evaluate.ts); the AST
// and vocabulary in ast.ts, "did you mean" in suggest.ts, AST → text in print.ts.

import type { FilterError } from './lexer.js';
import type { FilterNode } from './ast.js';
import { parseFilter, type ParseOptions } from './parser.js';
import { compileFilterAst, type CompiledFilter } from './evaluate.js';

export {
  describeToken,
  quoteInput,
  tokenizeFilter,
  type CompareSymbol,
  type FilterError,
  type Token,
  type TokenKind,
  type TokenizeResult,
} from './lexer.js';
export {
  FILTER_KEYWORDS,
  PROTOCOLS_OF_WORD,
  STATE_WORDS,
  type FilterNode,
  type PortOp,
  type ProtoName,
  type Side,
  type SsState,
  type StateGroup,
  type StateName,
} from './ast.js';
export { MAX_FILTER_DEPTH, parseFilter, parseFilterTokens, type ParseOptions, type ParseResult } from './parser.js';
export { describeFilter } from './print.js';
export { protocolsOfFilter } from './tables.js';
export { SS_STATE_OF, STATE_GROUP_MEMBERS, compileFilterAst, statesMatching, type CompiledFilter } from './evaluate.js';

export type CompileFilterResult =
  { readonly ok: true; readonly filter: CompiledFilter; readonly ast: FilterNode } | { readonly ok: false; readonly error: FilterError };

/** Filter text → predicate over SocketRecord. Empty or blank text matches every socket. */
export function compileFilter(text: string, options: ParseOptions = {}): CompileFilterResult {
  const parsed = parseFilter(text, options);
  if (!parsed.ok) return parsed;
  return { ok: true, filter: compileFilterAst(parsed.ast), ast: parsed.ast };
}

/**
 * One character per UTF-16 unit, so the caret stays under its column: C0/C1 controls become ' '
 * or '?', and so do bidi and invisible format characters (which would reorder or hide the text).
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) =>
    /[\t\n\v\f\r ]/.test(c) ? ' ' : '?',
  );
}

/**
 * The expression, a caret under the offending column, then the message:
 *
 *     tcp and port abc
 *                  ^
 *     column 14: expected a port number after 'port', got 'abc'
 */
export function formatFilterError(text: string, error: FilterError): string {
  const column = Math.max(1, Math.min(error.column, text.length + 1));
  return `${printable(text)}\n${' '.repeat(column - 1)}^\ncolumn ${error.column}: ${error.message}`;
}
