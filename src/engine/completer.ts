// Completion at the cursor: the state at the cursor (checkpoint + a few tokens), then either
// plain continuation or fill-in-the-middle (<fim_suffix> suffix lines <fim_middle>), token
// healing when the cursor is inside a token, and decoding until a stop condition.
import type { CompletionRequest, CompletionResult } from './api';
import type { CancelToken } from './cancellation';
import type { Document } from './document';
import { LONG_LINE_CHARS, spliceLineTokens, tokensBeforeBoundary } from './lineSplice';
import type { Manifest } from './manifest';
import { Priority } from './priorityGate';
import type { Replayer, StateAt } from './replay';
import { PickOptions, pickToken, seededRng } from './sampling';
import { checkStop, fitMiddle, indentWidth, worthShowing } from './stopRules';
import type { LineTokenizer } from './tokenizer';
import { completeUtf8Prefix, decodeUtf8 } from './utf';

/** The suffix given to fill-in-the-middle is bounded in lines (the request) and in tokens. */
export const MAX_SUFFIX_TOKENS = 1024;
/** The suffix runs in pieces of at most this many tokens, checking for a cancellation between them. */
const SUFFIX_RUN_TOKENS = 256;

export interface CursorState {
  state: Float32Array;
  /** Logits after the cursor's tokens (absent when none were run and none were needed). */
  logits?: Float32Array;
  /** UTF-8 bytes the completion must start with (token healing). */
  heal: Uint8Array;
  healTokens: number;
}

/** Whether a token's bytes go on the word the text ends with (no boundary between them). */
function continuesWord(text: string, token: Uint8Array): boolean {
  if (token.length === 0 || !/[\p{L}\p{N}_]$/u.test(text)) return false;
  const b = token[0];
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 95 || b >= 0x80;
}

/** Where a request at `line` keeps hot checkpoints: the start of its line and of the line before. */
function hotLineStarts(doc: Document, line: number): number[] {
  return line > 0 ? [doc.lineStartToken(line - 1), doc.lineStartToken(line)] : [doc.lineStartToken(line)];
}

/** Length of the longest common prefix of a and b. */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function prefixEqual(a: Int32Array, b: Int32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Completer {
  private readonly stopIds: Set<number>;
  private readonly banned: Set<number>;

  constructor(
    private readonly manifest: Manifest,
    private readonly tokenizer: LineTokenizer,
    private readonly replayer: Replayer,
  ) {
    const sp = manifest.special;
    this.stopIds = new Set([sp.end_of_text, sp.fim_prefix, sp.fim_suffix, sp.fim_middle]);
    this.banned = new Set([sp.pad]);
    for (let id = tokenizer.vocabSize; id < manifest.vocabSize; id++) this.banned.add(id); // ids with no text
  }

  /**
   * The state after `prefixText` at the start of `line` (the line's text before the cursor, or
   * text assumed in its place), optionally with the last token backed off (token healing).
   * Stores hot checkpoints at the start of the line and of the line before.
   */
  async cursorState(doc: Document, line: number, prefixText: string, needLogits: boolean, heal: boolean, cancel: CancelToken): Promise<CursorState> {
    const gL = doc.lineStartToken(line);
    const lineText = doc.buf.lines[line];
    const lineTokens = doc.lineTokens(line);
    // in a long line only the part after its last chunk boundary before the cursor is tokenised
    // anew, and the state is kept there (hot) for the next keystroke; a short line starts afresh
    const { tokens, keptHead } = lineText.length >= LONG_LINE_CHARS
      ? spliceLineTokens((s) => this.tokenizer.encodeLine(s), prefixText, { text: lineText, tokens: lineTokens, chars: commonPrefix(lineText, prefixText) })
      : { tokens: this.tokenizer.encodeLine(prefixText), keptHead: 0 };
    let ids = tokens.ids;
    let healBytes: Uint8Array = new Uint8Array(0);
    let healTokens = 0;
    if (heal && ids.length > 0) {
      healBytes = this.tokenizer.bytes[ids[ids.length - 1]];
      healTokens = 1;
      ids = ids.subarray(0, ids.length - 1);
    }
    const lineIds = lineTokens.ids;
    const target = gL + ids.length;
    const gKept = gL + Math.min(keptHead, ids.length);   // the document's tokens up to here are the prefix's
    // a checkpoint inside this line is usable while the line's tokens agree with the prefix's
    const usable = (c: { g: number; logits?: Float32Array }) => (needLogits ? c.g < target || (c.g === target && !!c.logits) : c.g <= target)
      && (c.g <= gKept || prefixEqual(lineIds, ids, c.g - gL));
    let st: StateAt = this.replayer.startFor(doc, target, usable);
    const hot = hotLineStarts(doc, line);
    if (gKept > gL) hot.push(gKept);
    if (st.g < gKept) st = await this.replayer.advance(doc, st, gKept, { priority: Priority.Interactive, cancel, hot });
    if (st.g < target) {
      const tail = ids.subarray(st.g - gL);
      const out = await this.replayer.run(Priority.Interactive, tail, st.state, cancel);
      st = { g: target, state: out.state, logits: out.logits };
    }
    return { state: st.state, logits: st.logits, heal: healBytes, healTokens };
  }

  /** The fill-in-the-middle tokens: <fim_suffix> up to suffixLines lines after the cursor's line <fim_middle>. */
  suffixTokens(doc: Document, line: number, suffixLines: number): Int32Array | undefined {
    const sp = this.manifest.special;
    const last = Math.min(doc.lineCount - 1, line + suffixLines);
    if (suffixLines <= 0 || last <= line) return undefined;
    const out: number[] = [sp.fim_suffix];
    for (let i = line + 1; i <= last; i++) {
      const ids = this.tokenizer.encodeLine(doc.buf.lines[i]).ids;
      const n = ids.length + (i < doc.lineCount - 1 ? 1 : 0);
      if (out.length + n + 1 > MAX_SUFFIX_TOKENS) break;
      for (const id of ids) out.push(id);
      if (i < doc.lineCount - 1) out.push(this.tokenizer.newlineId);
    }
    out.push(sp.fim_middle);
    return Int32Array.from(out);
  }

  /**
   * The hot checkpoints cursorState stores, made ahead of a request (EngineApi.prepare): below
   * interactive priority, so a completion elsewhere goes first; an edit makes it stop (stale).
   */
  async prepareLine(doc: Document, line: number, col: number, cancel: CancelToken, maxRun?: number): Promise<boolean> {
    const gL = doc.lineStartToken(line);
    const lineText = doc.buf.lines[line];
    // in a long line, where the cursor is rather than where the line starts
    const g = gL + (lineText.length >= LONG_LINE_CHARS ? tokensBeforeBoundary(lineText, doc.lineTokens(line), col) : 0);
    const st = this.replayer.startFor(doc, g);
    if (st.g >= g) return false;   // a checkpoint is there already
    const hot = hotLineStarts(doc, line);
    if (g > gL) hot.push(g);
    await this.replayer.advance(doc, st, g, { priority: Priority.Read, cancel, hot, maxRun });
    return true;
  }

  async complete(doc: Document, req: CompletionRequest, cancel: CancelToken): Promise<CompletionResult> {
    const t0 = performance.now();
    const { line, col } = doc.buf.position(req.offset);
    const lineText = doc.buf.lines[line];
    const restOfLine = lineText.slice(col);
    const assume = req.assume;
    if (assume && (assume.replaces < 0 || assume.replaces > col || /[\r\n]/.test(assume.text))) {
      throw new Error(`assumed text must stay on the cursor's line and replace at most the ${col} characters before the cursor (replaces ${assume.replaces}, text ${JSON.stringify(assume.text.slice(0, 40))})`);
    }
    const prefixText = assume ? lineText.slice(0, col - assume.replaces) + assume.text : lineText.slice(0, col);
    let followingText: string | undefined;
    const following = () => (followingText ??= [restOfLine, ...doc.buf.lines.slice(line + 1, line + 4)].join('\n'));
    const suffix = this.suffixTokens(doc, line, req.suffixLines);
    const fim = suffix !== undefined;
    const cs = await this.cursorState(doc, line, prefixText, !fim, prefixText.length > 0, cancel);
    const msToState = performance.now() - t0;
    let state = cs.state;
    let logits = cs.logits;
    if (fim) {
      // in pieces, so that typing on stops a long suffix between them rather than after all of it
      // (a cancel is answered as stoppedBy 'cancelled' by Engine.complete)
      const pieceTokens = Math.min(SUFFIX_RUN_TOKENS, this.replayer.maxRun(Priority.Interactive));
      for (let i = 0; i < suffix!.length; i += pieceTokens) {
        const piece = suffix!.subarray(i, i + pieceTokens);
        const out = await this.replayer.run(Priority.Interactive, piece, state, cancel);
        state = out.state; logits = out.logits;
      }
    }
    // past the time budget decoding goes on only to reach text worth showing, up to this limit
    const hardLimitMs = req.timeBudgetMs + Math.max(2 * req.timeBudgetMs, 200);
    const rng = seededRng(req.seed ?? (Date.now() & 0x7fffffff));
    const spec = { stopStrings: req.stopStrings ?? [], mode: req.mode, cursorIndent: indentWidth(lineText), stopOnRepetition: req.stopOnRepetition };
    const bytes: number[] = [];
    let tokens = 0;
    let msToFirstToken = 0;
    let stoppedBy: CompletionResult['stoppedBy'] = 'max_tokens';
    let text = '';
    const tb = this.tokenizer.bytes;
    const heal = cs.heal;
    const healAllows = (id: number): boolean => {
      // while the healed bytes are not all produced, a token must agree with them
      const done = bytes.length;
      if (done >= heal.length) return true;
      const b = tb[id];
      if (b.length === 0) return false;
      const n = Math.min(b.length, heal.length - done);
      for (let i = 0; i < n; i++) if (b[i] !== heal[done + i]) return false;
      return true;
    };
    const pick: PickOptions = { temperature: req.temperature, topP: req.topP, rng, banned: this.banned };
    for (;;) {
      if (cancel.cancelled) { stoppedBy = 'cancelled'; break; }
      pick.allowed = bytes.length < heal.length ? healAllows : undefined;
      const id = pickToken(logits!, pick);
      if (tokens === 0) msToFirstToken = performance.now() - t0;
      if (this.stopIds.has(id)) { stoppedBy = 'end_of_text'; break; }
      // asked for an early answer, or out of time: stop where a word ends, once there is text
      // worth showing (an empty answer would leave the editor with nothing to show at all)
      const early = cancel.hurried || performance.now() - t0 > req.timeBudgetMs;
      if (early && !continuesWord(text, tb[id]) && worthShowing(fim ? fitMiddle(text, restOfLine) : text, req.mode, following())) {
        stoppedBy = 'time'; break;
      }
      tokens++;
      for (const b of tb[id]) bytes.push(b);
      if (bytes.length >= heal.length) {
        const visible = Uint8Array.from(bytes.slice(heal.length));
        text = decodeUtf8(visible.subarray(0, completeUtf8Prefix(visible)));
        const stop = checkStop(text, spec);
        if (stop) { text = stop.text; stoppedBy = stop.reason; break; }
      }
      if (tokens >= req.maxTokens) { stoppedBy = 'max_tokens'; break; }
      if (performance.now() - t0 > hardLimitMs) { stoppedBy = 'time'; break; }
      const out = await this.replayer.decode(id, state);
      state = out.state; logits = out.logits;
    }
    if (fim && stoppedBy !== 'cancelled') text = fitMiddle(text, restOfLine);
    else if (stoppedBy === 'end_of_text') text = text.replace(/\r?\n$/, '');
    return { text, tokens, msToState, msToFirstToken, msTotal: performance.now() - t0, stoppedBy };
  }
}
