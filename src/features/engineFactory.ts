// The one place that creates the engine. Everything else sees only EngineApi.
import * as path from 'path';
import type { EngineApi, EngineEvent, EngineOptions } from '../engine/api';
import { EngineClient } from '../engine/client';

export interface EngineFactoryContext {
  /** The extension's install folder (holds dist/engine-host.js and the bundled models). */
  extensionPath: string;
  onEvent(e: EngineEvent): void;
}

export async function createEngine(opts: EngineOptions, ctx: EngineFactoryContext): Promise<EngineApi> {
  // Tests and development can put another implementation in place (a module exporting createEngine).
  const override = process.env.FLOWSTATE_ENGINE_MODULE;
  if (override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.resolve(override));
    return mod.createEngine(opts, ctx.onEvent);
  }
  // The engine runs in a child process (dist/engine-host.js, bundled by esbuild.js): a crash or
  // a long model run never blocks or takes down the extension host.
  return EngineClient.start(opts, ctx.onEvent, { hostPath: path.join(ctx.extensionPath, 'dist', 'engine-host.js') });
}
