// Strings from the system (process names, command lines, UNIX socket paths) are controlled by
// any local user. Before they reach a terminal they are made inert: every C0/C1 control, DEL
// and bidirectional override becomes visible `\xNN` / `\u{NNNN}` text, and the length is bounded.
// Blessed tag syntax (`{red-fg}`) is the UI's business: widgets render these strings with tags off
// or escaped; this module only removes what a terminal would interpret.

/**
 * C0 controls, DEL, C1 controls, Unicode bidi/format controls that reorder or hide text, lone
 * surrogates, and every character outside the Basic Multilingual Plane (emoji and the like):
 * terminals draw those two cells wide while blessed counts one, which would shift every column
 * after them, so they are shown as `\u{1f600}` instead.
 */
const UNSAFE_CLASS =
  '[\\u{0}-\\u{1f}\\u{7f}-\\u{9f}\\u{200b}-\\u{200f}\\u{2028}-\\u{202e}\\u{2060}-\\u{2069}\\u{feff}\\u{d800}-\\u{dfff}\\u{10000}-\\u{10ffff}]';
const HAS_UNSAFE = new RegExp(UNSAFE_CLASS, 'u');
const ALL_UNSAFE = new RegExp(UNSAFE_CLASS, 'gu');

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Make untrusted text inert for a terminal. `maxLength` bounds the result (with "…"). */
export function safeText(text: string, maxLength = 4096): string {
  const clean = HAS_UNSAFE.test(text) ? text.replace(ALL_UNSAFE, escapeChar) : text;
  if (clean.length <= maxLength) return clean;
  // Cut before a high surrogate rather than leave half an emoji (a lone surrogate) behind.
  let cut = Math.max(0, maxLength - 1);
  const last = clean.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${clean.slice(0, cut)}…`;
}
