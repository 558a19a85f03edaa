// The key map as data (htop's Action table): key → action → help text. The key handler
// (src/ui/keys.ts) resolves key presses with it, the help overlay lists it and the footer shows
// its short labels, so a key cannot work without being documented or be shown without working.

import type { PromptKind } from './ui-state.js';

export type KeyAction =
  | 'quit'
  | 'help'
  | 'back'
  | 'pause'
  | 'faster'
  | 'slower'
  | 'filter'
  | 'portFilter'
  | 'stateFilter'
  | 'marker'
  | 'clearFilter'
  | 'nextView'
  | 'previousView'
  | 'view'
  | 'sortPrevious'
  | 'sortNext'
  | 'sortReverse'
  | 'sortMenu'
  | 'search'
  | 'searchNext'
  | 'promptSubmit'
  | 'enter'
  | 'worstFinding'
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'first'
  | 'last'
  | 'processOfDetails'
  | 'peerOfDetails'
  | 'replayStep'
  | 'replayStepBack'
  | 'replaySeek'
  | 'replaySeekBack'
  | 'replayFaster'
  | 'replaySlower';

/**
 * Where a binding applies. 'screen': anywhere without a prompt or menu; 'table': no overlay open;
 * 'overlay': the details or the help is open; 'details': the details are open; 'live' and
 * 'replay': only when reading live or only when replaying a recording (with 'screen' rules).
 * 'sortMenu': only while the sort menu is open, 'prompt' while a prompt is (what is not bound
 * there is typed into it), 'search' while the search prompt is. The menu and prompts take the
 * keyboard: nothing else applies while they are open.
 */
export type KeyContext = 'screen' | 'table' | 'overlay' | 'details' | 'live' | 'replay' | 'tableLive' | 'sortMenu' | 'prompt' | 'search';

export interface KeyBinding {
  readonly action: KeyAction;
  /**
   * What is pressed: a single character is matched against the character typed ("q", "P",
   * "!"), "space" against " ", anything longer against blessed's full key name ("C-c",
   * "S-tab", "pageup", "enter").
   */
  readonly keys: readonly string[];
  readonly context: KeyContext;
  /** The keys as the help shows them. */
  readonly label: string;
  readonly help: string;
  /** Short text for the footer, or undefined when the footer does not show it. */
  readonly footer?: string;
}

/** In the order the help lists them; the footer keeps this order too. */
export const KEY_MAP: readonly KeyBinding[] = [
  { action: 'quit', keys: ['q', 'C-c', 'f10'], context: 'screen', label: 'q, Ctrl-C, F10', help: 'quit', footer: 'quit' },
  { action: 'help', keys: ['?', 'f1', 'h'], context: 'screen', label: '?, F1, h', help: 'this help (Esc closes)', footer: 'help' },
  { action: 'worstFinding', keys: ['!'], context: 'screen', label: '!', help: 'jump to the worst finding (view 6)', footer: 'worst' },
  {
    action: 'filter',
    keys: ['/', 'f4'],
    context: 'screen',
    label: '/, F4',
    help: 'filter as you type: port 5432, state cw, proc nginx, dst 10.0.0.0/8 … (and, or, not)',
    footer: 'filter',
  },
  {
    action: 'search',
    keys: ['f3'],
    context: 'table',
    label: 'F3',
    help: 'search: the selection jumps to a row containing the text as you type',
  },
  { action: 'portFilter', keys: ['p'], context: 'screen', label: 'p', help: 'quick filter by port', footer: 'port' },
  {
    action: 'stateFilter',
    keys: ['s'],
    context: 'screen',
    label: 's',
    help: 'quick filter by state: estab, tw, cw, listen, syn-recv, … (several: "cw tw")',
    footer: 'state',
  },
  { action: 'clearFilter', keys: ['c'], context: 'table', label: 'c', help: 'clear the filter' },
  { action: 'nextView', keys: ['tab'], context: 'table', label: 'Tab, Shift-Tab', help: 'next / previous view', footer: 'views' },
  { action: 'previousView', keys: ['S-tab'], context: 'table', label: 'Shift-Tab', help: '' },
  {
    action: 'view',
    keys: ['1', '2', '3', '4', '5', '6', '7'],
    context: 'table',
    label: '1 2 3 4 5 6 7',
    help: 'views: sockets, by port, by peer, by process, TCP state diagram, findings, compare with marker',
  },
  { action: 'marker', keys: ['m'], context: 'screen', label: 'm', help: 'drop a named marker ("ramp start"); view 7 compares now with it' },
  { action: 'up', keys: ['up', 'k'], context: 'table', label: '↑ ↓, j k', help: 'move the selection' },
  { action: 'down', keys: ['down', 'j'], context: 'table', label: '↓, j', help: '' },
  { action: 'pageUp', keys: ['pageup'], context: 'table', label: 'PgUp PgDn, Home End, g G', help: 'page, first, last' },
  { action: 'pageDown', keys: ['pagedown'], context: 'table', label: 'PgDn', help: '' },
  { action: 'first', keys: ['home', 'g'], context: 'table', label: 'Home, g', help: '' },
  { action: 'last', keys: ['end', 'G'], context: 'table', label: 'End, G', help: '' },
  {
    action: 'sortMenu',
    keys: ['f6'],
    context: 'table',
    label: 'F6, < >',
    help: 'sort: a menu of the columns (the current one marked * ▲▼); < > the previous / next column',
    footer: 'sort',
  },
  { action: 'sortPrevious', keys: ['<'], context: 'table', label: '<', help: '' },
  { action: 'sortNext', keys: ['>'], context: 'table', label: '>', help: '' },
  // , and . sort too while live (in a replay they step).
  { action: 'sortPrevious', keys: [','], context: 'tableLive', label: ',', help: '' },
  { action: 'sortNext', keys: ['.'], context: 'tableLive', label: '.', help: '' },
  { action: 'sortReverse', keys: ['r'], context: 'table', label: 'r', help: 'reverse the sort order' },
  {
    action: 'enter',
    keys: ['enter'],
    context: 'table',
    label: 'Enter',
    help: 'details of a socket; in a grouped view, its sockets',
    footer: 'details',
  },
  {
    action: 'back',
    keys: ['escape'],
    context: 'screen',
    label: 'Esc',
    help: 'back: close details/help/prompt, leave a drill-down',
    footer: 'back',
  },
  { action: 'back', keys: ['backspace'], context: 'overlay', label: 'Backspace', help: '' },
  {
    action: 'processOfDetails',
    keys: ['P'],
    context: 'details',
    label: 'P (in details)',
    help: 'all sockets of this process',
    footer: 'process',
  },
  { action: 'peerOfDetails', keys: ['D'], context: 'details', label: 'D (in details)', help: 'all sockets to this peer', footer: 'peer' },
  {
    action: 'up',
    keys: ['up', 'k'],
    context: 'overlay',
    label: '↑ ↓ PgUp PgDn g G',
    help: 'in details and help: scroll, to the top, to the end',
    footer: 'scroll',
  },
  { action: 'down', keys: ['down', 'j'], context: 'overlay', label: '↓', help: '' },
  { action: 'pageUp', keys: ['pageup'], context: 'overlay', label: 'PgUp', help: '' },
  { action: 'pageDown', keys: ['pagedown'], context: 'overlay', label: 'PgDn', help: '' },
  { action: 'first', keys: ['home', 'g'], context: 'overlay', label: 'Home', help: '' },
  { action: 'last', keys: ['end', 'G'], context: 'overlay', label: 'End', help: '' },
  {
    action: 'pause',
    keys: ['space'],
    context: 'screen',
    label: 'space',
    help: 'pause / resume the picture (collection goes on)',
    footer: 'pause',
  },
  { action: 'faster', keys: ['+', '='], context: 'live', label: '+ -', help: 'refresh faster / slower', footer: 'speed' },
  { action: 'slower', keys: ['-', '_'], context: 'live', label: '-', help: '' },
  { action: 'replayStep', keys: ['.'], context: 'replay', label: '. ,', help: 'replay: next / previous frame', footer: 'step' },
  { action: 'replayStepBack', keys: [','], context: 'replay', label: ',', help: '' },
  {
    action: 'replaySeek',
    keys: [']'],
    context: 'replay',
    label: '] [',
    help: 'replay: jump a tenth of the recording forward / back',
    footer: 'seek',
  },
  { action: 'replaySeekBack', keys: ['['], context: 'replay', label: '[', help: '' },
  { action: 'replayFaster', keys: ['+', '='], context: 'replay', label: '+ -', help: 'replay: play faster / slower', footer: 'speed' },
  { action: 'replaySlower', keys: ['-', '_'], context: 'replay', label: '-', help: '' },
  // The sort menu and the prompts take the keyboard while open.
  {
    action: 'up',
    keys: ['up', 'k'],
    context: 'sortMenu',
    label: '↑ ↓ j k (sort menu)',
    help: 'in the sort menu: move (Home End g G: first, last)',
    footer: 'move',
  },
  { action: 'down', keys: ['down', 'j'], context: 'sortMenu', label: '↓', help: '' },
  { action: 'first', keys: ['home', 'g'], context: 'sortMenu', label: 'Home', help: '' },
  { action: 'last', keys: ['end', 'G'], context: 'sortMenu', label: 'End', help: '' },
  {
    action: 'enter',
    keys: ['enter'],
    context: 'sortMenu',
    label: 'Enter (sort menu)',
    help: 'sort by that column (the current one: reverse it); a click too',
    footer: 'sort',
  },
  { action: 'sortReverse', keys: ['r'], context: 'sortMenu', label: 'r (sort menu)', help: 'reverse the current sort', footer: 'reverse' },
  {
    action: 'back',
    keys: ['escape', 'f6', 'q'],
    context: 'sortMenu',
    label: 'Esc (sort menu)',
    help: 'close it (F6, q too)',
    footer: 'cancel',
  },
  {
    action: 'promptSubmit',
    keys: ['enter'],
    context: 'prompt',
    label: 'Enter (in a prompt)',
    help: 'apply; in search: close, the selection stays',
    footer: 'done',
  },
  {
    action: 'back',
    keys: ['escape'],
    context: 'prompt',
    label: 'Esc (in a prompt)',
    help: 'cancel; the filter returns to what it was',
    footer: 'cancel',
  },
  { action: 'quit', keys: ['C-c'], context: 'prompt', label: 'Ctrl-C', help: '' },
  { action: 'quit', keys: ['C-c', 'f10'], context: 'sortMenu', label: 'Ctrl-C', help: '' },
  {
    action: 'searchNext',
    keys: ['f3'],
    context: 'search',
    label: 'F3 (in search)',
    help: 'next match (the prompt says when none)',
    footer: 'next',
  },
];

/** What is open on the screen, deciding which bindings apply. */
export interface KeyScope {
  readonly detailsOpen: boolean;
  readonly helpOpen: boolean;
  readonly replay: boolean;
  /** The sort menu is open (it takes the keyboard). */
  readonly sortMenuOpen?: boolean;
  /** The kind of prompt open (it takes the keyboard), or null/absent. */
  readonly prompt?: PromptKind | null;
}

export function bindingApplies(b: KeyBinding, scope: KeyScope): boolean {
  const overlay = scope.detailsOpen || scope.helpOpen;
  if (scope.prompt != null) return b.context === 'prompt' || (b.context === 'search' && scope.prompt === 'search');
  if (scope.sortMenuOpen === true) return b.context === 'sortMenu';
  switch (b.context) {
    case 'prompt':
    case 'search':
    case 'sortMenu':
      return false;
    case 'screen':
      return true;
    case 'table':
      return !overlay;
    case 'tableLive':
      return !overlay && !scope.replay;
    case 'overlay':
      return overlay;
    case 'details':
      return scope.detailsOpen && !scope.helpOpen;
    case 'live':
      return !scope.replay;
    case 'replay':
      return scope.replay;
  }
}

/** A key press as blessed reports it. */
export interface KeyPress {
  readonly ch?: string | undefined;
  readonly full?: string | undefined;
}

function matches(token: string, press: KeyPress): boolean {
  if (token === 'space') return press.ch === ' ';
  if (token.length === 1) return press.ch === token;
  return press.full === token;
}

/** The binding a key press means here, or null. Overlay bindings win over screen-wide ones. */
export function resolveKey(press: KeyPress, scope: KeyScope): KeyBinding | null {
  let found: KeyBinding | null = null;
  for (const b of KEY_MAP) {
    if (!bindingApplies(b, scope) || !b.keys.some((k) => matches(k, press))) continue;
    if (b.context === 'overlay' || b.context === 'details') return b;
    found ??= b;
  }
  return found;
}

/** Lines of the help's key section: one per documented binding that applies in this mode. */
export function helpKeyRows(replay: boolean): (readonly [string, string])[] {
  return KEY_MAP.filter(
    (b) => b.help !== '' && (b.context === 'replay' ? replay : b.context === 'live' || b.context === 'tableLive' ? !replay : true),
  ).map((b) => [b.label, b.help] as const);
}

/** What the footer shows in this scope, most important first (the footer is cut at the right). */
export function footerKeyRows(
  scope: KeyScope & { readonly paused: boolean; readonly view: string; readonly hasFindings: boolean },
): (readonly [string, string])[] {
  const out: (readonly [string, string])[] = [];
  // A prompt or the sort menu: its own keys only (bindingApplies), leaving first.
  const modal = scope.prompt != null || scope.sortMenuOpen === true;
  const overlay = scope.detailsOpen || scope.helpOpen || modal;
  for (const b of KEY_MAP) {
    if (b.footer === undefined || !bindingApplies(b, scope)) continue;
    if (b.action === 'back' && !overlay) continue;
    if (overlay && (b.action === 'filter' || b.action === 'portFilter' || b.action === 'stateFilter' || b.action === 'help')) continue;
    if (b.action === 'worstFinding' && !scope.hasFindings) continue;
    const key =
      b.label
        .replace(/ \(.*\)$/, '')
        .replace(/, .*$/, '')
        .replace(/ .*$/, '') || b.label;
    let text = b.footer;
    if (b.action === 'pause') text = scope.paused ? 'resume' : 'pause';
    // The search keeps the selection it moved: Esc cancels nothing, it closes.
    if (scope.prompt === 'search' && b.action === 'back') text = 'close';
    if (b.action === 'enter' && b.context === 'table')
      text = scope.view === 'sockets' ? 'details' : scope.view === 'states' ? 'sockets' : 'drill';
    if (b.action === 'up') out.push(['↑↓', text]);
    else if (b.action === 'faster' || b.action === 'replayFaster') out.push(['+-', text]);
    else if (b.action === 'replayStep') out.push(['.,', text]);
    else if (b.action === 'replaySeek') out.push(['][', text]);
    else if (b.action === 'nextView') out.push(['Tab', text]);
    else out.push([key, text]);
  }
  // Leaving comes first in an overlay: the footer is cut at the right on narrow terminals.
  if (overlay) out.sort((a, b) => Number(b[0] === 'Esc') - Number(a[0] === 'Esc'));
  return out;
}
