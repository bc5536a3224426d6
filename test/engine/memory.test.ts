// The checkpoint memory budget holds across documents, evicting least recently used first,
// and states computed after evictions are still right.
import * as assert from 'assert';
import type { CompletionRequest } from '../../src/engine/api';
import { engine, sampleSource, TINY } from './helpers';

describe('memory budget', function () {
  this.timeout(60_000);

  it('holds across documents and evicts the least recently used document first', async () => {
    const stateBytes = (await (await engine(TINY[0])).info()).stateBytes;
    const budget = 12 * stateBytes;
    // runs as short as the checkpoint spacing: a checkpoint can only fall at the end of a run
    const e = await engine(TINY[0], { memoryBudgetBytes: budget, checkpointEvery: 32, runTokens: 32, urgentRunTokens: 32 });
    const text = sampleSource().slice(0, 6000);
    for (const uri of ['a', 'b', 'c']) {
      await e.openDocument(uri, 1, text);
      await e.read(uri);
      const s = await e.stats();
      assert.ok(s.checkpointBytes <= budget, `${s.checkpointBytes} > ${budget}`);
    }
    const s = await e.stats();
    assert.ok(s.evictions > 0);
    assert.strictEqual(s.memoryBudgetBytes, budget);
    // 'a' was used least recently: it lost its checkpoints before 'c' did
    const count = (u: string) => e.document(u).checkpoints.length + (e.document(u).frontier ? 1 : 0);
    assert.ok(count('a') <= count('c'), `a keeps ${count('a')}, c keeps ${count('c')}`);
    // completions are the same as with an unlimited budget
    const free = await engine(TINY[0]);
    await free.openDocument('a', 1, text);
    await free.read('a');
    const req = (offset: number): CompletionRequest => ({ uri: 'a', version: 1, offset, maxTokens: 5, temperature: 0, topP: 1, timeBudgetMs: 10_000, mode: 'block', suffixLines: 0 });
    for (const off of [100, 2500, 5990]) assert.strictEqual((await e.complete(req(off))).text, (await free.complete(req(off))).text);
    assert.ok((await e.stats()).checkpointBytes <= budget);
    await e.closeDocument('a'); await e.closeDocument('b'); await e.closeDocument('c');
    assert.strictEqual((await e.stats()).checkpointBytes, 0, 'closing documents frees their checkpoints');
    await e.dispose();
    await free.dispose();
  });

  it('keeps checkpoints of a 1 MB file under 64 MB at the default spacing', async () => {
    const { defaultCheckpointEvery } = await import('../../src/engine/engine');
    // a trained model's state (8 layers, 8 heads of 32): about 370 KB; a 1 MB file ~ 300k tokens
    for (const stateBytes of [4916, 100_000, 370_000, 539_844, 1_000_000]) {
      const every = defaultCheckpointEvery(stateBytes);
      assert.ok((300_000 / every) * stateBytes <= 64 * 2 ** 20, `${stateBytes} B every ${every}`);
      // and no sparser than that needs (a jump replays up to `every` tokens)
      assert.ok(every === 256 || (300_000 / (every - 256)) * stateBytes > 60 * 2 ** 20 * 0.95, `${stateBytes} B every ${every}: sparser than needed`);
    }
  });
});
