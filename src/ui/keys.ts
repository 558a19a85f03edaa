// Key presses → dashboard actions, through the key map (src/view/key-map.ts): the same table
// the help and the footer show. The prompt owns the keyboard while it is open.

import type { Dashboard } from './dashboard.js';
import { resolveKey, type KeyAction } from '../view/key-map.js';
import { VIEWS } from '../view/ui-state.js';

export interface KeyEvent {
  readonly name?: string;
  readonly full?: string;
  readonly ctrl?: boolean;
  readonly meta?: boolean;
  readonly shift?: boolean;
}

/** What a replay does with its keys (step, seek, speed); absent when reading live. */
export interface ReplayControls {
  step(frames: 1 | -1): void;
  seek(direction: 1 | -1): void;
  changeSpeed(direction: 1 | -1): void;
}

/** The prompt's own keys come from the key map (Enter, Esc, F3 in search); the rest edits its text. */
function handlePromptKey(d: Dashboard, ch: string | undefined, key: KeyEvent | undefined): void {
  const prompt = d.ui.prompt;
  if (prompt === null) return;
  const binding = resolveKey({ ch, full: key?.full }, { detailsOpen: false, helpOpen: false, replay: false, prompt: prompt.kind });
  if (binding !== null) {
    if (binding.action === 'promptSubmit') return d.dispatch({ type: 'promptSubmit' });
    if (binding.action === 'back') return d.dispatch({ type: 'escape' });
    if (binding.action === 'quit') return d.dispatch({ type: 'quit' });
    if (binding.action === 'searchNext') return d.dispatch({ type: 'searchNext', rows: d.searchRows() });
  }
  const rows = prompt.kind === 'search' ? d.searchRows() : undefined;
  const input = (text: string): void =>
    d.dispatch(rows === undefined ? { type: 'promptInput', text } : { type: 'promptInput', text, rows });
  if (key?.name === 'backspace') input(prompt.text.slice(0, -1));
  else if (key?.full === 'C-u') input('');
  else if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f' && key?.ctrl !== true && key?.meta !== true) {
    if (prompt.text.length < 500) input(prompt.text + ch);
  }
}

/** The sort menu takes the keyboard while open: its bindings from the key map, nothing else. */
function handleSortMenuKey(d: Dashboard, ch: string | undefined, key: KeyEvent | undefined): void {
  const binding = resolveKey({ ch, full: key?.full }, { detailsOpen: false, helpOpen: false, replay: false, sortMenuOpen: true });
  const columns = d.currentFrame().sortOptions;
  switch (binding?.action) {
    case 'up':
      return d.dispatch({ type: 'sortMenuMove', delta: -1, columns });
    case 'down':
      return d.dispatch({ type: 'sortMenuMove', delta: 1, columns });
    case 'first':
      return d.dispatch({ type: 'sortMenuMove', to: 'first', columns });
    case 'last':
      return d.dispatch({ type: 'sortMenuMove', to: 'last', columns });
    case 'enter':
      return d.dispatch({ type: 'sortMenuChoose' });
    case 'sortReverse':
      return d.dispatch({ type: 'sortReverse' });
    case 'back':
      return d.dispatch({ type: 'escape' });
    case 'quit':
      return d.dispatch({ type: 'quit' });
    default:
      return undefined;
  }
}

function perform(d: Dashboard, action: KeyAction, ch: string | undefined, replay: ReplayControls | null): void {
  const overlay = d.ui.detailsKey !== null || d.ui.help;
  switch (action) {
    case 'quit':
      return d.dispatch({ type: 'quit' });
    case 'help':
      return d.dispatch({ type: 'toggleHelp' });
    case 'back':
      return d.dispatch({ type: 'escape' });
    case 'pause':
      return d.dispatch({ type: 'togglePause' });
    case 'faster':
      return d.dispatch({ type: 'faster' });
    case 'slower':
      return d.dispatch({ type: 'slower' });
    case 'filter':
      return d.dispatch({ type: 'openPrompt', kind: 'filter' });
    case 'portFilter':
      return d.dispatch({ type: 'openPrompt', kind: 'port' });
    case 'stateFilter':
      return d.dispatch({ type: 'openPrompt', kind: 'state' });
    case 'marker':
      return d.dispatch({ type: 'openPrompt', kind: 'marker' });
    case 'clearFilter':
      return d.dispatch({ type: 'clearFilter' });
    case 'nextView':
      return d.dispatch({ type: 'nextView', delta: 1 });
    case 'previousView':
      return d.dispatch({ type: 'nextView', delta: -1 });
    case 'view': {
      const view = VIEWS[Number(ch) - 1];
      return view === undefined ? undefined : d.dispatch({ type: 'setView', view });
    }
    case 'sortPrevious':
      return d.dispatch({ type: 'sortNext', delta: -1, columns: d.sortColumns() });
    case 'sortNext':
      return d.dispatch({ type: 'sortNext', delta: 1, columns: d.sortColumns() });
    case 'sortReverse':
      return d.dispatch({ type: 'sortReverse' });
    case 'sortMenu':
      return d.dispatch({ type: 'openSortMenu', columns: d.currentFrame().sortOptions });
    case 'search':
      return d.dispatch({ type: 'openPrompt', kind: 'search' });
    case 'searchNext':
    case 'promptSubmit':
      // Bound only inside a prompt (handlePromptKey).
      return undefined;
    case 'enter':
      return d.enter();
    case 'worstFinding':
      return d.jumpToWorstFinding();
    case 'up':
      return overlay ? d.scrollOverlay(-1) : d.dispatch({ type: 'move', delta: -1, rows: d.rowContext() });
    case 'down':
      return overlay ? d.scrollOverlay(1) : d.dispatch({ type: 'move', delta: 1, rows: d.rowContext() });
    case 'pageUp':
      return overlay ? d.scrollOverlay(-10) : d.dispatch({ type: 'page', delta: -1, rows: d.rowContext() });
    case 'pageDown':
      return overlay ? d.scrollOverlay(10) : d.dispatch({ type: 'page', delta: 1, rows: d.rowContext() });
    case 'first':
      return overlay ? d.scrollOverlay('first') : d.dispatch({ type: 'jump', to: 'first', rows: d.rowContext() });
    case 'last':
      return overlay ? d.scrollOverlay('last') : d.dispatch({ type: 'jump', to: 'last', rows: d.rowContext() });
    case 'processOfDetails':
      return d.drillFromDetails('process');
    case 'peerOfDetails':
      return d.drillFromDetails('peer');
    case 'replayStep':
      return replay?.step(1);
    case 'replayStepBack':
      return replay?.step(-1);
    case 'replaySeek':
      return replay?.seek(1);
    case 'replaySeekBack':
      return replay?.seek(-1);
    case 'replayFaster':
      return replay?.changeSpeed(1);
    case 'replaySlower':
      return replay?.changeSpeed(-1);
  }
}

export function handleKey(d: Dashboard, ch: string | undefined, key: KeyEvent | undefined, replay: ReplayControls | null = null): void {
  // blessed reports one Enter (\r) twice, as 'enter' then as 'return': act on 'enter' only, else
  // the Enter that applies a filter also opens the details of the first row.
  if (key?.name === 'return') return;
  if (d.ui.prompt !== null) {
    handlePromptKey(d, ch, key);
    return;
  }
  if (d.ui.sortMenu !== null) {
    handleSortMenuKey(d, ch, key);
    return;
  }
  const binding = resolveKey(
    { ch, full: key?.full },
    { detailsOpen: d.ui.detailsKey !== null, helpOpen: d.ui.help, replay: replay !== null },
  );
  if (binding !== null) perform(d, binding.action, ch, replay);
}
