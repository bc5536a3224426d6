// The CLI as a user runs it (a separate node process driving the engine's child process),
// checked against the in-process engine and against from-scratch model runs.
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Engine } from '../../src/engine/engine';
import { defaultModelDir } from '../../src/engine/defaultModel';
import type { MainReport, ScoreReport } from '../../src/cli/run';
import { engine, ROOT, TINY, tmpDir } from './helpers';

const MAIN = path.join(ROOT, 'out', 'src', 'cli', 'main.js');
const SAMPLE = path.join(ROOT, 'samples', 'mypy_semanal.py');

interface Ran { code: number; stdout: string; stderr: string }

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: '', ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function json<T>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  assert.strictEqual(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Independent of the CLI's code: the value at floor(q * n) of the sorted values. */
function quantile(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values).sort();
  return v[Math.min(v.length - 1, Math.floor(q * v.length))];
}

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('CLI (out/src/cli/main.js)', function () {
  this.timeout(120_000);
  // a real file's head, plus CRLF, tabs, non-ASCII and astral characters
  const text = fs.readFileSync(SAMPLE, 'utf8').slice(0, 6000) + '\r\ndef naïve(x):\r\n\treturn "😀" + x  # 𝔘\r\n\n    value = compute(';
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let dir: string, file: string;
  let e: Engine;
  let direct: { importance: Float32Array; surprisal: Float32Array };
  const common = ['--model', TINY[0], '--provider', 'cpu', '--threads', '2'];

  before(async () => {
    dir = tmpDir('cli');
    file = path.join(dir, 'sample.py');
    fs.writeFileSync(file, text);
    e = await engine(TINY[0]);
    await e.openDocument('doc', 1, text);
    await e.read('doc');
    const doc = e.document('doc');
    direct = await e.runner.run(doc.tokenRange(0, doc.totalTokens), new Float32Array(e.runner.manifest.stateSize));
  });
  after(async () => { await e.dispose(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('--json: reading, state, bits per byte, completion and summary agree with the engine', async () => {
    const line = 105, column = 9; // inside a line of the sample: a single-line completion there
    const r = await json<MainReport>([file, ...common, '--line', String(line), '--column', String(column), '--max-tokens', '8', '--time-budget', '60000', '--summary-lines', '5']);
    const doc = e.document('doc');
    assert.strictEqual(r.file, file);
    assert.strictEqual(r.bytes, Buffer.byteLength(text));
    assert.strictEqual(r.lines, lines.length);
    assert.strictEqual(r.provider, 'cpu');
    assert.deepStrictEqual([r.model.name, r.model.parameters], [e.runner.manifest.name, e.runner.manifest.parameters]);
    assert.strictEqual(r.reading.tokens, doc.totalTokens - 1, 'every token but the leading fim_prefix');
    assert.ok(r.reading.tokensPerSecond > 0 && Math.abs(r.reading.tokensPerSecond - r.reading.tokens / (r.reading.ms / 1000)) < 1e-6 * r.reading.tokensPerSecond);
    assert.strictEqual(r.state.bytes, e.runner.manifest.stateSize * 4);
    // whole states, some (the read frontier, the cursor's hot checkpoints) with next-token logits
    const logitBytes = e.runner.manifest.vocabSize * 4;
    const withLogits = [0, 1, 2, 3, 4, 5].filter((k) => r.state.checkpointBytes - k * logitBytes >= r.state.bytes && (r.state.checkpointBytes - k * logitBytes) % r.state.bytes === 0);
    assert.ok(withLogits.length > 0, `${r.state.checkpointBytes} bytes are not whole states plus up to 5 logit vectors`);
    const bits = direct.surprisal.subarray(1).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(r.bitsPerByte - bits / Buffer.byteLength(text)) < 1e-6, `${r.bitsPerByte} vs ${bits / Buffer.byteLength(text)}`);

    // the cursor: 1-based line and UTF-16 column, counted here without the CLI's code
    const offset = lines.slice(0, line - 1).reduce((a, l, i) => a + l.length + (text.split('\n')[i].endsWith('\r') ? 2 : 1), 0) + column - 1;
    assert.strictEqual(r.completion.offset, offset);
    assert.strictEqual(r.completion.linePrefix, lines[line - 1].slice(0, column - 1));
    assert.strictEqual(r.completion.mode, 'line');
    const want = await e.complete({ uri: 'doc', version: 1, offset, maxTokens: 8, temperature: 0, topP: 1, timeBudgetMs: 60_000, mode: 'line', suffixLines: 12, seed: 1 });
    assert.strictEqual(r.completion.text, want.text);
    assert.strictEqual(r.completion.tokens, want.tokens);
    assert.ok(r.completion.msToFirstToken >= r.completion.msToState && r.completion.msTotal >= r.completion.msToFirstToken);

    const s = await e.summarize('doc', 5);
    assert.deepStrictEqual(r.summary.map((l) => [l.line, l.text]), s.lines.map((l) => [l.line + 1, l.text]));
    for (const l of r.summary) assert.strictEqual(l.text, lines[l.line - 1]);
  });

  it('completes at the end of the file by default, as a block', async () => {
    const r = await json<MainReport>([file, ...common, '--max-tokens', '6', '--time-budget', '60000']);
    assert.deepStrictEqual([r.completion.offset, r.completion.atEnd, r.completion.line], [text.length, true, lines.length]);
    assert.strictEqual(r.completion.linePrefix, lines[lines.length - 1]);
    const want = await e.complete({ uri: 'doc', version: 1, offset: text.length, maxTokens: 6, temperature: 0, topP: 1, timeBudgetMs: 60_000, mode: 'block', suffixLines: 12, seed: 1 });
    assert.strictEqual(r.completion.text, want.text);
    // the heat map covers the 30 lines up to the cursor
    assert.deepStrictEqual([r.heatmap.from, r.heatmap.to], [lines.length - 29, lines.length]);
  });

  for (const mode of ['importance', 'surprise'] as const) {
    it(`heat map of ${mode}: the engine's per-token scores, banded by the file's quantiles`, async () => {
      const from = 100, to = lines.length; // through the CRLF, tab and astral lines
      const r = await json<MainReport>([file, ...common, '--lines', `${from}-${to}`, '--mode', mode, '--max-tokens', '1']);
      const values = mode === 'importance' ? direct.importance.subarray(1) : direct.surprisal.subarray(1);
      const th = [0.5, 0.75, 0.9, 0.97].map((q) => quantile(values, q));
      r.heatmap.thresholds.forEach((x, i) => assert.ok(Math.abs(x - th[i]) < 1e-6, `threshold ${i}: ${x} vs ${th[i]}`));
      assert.deepStrictEqual(r.heatmap.lines.map((l) => l.line), Array.from({ length: to - from + 1 }, (_, i) => from + i));
      const lineStart = (n: number) => text.split('\n').slice(0, n - 1).reduce((a, l) => a + l.length + 1, 0);
      let checked = 0;
      for (const hl of r.heatmap.lines) {
        assert.strictEqual(hl.text, lines[hl.line - 1]);
        // the tokens tile the line: their texts, in order, are the line
        assert.strictEqual(hl.tokens.map((t) => t.text).join(''), hl.text);
        const s0 = lineStart(hl.line);
        const sc = await e.scores('doc', s0, s0 + hl.text.length);
        for (const t of hl.tokens) {
          // the token that starts there and is not empty (the tail bytes of a split character are)
          const k = sc.starts.findIndex((st, i) => st === s0 + t.column - 1 && sc.ends[i] > st);
          assert.ok(k >= 0, `a token starts at line ${hl.line} column ${t.column}`);
          const want = mode === 'importance' ? sc.importance[k] : sc.surprisal[k];
          // two reads of the file (the CLI's, this engine's) may cut it into other runs (run lengths
          // follow the machine's speed), so float rounding differs a little
          assert.ok(Math.abs(t.score - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${t.score} vs ${want}`);
          // banded by the CLI's thresholds (equal to the independent ones above within 1e-6)
          assert.strictEqual(t.level, r.heatmap.thresholds.filter((x) => t.score >= x).length);
          checked++;
        }
      }
      assert.ok(checked > 20);
      const levels = r.heatmap.lines.flatMap((l) => l.tokens.map((t) => t.level));
      assert.ok(new Set(levels).size >= 3, 'several levels in 30 lines');
    });
  }

  it('text output: ANSI heat map whose text is the file\'s lines; no escapes with --no-color', async () => {
    const args = [file, ...common, '--lines', '1-12', '--max-tokens', '4'];
    const coloured = await cli([...args, '--color']);
    assert.strictEqual(coloured.code, 0, coloured.stderr);
    assert.match(coloured.stdout, /\x1b\[48;5;\d+m/);
    for (const what of [/model tiny-flowformer/, /tokens\/s/, /per state/, /bits per byte/, /completion at line/, /summary: \d+ key lines/, /heat map of importance/]) assert.match(coloured.stdout, what);
    const heat = strip(coloured.stdout).split('\n').filter((l) => /^\s*\d+ [ ▂▄▆█]│ /.test(l));
    assert.strictEqual(heat.length, 12);
    heat.forEach((l, i) => assert.strictEqual(l.replace(/^\s*\d+ [ ▂▄▆█]│ /, ''), lines[i].replace(/\t/g, '    ')));
    const plain = await cli([...args, '--no-color']);
    assert.strictEqual(plain.code, 0);
    assert.ok(!plain.stdout.includes('\x1b['));
    assert.strictEqual(plain.stdout.split('\n').filter((l) => /^\s*\d+ [ ▂▄▆█]│ /.test(l)).length, 12);
  });

  it('text output of a minified file (one line of 20 KB) stays within --width, the cursor\'s line cut from the left', async () => {
    const min = path.join(dir, 'bundle.min.js');
    const body = 'var a=function(b,c){return b+c*2},d="x";'.repeat(500);
    fs.writeFileSync(min, body);
    const r = await cli([min, ...common, '--no-color', '--width', '100', '--max-tokens', '4']);
    assert.strictEqual(r.code, 0, r.stderr);
    // every line that shows the file's text (completion, summary, heat map), gutters included
    const shown = r.stdout.split('\n').filter((l) => l.includes('function'));
    assert.ok(shown.length >= 3, r.stdout);
    assert.deepStrictEqual(shown.filter((l) => l.length > 100 + 10), [], 'lines over the width');
    // the completion shows the end of the line before the cursor
    // the summary names pieces of the line by line and column
    assert.match(r.stdout, /^\s+1:\d+ {2}\S/m);
    const cursorLine = shown.find((l) => /^\s+1 │ …/.test(l));
    assert.ok(cursorLine && body.includes(cursorLine.replace(/^\s+1 │ …/, '').slice(0, 40)), cursorLine);
  });

  it('score: bits per byte of each file is the from-scratch surprisal sum over its bytes', async () => {
    const other = path.join(dir, 'other.txt');
    const otherText = 'Ünïcode ✓ line one\nline two 😀\n';
    fs.writeFileSync(other, otherText);
    const r = await json<ScoreReport>(['score', file, other, ...common]);
    assert.strictEqual(r.files.length, 2);
    const bits = direct.surprisal.subarray(1).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(r.files[0].bitsPerByte - bits / Buffer.byteLength(text)) < 1e-6);
    assert.strictEqual(r.files[0].tokens, direct.surprisal.length - 1);
    const ids = e.tokenizer.encodeText(otherText);
    const d2 = await e.runner.run(Int32Array.from([e.runner.manifest.special.fim_prefix, ...ids]), new Float32Array(e.runner.manifest.stateSize));
    const bits2 = d2.surprisal.subarray(1).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(r.files[1].bitsPerByte - bits2 / Buffer.byteLength(otherText)) < 1e-6);
    assert.ok(Math.abs(r.total.bitsPerByte - (bits + bits2) / (Buffer.byteLength(text) + Buffer.byteLength(otherText))) < 1e-6);
    const txt = await cli(['score', other, ...common]);
    assert.match(txt.stdout, new RegExp(`${r.files[1].bitsPerByte.toFixed(4)}\\s+${ids.length}\\s`));
  });

  it('runs the default model on the shipped sample when given no file or model', async () => {
    const r = await json<MainReport>(['--provider', 'cpu', '--threads', '2', '--max-tokens', '2', '--summary-lines', '3', '--lines', '1-3']);
    assert.strictEqual(r.file, SAMPLE);
    assert.strictEqual(r.model.dir, defaultModelDir(path.join(ROOT, 'models')));
    assert.ok(r.reading.tokens > 50_000 && r.summary.length === 3);
  });

  it('usage errors exit 2 and a bad model exits 1, each with the reason', async () => {
    const cases: [string[], number, RegExp][] = [
      [[file, '--lines', '9-3'], 2, /--lines 9-3/],
      [[file, '--mode', 'loud'], 2, /--mode is importance or surprise/],
      [[file, '--line', String(lines.length + 1)], 2, /the file has \d+ lines/],
      [[file, '--line', '1', '--column', '999'], 2, /line 1 has \d+ characters/],
      [[path.join(dir, 'missing.py')], 2, /cannot read .*missing\.py: ENOENT/],
      [['score'], 2, /score needs at least one file/],
      [[file, '--model', path.join(dir, 'nope'), '--provider', 'cpu'], 1, /nope: model folder not found/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await cli(args);
      assert.strictEqual(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  });
});
