// Strings from the system (process names, command lines, UNIX socket paths) are controlled by
// any local user. Before they reach a terminal they are made inert: every C0/C1 control, DEL
// and bidirectional override becomes visible `\xNN` / `\u{NNNN}` text, and the length is bounded.
// Blessed tag syntax (`{red-fg}`) is the UI's business: widgets render these strings with tags off
// or escaped; this module only removes what a terminal would interpret.

/** C0 controls, DEL, C1 controls, and Unicode bidi/format controls that reorder or hide text. */
const UNSAFE_CLASS = '[\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]';
const HAS_UNSAFE = new RegExp(UNSAFE_CLASS);
const ALL_UNSAFE = new RegExp(UNSAFE_CLASS, 'g');

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
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
