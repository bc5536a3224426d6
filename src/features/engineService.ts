// Owns the engine: starts it with the settings, keeps the open documents in sync with it
// (open / edits / close / priority of visible editors), forwards its log and read progress,
// and tells the user, with an action, when the model can't load or CUDA is missing.
import * as vscode from 'vscode';
import type { EngineApi, EngineEvent, EngineInfo, ReadProgress } from '../engine/api';
import { engineSettings, EngineSettings, isTrackedDocument } from './config';
import { createEngine } from './engineFactory';

export type EngineState = 'stopped' | 'starting' | 'ready' | 'failed';

let cancelCounter = 0;
export function newCancelId(prefix: string): string {
  return `${prefix}-${process.pid}-${++cancelCounter}`;
}

export class EngineService implements vscode.Disposable {
  private engine: EngineApi | undefined;
  private generation = 0;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly tracked = new Map<string, vscode.TextDocument>();
  private readonly progressByUri = new Map<string, ReadProgress>();
  private readyWaiters: { resolve: (e: EngineApi) => void; reject: (e: Error) => void }[] = [];
  private lastSettings: EngineSettings | undefined;

  state: EngineState = 'stopped';
  info: EngineInfo | undefined;
  error: string | undefined;
  settings: EngineSettings | undefined;

  private readonly _onDidChangeState = new vscode.EventEmitter<EngineState>();
  readonly onDidChangeState = this._onDidChangeState.event;
  private readonly _onProgress = new vscode.EventEmitter<ReadProgress>();
  readonly onProgress = this._onProgress.event;
  /** Fires after the engine was told about a document's edit. */
  private readonly _onDidSyncEdit = new vscode.EventEmitter<vscode.TextDocument>();
  readonly onDidSyncEdit = this._onDidSyncEdit.event;

  constructor(private readonly context: vscode.ExtensionContext, readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      this._onDidChangeState, this._onProgress, this._onDidSyncEdit,
      vscode.workspace.onDidOpenTextDocument((d) => this.open(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.close(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.change(e)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.pushPriority()),
      vscode.window.onDidChangeActiveTextEditor(() => this.pushPriority()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (['modelPath', 'provider', 'cudaLibraryPath', 'memoryBudgetMB', 'threads', 'gpuRunTokens'].some((k) => e.affectsConfiguration(`flowstate.${k}`))) {
          const s = engineSettings(this.context.extensionPath);
          if (JSON.stringify(s) !== JSON.stringify(this.lastSettings)) void this.restart('settings changed');
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart('workspace trusted')),
    );
  }

  /** The engine once it is ready (rejects when it failed to start). */
  ready(): Promise<EngineApi> {
    if (this.state === 'ready' && this.engine) return Promise.resolve(this.engine);
    if (this.state === 'failed') return Promise.reject(new Error(this.error || 'engine failed'));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** The engine if it is ready now, else undefined (for latency-sensitive callers). */
  get api(): EngineApi | undefined {
    return this.state === 'ready' ? this.engine : undefined;
  }

  progressOf(uri: vscode.Uri): ReadProgress | undefined {
    return this.progressByUri.get(uri.toString());
  }

  isTracked(doc: vscode.TextDocument): boolean {
    return this.tracked.has(doc.uri.toString());
  }

  async start(): Promise<void> {
    const gen = ++this.generation;
    const s = engineSettings(this.context.extensionPath);
    this.lastSettings = s;
    this.settings = s;
    this.setState('starting');
    this.info = undefined;
    this.error = undefined;
    this.log.info(`starting the engine: model ${s.modelDir}, provider ${s.provider}${s.cudaLibDir ? `, CUDA libraries ${s.cudaLibDir}` : ''}`);
    const t0 = Date.now();
    let engine: EngineApi | undefined;
    try {
      engine = await createEngine(
        // While the user types, short background runs (128 tokens, ~20 ms for the 10M-parameter
        // default model's int8 graph on 2 cores): a keystroke waits for at most one before its
        // completion runs. Otherwise the engine's long runs (1024 on the CPU: ~2x the tokens/s).
        { modelDir: s.modelDir, provider: s.provider, cudaLibDir: s.cudaLibDir, memoryBudgetBytes: s.memoryBudgetBytes, threads: s.threads, gpuRunTokens: s.gpuRunTokens, activeRunTokens: 128 },
        { extensionPath: this.context.extensionPath, onEvent: (e) => { if (gen === this.generation) this.onEvent(e); } },
      );
      const info = await engine.info();
      if (gen !== this.generation) { void engine.dispose(); return; }
      this.engine = engine;
      this.info = info;
      this.log.info(`engine ready in ${Date.now() - t0} ms: ${info.modelName} (${info.architecture}, ${(info.parameters / 1e6).toFixed(2)} M parameters), provider ${info.provider}, importance ${info.importanceKind}`);
      this.tracked.clear();
      this.progressByUri.clear();
      // the documents already open (state is not 'ready' yet: hand the engine over explicitly)
      for (const d of vscode.workspace.textDocuments) this.open(d, engine);
      this.pushPriority(engine);
      this.setState('ready');
      for (const w of this.readyWaiters.splice(0)) w.resolve(engine);
      this.notifyProvider(info, s);
      void this.warmUp(engine);
    } catch (err) {
      if (engine) void engine.dispose().catch(() => undefined);
      if (gen !== this.generation) return;
      const msg = err instanceof Error ? err.message : String(err);
      this.error = msg;
      this.log.error(`the engine could not start: ${msg}`);
      this.setState('failed');
      for (const w of this.readyWaiters.splice(0)) w.reject(new Error(msg));
      void this.notifyFailure(msg, s);
    }
  }

  /**
   * One small completion right after loading: ONNX Runtime's first runs of each input shape are
   * slow (allocation, kernel choice); better here than on the user's first keystroke.
   */
  private async warmUp(engine: EngineApi) {
    const uri = 'flowstate-warmup:/warmup.ts';
    const t0 = Date.now();
    try {
      await engine.openDocument(uri, 1, 'function add(a, b) {\n  return a + b;\n}\n\nfunction sub(a, b) {\n  \n}\n', 'typescript');
      const offset = 'function add(a, b) {\n  return a + b;\n}\n\nfunction sub(a, b) {\n  '.length;
      await engine.complete({ uri, version: 1, offset, maxTokens: 4, temperature: 0, topP: 1, timeBudgetMs: 5000, mode: 'block', suffixLines: 2 });
      this.log.debug(`engine warm-up: ${Date.now() - t0} ms`);
    } catch (e) {
      this.log.debug(`engine warm-up: ${e}`);
    } finally {
      await engine.closeDocument(uri).catch(() => undefined);
    }
  }

  async restart(reason: string): Promise<void> {
    this.log.info(`restarting the engine (${reason})`);
    const old = this.engine;
    this.engine = undefined;
    this.generation++;
    this.setState('stopped');
    if (old) await old.dispose().catch((e) => this.log.warn(`engine dispose: ${e}`));
    await this.start();
  }

  private setState(s: EngineState) {
    this.state = s;
    this._onDidChangeState.fire(s);
  }

  private onEvent(e: EngineEvent) {
    if (e.kind === 'progress') {
      this.progressByUri.set(e.progress.uri, e.progress);
      this._onProgress.fire(e.progress);
    } else if (e.kind === 'restarted') {
      this.log.warn(`the engine process was restarted (${e.reason}; attempt ${e.attempt}; ${e.documents} documents opened again)`);
      this.progressByUri.clear();
      this._onDidChangeState.fire(this.state);
    } else if (e.kind === 'log') {
      const m = `[engine] ${e.message}`;
      switch (e.level) {
        case 'trace': this.log.trace(m); break;
        case 'debug': this.log.debug(m); break;
        case 'info': this.log.info(m); break;
        case 'warn': this.log.warn(m); break;
        default: this.log.error(m);
      }
    }
  }

  private notifyProvider(info: EngineInfo, s: EngineSettings) {
    if (info.providerNote) this.log.warn(`provider: ${info.providerNote}`);
    if (s.provider === 'cuda' && info.provider !== 'cuda') {
      const note = info.providerNote || 'the CUDA provider did not load';
      void vscode.window.showWarningMessage(`Flowstate: CUDA was requested but is not available (${note}). The model runs on the CPU.`,
        'Set CUDA Library Path…', 'Use CPU', 'Open Log').then(async (a) => {
        if (a === 'Use CPU') await vscode.workspace.getConfiguration('flowstate').update('provider', 'cpu', vscode.ConfigurationTarget.Global);
        else if (a === 'Open Log') this.log.show();
        else if (a === 'Set CUDA Library Path…') {
          const pick = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Folder with libonnxruntime_providers_cuda.so' });
          if (pick?.[0]) await vscode.workspace.getConfiguration('flowstate').update('cudaLibraryPath', pick[0].fsPath, vscode.ConfigurationTarget.Global);
        }
      });
    }
  }

  private async notifyFailure(msg: string, s: EngineSettings) {
    // the engine's reason often starts with the folder already
    const reason = msg.startsWith(`${s.modelDir}: `) ? msg.slice(s.modelDir.length + 2) : msg;
    const a = await vscode.window.showErrorMessage(`Flowstate could not load the model from ${s.modelDir}: ${reason}`, 'Choose Model…', 'Open Log', 'Retry');
    if (a === 'Choose Model…') await vscode.commands.executeCommand('flowstate.chooseModel');
    else if (a === 'Open Log') this.log.show();
    else if (a === 'Retry') await this.restart('retry');
  }

  // ---- document sync ----

  private open(doc: vscode.TextDocument, engine = this.api) {
    if (!engine || !isTrackedDocument(doc)) return;
    const uri = doc.uri.toString();
    if (this.tracked.has(uri)) return;
    this.tracked.set(uri, doc);
    engine.openDocument(uri, doc.version, doc.getText(), doc.languageId)
      .catch((e) => this.log.warn(`openDocument ${doc.uri.fsPath}: ${e}`));
  }

  private close(doc: vscode.TextDocument) {
    const uri = doc.uri.toString();
    if (!this.tracked.delete(uri)) return;
    this.progressByUri.delete(uri);
    this.api?.closeDocument(uri).catch((e) => this.log.warn(`closeDocument: ${e}`));
  }

  private change(e: vscode.TextDocumentChangeEvent) {
    const engine = this.api;
    const uri = e.document.uri.toString();
    if (!engine || !this.tracked.has(uri) || e.contentChanges.length === 0) return;
    const doc = e.document;
    const edits = e.contentChanges.map((c) => ({ rangeOffset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text }));
    engine.applyEdits(uri, doc.version, edits).catch((err) => {
      // Out of step: send the whole text again.
      this.log.warn(`applyEdits ${doc.uri.fsPath} v${doc.version}: ${err}; reopening`);
      engine.closeDocument(uri).catch(() => undefined)
        .then(() => engine.openDocument(uri, doc.version, doc.getText(), doc.languageId))
        .catch((e2) => this.log.error(`reopen ${doc.uri.fsPath}: ${e2}`));
    });
    this._onDidSyncEdit.fire(doc);
  }

  private pushPriority(engine = this.api) {
    if (!engine) return;
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const uris: string[] = [];
    if (active && this.tracked.has(active)) uris.push(active);
    for (const ed of vscode.window.visibleTextEditors) {
      const u = ed.document.uri.toString();
      if (this.tracked.has(u) && !uris.includes(u)) uris.push(u);
    }
    engine.setPriority(uris).catch((e) => this.log.debug(`setPriority: ${e}`));
  }

  dispose() {
    this.generation++;
    for (const d of this.disposables) d.dispose();
    const e = this.engine;
    this.engine = undefined;
    if (e) void e.dispose().catch(() => undefined);
  }
}
