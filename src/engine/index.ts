// Entry points for callers: the engine in its own process (the default for the extension)
// or in-process (tests, CLI, benchmarks).
import type { EngineApi, EngineEvent, EngineOptions } from './api';
import { ClientOptions, EngineClient } from './client';
import { Engine } from './engine';

export * from './api';
export { Engine } from './engine';
export { EngineClient, EngineCrashedError } from './client';

export async function createEngine(
  opts: EngineOptions,
  onEvent: (e: EngineEvent) => void = () => undefined,
  how: { inProcess?: boolean } & ClientOptions = {},
): Promise<EngineApi> {
  return how.inProcess ? Engine.create(opts, onEvent) : EngineClient.start(opts, onEvent, how);
}
