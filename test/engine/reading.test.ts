// Background reading: priority order, edits while reading, cancellation of a read.
import * as assert from 'assert';
import type { ReadProgress } from '../../src/engine/api';
import { CancelledError } from '../../src/engine/cancellation';
import { Engine } from '../../src/engine/engine';
import { engine, maxRelDiff, randomEdits, sampleSource, TINY } from './helpers';

describe('background reading', function () {
  this.timeout(60_000);
  const text = sampleSource().repeat(3);

  it('reads visible documents first', async () => {
    const done: string[] = [];
    const e = await Engine.create({ modelDir: TINY[0], provider: 'cpu', threads: 2 }, (ev) => {
      if (ev.kind === 'progress' && ev.progress.tokensRead === ev.progress.tokensTotal && ev.progress.readOffset === ev.progress.length) done.push(ev.progress.uri);
    });
    await e.setPriority(['c', 'b']);
    for (const uri of ['a', 'b', 'c']) await e.openDocument(uri, 1, text);
    // no read() here: a document someone waits for goes first
    for (let i = 0; i < 600 && done.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepStrictEqual(done, ['c', 'b', 'a']);
    await e.dispose();
  });

  it('while the user is active, a read someone waits for runs in short runs too', async () => {
    const e = await Engine.create({ modelDir: TINY[0], provider: 'cpu', threads: 2, backgroundReading: false, activeRunTokens: 16 });
    const sizes: number[] = [];
    const run = e.runner.run.bind(e.runner);
    e.runner.run = (tokens, state) => { sizes.push(tokens.length); return run(tokens, state); };
    await e.openDocument('quiet', 1, text.slice(0, 6000));
    await e.read('quiet');
    const quiet = Math.max(...sizes);
    sizes.length = 0;
    await e.openDocument('typing', 1, text.slice(0, 6000));
    await e.applyEdits('typing', 2, [{ rangeOffset: 10, rangeLength: 0, text: 'x' }]); // the user types
    await e.read('typing');
    assert.ok(quiet > 16, `runs when nobody types: up to ${quiet} tokens`);
    assert.ok(sizes.length > 10 && Math.max(...sizes) <= 16, `runs while typing: ${sizes.length}, up to ${Math.max(...sizes)} tokens`);
    await e.dispose();
  });

  it('edits while reading in the background end in the same state as a fresh read', async () => {
    const events: ReadProgress[] = [];
    const e = await Engine.create({ modelDir: TINY[1], provider: 'cpu', threads: 2, checkpointEvery: 64 }, (ev) => { if (ev.kind === 'progress') events.push(ev.progress); });
    let t = text.slice(0, 12_000);
    await e.openDocument('doc', 1, t);
    let v = 1;
    for (const step of randomEdits(5, t, 25)) {
      await new Promise((r) => setTimeout(r, 15));
      await e.applyEdits('doc', ++v, step.edits);
      t = step.text;
    }
    const p = await e.read('doc');
    assert.strictEqual(p.version, v);
    assert.strictEqual(p.readOffset, t.length);
    assert.ok(events.length > 0);
    const fresh = await engine(TINY[1]);
    await fresh.openDocument('doc', 1, t);
    await fresh.read('doc');
    const a = await e.finalState('doc'), b = await fresh.finalState('doc');
    assert.ok(maxRelDiff(a.state, b.state) < 1e-5);
    const da = e.document('doc'), db = fresh.document('doc');
    assert.ok(maxRelDiff(da.surprisal.subarray(1, da.readTokens), db.surprisal.subarray(1, db.readTokens)) < 1e-5);
    await e.dispose();
    await fresh.dispose();
  });

  it('a cancelled read rejects and stops reading', async () => {
    // runs of at most 256 tokens (the tiny model's default is up to 1,024, paced to ~150 ms):
    // the run in flight when the read is cancelled may still land, nothing after it
    const e = await engine(TINY[0], { runTokens: 256, urgentRunTokens: 256 });
    await e.openDocument('big', 1, text.repeat(4));
    const p = e.read('big', undefined, 'r1');
    await new Promise((r) => setTimeout(r, 60));
    await e.cancel('r1');
    await assert.rejects(p, (err: Error) => err instanceof CancelledError);
    const doc = e.document('big');
    const at = doc.readTokens;
    assert.ok(at > 0 && at < doc.totalTokens, `read ${at} of ${doc.totalTokens}`);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(doc.readTokens - at <= 256, 'at most the chunk in flight is finished');
    await e.dispose();
  });
});
