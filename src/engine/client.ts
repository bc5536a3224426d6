// EngineClient: the engine in a child process, behind the same EngineApi. A crash or an
// out-of-memory in the engine never takes the caller down: the client starts it again with
// backoff, opens the documents again (it mirrors their text and edits) and reports it.
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type {
  CompletionRequest, CompletionResult, EngineApi, EngineEvent, EngineInfo, EngineOptions, EngineStats,
  FileSummary, ReadProgress, TextEdit, TokenScores, TopPredictions,
} from './api';
import type { FromHost, Method, ToHost } from './protocol';

export interface ClientOptions {
  /** The host script (default: host.js next to this file, or the bundle's engine-host.js). */
  hostPath?: string;
  /** Extra node flags for the child, e.g. a heap limit. */
  execArgv?: string[];
  /** Restarts allowed within restartWindowMs before the client gives up (default 5 in 60 s). */
  maxRestarts?: number;
  restartWindowMs?: number;
}

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }
interface MirroredDoc { version: number; text: string; languageId?: string }

export class EngineCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineCrashedError';
  }
}

function defaultHostPath(): string {
  for (const f of ['host.js', 'engine-host.js']) {
    const p = path.join(__dirname, f);
    if (fs.existsSync(p)) return p;
  }
  return path.join(__dirname, 'host.js');
}

export class EngineClient implements EngineApi {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly docs = new Map<string, MirroredDoc>();
  private priority: string[] = [];
  private ready: Promise<void> = Promise.resolve();
  private disposed = false;
  private restarts: number[] = [];
  private attempt = 0;
  private infoCache: EngineInfo | undefined;
  private failure: Error | undefined;

  private constructor(
    private readonly opts: EngineOptions,
    private readonly onEvent: (e: EngineEvent) => void,
    private readonly copts: ClientOptions,
  ) {}

  /** Starts the engine process; rejects with the engine's error if the model cannot load. */
  static async start(opts: EngineOptions, onEvent: (e: EngineEvent) => void = () => undefined, copts: ClientOptions = {}): Promise<EngineClient> {
    const c = new EngineClient(opts, onEvent, copts);
    c.ready = c.spawn();
    try {
      await c.ready;
    } catch (e) {
      // the process is up but has no engine: end it, or it keeps the caller's event loop alive
      await c.dispose();
      throw e;
    }
    return c;
  }

  /** The engine process id (tests kill it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawn(): Promise<void> {
    const env = { ...process.env };
    if (this.opts.cudaLibDir) {
      // the CUDA provider's own dependencies (cuBLAS, cuDNN) are found through the library path
      env.LD_LIBRARY_PATH = [this.opts.cudaLibDir, env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter);
    }
    const child = fork(this.copts.hostPath ?? defaultHostPath(), [], {
      env, execArgv: this.copts.execArgv ?? [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (m: FromHost) => this.onMessage(m));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (e) => this.onEvent({ kind: 'log', level: 'error', message: `engine process: ${e.message}` }));
    return this.send<EngineInfo>({ type: 'init', id: this.nextId++, options: this.opts }).then((info) => { this.infoCache = info; });
  }

  private send<T>(m: ToHost): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const child = this.child;
      if (!child || !child.connected) { reject(new EngineCrashedError('the engine process is not running')); return; }
      this.pending.set(m.id, { resolve: resolve as (v: unknown) => void, reject, method: m.type === 'init' ? 'init' : m.method });
      child.send(m, (err) => {
        if (err && this.pending.delete(m.id)) reject(new EngineCrashedError(`could not reach the engine process: ${err.message}`));
      });
    });
  }

  private onMessage(m: FromHost): void {
    if (m.type === 'event') { this.onEvent(m.event); return; }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else { const e = new Error(m.error.message); e.name = m.error.name; p.reject(e); }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new EngineCrashedError(`the engine process ${why} during ${p.method}; it is being restarted`));
    }
    if (this.disposed || !this.infoCache) return; // never started: start() reports the error
    const now = Date.now();
    const window = this.copts.restartWindowMs ?? 60_000;
    this.restarts = this.restarts.filter((t) => now - t < window);
    if (this.restarts.length >= (this.copts.maxRestarts ?? 5)) {
      this.failure = new EngineCrashedError(`the engine process ${why}; it crashed ${this.restarts.length} times in ${window / 1000} s, not restarting`);
      this.onEvent({ kind: 'log', level: 'error', message: this.failure.message });
      return;
    }
    this.restarts.push(now);
    this.attempt++;
    const delay = Math.min(30_000, 200 * 2 ** (this.restarts.length - 1));
    this.onEvent({ kind: 'log', level: 'warn', message: `the engine process ${why}; restarting in ${delay} ms` });
    this.ready = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => this.revive(why));
    this.ready.catch(() => undefined);
  }

  private async revive(why: string): Promise<void> {
    if (this.disposed) return;
    await this.spawn();
    for (const [uri, d] of this.docs) await this.raw('openDocument', [uri, d.version, d.text, d.languageId]);
    if (this.priority.length) await this.raw('setPriority', [this.priority]);
    this.onEvent({ kind: 'restarted', reason: why, attempt: this.attempt, documents: this.docs.size });
    this.onEvent({ kind: 'log', level: 'info', message: `engine restarted (attempt ${this.attempt}); ${this.docs.size} documents opened again` });
  }

  private raw<T>(method: Method, args: unknown[]): Promise<T> {
    return this.send<T>({ type: 'request', id: this.nextId++, method, args });
  }

  private async call<T>(method: Method, args: unknown[]): Promise<T> {
    if (this.disposed) throw new Error('the engine was disposed');
    if (this.failure) throw this.failure;
    await this.ready;
    return this.raw<T>(method, args);
  }

  async info(): Promise<EngineInfo> {
    return this.call('info', []);
  }

  async openDocument(uri: string, version: number, text: string, languageId?: string): Promise<void> {
    this.docs.set(uri, { version, text, languageId });
    return this.call('openDocument', [uri, version, text, languageId]);
  }

  async applyEdits(uri: string, version: number, edits: TextEdit[]): Promise<void> {
    const d = this.docs.get(uri);
    if (d) {
      let t = d.text;
      for (const e of edits) t = t.slice(0, e.rangeOffset) + e.text + t.slice(e.rangeOffset + e.rangeLength);
      d.text = t;
      d.version = version;
    }
    return this.call('applyEdits', [uri, version, edits]);
  }

  async closeDocument(uri: string): Promise<void> {
    this.docs.delete(uri);
    return this.call('closeDocument', [uri]);
  }

  async setPriority(uris: string[]): Promise<void> {
    this.priority = uris.slice();
    return this.call('setPriority', [uris]);
  }

  async read(uri: string, offset?: number, cancelId?: string): Promise<ReadProgress> {
    return this.call('read', [uri, offset, cancelId]);
  }

  async complete(req: CompletionRequest, cancelId?: string): Promise<CompletionResult> {
    return this.call('complete', [req, cancelId]);
  }

  async prepare(uri: string, offset: number): Promise<boolean> {
    return this.call('prepare', [uri, offset]);
  }

  async scores(uri: string, startOffset: number, endOffset: number): Promise<TokenScores> {
    return this.call('scores', [uri, startOffset, endOffset]);
  }

  async predictionsAt(uri: string, offset: number, topK: number): Promise<TopPredictions> {
    return this.call('predictionsAt', [uri, offset, topK]);
  }

  async summarize(uri: string, maxLines: number, cancelId?: string): Promise<FileSummary> {
    return this.call('summarize', [uri, maxLines, cancelId]);
  }

  async stats(): Promise<EngineStats> {
    return this.call('stats', []);
  }

  async cancel(cancelId: string): Promise<void> {
    // straight to the process, not behind a restart: a cancel of a lost request has nothing to do
    if (!this.child) return;
    return this.raw('cancel', [cancelId]);
  }

  async hurry(cancelId: string): Promise<void> {
    if (!this.child) return;
    return this.raw('hurry', [cancelId]);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const child = this.child;
    try {
      // unref: a finished dispose must not hold the caller's process open for the rest of the wait
      if (child?.connected) await Promise.race([this.raw('dispose', []), new Promise((r) => setTimeout(r, 2000).unref())]);
    } catch { /* exiting anyway */ }
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect?.();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  }
}
