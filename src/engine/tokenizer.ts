// Line-local tokenizer over the model's tokenizer.json (byte-level BPE). The pre-tokenizer
// isolates "\n", so a document's ids are the concatenation of each line's ids plus the
// newline id: the engine tokenises one line at a time and re-tokenises only touched lines.
import * as fs from 'fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { ByteLevelBpe, byteLevelChars } from './byteLevelBpe';
import { byteToUtf16Map, decodeUtf8 } from './utf';

const utf8 = new TextEncoder();

export interface LineTokens {
  ids: Int32Array;
  /** UTF-16 offset (within the line) where each token starts; a token ends where the next starts. */
  starts: Uint32Array;
}

/** The byte each printable character of a byte-level BPE vocabulary stands for. */
function byteLevelDecoder(): Map<string, number> {
  return new Map(byteLevelChars().map((c, b) => [c, b]));
}

/**
 * Lines, and their tokens, kept per generation of the line cache (two generations: recently used
 * lines stay): at most ~15 MB per generation.
 */
const CACHED_LINES = 32768;
const CACHED_TOKENS = 262144;
/** Longer lines are rarely repeated: not cached. */
const CACHED_LINE_CHARS = 1000;

export class LineTokenizer {
  readonly vocabSize: number;
  readonly newlineId: number;
  /** UTF-8 bytes of every id (special tokens: their literal text). */
  readonly bytes: Uint8Array[];
  readonly specialIds: Set<number>;
  private readonly tok: Tokenizer;
  /** The trainer's byte-level BPE written for speed (undefined for another tokenizer.json: the library alone). */
  private readonly fast: ByteLevelBpe | undefined;
  /**
   * Tokens of lines seen lately, by text: code repeats lines (braces, blank lines, imports),
   * and a pasted copy or an undone deletion brings back lines tokenised before. Tokenising is
   * synchronous on the engine's event loop (an 80 KB paste: ~100 ms on a quiet core), and a
   * cancel waits behind it. LineTokens are never mutated, so lines share them.
   */
  private cache = new Map<string, LineTokens>();
  private previous = new Map<string, LineTokens>();
  private cachedTokens = 0;

  /** libraryOnly: the library even where ByteLevelBpe would do (to compare the two: bench/). */
  constructor(json: unknown, file = 'tokenizer.json', opts: { libraryOnly?: boolean } = {}) {
    const j = json as { model?: { vocab?: Record<string, number> }; added_tokens?: { id: number; content: string; special?: boolean }[] };
    if (!j || typeof j !== 'object' || !j.model || typeof j.model.vocab !== 'object') {
      throw new Error(`${file}: not a tokenizer.json (no model.vocab)`);
    }
    this.tok = new Tokenizer(json as object, {});
    this.fast = opts.libraryOnly ? undefined : ByteLevelBpe.fromJson(json);
    const vocab = j.model.vocab;
    const added = j.added_tokens ?? [];
    let maxId = -1;
    for (const id of Object.values(vocab)) maxId = Math.max(maxId, id);
    for (const t of added) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;
    const dec = byteLevelDecoder();
    this.bytes = new Array(this.vocabSize).fill(new Uint8Array(0));
    for (const [s, id] of Object.entries(vocab)) {
      const out = new Uint8Array(s.length);
      let ok = true;
      for (let i = 0; i < s.length; i++) {
        const b = dec.get(s[i]);
        if (b === undefined) { ok = false; break; }
        out[i] = b;
      }
      this.bytes[id] = ok ? out : utf8.encode(s);
    }
    this.specialIds = new Set();
    for (const t of added) {
      this.bytes[t.id] = utf8.encode(t.content);
      if (t.special) this.specialIds.add(t.id);
    }
    const nl = this.tok.encode('\n', { add_special_tokens: false }).ids;
    if (nl.length !== 1) throw new Error(`${file}: "\\n" is not a single token; the engine needs a line-local tokenizer (pre-tokenizer Split("\\n", Isolated))`);
    this.newlineId = nl[0];
  }

  static load(path: string): LineTokenizer {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`${path}: cannot read the tokenizer (${(e as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}: the tokenizer is not valid JSON (${(e as Error).message}); the file may be truncated`);
    }
    return new LineTokenizer(json, path);
  }

  /** Tokens of one line's text (no "\n" inside), with UTF-16 start offsets. */
  encodeLine(text: string): LineTokens {
    if (text.length === 0) return { ids: new Int32Array(0), starts: new Uint32Array(0) };
    if (text.length > CACHED_LINE_CHARS) return this.encodeUncached(text);
    let t = this.cache.get(text);
    if (t) return t;
    t = this.previous.get(text) ?? this.encodeUncached(text);
    if (this.cache.size >= CACHED_LINES || this.cachedTokens >= CACHED_TOKENS) {
      this.previous = this.cache;
      this.cache = new Map();
      this.cachedTokens = 0;
    }
    this.cache.set(text, t);
    this.cachedTokens += t.ids.length;
    return t;
  }

  private encodeUncached(text: string): LineTokens {
    if (this.fast) return this.fast.encode(text);
    return this.encodeByLibrary(text);
  }

  /** The tokenizer library's ids, with their UTF-16 starts (the reference for ByteLevelBpe). */
  encodeByLibrary(text: string): LineTokens {
    const ids = Int32Array.from(this.tok.encode(text, { add_special_tokens: false }).ids);
    const starts = new Uint32Array(ids.length);
    const { map } = byteToUtf16Map(text);
    let b = 0;
    for (let i = 0; i < ids.length; i++) {
      starts[i] = map[Math.min(b, map.length - 1)];
      b += this.bytes[ids[i]].length;
    }
    return { ids, starts };
  }

  /** Ids of a whole text (lines joined by the newline id), as the Python trainer would give. */
  encodeText(text: string): number[] {
    const out: number[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      for (const id of this.encodeLine(line).ids) out.push(id);
      if (i < lines.length - 1) out.push(this.newlineId);
    });
    return out;
  }

  bytesOf(ids: ArrayLike<number>): Uint8Array {
    let n = 0;
    for (let i = 0; i < ids.length; i++) n += this.bytes[ids[i]].length;
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < ids.length; i++) { out.set(this.bytes[ids[i]], o); o += this.bytes[ids[i]].length; }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return decodeUtf8(this.bytesOf(ids));
  }
}
