// A document's text as lines (split at "\n"; a CRLF line keeps its "\r"), with UTF-16 line
// start offsets computed lazily from the first line an edit touched.
import type { TextEdit } from './api';

export interface EditEffect {
  /** First line whose text changed (lines before it are untouched). */
  firstLine: number;
  /** Lines [firstLine, firstLine + removed) were replaced by [firstLine, firstLine + inserted). */
  removed: number;
  inserted: number;
}

export class LineBuffer {
  lines: string[];
  private starts = new Float64Array(1);
  /** starts[0..valid] are correct. */
  private valid = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
  }

  get lineCount(): number {
    return this.lines.length;
  }

  get length(): number {
    return this.lineStart(this.lines.length - 1) + this.lines[this.lines.length - 1].length;
  }

  text(): string {
    return this.lines.join('\n');
  }

  lineStart(i: number): number {
    if (i > this.valid) this.computeStarts(i);
    return this.starts[i];
  }

  /** Line and column (UTF-16) of an offset; an offset at a line's "\n" belongs to that line. */
  position(offset: number): { line: number; col: number } {
    const n = this.lines.length;
    this.computeStarts(n - 1);
    if (offset < 0 || offset > this.length) throw new RangeError(`offset ${offset} is outside the document (length ${this.length})`);
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo, col: offset - this.starts[lo] };
  }

  applyEdit(e: TextEdit): EditEffect {
    const a = this.position(e.rangeOffset);
    const b = this.position(e.rangeOffset + e.rangeLength);
    const merged = this.lines[a.line].slice(0, a.col) + e.text + this.lines[b.line].slice(b.col);
    const fresh = merged.split('\n');
    const removed = b.line - a.line + 1;
    if (removed === 1 && fresh.length === 1) this.lines[a.line] = fresh[0];
    else this.lines.splice(a.line, removed, ...fresh);
    this.valid = Math.min(this.valid, a.line);
    return { firstLine: a.line, removed, inserted: fresh.length };
  }

  private computeStarts(upto: number): void {
    if (upto <= this.valid) return;
    if (this.starts.length < this.lines.length) {
      const grown = new Float64Array(Math.max(this.lines.length, this.starts.length * 2));
      grown.set(this.starts.subarray(0, this.valid + 1));
      this.starts = grown;
    }
    for (let i = this.valid; i < upto; i++) this.starts[i + 1] = this.starts[i] + this.lines[i].length + 1;
    this.valid = upto;
  }
}
