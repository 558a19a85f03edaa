// Where each panel goes for a terminal size. Pure: panels collapse or stack as the terminal
// shrinks; below the minimum the dashboard says so instead of drawing garbage.

export const MIN_WIDTH = 60;
export const MIN_HEIGHT = 16;

export interface Rect {
  readonly top: number;
  readonly left: number;
  readonly width: number;
  readonly height: number;
}

export interface Layout {
  readonly tooSmall: boolean;
  readonly header: Rect;
  /** Per-state bars (with inline trends when there is no history chart), or null when collapsed. */
  readonly bars: Rect | null;
  /** History line chart, only on large terminals. */
  readonly history: Rect | null;
  /** The table panel (sockets or groups), including its border. */
  readonly table: Rect;
  readonly footer: Rect;
}

export const HEADER_HEIGHT = 3;

export function computeLayout(width: number, height: number, barRows: number): Layout {
  const header = { top: 0, left: 0, width, height: HEADER_HEIGHT };
  const footer = { top: height - 1, left: 0, width, height: 1 };
  const tooSmall = width < MIN_WIDTH || height < MIN_HEIGHT;
  const bodyTop = HEADER_HEIGHT;
  const bodyHeight = Math.max(0, height - HEADER_HEIGHT - 1);
  let bars: Rect | null = null;
  let history: Rect | null = null;
  let tableTop = bodyTop;
  if (!tooSmall && height >= 22) {
    const wanted = Math.max(3, barRows) + 2;
    // Leave the table at least ~half of the body.
    const barsHeight = Math.min(wanted, Math.max(5, Math.floor(bodyHeight * 0.4)));
    if (width >= 120 && height >= 36) {
      const barsWidth = Math.floor(width * 0.45);
      const chartHeight = Math.max(barsHeight, Math.min(16, Math.floor(bodyHeight * 0.35)));
      bars = { top: bodyTop, left: 0, width: barsWidth, height: chartHeight };
      history = { top: bodyTop, left: barsWidth, width: width - barsWidth, height: chartHeight };
      tableTop = bodyTop + chartHeight;
    } else {
      bars = { top: bodyTop, left: 0, width, height: barsHeight };
      tableTop = bodyTop + barsHeight;
    }
  }
  const table = { top: tableTop, left: 0, width, height: Math.max(3, height - 1 - tableTop) };
  return { tooSmall, header, bars, history, table, footer };
}
