// The engine's child process: owns one Engine and answers EngineClient's requests over
// process IPC. Requests run concurrently (a cancel gets in while a completion decodes).
import type { EngineApi } from './api';
import { Engine } from './engine';
import type { FromHost, ToHost } from './protocol';
import { METHODS } from './protocol';

let engine: Engine | undefined;

function send(m: FromHost): void {
  if (process.send && process.connected) process.send(m);
}

function fail(id: number, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  send({ type: 'response', id, ok: false, error: { name: err.name, message: err.message } });
}

async function handle(m: ToHost): Promise<void> {
  if (m.type === 'init') {
    try {
      engine = await Engine.create(m.options, (event) => send({ type: 'event', event }));
      send({ type: 'response', id: m.id, ok: true, result: await engine.info() });
    } catch (e) {
      fail(m.id, e);
    }
    return;
  }
  if (!engine) return fail(m.id, new Error('engine not initialised'));
  if (!METHODS.includes(m.method)) return fail(m.id, new Error(`unknown method ${m.method}`));
  try {
    const fn = (engine as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[m.method as keyof EngineApi];
    const result = await fn.apply(engine, m.args);
    send({ type: 'response', id: m.id, ok: true, result });
    if (m.method === 'dispose') setImmediate(() => process.exit(0));
  } catch (e) {
    fail(m.id, e);
  }
}

process.on('message', (m: ToHost) => void handle(m));
// the caller went away: nothing left to serve
process.on('disconnect', () => process.exit(0));
