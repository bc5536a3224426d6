// Byte-level BPE (GPT-2's scheme) for the tokenizer.json that model/tokenizer.py trains: a line's
// ids and their UTF-16 starts, the same as the general tokenizer library's, 13-22x faster
// (bench/tokenizerSpeed.ts). With the library, reading beside a GPU waited on tokenising (~0.9 s
// per MB of code on this machine's core, against ~0.3 s for an H200 to run its tokens:
// bench/readingCeiling.ts), and every keystroke re-tokenises its line. Only the configuration the trainer writes is handled (ByteLevelBpe.fromJson says
// undefined otherwise, and LineTokenizer keeps the library).
import type { LineTokens } from './tokenizer';
import { byteToUtf16Map } from './utf';

/** The ByteLevel pre-tokenizer's split (GPT-2's pattern), as the library writes it in JavaScript. */
const PRE_TOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
/** Words up to this many characters are cached (longer ones rarely repeat): ~240 bytes each, ~8 MB at most. */
const CACHED_WORD_CHARS = 64;
const CACHED_WORDS = 32768;
/** Longer words merge through a heap (a megabyte of base64 is one word); shorter by a scan. */
const SCAN_SYMBOLS = 48;
/** Scratch for words up to this many bytes is kept between words. */
const KEPT_SCRATCH = 1 << 16;

interface AddedToken { id: number; content: string }

/** GPT-2's byte -> printable character table of byte-level vocabularies: the character for each byte. */
export function byteLevelChars(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(keep.includes(b) ? b : 256 + n++);
  return out;
}

/**
 * Merge ranks by pair of ids: open addressing over typed arrays (a Map of numbers cost half the
 * tokenising time). NONE, above every rank, where the pair does not merge.
 */
const NONE = 0x7fffffff;
class PairRanks {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly rank: Int32Array;
  private readonly mask: number;

  constructor(pairs: number) {
    let size = 1024;
    while (size < pairs * 2) size *= 2;
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.rank = new Int32Array(size);
    this.mask = size - 1;
  }

  private slot(a: number, b: number): number {
    let i = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) & this.mask;
    while (this.left[i] !== -1 && (this.left[i] !== a || this.right[i] !== b)) i = (i + 1) & this.mask;
    return i;
  }

  /** A pair listed twice keeps the last listing's rank, as the library and the Python trainer's have it. */
  set(a: number, b: number, rank: number): void {
    const i = this.slot(a, b);
    this.left[i] = a;
    this.right[i] = b;
    this.rank[i] = rank;
  }

  get(a: number, b: number): number {
    const i = this.slot(a, b);
    return this.left[i] === -1 ? NONE : this.rank[i];
  }
}

export class ByteLevelBpe {
  private readonly words = new Map<string, Int32Array>();
  /** Scratch for a word's symbols (ids, links) and the heap of candidate merges. */
  private ids = new Int32Array(256);
  private next = new Int32Array(256);
  private prev = new Int32Array(256);
  private rankAt = new Int32Array(256);
  private heap = new Float64Array(256);

  private constructor(
    /** id of each single byte */
    private readonly byteIds: Int32Array,
    /** rank of the merge of a pair of ids */
    private readonly ranks: PairRanks,
    /** rank -> the merged token's id */
    private readonly merged: Int32Array,
    private readonly added: AddedToken[],
    /** UTF-8 bytes of each id (a byte-level token's characters stand for one byte each) */
    private readonly lengths: Int32Array,
  ) {}

  /** The tokenizer.json's BPE, or undefined when it is not the configuration this class reproduces. */
  static fromJson(json: unknown): ByteLevelBpe | undefined {
    type Pre = { type?: string; pattern?: { String?: string }; behavior?: string; invert?: boolean; add_prefix_space?: boolean; use_regex?: boolean; pretokenizers?: Pre[] };
    const j = json as {
      normalizer?: unknown; pre_tokenizer?: Pre;
      model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; dropout?: unknown; continuing_subword_prefix?: unknown; end_of_word_suffix?: unknown; byte_fallback?: unknown; ignore_merges?: unknown };
      added_tokens?: { id: number; content: string; single_word?: boolean; lstrip?: boolean; rstrip?: boolean; normalized?: boolean }[];
    };
    const m = j?.model;
    if (!m || m.type !== 'BPE' || !m.vocab || !Array.isArray(m.merges) || j.normalizer) return undefined;
    if (m.dropout || m.continuing_subword_prefix || m.end_of_word_suffix || m.byte_fallback || m.ignore_merges) return undefined;
    const seq = j.pre_tokenizer?.type === 'Sequence' ? j.pre_tokenizer.pretokenizers ?? [] : [];
    const [split, level] = seq;
    if (seq.length !== 2 || split.type !== 'Split' || split.pattern?.String !== '\n' || split.behavior !== 'Isolated' || split.invert) return undefined;
    if (level.type !== 'ByteLevel' || level.add_prefix_space || level.use_regex === false) return undefined;
    const added = j.added_tokens ?? [];
    if (added.some((t) => t.single_word || t.lstrip || t.rstrip || t.normalized || !t.content)) return undefined;

    const vocab = new Map(Object.entries(m.vocab));
    let maxId = 0;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    const chars = byteLevelChars();
    const byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = vocab.get(chars[b]);
      if (id === undefined) return undefined; // a byte the vocabulary cannot spell
      byteIds[b] = id;
    }
    const ranks = new PairRanks(m.merges.length);
    const merged = new Int32Array(m.merges.length);
    for (let r = 0; r < m.merges.length; r++) {
      const mg = m.merges[r];
      const [a, b] = typeof mg === 'string' ? mg.split(' ') : mg;
      const ia = vocab.get(a), ib = vocab.get(b), im = vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) return undefined;
      ranks.set(ia, ib, r);
      merged[r] = im;
    }
    const lengths = new Int32Array(maxId + 1);
    for (const [s, id] of vocab) lengths[id] = s.length;
    // longer first: of two added tokens matching at one place, the longer wins
    const sorted = added.map((t) => ({ id: t.id, content: t.content })).sort((x, y) => y.content.length - x.content.length);
    return new ByteLevelBpe(byteIds, ranks, merged, sorted, lengths);
  }

  /** Ids of a line of text and the UTF-16 offset where each starts (within the text). */
  encode(text: string): LineTokens {
    const ids: number[] = [];
    const starts: number[] = [];
    // the added tokens (special tokens) are matched in the text first, as the library does
    let from = 0;
    while (from < text.length) {
      let at = -1, tok: AddedToken | undefined;
      for (const t of this.added) {
        const i = text.indexOf(t.content, from);
        if (i >= 0 && (at < 0 || i < at)) { at = i; tok = t; }
      }
      const end = at < 0 ? text.length : at;
      this.encodePlain(text, from, end, ids, starts);
      if (!tok) break;
      ids.push(tok.id);
      starts.push(at);
      from = at + tok.content.length;
    }
    return { ids: Int32Array.from(ids), starts: Uint32Array.from(starts) };
  }

  /** text[from, end) without added tokens: split at "\n" (isolated), then GPT-2's pattern, then BPE per word. */
  private encodePlain(text: string, from: number, end: number, ids: number[], starts: number[]): void {
    while (from < end) {
      const nl = text.indexOf('\n', from);
      const stop = nl < 0 || nl >= end ? end : nl;
      if (stop > from) {
        const part = from === 0 && stop === text.length ? text : text.slice(from, stop);
        PRE_TOKEN.lastIndex = 0;
        for (let mt = PRE_TOKEN.exec(part); mt; mt = PRE_TOKEN.exec(part)) this.encodeWord(mt[0], from + mt.index, ids, starts);
      }
      if (stop === end) break;
      this.encodeWord('\n', stop, ids, starts);
      from = stop + 1;
    }
  }

  private encodeWord(word: string, offset: number, ids: number[], starts: number[]): void {
    let wordIds = word.length <= CACHED_WORD_CHARS ? this.words.get(word) : undefined;
    let ascii = true;
    for (let i = 0; i < word.length && ascii; i++) ascii = word.charCodeAt(i) < 0x80;
    if (!wordIds) {
      // (TextEncoder writes a lone surrogate as U+FFFD, as the library does)
      wordIds = this.bpe(ascii ? asciiBytes(word) : encoder.encode(word));
      if (word.length <= CACHED_WORD_CHARS) {
        if (this.words.size >= CACHED_WORDS) this.words.clear();
        this.words.set(word, wordIds);
      }
    }
    if (ascii) {
      // one byte per character: a token's start is its byte offset
      let b = 0;
      for (let k = 0; k < wordIds.length; k++) {
        ids.push(wordIds[k]);
        starts.push(offset + b);
        b += this.lengths[wordIds[k]];
      }
      return;
    }
    // a token may start inside a character (an emoji's bytes split): its start is the next character boundary
    const { map } = byteToUtf16Map(word);
    let b = 0;
    for (let k = 0; k < wordIds.length; k++) {
      ids.push(wordIds[k]);
      starts.push(offset + map[b]);
      b += this.lengths[wordIds[k]];
    }
  }

  /** BPE of one word's bytes: the pair of lowest rank merges first, the leftmost of equal ones. */
  private bpe(bytes: Uint8Array): Int32Array {
    const n = bytes.length;
    if (this.ids.length < n) this.grow(n);
    const ids = this.ids;
    for (let i = 0; i < n; i++) ids[i] = this.byteIds[bytes[i]];
    if (n <= SCAN_SYMBOLS) return this.mergeByScan(n);
    const out = this.mergeByHeap(n);
    // a huge word (a megabyte of one letter run: ~20 bytes of scratch per byte) does not keep its scratch
    if (n > KEPT_SCRATCH) this.releaseScratch();
    return out;
  }

  private mergeByScan(n: number): Int32Array {
    // rankAt[i]: the rank of the pair (i, i + 1) (NONE: it does not merge); a merge changes only
    // the pairs beside it
    const { ids, ranks, rankAt } = this;
    const at = (i: number) => ranks.get(ids[i], ids[i + 1]);
    for (let i = 0; i + 1 < n; i++) rankAt[i] = at(i);
    for (;;) {
      let best = -1, bestRank = NONE;
      for (let i = 0; i + 1 < n; i++) if (rankAt[i] < bestRank) { bestRank = rankAt[i]; best = i; }
      if (best < 0) break;
      ids[best] = this.merged[bestRank];
      ids.copyWithin(best + 1, best + 2, n);
      rankAt.copyWithin(best + 1, best + 2, n - 1);
      n--;
      if (best > 0) rankAt[best - 1] = at(best - 1);
      if (best + 1 < n) rankAt[best] = at(best);
    }
    return ids.slice(0, n);
  }

  private mergeByHeap(n: number): Int32Array {
    const { ids, next, prev } = this;
    const P = 2 ** 32; // heap key: rank * P + position (lower rank first, then the leftmost)
    let size = 0;
    const push = (key: number) => {
      if (size === this.heap.length) { const h = new Float64Array(size * 2); h.set(this.heap); this.heap = h; }
      const heap = this.heap;
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p] <= key) break;
        heap[i] = heap[p];
        i = p;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const heap = this.heap;
      const top = heap[0];
      const last = heap[--size];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && heap[c + 1] < heap[c]) c++;
        if (heap[c] >= last) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = last;
      return top;
    };
    const candidate = (i: number) => {
      const j = next[i];
      if (j < 0) return;
      const r = this.ranks.get(ids[i], ids[j]);
      if (r !== NONE) push(r * P + i);
    };
    for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
    for (let i = 0; i + 1 < n; i++) candidate(i);
    while (size > 0) {
      const key = pop();
      const r = Math.floor(key / P), i = key - r * P;
      const j = next[i];
      // stale: the symbol or its right neighbour changed since (a pair's rank names the pair)
      if (ids[i] < 0 || j < 0 || this.ranks.get(ids[i], ids[j]) !== r) continue;
      ids[i] = this.merged[r];
      ids[j] = -1;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) candidate(prev[i]);
      candidate(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(ids[i]);
    return Int32Array.from(out);
  }

  private grow(n: number): void {
    this.allocate(Math.max(n, this.ids.length * 2));
  }

  private releaseScratch(): void {
    this.allocate(256);
    this.heap = new Float64Array(256);
  }

  private allocate(size: number): void {
    this.ids = new Int32Array(size);
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
    this.rankAt = new Int32Array(size);
  }
}

function asciiBytes(word: string): Uint8Array {
  const out = new Uint8Array(word.length);
  for (let i = 0; i < word.length; i++) out[i] = word.charCodeAt(i);
  return out;
}

const encoder = new TextEncoder();
