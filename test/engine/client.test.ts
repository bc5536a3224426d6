// The engine in its own process: requests, cancellation across the process boundary, and a
// crash mid-request: the client restarts it, opens the documents again and says so.
import * as assert from 'assert';
import * as path from 'path';
import type { CompletionRequest, EngineEvent } from '../../src/engine/api';
import { EngineClient, EngineCrashedError } from '../../src/engine/client';
import { engine, sampleSource, TINY } from './helpers';

const req = (offset: number, extra: Partial<CompletionRequest> = {}): CompletionRequest =>
  ({ uri: 'doc', version: 2, offset, maxTokens: 6, temperature: 0, topP: 1, timeBudgetMs: 60_000, mode: 'block', suffixLines: 2, stopOnRepetition: false, ...extra }); // long runs of the random tiny model loop

describe('engine process (EngineClient)', function () {
  this.timeout(60_000);

  it('restarts a killed engine, opens the documents again and reports it', async () => {
    const events: EngineEvent[] = [];
    const c = await EngineClient.start({ modelDir: TINY[0], provider: 'cpu', threads: 2 }, (e) => events.push(e));
    const text = sampleSource().slice(0, 5000);
    await c.openDocument('doc', 1, text);
    await c.applyEdits('doc', 2, [{ rangeOffset: 10, rangeLength: 5, text: 'ÉDIT😀\r\n' }]);
    const edited = text.slice(0, 10) + 'ÉDIT😀\r\n' + text.slice(15);
    const before = await c.complete(req(3000));
    const pid = c.pid!;
    const inFlight = c.complete(req(3000, { maxTokens: 1_000_000, timeBudgetMs: 60_000 }));
    setTimeout(() => process.kill(pid, 'SIGKILL'), 100);
    await assert.rejects(inFlight, (e: Error) => e instanceof EngineCrashedError && /SIGKILL/.test(e.message));
    const after = await c.complete(req(3000));
    assert.notStrictEqual(c.pid, pid);
    const restarted = events.find((e) => e.kind === 'restarted');
    assert.ok(restarted && restarted.kind === 'restarted' && restarted.documents === 1 && restarted.attempt === 1);
    assert.strictEqual(after.text, before.text);
    // the document that came back is the edited one
    const local = await engine(TINY[0]);
    await local.openDocument('doc', 2, edited);
    assert.strictEqual((await local.complete(req(3000))).text, after.text);
    const s = await c.summarize('doc', 5);
    assert.strictEqual(s.tokens, (await local.summarize('doc', 5)).tokens);
    await local.dispose();
    await c.dispose();
  });

  it('cancels across the process boundary', async () => {
    const c = await EngineClient.start({ modelDir: TINY[0], provider: 'cpu', threads: 2 });
    await c.openDocument('doc', 2, sampleSource().slice(0, 3000));
    // warm first (sessions, the prefix's state), so that 150 ms surely falls inside the
    // generation: cold, on a loaded machine, the cancel could come before the first token
    await c.complete(req(1000, { maxTokens: 2, suffixLines: 0 }), 'warm');
    const p = c.complete(req(1000, { maxTokens: 1_000_000, suffixLines: 0 }), 'x1');
    setTimeout(() => void c.cancel('x1'), 150);
    const r = await p;
    assert.strictEqual(r.stoppedBy, 'cancelled');
    assert.ok(r.tokens > 0);
    const s = await c.stats();
    assert.strictEqual(s.documents, 1);
    // the prefix was read in bulk runs, which the stats count and time across the boundary
    assert.ok(s.bulkRuns[0] + s.bulkRuns[1] > 0 && s.bulkMs[0] + s.bulkMs[1] > 0, JSON.stringify(s));
    await c.dispose();
  });

  it('typing on after a large paste stops the request reading it, across the process boundary', async () => {
    const c = await EngineClient.start({ modelDir: TINY[0], provider: 'cpu', threads: 2 });
    const text = sampleSource();
    const lines = text.split('\n');
    const lineStart = lines.slice(0, 100).join('\n').length + 1;
    const block = (text + '\n').repeat(8);   // ~600k tokens to read before the cursor (the tiny model reads fast)
    const cursor = lineStart + block.length + lines[100].length;
    const paste = async (version: number) => {
      await c.openDocument('doc', version - 1, text);
      await c.read('doc', lineStart);
      await c.applyEdits('doc', version, [{ rangeOffset: lineStart, rangeLength: 0, text: block }]);
    };
    const ask = (version: number, id: string) => c.complete(req(cursor, { version, maxTokens: 8, suffixLines: 50 }), id);
    // the reference: the same request left alone reads the whole block first
    await paste(2);
    let t = performance.now();
    const full = await ask(2, 'full');
    const fullMs = performance.now() - t;
    assert.notStrictEqual(full.stoppedBy, 'cancelled');
    await c.closeDocument('doc');
    // typed on 20 ms after the request left: the edit alone stops it (no cancel is sent)
    await paste(3);
    t = performance.now();
    const p = ask(3, 'typed-on');
    await new Promise((r) => setTimeout(r, 20));
    void c.applyEdits('doc', 4, [{ rangeOffset: cursor, rangeLength: 0, text: 'x' }]);
    const r = await p;
    const ms = performance.now() - t;
    assert.strictEqual(r.stoppedBy, 'cancelled');
    assert.ok(ms < fullMs / 3, `stopped after ${ms.toFixed(0)} ms; the whole request took ${fullMs.toFixed(0)} ms`);
    await c.dispose();
  });

  it('a model that cannot load fails start() with the reason', async () => {
    await assert.rejects(EngineClient.start({ modelDir: path.join(TINY[0], 'nope'), provider: 'cpu' }), /nope: model folder not found/);
  });
});
