// Tokenising speed: the engine's own byte-level BPE (src/engine/byteLevelBpe.ts) against the
// tokenizer library it replaced, on the same texts in alternating rounds (ratios from one run;
// each round starts both cold: a new BPE, no line cache). Prints a table.
//   npx tsc -p . && node out/bench/tokenizerSpeed.js [--rounds 3]
import * as fs from 'fs';
import * as path from 'path';
import { ByteLevelBpe } from '../src/engine/byteLevelBpe';
import { LineTokenizer } from '../src/engine/tokenizer';
import { minifiedOfSize } from './texts';

const ROOT = path.join(__dirname, '..', '..');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
const tokPath = path.join(ROOT, 'models', 'flowformer', 'tokenizer.json');
const json = JSON.parse(fs.readFileSync(tokPath, 'utf8'));
const library = new LineTokenizer(json, tokPath);

/** Pieces as the engine tokenises them: lines, or a long line's 8 KB pieces. */
const texts: { label: string; pieces: string[] }[] = [];
const sample = fs.readFileSync(path.join(ROOT, 'samples', 'mypy_semanal.py'), 'utf8');
texts.push({ label: 'samples/mypy_semanal.py, by line', pieces: sample.split('\n') });
const ts = path.join(ROOT, 'node_modules', 'typescript', 'lib', 'typescript.js');
if (fs.existsSync(ts)) {
  // 1 MB of code that does not repeat (the bench's 1 MB file repeats the sample)
  const code = fs.readFileSync(ts, 'utf8').slice(2 << 20, 3 << 20);
  texts.push({ label: '1 MB of TypeScript\'s compiler, by line', pieces: code.split('\n') });
  const min = minifiedOfSize(ROOT, 1 << 20)!;
  const pieces: string[] = [];
  for (let p = 0; p < min.length; p += 8192) pieces.push(min.slice(p, p + 8192));
  texts.push({ label: '1 MB minified (one line), 8 KB pieces', pieces });
}
// a keystroke re-tokenises its line: 100-character lines, each once
const lines = sample.split('\n').filter((l) => l.length >= 60 && l.length <= 140);
texts.push({ label: `${lines.length} lines of 60-140 characters (a keystroke's work)`, pieces: lines });

function time(f: () => number): [number, number] {
  const t0 = performance.now();
  const n = f();
  return [performance.now() - t0, n];
}

const rows = texts.map(() => ({ lib: [] as number[], own: [] as number[], tokens: 0, same: true }));
for (let r = 0; r < rounds; r++) {
  texts.forEach((t, i) => {
    const [libMs, nLib] = time(() => { let n = 0; for (const p of t.pieces) n += library.encodeByLibrary(p).ids.length; return n; });
    const bpe = ByteLevelBpe.fromJson(json)!;
    const [ownMs, nOwn] = time(() => { let n = 0; for (const p of t.pieces) n += bpe.encode(p).ids.length; return n; });
    rows[i].lib.push(libMs);
    rows[i].own.push(ownMs);
    rows[i].tokens = nOwn;
    rows[i].same &&= nLib === nOwn;
  });
}
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
console.log(`tokenising, median of ${rounds} rounds (cold each round), ${tokPath}`);
console.log('| text | characters | tokens | library | own BPE | speed-up |');
console.log('|---|---:|---:|---:|---:|---:|');
texts.forEach((t, i) => {
  const chars = t.pieces.reduce((a, p) => a + p.length, 0);
  const lib = median(rows[i].lib), own = median(rows[i].own);
  const rate = (ms: number) => `${ms.toFixed(0)} ms (${(chars / ms / 1000).toFixed(2)}M chars/s)`;
  console.log(`| ${t.label} | ${chars.toLocaleString('en-US')} | ${rows[i].tokens.toLocaleString('en-US')}${rows[i].same ? '' : ' (COUNTS DIFFER)'} | ${rate(lib)} | ${rate(own)} | ${(lib / own).toFixed(1)}x |`);
});
