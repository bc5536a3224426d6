// Extractive summary of a read document: lines ranked by the importance of their tokens,
// de-duplicated, shown in file order; and a coarse profile of importance and surprise.
import type { FileSummary, SummaryLine } from './api';
import type { Document } from './document';
import { utf8Length } from './utf';

/**
 * Lines longer than this (minified code, one-line data) give the summary pieces of about
 * PIECE_CHARS characters instead of themselves: a bundle's one line would otherwise be its one
 * "key line", a megabyte of text. (At 400, a source file's long message strings gave pieces
 * that began mid-string; whole, their start reads better.)
 */
export const PIECED_LINE_CHARS = 1000;
const PIECE_CHARS = 160;

/** A line, or a piece of a long one, that the summary may pick, with its token count. */
type Candidate = SummaryLine & { tokens: number };

/** Per line: mean importance and surprisal of its tokens (the newline token excluded). */
export function lineScores(doc: Document): { importance: Float64Array; surprisal: Float64Array; tokens: Uint32Array } {
  const n = doc.lineCount;
  const importance = new Float64Array(n), surprisal = new Float64Array(n), tokens = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const g0 = doc.lineStartToken(i);
    const k = doc.lineTokens(i).ids.length;
    const g1 = Math.min(g0 + k, doc.readTokens);
    let si = 0, ss = 0;
    for (let g = g0; g < g1; g++) { si += doc.importance[g]; ss += doc.surprisal[g]; }
    const c = Math.max(0, g1 - g0);
    tokens[i] = c;
    importance[i] = c ? si / c : NaN;
    surprisal[i] = c ? ss / c : NaN;
  }
  return { importance, surprisal, tokens };
}

/** Sum of surprisal over the text's tokens (token 0, fim_prefix, is not text) per UTF-8 byte. */
export function bitsPerByte(doc: Document): number {
  let bits = 0;
  for (let g = 1; g < doc.readTokens; g++) bits += doc.surprisal[g];
  const bytes = utf8Length(doc.buf.text());
  return bytes ? bits / bytes : 0;
}

/**
 * The document's key lines, at most maxLines, in file order: the file is cut into maxLines spans
 * of about as many tokens each, and each span gives its most important line. Importance is about
 * flat along a file, so the best lines of the whole file are one region's (in the 6,600-line
 * sample, all 12 were its import block); the best of each span outlines the file (there, mostly
 * its def lines). A span with no line to give (blank, or only duplicates) leaves its place to
 * the best line not yet picked.
 */
export function summarize(doc: Document, maxLines: number, msReading: number): FileSummary {
  const { importance, surprisal, tokens } = lineScores(doc);
  const n = doc.lineCount;
  const candidates: Candidate[] = [];
  const consider = (c: Candidate) => {
    const t = c.text.trim();
    // one-character lines ("}", "") say nothing on their own
    if (t.length < 2 || !/[\p{L}\p{N}]/u.test(t) || !c.tokens) return;
    // mean importance, damped for very short lines so braces and keywords alone do not win
    c.score *= Math.sqrt(Math.min(c.tokens, 6) / 6);
    candidates.push(c);
  };
  for (let i = 0; i < n; i++) {
    const text = doc.buf.lines[i].replace(/\r$/, '');
    if (text.length > PIECED_LINE_CHARS) for (const c of linePieces(doc, i, text)) consider(c);
    else consider({ line: i, text, score: importance[i], tokens: tokens[i] });
  }
  const byScore = (a: Candidate, b: Candidate) => b.score - a.score || a.line - b.line || (a.column ?? 0) - (b.column ?? 0);
  const spans = Math.max(1, Math.min(maxLines, candidates.length));
  let total = 0;
  for (const c of candidates) total += c.tokens;
  // span k holds the candidates whose tokens before them (among candidates) fall in its share
  const inSpan: Candidate[][] = Array.from({ length: spans }, () => []);
  let before = 0;
  for (const c of candidates) {
    inSpan[Math.min(spans - 1, Math.floor((before * spans) / Math.max(1, total)))].push(c);
    before += c.tokens;
  }
  const seen = new Set<string>();
  const key = (c: Candidate) => c.text.trim().replace(/\s+/g, ' ');
  const picked: SummaryLine[] = [];
  const take = (c: Candidate) => {
    seen.add(key(c));
    picked.push({ line: c.line, ...(c.column === undefined ? {} : { column: c.column }), text: c.text, score: c.score });
  };
  for (const span of inSpan) {
    const best = span.sort(byScore).find((c) => !seen.has(key(c)));
    if (best) take(best);
  }
  // a picked line's text is in `seen`, so this skips the picked lines too
  if (picked.length < maxLines) {
    for (const c of [...candidates].sort(byScore)) {
      if (picked.length >= maxLines) break;
      if (!seen.has(key(c))) take(c);
    }
  }
  picked.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
  const buckets = Math.min(n, 64);
  const profile: FileSummary['profile'] = [];
  for (let b = 0; b < buckets; b++) {
    const s = Math.floor((b * n) / buckets), e = Math.floor(((b + 1) * n) / buckets);
    let wi = 0, ws = 0, c = 0;
    for (let i = s; i < e; i++) if (tokens[i]) { wi += importance[i] * tokens[i]; ws += surprisal[i] * tokens[i]; c += tokens[i]; }
    profile.push({ startLine: s, endLine: e - 1, importance: c ? wi / c : 0, surprisal: c ? ws / c : 0 });
  }
  return {
    uri: doc.uri, version: doc.version, lines: picked, profile,
    bitsPerByte: bitsPerByte(doc), tokens: Math.max(0, doc.readTokens - 1), msReading,
  };
}

/**
 * Pieces of a long line for the summary: about PIECE_CHARS characters each, ended after a ';',
 * '}', ',' or space where there is one before 2 x PIECE_CHARS; scored by their read tokens.
 */
function linePieces(doc: Document, line: number, text: string): Candidate[] {
  const { starts } = doc.lineTokens(line);
  const g0 = doc.lineStartToken(line);
  const read = Math.max(0, Math.min(starts.length, doc.readTokens - g0));
  const out: Candidate[] = [];
  let k0 = 0;
  while (k0 < read) {
    let k = k0 + 1;
    while (k < read) {
      const len = starts[k] - starts[k0];
      if (len >= 2 * PIECE_CHARS || (len >= PIECE_CHARS && /[;},\s]/.test(text[starts[k] - 1]))) break;
      k++;
    }
    const end = k < starts.length ? starts[k] : text.length;
    let score = 0;
    for (let g = g0 + k0; g < g0 + k; g++) score += doc.importance[g];
    out.push({ line, column: starts[k0], text: text.slice(starts[k0], end), score: score / (k - k0), tokens: k - k0 });
    k0 = k;
  }
  return out;
}
