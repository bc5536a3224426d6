// Shared by the engine tests: model folders, comparisons, a seeded generator of random edits.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TextEdit } from '../../src/engine/api';
import { Engine } from '../../src/engine/engine';
import type { StateTensor } from '../../src/engine/manifest';
import { seededRng } from '../../src/engine/sampling';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const TINY = ['tiny-flowformer', 'tiny-deltanet'].map((n) => path.join(ROOT, 'models', n));
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

export function f32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

/** Largest |a - b| relative to max(1, |b|), element-wise. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/**
 * The largest difference of a state value from the fixture's, relative to the largest magnitude in
 * its tensor. Running sums reach 1e8 in one tensor and 1e-2 in another, and an entry's float32
 * rounding follows its tensor's scale (a value near zero in a tensor of magnitude 80 carries that
 * tensor's rounding), so a plain per-value relative difference measures the wrong thing there.
 * `ref` holds every `stride`-th value of the state.
 */
export function maxStateDiff(state: Float32Array, ref: Float32Array, tensors: StateTensor[], stride = 1): number {
  assert.strictEqual(ref.length, Math.ceil(state.length / stride), 'state lengths differ');
  let worst = 0;
  for (const t of tensors) {
    const end = t.offset + t.shape.reduce((a, b) => a * b, 1);
    let scale = 0, err = 0;
    for (let i = t.offset; i < end; i++) scale = Math.max(scale, Math.abs(state[i]));
    for (let j = Math.ceil(t.offset / stride); j * stride < end; j++) err = Math.max(err, Math.abs(ref[j] - state[j * stride]));
    const d = err / Math.max(1, scale);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/** Holds the thread for `ms`, as an ONNX Runtime run holds the event loop (stand-in runners). */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* the run */ }
}

export async function engine(modelDir: string, extra: Partial<Parameters<typeof Engine.create>[0]> = {}): Promise<Engine> {
  return Engine.create({ modelDir, provider: 'cpu', threads: 2, backgroundReading: false, ...extra });
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `flowstate-${prefix}-`));
}

/** A copy of a model folder to break in a test. */
export function copyModel(modelDir: string): string {
  const d = tmpDir('model');
  for (const f of fs.readdirSync(modelDir)) fs.copyFileSync(path.join(modelDir, f), path.join(d, f));
  return d;
}

const PIECES = ['x', 'foo', ' bar', '\t', '    ', '(', ')', '{', '}', ';', '\n', '\r\n', 'é', 'naïve', '😀', '𝔘𝔫', '中文', '  return x;\n', 'def f(a, b):\n', '\n\n', '"s"', '0.5', '// note\r\n'];

export interface EditStep { edits: TextEdit[]; text: string }

/** Random edits in the style of VS Code's change events (a few events have several changes). */
export function randomEdits(seed: number, initial: string, count: number): EditStep[] {
  const rnd = seededRng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const int = (n: number) => Math.floor(rnd() * n);
  let text = initial;
  const steps: EditStep[] = [];
  const randomText = () => { let s = ''; const n = 1 + int(4); for (let i = 0; i < n; i++) s += pick(PIECES); return s; };
  // offsets never split a CRLF or a surrogate pair (VS Code never does)
  const safe = (o: number) => {
    o = Math.max(0, Math.min(text.length, o));
    while (o > 0 && o < text.length && ((text[o - 1] === '\r' && text[o] === '\n') || (/[\ud800-\udbff]/.test(text[o - 1]) && /[\udc00-\udfff]/.test(text[o])))) o--;
    return o;
  };
  for (let s = 0; s < count; s++) {
    const kind = int(7);
    let edits: TextEdit[];
    if (kind === 0 || text.length === 0) {
      edits = [{ rangeOffset: safe(int(text.length + 1)), rangeLength: 0, text: randomText() }];
    } else if (kind === 1) { // delete a range, maybe across lines
      const a = safe(int(text.length)); const b = safe(a + 1 + int(Math.min(200, text.length - a)));
      edits = [{ rangeOffset: a, rangeLength: Math.max(0, b - a), text: '' }];
    } else if (kind === 2) { // join two lines
      const nl = text.indexOf('\n', int(text.length));
      const a = nl > 0 && text[nl - 1] === '\r' ? nl - 1 : nl;
      edits = nl < 0 ? [] : [{ rangeOffset: a, rangeLength: nl + 1 - a, text: '' }];
    } else if (kind === 3) { // split a line
      edits = [{ rangeOffset: safe(int(text.length + 1)), rangeLength: 0, text: rnd() < 0.5 ? '\n' : '\r\n' }];
    } else if (kind === 4) { // replace across lines
      const a = safe(int(text.length)); const b = safe(a + int(Math.min(80, text.length - a)));
      edits = [{ rangeOffset: a, rangeLength: Math.max(0, b - a), text: randomText() }];
    } else if (kind === 5) { // several changes in one event, last offset first (as VS Code sends them)
      const offs = [safe(int(text.length + 1)), safe(int(text.length + 1))].sort((x, y) => y - x);
      edits = offs[0] === offs[1] ? [{ rangeOffset: offs[0], rangeLength: 0, text: 'ab' }] : offs.map((o) => ({ rangeOffset: o, rangeLength: 0, text: pick(PIECES) }));
    } else { // typing: one character
      edits = [{ rangeOffset: safe(int(text.length + 1)), rangeLength: 0, text: pick(['a', ' ', '.', '\n', 'é']) }];
    }
    for (const e of edits) text = text.slice(0, e.rangeOffset) + e.text + text.slice(e.rangeOffset + e.rangeLength);
    if (edits.length) steps.push({ edits, text });
  }
  return steps;
}

export function sampleSource(): string {
  return fs.readFileSync(path.join(ROOT, 'src', 'engine', 'document.ts'), 'utf8');
}
