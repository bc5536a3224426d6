// Re-tokenising a long line around an edit instead of whole (a minified bundle or a JSON file is
// one line of a megabyte: ~1.6 s to tokenise, and every keystroke there did it again, and dropped
// every checkpoint of the line). The tokenizer's pre-tokenizer (GPT-2's byte-level regex: 's 't 're
// 've 'm 'll 'd, ` ?letters`, ` ?digits`, ` ?other`, whitespace runs) cuts a line into chunks and BPE
// never merges across a chunk, so at a place where every cut of the line has a chunk boundary the
// tokens before it and after it are independent: a line's tokens are those of its pieces between
// such places, and the tokens before the first place an edit touches are still the line's.
import type { LineTokens } from './tokenizer';

/** Lines at least this long are re-tokenised around an edit; shorter ones whole (cheap, and cached). */
export const LONG_LINE_CHARS = 1000;
/** Tokens searched for a chunk boundary before giving up (then the piece runs to the line's end or start). */
const BOUNDARY_SEARCH_TOKENS = 256;

const OTHER = 0, LETTER = 1, DIGIT = 2, SPACE = 3, PUNCT = 4;

/** ASCII classes as the regex sees them; OTHER where the rule below does not decide (non-ASCII, controls, \r). */
function charClass(c: number): number {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return LETTER;
  if (c >= 48 && c <= 57) return DIGIT;
  if (c === 32 || c === 9) return SPACE;
  if (c > 32 && c < 127) return PUNCT;
  return OTHER;
}

/**
 * Whether every pre-tokenisation of `text` has a chunk boundary before text[p], whatever came
 * before: the character before p is an ASCII letter, digit or punctuation other than the
 * apostrophe (so its chunk is a run of its class, or a contraction, neither of which reaches past
 * a change of class) and text[p] is ASCII of another class. Whitespace on the left is excluded:
 * the regex gives a run's last space to the word after it.
 */
export function isChunkBoundary(text: string, p: number): boolean {
  if (p <= 0 || p >= text.length) return p === 0;
  const left = text.charCodeAt(p - 1);
  const a = charClass(left);
  const b = charClass(text.charCodeAt(p));
  return a !== OTHER && a !== SPACE && left !== 39 && b !== OTHER && a !== b;
}

/** The first token of `tokens` whose start is at or after `chars` (UTF-16 offset). */
function firstTokenFrom(tokens: LineTokens, chars: number): number {
  let lo = 0, hi = tokens.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens.starts[mid] < chars) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * How many of `tokens` (the tokens of `text`) lie wholly before the last chunk boundary that is
 * a token start before offset `chars` with text[chars - 1] also before it; 0 when none is near.
 * Those tokens stay the same in any text that agrees with `text` on its first `chars` characters.
 */
export function tokensBeforeBoundary(text: string, tokens: LineTokens, chars: number): number {
  const k = firstTokenFrom(tokens, chars) - 1;   // the token holding text[chars - 1]
  for (let i = k; i > 0 && i > k - BOUNDARY_SEARCH_TOKENS; i--) {
    if (tokens.starts[i] < chars && isChunkBoundary(text, tokens.starts[i])) return i;
  }
  return 0;
}

/** Part of an old line that a new line shares: its first `chars` characters (head) or its last (tail). */
export interface SharedPart {
  text: string;
  tokens: LineTokens;
  chars: number;
}

/**
 * The tokens of `text` (one line) from those of old lines it shares a head and / or a tail with:
 * the old tokens before the last boundary in the shared head, those after the first boundary in
 * the shared tail (shifted), and `encode` of the piece between. `keptHead`: how many leading
 * tokens are the head line's own.
 */
export function spliceLineTokens(encode: (s: string) => LineTokens, text: string, head?: SharedPart, tail?: SharedPart): { tokens: LineTokens; keptHead: number } {
  const kHead = head ? tokensBeforeBoundary(head.text, head.tokens, head.chars) : 0;
  const p = head && kHead > 0 ? head.tokens.starts[kHead] : 0;
  let jTail = tail ? tail.tokens.ids.length : 0;
  let q = text.length;
  if (tail) {
    const shift = text.length - tail.text.length;
    // the boundary's left character must be shared too: it decides the boundary
    const from = firstTokenFrom(tail.tokens, tail.text.length - tail.chars + 1);
    const n = tail.tokens.starts.length;
    for (let j = from; j < n && j < from + BOUNDARY_SEARCH_TOKENS; j++) {
      const s = tail.tokens.starts[j];
      if (s + shift > p && isChunkBoundary(tail.text, s)) { jTail = j; q = s + shift; break; }
    }
  }
  const parts: TokensAt[] = [{ ...encode(text.slice(p, q)), at: p }];
  if (head && kHead > 0) parts.unshift({ ids: head.tokens.ids.subarray(0, kHead), starts: head.tokens.starts.subarray(0, kHead), at: 0 });
  if (tail) parts.push({ ids: tail.tokens.ids.subarray(jTail), starts: tail.tokens.starts.subarray(jTail), at: text.length - tail.text.length });
  return { tokens: joinLineTokens(parts), keptHead: kHead };
}

/** Tokens of a piece of a line whose starts are counted from `at` in the line. */
export type TokensAt = LineTokens & { at: number };

/** One line's tokens from its consecutive pieces' (each piece's starts shifted to the line). */
export function joinLineTokens(parts: TokensAt[]): LineTokens {
  let n = 0;
  for (const part of parts) n += part.ids.length;
  const ids = new Int32Array(n), starts = new Uint32Array(n);
  let o = 0;
  for (const part of parts) {
    ids.set(part.ids, o);
    for (let i = 0; i < part.ids.length; i++) starts[o + i] = part.starts[i] + part.at;
    o += part.ids.length;
  }
  return { ids, starts };
}
