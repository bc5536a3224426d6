// Where a completion stops, judged on its text so far: stop strings, the end of the line in
// 'line' mode, a line indented less than the cursor's in 'block' mode.

export type TextStop = 'stop_string' | 'line_end' | 'indent';

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
