// Where a completion stops, judged on its text so far: stop strings, the end of the line in
// 'line' mode, a line indented less than the cursor's in 'block' mode, and a loop (a small
// model decoding greedily falls into repeating the same few tokens).

export type TextStop = 'stop_string' | 'line_end' | 'indent' | 'repetition';

/** Where the text ends in a loop: the same unit (with a letter or digit in it) three times in a
 *  row, or four for units under 8 characters; returns the length to keep (up to the end of the
 *  run's first unit), or -1. */
export function repetitionCut(text: string, maxUnit = 200): number {
  for (let unit = 2; unit <= maxUnit && unit * 3 <= text.length; unit++) {
    const times = unit < 8 ? 4 : 3;
    if (unit * times > text.length) continue;
    const last = text.slice(text.length - unit);
    if (!/[\p{L}\p{N}]/u.test(last)) continue;
    let k = 1;
    while ((k + 1) * unit <= text.length && text.slice(text.length - (k + 1) * unit, text.length - k * unit) === last) k++;
    if (k >= times) return text.length - (k - 1) * unit;
  }
  return -1;
}

export function indentWidth(line: string, tabSize = 4): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w++;
    else if (ch === '\t') w += tabSize - (w % tabSize);
    else break;
  }
  return w;
}

export interface StopSpec {
  stopStrings: string[];
  mode: 'line' | 'block';
  /** Indentation of the cursor's line. */
  cursorIndent: number;
  /** Cut a loop (repetitionCut); default true. */
  stopOnRepetition?: boolean;
}

/** Returns the text cut where it must stop, or undefined to go on. */
export function checkStop(text: string, s: StopSpec): { text: string; reason: TextStop } | undefined {
  let cut: { text: string; reason: TextStop } | undefined;
  const consider = (at: number, reason: TextStop) => {
    if (!cut || at < cut.text.length) cut = { text: text.slice(0, at), reason };
  };
  for (const stop of s.stopStrings) {
    if (!stop) continue;
    const i = text.indexOf(stop);
    if (i >= 0) consider(i, 'stop_string');
  }
  const loop = s.stopOnRepetition === false ? -1 : repetitionCut(text);
  if (loop >= 0) consider(loop, 'repetition');
  if (s.mode === 'line') {
    // the first line end after some text (a completion at a line's end may start on the next line)
    let i = text.indexOf('\n');
    while (i >= 0) {
      if (text.slice(0, i).trim() !== '') { consider(trimCr(text, i), 'line_end'); break; }
      i = text.indexOf('\n', i + 1);
    }
  } else {
    // a later line that starts with text indented less than the cursor's line ends the block
    let start = text.indexOf('\n');
    while (start >= 0) {
      const next = text.indexOf('\n', start + 1);
      const line = text.slice(start + 1, next < 0 ? undefined : next);
      const body = line.replace(/^[ \t]*/, '');
      if (body !== '' && body !== '\r' && indentWidth(line) < s.cursorIndent) { consider(trimCr(text, start), 'indent'); break; }
      start = next;
    }
  }
  return cut;
}

function trimCr(text: string, nlIndex: number): number {
  return nlIndex > 0 && text[nlIndex - 1] === '\r' ? nlIndex - 1 : nlIndex;
}

/** A fill-in-the-middle middle re-generates the rest of the cursor's line (it was trained so):
 *  drop it where the middle ends with it, since it is still in the document after the cursor. */
export function fitMiddle(middle: string, restOfLine: string): string {
  const m = middle.replace(/\r?\n$/, '');
  const rest = restOfLine.replace(/\r$/, '').trim();
  if (rest === '') return m;
  const trimmed = m.trimEnd();
  return trimmed.endsWith(rest) ? trimmed.slice(0, trimmed.length - rest.length) : m;
}

/** The part of an answer cut short (time, token limit) that an editor shows: in 'line' mode its
 *  first line; in 'block' mode its whole lines (a partial last line waits for the rest), or the
 *  one line it has. */
export function shownPart(text: string, mode: 'line' | 'block'): string {
  const lines = text.split('\n');
  if (mode === 'line') return lines[0];
  return lines.length > 1 ? lines.slice(0, -1).join('\n') : lines[0];
}

/** Whether an answer cut short now would show something: text that is not blank and does not
 *  only repeat what already follows the cursor (`following`: the rest of the line and the next lines). */
export function worthShowing(text: string, mode: 'line' | 'block', following: string): boolean {
  const shown = shownPart(text, mode).replace(/\r/g, '').trim();
  return shown !== '' && !following.replace(/\r/g, '').trimStart().startsWith(shown);
}
