// What the model expected at a place of the document: the token there, its scores and their
// percentiles among the document's read tokens, and the model's top-k predictions for it.
import type { TokenScores, TopPredictions } from './api';
import type { CancelToken } from './cancellation';
import type { Document } from './document';
import { Priority } from './priorityGate';
import type { Replayer } from './replay';
import { topK } from './sampling';
import type { LineTokenizer } from './tokenizer';

const sortedCache = new WeakMap<Document, { key: string; imp: Float32Array; sur: Float32Array }>();

function sortedScores(doc: Document): { imp: Float32Array; sur: Float32Array } {
  const key = `${doc.epoch}:${doc.readTokens}`;
  const hit = sortedCache.get(doc);
  if (hit && hit.key === key) return hit;
  const n = Math.max(0, doc.readTokens - 1);
  const imp = Float32Array.from(doc.importance.subarray(1, 1 + n)).sort();
  const sur = Float32Array.from(doc.surprisal.subarray(1, 1 + n)).sort();
  const v = { key, imp, sur };
  sortedCache.set(doc, v);
  return v;
}

/** Percent of values below x (ties count half). */
export function percentile(sorted: Float32Array, x: number): number {
  if (!sorted.length || Number.isNaN(x)) return NaN;
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (sorted[m] < x) lo = m + 1; else hi = m; }
  let eq = lo;
  while (eq < sorted.length && sorted[eq] === x) eq++;
  return (100 * (lo + (eq - lo) / 2)) / sorted.length;
}

/** The token covering a UTF-16 offset: its global index, and its start and end offsets. */
export function tokenAt(doc: Document, offset: number): { g: number; start: number; end: number } | undefined {
  const { line, col } = doc.buf.position(offset);
  const lt = doc.lineTokens(line);
  const base = doc.buf.lineStart(line);
  const len = doc.buf.lines[line].length;
  let k = -1;
  for (let i = 0; i < lt.ids.length; i++) if (lt.starts[i] <= col) k = i;
  // past the last token's start but at the line end: the newline token
  if (k >= 0 && col >= len && line < doc.lineCount - 1) k = lt.ids.length;
  if (k < 0) { if (line < doc.lineCount - 1 && len === 0) k = 0; else return undefined; }
  const g = doc.lineStartToken(line) + k;
  const start = k < lt.ids.length ? base + lt.starts[k] : base + len;
  const end = k + 1 < lt.ids.length ? base + lt.starts[k + 1] : k < lt.ids.length ? base + len : base + len + 1;
  return { g, start, end };
}

export async function predictionsAt(doc: Document, offset: number, k: number, tokenizer: LineTokenizer, replayer: Replayer, special: Set<number>, cancel: CancelToken): Promise<TopPredictions> {
  await doc.tokenizeUpTo(doc.buf.position(Math.min(offset, doc.buf.length)).line + 1, cancel);
  const at = tokenAt(doc, offset);
  if (!at) await doc.tokenizeUpTo(doc.lineCount, cancel);
  const g = at ? at.g : doc.totalTokens;
  const st = await replayer.stateAt(doc, g, true, { priority: Priority.Interactive, cancel });
  let importance = NaN, surprisal = NaN, tokenText = '';
  if (at) {
    const id = doc.tokenRange(g, g + 1)[0];
    tokenText = tokenizer.decode([id]);
    if (g < doc.readTokens) {
      importance = doc.importance[g]; surprisal = doc.surprisal[g];
    } else {
      const out = await replayer.run(Priority.Interactive, Int32Array.of(id), st.state, cancel);
      importance = out.importance[0]; surprisal = out.surprisal[0];
    }
  }
  const sorted = sortedScores(doc);
  return {
    offset: at ? at.start : offset,
    tokenText,
    importance,
    surprisal,
    importancePercentile: percentile(sorted.imp, importance),
    surprisalPercentile: percentile(sorted.sur, surprisal),
    top: topK(st.logits!, k, special).map((t) => ({ text: tokenizer.decode([t.id]), probability: t.p })),
  };
}

/** Scores of the read tokens overlapping [startOffset, endOffset). */
export function tokenScores(doc: Document, startOffset: number, endOffset: number): TokenScores {
  const out: TokenScores = { starts: [], ends: [], importance: [], surprisal: [] };
  const len = doc.buf.length;
  const s = Math.max(0, Math.min(startOffset, len)), e = Math.max(s, Math.min(endOffset, len));
  const first = doc.buf.position(s).line, last = doc.buf.position(e).line;
  // stale scores (read before an edit above them) lie beyond the tokenised lines: their lines
  // kept their cached tokens, so this only adds up counts
  if (doc.hasStaleScores) doc.extendTokenizedCached(last + 1);
  for (let line = first; line <= last && line < doc.tokenizedLines; line++) {
    const g0 = doc.lineStartToken(line);
    if (g0 >= doc.scoredEnd) break;
    const lt = doc.lineTokens(line);
    const base = doc.buf.lineStart(line), lineLen = doc.buf.lines[line].length;
    const n = doc.lineTokenCount(line);
    for (let k = 0; k < n && g0 + k < doc.scoredEnd; k++) {
      if (Number.isNaN(doc.importance[g0 + k])) continue; // new text, not read yet
      const ts = k < lt.ids.length ? base + lt.starts[k] : base + lineLen;
      const te = k + 1 < lt.ids.length ? base + lt.starts[k + 1] : k < lt.ids.length ? base + lineLen : base + lineLen + 1;
      // overlapping tokens, and the empty ones (the tail of a split character) inside the range
      if (!((ts < e && te > s) || (ts === te && ts >= s && ts <= e))) continue;
      out.starts.push(ts); out.ends.push(te);
      out.importance.push(doc.importance[g0 + k]); out.surprisal.push(doc.surprisal[g0 + k]);
    }
  }
  return out;
}
