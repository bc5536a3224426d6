import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ByteLevelBpe } from '../../src/engine/byteLevelBpe';
import { LineTokenizer } from '../../src/engine/tokenizer';
import { byteToUtf16Map, completeUtf8Prefix } from '../../src/engine/utf';
import { FIXTURES, ROOT, TINY } from './helpers';

describe('tokenizer', () => {
  const tok = LineTokenizer.load(path.join(TINY[0], 'tokenizer.json'));
  const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tokenizer-ids.json'), 'utf8')) as { cases: { text: string; ids: number[] }[] };

  it('reproduces the Python trainer ids of every fixture case, line by line', () => {
    assert.ok(fx.cases.length >= 5);
    for (const c of fx.cases) assert.deepStrictEqual(tok.encodeText(c.text), c.ids, JSON.stringify(c.text));
  });

  it('has the newline as one token and decodes ids back to the text', () => {
    for (const c of fx.cases) assert.strictEqual(tok.decode(c.ids), c.text);
    assert.strictEqual(tok.decode([tok.newlineId]), '\n');
  });

  it('maps token starts to UTF-16 offsets (CRLF, tabs, non-ASCII, astral)', () => {
    const lines = ['line one\r', '\tindented with a tab\r', 'café naïve résumé — “quotes” ½', 'astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and emoji 😀👍🏽 🧑‍💻', '中文注释 // 日本語', ''];
    for (const line of lines) {
      const { ids, starts } = tok.encodeLine(line);
      // token i covers the UTF-8 bytes [b_i, b_{i+1}); its UTF-16 start is the first character
      // boundary at or after b_i, found here independently by measuring prefixes
      let b = 0;
      for (let i = 0; i < ids.length; i++) {
        let u = 0;
        while (u < line.length && Buffer.byteLength(line.slice(0, u)) < b) u += line.codePointAt(u)! > 0xffff ? 2 : 1;
        assert.strictEqual(starts[i], u, `${JSON.stringify(line)} token ${i}`);
        b += tok.bytes[ids[i]].length;
      }
      assert.strictEqual(b, Buffer.byteLength(line));
      for (let i = 1; i < starts.length; i++) assert.ok(starts[i] >= starts[i - 1]);
    }
  });

  it('maps bytes inside a character to the next character boundary', () => {
    const { map, nBytes } = byteToUtf16Map('aé😀b');
    assert.strictEqual(nBytes, 1 + 2 + 4 + 1);
    assert.deepStrictEqual(Array.from(map), [0, 1, 2, 2, 4, 4, 4, 4, 5]);
    const e = new TextEncoder().encode('a😀');
    assert.strictEqual(completeUtf8Prefix(e, 3), 1);
    assert.strictEqual(completeUtf8Prefix(e, 5), 5);
  });

  it('its line cache answers as tokenising afresh, across cache generations and for long lines', () => {
    const fresh = LineTokenizer.load(path.join(TINY[0], 'tokenizer.json'));
    const lines = [...Array.from({ length: 40_000 }, (_, i) => `  const v${i % 36_000} = f(${i * 7919 % 1000}); // é😀`), 'x'.repeat(1500) + ' long'];
    const first = lines.map((l) => fresh.encodeLine(l));
    // again, in another order: the first lines fell out of the cache, the last are still in it
    for (let i = lines.length - 1; i >= 0; i -= 13) {
      const again = fresh.encodeLine(lines[i]);
      const other = tok.encodeLine(lines[i]);
      assert.deepStrictEqual([Array.from(again.ids), Array.from(again.starts)], [Array.from(first[i].ids), Array.from(first[i].starts)], lines[i]);
      assert.deepStrictEqual(Array.from(other.ids), Array.from(first[i].ids), lines[i]);
    }
    assert.deepStrictEqual(Array.from(fresh.encodeLine(lines[5]).ids), Array.from(tok.encodeText(lines[5])));
  });
  describe('its own byte-level BPE (ByteLevelBpe) against the tokenizer library', () => {
    const json = JSON.parse(fs.readFileSync(path.join(TINY[0], 'tokenizer.json'), 'utf8'));
    const same = (line: string) => {
      const fast = tok.encodeLine(line), lib = tok.encodeByLibrary(line);
      assert.deepStrictEqual([Array.from(fast.ids), Array.from(fast.starts)], [Array.from(lib.ids), Array.from(lib.starts)], JSON.stringify(line.length > 300 ? line.slice(0, 300) + '...' : line));
    };

    it('is the one the shipped tokenizer uses, and only where it reproduces the configuration', () => {
      assert.ok(ByteLevelBpe.fromJson(json));
      const variant = (edit: (j: any) => void) => { const j = JSON.parse(JSON.stringify(json)); edit(j); return ByteLevelBpe.fromJson(j); };
      assert.strictEqual(variant((j) => { j.pre_tokenizer.pretokenizers[1].add_prefix_space = true; }), undefined);
      assert.strictEqual(variant((j) => { j.normalizer = { type: 'NFC' }; }), undefined);
      assert.strictEqual(variant((j) => { j.model.byte_fallback = true; }), undefined);
      assert.strictEqual(variant((j) => { j.added_tokens[0].lstrip = true; }), undefined);
      assert.strictEqual(variant((j) => { j.pre_tokenizer = j.pre_tokenizer.pretokenizers[1]; }), undefined);
      // merges written as "a b" strings (the older tokenizer.json form) are the same merges
      const older = variant((j) => { j.model.merges = j.model.merges.map((m: [string, string]) => m.join(' ')); })!;
      const line = '  def visit_call_expr(self, e: CallExpr) -> None:  # noqa é😀';
      assert.deepStrictEqual(Array.from(older.encode(line).ids), Array.from(tok.encodeByLibrary(line).ids));
      // a tokenizer it does not reproduce still tokenises, by the library
      const j = JSON.parse(JSON.stringify(json));
      j.normalizer = { type: 'Lowercase' };
      const other = new LineTokenizer(j);
      assert.deepStrictEqual(Array.from(other.encodeLine('X = Y').ids), Array.from(tok.encodeLine('x = y').ids));
      assert.notDeepStrictEqual(Array.from(other.encodeLine('X = Y').ids), Array.from(tok.encodeLine('X = Y').ids));
    });

    it('gives the same ids and starts on real code (the sample file, TypeScript\'s compiler lines)', () => {
      const sample = fs.readFileSync(path.join(ROOT, 'samples', 'mypy_semanal.py'), 'utf8').split('\n');
      for (const line of sample) same(line);
      const ts = path.join(ROOT, 'node_modules', 'typescript', 'lib', 'typescript.js');
      if (fs.existsSync(ts)) for (const line of fs.readFileSync(ts, 'utf8').slice(0, 400_000).split('\n')) same(line);
      assert.ok(sample.length > 5000);
    });

    it('gives the same ids and starts on random lines of mixed scripts, whitespace, special tokens and long words', () => {
      let seed = 12345;
      const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
      const pieces = [
        'a', 'Z', 'q', 'é', 'ß', 'Ω', 'я', '中', '日本', '한', '٣', '½', '9', '0', '42', ' ', ' ', '  ', '\t', '\r', '\u00a0', '\u3000', '\u2028', '\u0085', '\ufeff',
        "'s", "'t", "'re", "'ll", "'d", "'", '"', '`', '(', ')', '{', '}', ';', '.', ',', '=>', '//', '/*', '-', '_', '$', '#', '@', '\\', '~',
        '😀', '👍🏽', '🧑‍💻', '𝔘', 'e\u0301', '\ud800', '\udc00', '<|endoftext|>', '<|fim_prefix|>', '<|pad|>', '<|', '|>', '<|fim_', 'endoftext',
      ];
      for (let n = 0; n < 3000; n++) {
        let line = '';
        const len = 1 + rnd(40);
        for (let k = 0; k < len; k++) line += pieces[rnd(pieces.length)];
        same(line);
      }
      // words longer than the scan's limit merge through the heap
      for (const w of ['a'.repeat(5000), 'ab'.repeat(777), ' '.repeat(300) + 'x', 'x'.repeat(300), '='.repeat(1000), 'é'.repeat(400), '😀'.repeat(100)]) same(w);
      let b64 = '';
      for (let k = 0; k < 20000; k++) b64 += 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[rnd(52)];
      same(b64);
      same(`data:image/png;base64,${b64}== 'end'`);
    });
  });
});
