import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { LineTokenizer } from '../../src/engine/tokenizer';
import { byteToUtf16Map, completeUtf8Prefix } from '../../src/engine/utf';
import { FIXTURES, TINY } from './helpers';

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
});
