// Not in CI (the corpus is not in the repo): checks that the engine's line-local tokenizer
// reproduces the Python trainer's ids on every file of the validation split.
//   node out/bench/tokenizerValidation.js [/work/corpus/val.jsonl.xz] [tokenizer.json] [test/fixtures/tokenizer-ids.json]
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import { LineTokenizer } from '../src/engine/tokenizer';

function main() {
  const [val = '/work/corpus/val.jsonl.xz', tokPath = 'models/tiny-flowformer/tokenizer.json', fxPath = 'test/fixtures/tokenizer-ids.json'] = process.argv.slice(2);
  const tok = LineTokenizer.load(tokPath);
  const fx = JSON.parse(fs.readFileSync(fxPath, 'utf8')) as { validation: { path: string; n: number; sha256: string }[] };
  const want = new Map(fx.validation.map((v) => [v.path, v]));
  const text = execFileSync('xz', ['-dc', val], { maxBuffer: 1 << 30 }).toString('utf8');
  let files = 0, ok = 0, tokens = 0, chars = 0;
  const bad: string[] = [];
  const t0 = Date.now();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as { src: string; path: string; text: string };
    const key = `${rec.src}:${rec.path}`;
    const w = want.get(key);
    if (!w) { bad.push(`${key}: not in the fixture`); continue; }
    files++;
    const ids = tok.encodeText(rec.text);
    tokens += ids.length; chars += rec.text.length;
    const sha = crypto.createHash('sha256').update(ids.join(',')).digest('hex');
    if (sha === w.sha256 && ids.length === w.n) ok++;
    else bad.push(`${key}: ${ids.length} ids vs ${w.n} expected`);
  }
  const s = (Date.now() - t0) / 1000;
  console.log(`validation split: ${ok}/${files} files identical (${fx.validation.length} in the fixture), ${tokens} tokens, ${chars} chars, ${(chars / s / 1e3).toFixed(0)}k chars/s line by line`);
  for (const b of bad.slice(0, 20)) console.log('  MISMATCH ' + b);
  process.exitCode = ok === files && files === fx.validation.length ? 0 : 1;
}

main();
