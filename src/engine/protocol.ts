// Messages between EngineClient (caller's process) and the engine host (child process).
// Each EngineApi call is one request and one response; cancellation is a request of its own
// ('cancel' with the id the caller gave the request), handled as soon as it arrives; so is
// 'hurry' (answer early with what you have).
import type { EngineApi, EngineEvent, EngineOptions } from './api';

export type Method = Exclude<keyof EngineApi, 'dispose'> | 'dispose';

export type ToHost =
  | { type: 'init'; id: number; options: EngineOptions }
  | { type: 'request'; id: number; method: Method; args: unknown[] };

export type FromHost =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: { name: string; message: string } }
  | { type: 'event'; event: EngineEvent };

export const METHODS: readonly Method[] = [
  'info', 'openDocument', 'applyEdits', 'closeDocument', 'setPriority', 'read', 'complete', 'prepare',
  'scores', 'predictionsAt', 'summarize', 'stats', 'cancel', 'hurry', 'dispose',
];
