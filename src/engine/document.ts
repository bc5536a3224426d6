// One open document: lines, their tokens (tokenised lazily, in order, as reading reaches them),
// per-token scores of the read prefix, and checkpoints. The token stream is
// [fim_prefix] + line 0 + "\n" + line 1 + "\n" + ... : global token g = 0 is fim_prefix,
// line i starts at lineTok[i].
import type { TextEdit } from './api';
import { Checkpoint, CheckpointBudget, CheckpointOwner, tick } from './checkpoints';
import { LineBuffer } from './lineBuffer';
import { isChunkBoundary, joinLineTokens, LONG_LINE_CHARS, SharedPart, spliceLineTokens, TokensAt, tokensBeforeBoundary } from './lineSplice';
import { yieldToEventLoop } from './priorityGate';
import type { LineTokenizer, LineTokens } from './tokenizer';

/** Hot checkpoints kept per document (start of the cursor's line and the line before, twice). */
const MAX_HOT = 4;
/**
 * Tokenising runs on the engine's event loop, where a cancel or an edit waits behind it (a
 * 1,500-line paste of new text: ~100 ms on a quiet core, ~1 s beside a busy editor): it goes in
 * slices of this many milliseconds, and an edit tokenises its inserted lines within one slice
 * or drops the stale scores after it.
 */
const TOKENIZE_SLICE_MS = 10;
/**
 * Lines this long are tokenised in pieces between chunk boundaries (lineSplice.ts), a slice at a
 * time: a minified bundle's one line of a megabyte takes ~1.6 s, which would hold the engine.
 */
const SLICED_LINE_CHARS = 32768;
const PIECE_CHARS = 8192;

/** A long line being tokenised piece by piece. */
interface PartialLine { line: number; text: string; pos: number; pieces: TokensAt[] }

export class Document implements CheckpointOwner {
  readonly buf: LineBuffer;
  private toks: (LineTokens | undefined)[];
  private lineTok = new Float64Array(2);
  /** lineTok[0..tokValid] are correct. */
  private tokValid = 0;
  private partial: PartialLine | undefined;
  checkpoints: Checkpoint[] = [];
  frontier: Checkpoint | undefined;
  importance = new Float32Array(1024);
  surprisal = new Float32Array(1024);
  /** Scores are known for tokens [0, readTokens). */
  readTokens = 0;
  /**
   * Scores are stored for tokens [0, scoredEnd). Beyond readTokens they are stale: read before
   * an edit above them (tokens are line-local, so the lines after an edit keep their tokens and,
   * shifted, their scores until they are read again); NaN where an edit put new text.
   */
  scoredEnd = 0;
  /** Bumped by every edit: work started before an edit must not store its results. */
  epoch = 0;
  lastUse = tick();
  lastEditMs = 0;

  constructor(
    readonly uri: string,
    public version: number,
    text: string,
    public languageId: string | undefined,
    private readonly tokenizer: LineTokenizer,
    private readonly budget: CheckpointBudget,
    private readonly bosId: number,
  ) {
    this.buf = new LineBuffer(text);
    this.toks = new Array(this.buf.lineCount).fill(undefined);
    this.lineTok[0] = 1;
    budget.register(this);
  }

  get lineCount(): number {
    return this.buf.lineCount;
  }

  /** All lines tokenised. */
  get fullyTokenized(): boolean {
    return this.tokValid === this.buf.lineCount;
  }

  /** Tokens of the whole document (tokenises what is missing). */
  get totalTokens(): number {
    return this.lineStartToken(this.buf.lineCount);
  }

  /** Lines tokenised so far, in order from the start. */
  get tokenizedLines(): number {
    return this.tokValid;
  }

  /** Global token index where line i starts (i = lineCount: the end). Tokenises lines before i. */
  lineStartToken(i: number): number {
    this.ensureTokenized(i);
    return this.lineTok[i];
  }

  /** The tokens of line i without its newline. */
  lineTokens(i: number): LineTokens {
    let t = this.toks[i];
    if (!t && this.buf.lines[i].length >= SLICED_LINE_CHARS) this.encodeLongLine(i, Infinity);
    t = this.toks[i];
    if (!t) { t = this.tokenizer.encodeLine(this.buf.lines[i]); this.toks[i] = t; }
    return t;
  }

  /**
   * Tokenises long line i piece by piece until done (its tokens stored: true) or `deadline`
   * (performance.now()) passes (false: the next call goes on where this one stopped).
   */
  private encodeLongLine(i: number, deadline: number): boolean {
    const text = this.buf.lines[i];
    let p = this.partial;
    if (!p || p.line !== i || p.text !== text) p = this.partial = { line: i, text, pos: 0, pieces: [] };
    while (p.pos < text.length) {
      if (performance.now() >= deadline) return false;
      let q = Math.min(text.length, p.pos + PIECE_CHARS);
      while (q < text.length && q < p.pos + 2 * PIECE_CHARS && !isChunkBoundary(text, q)) q++;
      if (q < text.length && !isChunkBoundary(text, q)) q = text.length;   // no boundary near: the rest at once
      p.pieces.push({ ...this.tokenizer.encodeLine(text.slice(p.pos, q)), at: p.pos });
      p.pos = q;
    }
    this.toks[i] = joinLineTokens(p.pieces);
    this.partial = undefined;
    return true;
  }

  /** Token count of line i including its newline (the last line has none). */
  lineTokenCount(i: number): number {
    return this.lineTokens(i).ids.length + (i < this.buf.lineCount - 1 ? 1 : 0);
  }

  ensureTokenized(uptoLine: number): void {
    if (uptoLine <= this.tokValid) return;
    if (this.lineTok.length < this.buf.lineCount + 1) {
      const grown = new Float64Array(Math.max(this.buf.lineCount + 1, this.lineTok.length * 2));
      grown.set(this.lineTok.subarray(0, this.tokValid + 1));
      this.lineTok = grown;
    }
    for (let i = this.tokValid; i < uptoLine; i++) this.lineTok[i + 1] = this.lineTok[i] + this.lineTokenCount(i);
    this.tokValid = uptoLine;
  }

  /** Tokenises lines towards `upto` for at most `ms` milliseconds; true when they are all done. */
  tokenizeWithin(upto: number, ms: number): boolean {
    const deadline = performance.now() + ms;
    const end = () => Math.min(upto, this.buf.lineCount);
    while (this.tokValid < end() && performance.now() < deadline) {
      const i = this.tokValid;
      if (!this.toks[i] && this.buf.lines[i].length >= SLICED_LINE_CHARS && !this.encodeLongLine(i, deadline)) return false;
      // up to 16 lines at once, stopping before the next long one
      let j = i + 1;
      while (j < Math.min(end(), i + 16) && (this.toks[j] || this.buf.lines[j].length < SLICED_LINE_CHARS)) j++;
      this.ensureTokenized(j);
    }
    return this.tokValid >= end();
  }

  /** Tokenises lines until token g is covered (or the document ends) for at most `ms` milliseconds; true when done. */
  tokenizeTokenWithin(g: number, ms: number): boolean {
    const deadline = performance.now() + ms;
    while (this.tokValid < this.buf.lineCount && this.lineTok[this.tokValid] <= g) {
      if (!this.tokenizeWithin(this.tokValid + 1, Math.max(0, deadline - performance.now()))) return false;
    }
    return true;
  }

  /**
   * Tokenises the lines before `upto` in slices, letting the event loop take the messages that
   * came in between them; a cancel stops it. Afterwards lineStartToken(upto) costs nothing (unless
   * an edit came meanwhile).
   */
  async tokenizeUpTo(upto: number, cancel?: { throwIfCancelled(): void }): Promise<void> {
    while (!this.tokenizeWithin(upto, TOKENIZE_SLICE_MS)) {
      await yieldToEventLoop();
      cancel?.throwIfCancelled();
    }
  }

  /** Extends the tokenised prefix towards line `upto` over lines whose tokens are cached (no encoding). */
  extendTokenizedCached(upto: number): void {
    let i = this.tokValid;
    while (i < Math.min(upto, this.buf.lineCount) && this.toks[i]) i++;
    this.ensureTokenized(i);
  }

  /** Line holding global token g (g >= 1) among the tokenised lines, and its index in the line. */
  tokenPosition(g: number): { line: number; k: number } {
    let lo = 0, hi = this.tokValid - 1;
    if (hi < 0 || g < 1) return { line: 0, k: 0 };
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineTok[mid] <= g) lo = mid; else hi = mid - 1;
    }
    return { line: lo, k: g - this.lineTok[lo] };
  }

  /** Tokenises lines until token g is covered (or the document ends). */
  ensureTokenFor(g: number): void {
    while (this.tokValid < this.buf.lineCount && this.lineTok[this.tokValid] <= g) this.ensureTokenized(this.tokValid + 1);
  }

  /** The global token ids [g0, g1). */
  tokenRange(g0: number, g1: number): Int32Array {
    const out = new Int32Array(Math.max(0, g1 - g0));
    if (g1 <= g0) return out;
    this.ensureTokenFor(g1 - 1);
    let o = 0, g = g0;
    if (g === 0) { out[o++] = this.bosId; g = 1; }
    if (g >= g1) return out;
    let { line, k } = this.tokenPosition(g);
    while (o < out.length) {
      const ids = this.lineTokens(line).ids;
      const n = this.lineTokenCount(line);
      for (; k < n && o < out.length; k++) out[o++] = k < ids.length ? ids[k] : this.tokenizer.newlineId;
      line++; k = 0;
    }
    return out;
  }

  /** Applies VS Code edits in order; returns the first global token whose meaning changed. */
  applyEdits(edits: TextEdit[], version: number): number {
    let firstG = Infinity;
    for (const e of edits) {
      const pos = this.buf.position(e.rangeOffset);
      const end = this.buf.position(e.rangeOffset + e.rangeLength);
      const lastLine = end.line;
      // an earlier edit left the lines after it untokenised: count their cached tokens again
      // up to this edit (stale scores there move with them)
      if (this.hasStaleScores) this.extendTokenizedCached(lastLine + 2);
      // lines before the edit keep their tokens; beyond the tokenised prefix nothing is known yet
      let g = this.lineTok[Math.min(pos.line, this.tokValid)];
      const oldAfter = lastLine + 1 <= this.tokValid && lastLine + 1 < this.buf.lineCount ? this.lineTok[lastLine + 1] : undefined;
      const head = this.sharedPart(pos.line, pos.col);
      const tail = this.sharedPart(lastLine, this.buf.lines[lastLine].length - end.col);
      const eff = this.buf.applyEdit(e);
      if (eff.removed === 1 && eff.inserted === 1) this.toks[eff.firstLine] = undefined;
      else this.toks.splice(eff.firstLine, eff.removed, ...new Array<LineTokens | undefined>(eff.inserted).fill(undefined));
      // in a long line, the tokens before the edit stay (and with them the checkpoints and
      // scores there), and those after it are reused
      const lastNew = eff.firstLine + eff.inserted - 1;
      if (e.text.length >= SLICED_LINE_CHARS) {
        // a big paste: its lines are tokenised later, in slices; the tokens before it stay
        if (head && pos.line <= this.tokValid) g += tokensBeforeBoundary(head.text, head.tokens, head.chars);
      } else if (head || tail) {
        const encode = (s: string) => this.tokenizer.encodeLine(s);
        const first = spliceLineTokens(encode, this.buf.lines[eff.firstLine], head, lastNew === eff.firstLine ? tail : undefined);
        this.toks[eff.firstLine] = first.tokens;
        if (pos.line <= this.tokValid) g += first.keptHead;
        if (tail && lastNew > eff.firstLine) this.toks[lastNew] = spliceLineTokens(encode, this.buf.lines[lastNew], undefined, tail).tokens;
      }
      firstG = Math.min(firstG, g);
      this.tokValid = Math.min(this.tokValid, eff.firstLine);
      this.shiftScores(g, oldAfter, eff.firstLine + eff.inserted);
    }
    this.version = version;
    this.epoch++;
    this.partial = undefined;
    this.lastEditMs = Date.now();
    this.invalidateFrom(firstG);
    return firstG;
  }

  /** A long line's text and tokens, when known, as the part of it an edit leaves (`chars` characters). */
  private sharedPart(line: number, chars: number): SharedPart | undefined {
    const text = this.buf.lines[line];
    const tokens = this.toks[line];
    return tokens && text.length >= LONG_LINE_CHARS && chars > 0 ? { text, tokens, chars } : undefined;
  }

  invalidateFrom(g: number): void {
    this.readTokens = Math.min(this.readTokens, g);
    this.budget.dropAfter(this, g);
  }

  /** Stores scores for tokens [g0, g0 + n) if they extend the read prefix contiguously. */
  recordScores(g0: number, importance: Float32Array, surprisal: Float32Array): void {
    const g1 = g0 + importance.length;
    if (g0 > this.readTokens || g1 <= this.readTokens) return;
    this.reserveScores(g1);
    const skip = this.readTokens - g0;
    this.importance.set(importance.subarray(skip), this.readTokens);
    this.surprisal.set(surprisal.subarray(skip), this.readTokens);
    this.readTokens = g1;
    this.scoredEnd = Math.max(this.scoredEnd, g1);
  }

  /** Some stored scores were read before an edit above them (tokens [readTokens, scoredEnd)). */
  get hasStaleScores(): boolean {
    return this.scoredEnd > this.readTokens;
  }

  private reserveScores(n: number): void {
    if (this.importance.length >= n) return;
    let cap = this.importance.length;
    while (cap < n) cap *= 2;
    const keep = Math.max(this.readTokens, this.scoredEnd);
    const imp = new Float32Array(cap); imp.set(this.importance.subarray(0, keep));
    const sur = new Float32Array(cap); sur.set(this.surprisal.subarray(0, keep));
    this.importance = imp; this.surprisal = sur;
  }

  /**
   * After an edit that starts at token gEdit: the stored scores of the lines after it (from
   * oldAfter, the old start of the first untouched line) move to where those lines start now;
   * the edited lines have none. Without a known old start, the scores end at the edit.
   */
  private shiftScores(gEdit: number, oldAfter: number | undefined, newAfterLine: number): void {
    const end = this.scoredEnd;
    if (gEdit >= end) return;
    if (oldAfter === undefined || oldAfter >= end) { this.scoredEnd = gEdit; return; }
    // the inserted lines' tokens say where the lines after them start now: many new lines (a big
    // paste) would hold the event loop, so then the scores after the edit go (read again later)
    if (!this.tokenizeWithin(newAfterLine, TOKENIZE_SLICE_MS)) { this.scoredEnd = gEdit; return; }
    const newAfter = this.lineStartToken(newAfterLine);
    const newEnd = end + newAfter - oldAfter;
    this.reserveScores(newEnd);
    this.importance.copyWithin(newAfter, oldAfter, end);
    this.surprisal.copyWithin(newAfter, oldAfter, end);
    this.importance.fill(NaN, gEdit, newAfter);
    this.surprisal.fill(NaN, gEdit, newAfter);
    this.scoredEnd = newEnd;
  }

  /** Best starting point for the state after tokens [0, g): the latest checkpoint at or before g. */
  bestCheckpoint(g: number, usable?: (c: Checkpoint) => boolean): Checkpoint | undefined {
    let best: Checkpoint | undefined;
    const f = this.frontier;
    if (f && f.g <= g && (!usable || usable(f))) best = f;
    const list = this.checkpoints;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i];
      if (c.g > g) continue;
      if (usable && !usable(c)) continue;
      if (!best || c.g > best.g) best = c;
      break;
    }
    return best;
  }

  addCheckpoint(g: number, state: Float32Array, hot = false, logits?: Float32Array): void {
    this.budget.add(this, { g, state, lastUse: tick(), hot, logits });
    if (hot) {
      // only the few latest cursor positions keep their dense checkpoints
      const hots = this.checkpoints.filter((c) => c.hot).sort((a, b) => b.lastUse - a.lastUse);
      for (const c of hots.slice(MAX_HOT)) this.budget.remove(this, c);
    }
  }

  setFrontier(g: number, state: Float32Array, logits?: Float32Array): void {
    this.budget.setFrontier(this, { g, state, lastUse: tick(), hot: false, logits });
  }

  lastCheckpointG(): number {
    return this.checkpoints.length ? this.checkpoints[this.checkpoints.length - 1].g : 0;
  }

  touch(): void {
    this.lastUse = tick();
  }

  dispose(): void {
    this.budget.unregister(this);
  }
}
