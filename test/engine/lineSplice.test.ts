// A long line's tokens re-made around an edit (lineSplice.ts) must be exactly the tokenizer's
// tokens of the whole new line, which is the reference here.
import * as assert from 'assert';
import * as path from 'path';
import { isChunkBoundary, LONG_LINE_CHARS, spliceLineTokens, tokensBeforeBoundary } from '../../src/engine/lineSplice';
import { seededRng } from '../../src/engine/sampling';
import { LineTokenizer, LineTokens } from '../../src/engine/tokenizer';
import { TINY } from './helpers';

// pieces that meet every branch of the pre-tokenizer's regex: contractions, runs of letters,
// digits and punctuation with and without a space before them, whitespace runs (tabs, Unicode
// spaces), apostrophes, non-ASCII letters and symbols, astral characters, a CR
const PIECES = ['a', 'Zq', 'let', ' x', '  ', ' ', '\t', '7', '42', ' 9', '.', '();', ' =>', "'", "'s", "'ll", "don't", ' \'re', '"', '+=', '\\n',
  'é', 'naïve', '中文', ' 😀', '€', '\u00a0', '\u2003', '—', 'ǅ', '١٢', '\r', '_', '$', '0x1F', '   \t', '/*', '*/', '`'];

function randomLine(rnd: () => number, pieces: number): string {
  let s = '';
  for (let i = 0; i < pieces; i++) s += PIECES[Math.floor(rnd() * PIECES.length)];
  return s;
}

function same(a: LineTokens, b: LineTokens, what: string): void {
  assert.deepStrictEqual(Array.from(a.ids), Array.from(b.ids), `${what}: ids`);
  assert.deepStrictEqual(Array.from(a.starts), Array.from(b.starts), `${what}: starts`);
}

describe('long lines re-tokenised around an edit', function () {
  this.timeout(60_000);
  const tok = LineTokenizer.load(path.join(TINY[0], 'tokenizer.json'));
  const encode = (s: string) => tok.encodeLine(s);

  it('a line cut at any place the rule calls a chunk boundary tokenises as its two halves', () => {
    const rnd = seededRng(11);
    let cuts = 0;
    for (let n = 0; n < 300; n++) {
      const s = randomLine(rnd, 5 + Math.floor(rnd() * 40));
      const whole = Array.from(encode(s).ids);
      for (let p = 1; p < s.length; p++) {
        if (!isChunkBoundary(s, p)) continue;
        cuts++;
        assert.deepStrictEqual([...Array.from(encode(s.slice(0, p)).ids), ...Array.from(encode(s.slice(p)).ids)], whole, `${JSON.stringify(s)} cut at ${p}`);
      }
    }
    assert.ok(cuts > 2000, `the rule finds boundaries (${cuts})`);
  });

  it('does not call a boundary where the regex would join or re-split the two sides', () => {
    // each of these cuts changes the tokens: a space goes with the word after it, a contraction
    // with its apostrophe, a run of one class stays whole
    for (const [s, p] of [['a b', 2], ["it's", 3], ['abc', 1], ['12', 1], ['((', 1], ['a\u00a0b', 1], ['é+', 1]] as [string, number][]) {
      assert.strictEqual(isChunkBoundary(s, p), false, `${JSON.stringify(s)} at ${p}`);
    }
    for (const [s, p] of [['a b', 1], ['ab(', 2], ['x1', 1], ['1x', 1], ['a"', 1], ['"a', 1]] as [string, number][]) {
      assert.strictEqual(isChunkBoundary(s, p), true, `${JSON.stringify(s)} at ${p}`);
    }
  });

  it('an edit inside a long line: the spliced tokens are the whole new line\'s, and most of the head is kept', () => {
    const rnd = seededRng(12);
    let kept = 0, total = 0;
    for (let n = 0; n < 200; n++) {
      const old = randomLine(rnd, 400 + Math.floor(rnd() * 400));
      const a = Math.floor(rnd() * (old.length + 1));
      const b = Math.min(old.length, a + Math.floor(rnd() * 30));
      const ins = rnd() < 0.3 ? '' : randomLine(rnd, 1 + Math.floor(rnd() * 3));
      const text = old.slice(0, a) + ins + old.slice(b);
      const oldTokens = encode(old);
      const r = spliceLineTokens(encode, text, { text: old, tokens: oldTokens, chars: a }, { text: old, tokens: oldTokens, chars: old.length - b });
      same(r.tokens, encode(text), `edit [${a}, ${b}) -> ${JSON.stringify(ins)}`);
      assert.deepStrictEqual(Array.from(r.tokens.ids.subarray(0, r.keptHead)), Array.from(oldTokens.ids.subarray(0, r.keptHead)));
      assert.ok(r.keptHead === 0 || oldTokens.starts[r.keptHead] < Math.max(a, 1), 'kept tokens lie before the edit');
      kept += oldTokens.starts[r.keptHead] ?? 0; total += a;
    }
    assert.ok(kept > 0.9 * total, `the kept head reaches near the edit (${kept} of ${total} characters)`);
  });

  it('a long line split or joined: the head alone, the tail alone, the heads and tails of two lines', () => {
    const rnd = seededRng(13);
    for (let n = 0; n < 150; n++) {
      const first = randomLine(rnd, 300), last = randomLine(rnd, 300);
      const a = Math.floor(rnd() * (first.length + 1)), b = Math.floor(rnd() * (last.length + 1));
      const mid = randomLine(rnd, 2);
      const fTok = encode(first), lTok = encode(last);
      const joined = first.slice(0, a) + mid + last.slice(b);
      same(spliceLineTokens(encode, joined, { text: first, tokens: fTok, chars: a }, { text: last, tokens: lTok, chars: last.length - b }).tokens, encode(joined), 'joined');
      const headOnly = first.slice(0, a) + mid;
      same(spliceLineTokens(encode, headOnly, { text: first, tokens: fTok, chars: a }).tokens, encode(headOnly), 'head of a split');
      const tailOnly = mid + last.slice(b);
      same(spliceLineTokens(encode, tailOnly, undefined, { text: last, tokens: lTok, chars: last.length - b }).tokens, encode(tailOnly), 'tail of a split');
    }
  });

  it('finds the boundary before a cursor in a minified line, and none in a line of one run', () => {
    const line = 'function a(b,c){return b+c*2};'.repeat(100);
    assert.ok(line.length >= LONG_LINE_CHARS);
    const t = encode(line);
    const k = tokensBeforeBoundary(line, t, 1500);
    assert.ok(k > 0 && t.starts[k] < 1500 && t.starts[k] > 1490, `boundary at ${t.starts[k]}`);
    const run = 'x'.repeat(3000);
    assert.strictEqual(tokensBeforeBoundary(run, encode(run), 2000), 0);
  });
});
