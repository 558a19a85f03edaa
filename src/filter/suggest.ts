// "Did you mean …?" for the filter language: edit distance between words and the nearest
// candidates, plus the way a short list of them is quoted in a message. Pure.

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), where a swap of
 * two adjacent letters costs only 0.5: it is the commonest typo, so 'prot' is nearer 'port'
 * (0.5) than 'proc' or 'proto' (1).
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 0.5);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The candidates closest to `word`: at most 2 edits (1 for words of 3 letters or fewer). Among
 * equally close ones, those of the same length as the word win (a swapped or wrong letter is a
 * likelier typo than a missing one), so 'prot' suggests 'port' rather than 'proto'.
 */
export function closestWords(word: string, candidates: Iterable<string>): string[] {
  const w = word.toLowerCase();
  const limit = w.length <= 3 ? 1 : 2;
  let best: { distance: number; lengthDiff: number } = { distance: limit + 1, lengthDiff: 0 };
  let found: string[] = [];
  for (const c of candidates) {
    const distance = editDistance(w, c);
    const lengthDiff = Math.abs(c.length - w.length);
    if (distance < best.distance || (distance === best.distance && lengthDiff < best.lengthDiff)) {
      best = { distance, lengthDiff };
      found = [c];
    } else if (distance === best.distance && lengthDiff === best.lengthDiff && !found.includes(c)) {
      found.push(c);
    }
  }
  return found.slice(0, 3);
}

/** 'a', 'a or b', 'a, b or c'. */
export function quoteList(words: readonly string[]): string {
  const quoted = words.map((w) => `'${w}'`);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}
