// Key presses → dashboard actions. The prompt owns the keyboard while it is open.

import type { Dashboard } from './dashboard.js';
import type { ViewName } from '../view/ui-state.js';

export interface KeyEvent {
  readonly name?: string;
  readonly full?: string;
  readonly ctrl?: boolean;
  readonly meta?: boolean;
  readonly shift?: boolean;
}

const VIEW_KEYS: Readonly<Record<string, ViewName>> = {
  '1': 'sockets',
  '2': 'ports',
  '3': 'peers',
  '4': 'processes',
  '5': 'states',
  '6': 'findings',
  '7': 'compare',
};

function handlePromptKey(d: Dashboard, ch: string | undefined, key: KeyEvent | undefined): void {
  const prompt = d.ui.prompt;
  if (prompt === null) return;
  const name = key?.name;
  if (name === 'enter' || name === 'return') d.dispatch({ type: 'promptSubmit' });
  else if (name === 'escape') d.dispatch({ type: 'escape' });
  else if (name === 'backspace') d.dispatch({ type: 'promptInput', text: prompt.text.slice(0, -1) });
  else if (key?.full === 'C-u') d.dispatch({ type: 'promptInput', text: '' });
  else if (key?.full === 'C-c') d.dispatch({ type: 'quit' });
  else if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f' && key?.ctrl !== true && key?.meta !== true) {
    if (prompt.text.length < 500) d.dispatch({ type: 'promptInput', text: prompt.text + ch });
  }
}

export function handleKey(d: Dashboard, ch: string | undefined, key: KeyEvent | undefined): void {
  // blessed reports one Enter (\r) twice, as 'enter' then as 'return': act on 'enter' only, else
  // the Enter that applies a filter also opens the details of the first row.
  if (key?.name === 'return') return;
  if (d.ui.prompt !== null) {
    handlePromptKey(d, ch, key);
    return;
  }
  const full = key?.full ?? ch ?? '';
  const name = key?.name ?? '';
  const detailsOpen = d.ui.detailsKey !== null;

  if (full === 'C-c' || ch === 'q') return d.dispatch({ type: 'quit' });
  if (ch === '?' || name === 'f1') return d.dispatch({ type: 'toggleHelp' });
  if (name === 'escape' || (name === 'backspace' && (detailsOpen || d.ui.help))) return d.dispatch({ type: 'escape' });
  if (ch === ' ') return d.dispatch({ type: 'togglePause' });
  if (ch === '+' || ch === '=') return d.dispatch({ type: 'faster' });
  if (ch === '-' || ch === '_') return d.dispatch({ type: 'slower' });
  if (ch === '/') return d.dispatch({ type: 'openPrompt', kind: 'filter' });
  if (ch === 'p') return d.dispatch({ type: 'openPrompt', kind: 'port' });
  if (ch === 's') return d.dispatch({ type: 'openPrompt', kind: 'state' });
  if (ch === 'm') return d.dispatch({ type: 'openPrompt', kind: 'marker' });

  if (detailsOpen || d.ui.help) {
    if (ch === 'P' && !d.ui.help) return d.drillFromDetails('process');
    if (ch === 'D' && !d.ui.help) return d.drillFromDetails('peer');
    if (name === 'up' || ch === 'k') return d.scrollDetails(-1);
    if (name === 'down' || ch === 'j') return d.scrollDetails(1);
    if (name === 'pageup') return d.scrollDetails(-10);
    if (name === 'pagedown') return d.scrollDetails(10);
    return;
  }
  if (ch === 'c') return d.dispatch({ type: 'clearFilter' });
  if (full === 'S-tab') return d.dispatch({ type: 'nextView', delta: -1 });
  if (name === 'tab') return d.dispatch({ type: 'nextView', delta: 1 });
  const view = ch === undefined ? undefined : VIEW_KEYS[ch];
  if (view !== undefined) return d.dispatch({ type: 'setView', view });
  if (ch === '<' || ch === ',') return d.dispatch({ type: 'sortNext', delta: -1, columns: d.sortColumns() });
  if (ch === '>' || ch === '.') return d.dispatch({ type: 'sortNext', delta: 1, columns: d.sortColumns() });
  if (ch === 'r') return d.dispatch({ type: 'sortReverse' });
  if (name === 'enter' || name === 'return') return d.enter();
  if (name === 'up' || ch === 'k') return d.dispatch({ type: 'move', delta: -1, rows: d.rowContext() });
  if (name === 'down' || ch === 'j') return d.dispatch({ type: 'move', delta: 1, rows: d.rowContext() });
  if (name === 'pageup') return d.dispatch({ type: 'page', delta: -1, rows: d.rowContext() });
  if (name === 'pagedown') return d.dispatch({ type: 'page', delta: 1, rows: d.rowContext() });
  if (name === 'home' || ch === 'g') return d.dispatch({ type: 'jump', to: 'first', rows: d.rowContext() });
  if (name === 'end' || ch === 'G') return d.dispatch({ type: 'jump', to: 'last', rows: d.rowContext() });
}
