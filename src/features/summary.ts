// "Summarize File": a theme-aware webview per document with the key lines chosen by the
// model's importance (each a link to its line), a plot of importance and surprise along
// the file (click to jump), the most important document symbols, bits per byte and timing.
// Reading a large file shows progress with cancel; the panel updates when the file changes.
import * as path from 'path';
import * as vscode from 'vscode';
import type { FileSummary } from '../engine/api';
import { summaryMaxLines } from './config';
import { EngineService, newCancelId } from './engineService';

export interface SymbolScore {
  name: string;
  kind: string;
  line: number;
  endLine: number;
  score: number;
}

export interface SummaryData {
  file: string;
  uri: string;
  languageId: string;
  lineCount: number;
  bytes: number;
  model: string;
  provider: string;
  summary: FileSummary;
  symbols: SymbolScore[];
  msTotal: number;
  /** Milliseconds this request waited for the engine to finish reading the file. */
  msRead: number;
  updatedAt: string;
}

class SummaryPanel {
  data: SummaryData | undefined;
  updating = false;
  timer: NodeJS.Timeout | undefined;
  /** The engine request of an update after an edit (not one the user asked for), while it runs. */
  autoCancelId: string | undefined;
  /** That update was stopped because the user typed on. */
  stoppedByTyping = false;
  constructor(readonly uri: vscode.Uri, readonly panel: vscode.WebviewPanel) {}
}

export class SummaryFeature implements vscode.Disposable {
  private readonly panels = new Map<string, SummaryPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly _onDidRender = new vscode.EventEmitter<SummaryData>();
  readonly onDidRender = this._onDidRender.event;
  /** Messages from the webviews (for tests): the last link clicked. */
  lastReveal: { uri: string; line: number } | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly engine: EngineService) {
    this.disposables.push(
      this._onDidRender,
      vscode.workspace.onDidChangeTextDocument((e) => {
        const p = this.panels.get(e.document.uri.toString());
        if (!p || e.contentChanges.length === 0) return;
        if (p.timer) clearTimeout(p.timer);
        p.timer = setTimeout(() => { p.timer = undefined; void this.update(p, false); }, 1500);
        // an update after an earlier edit gives way to typing: re-reading a large file takes both
        // cores, which the editor needs while the user types; it runs again after the next pause
        if (p.autoCancelId) {
          p.stoppedByTyping = true;
          void this.engine.api?.cancel(p.autoCancelId).catch(() => undefined);
        }
      }),
    );
  }

  panelFor(uri: vscode.Uri): vscode.WebviewPanel | undefined {
    return this.panels.get(uri.toString())?.panel;
  }

  dataFor(uri: vscode.Uri): SummaryData | undefined {
    return this.panels.get(uri.toString())?.data;
  }

  /** Opens (or reveals) the summary of a document and (re)computes it with progress. */
  async summarize(doc: vscode.TextDocument): Promise<SummaryData | undefined> {
    const key = doc.uri.toString();
    let p = this.panels.get(key);
    if (p) {
      p.panel.reveal(vscode.ViewColumn.Beside, true);
    } else {
      const panel = vscode.window.createWebviewPanel('flowstate.summary', `Summary: ${path.basename(doc.uri.fsPath || doc.uri.path)}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'media')] });
      panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.png');
      p = new SummaryPanel(doc.uri, panel);
      const sp = p;
      this.panels.set(key, p);
      panel.webview.html = this.html(panel.webview);
      panel.onDidDispose(() => { if (sp.timer) clearTimeout(sp.timer); this.panels.delete(key); });
      panel.webview.onDidReceiveMessage((m) => this.onMessage(sp, m));
    }
    return this.update(p, true);
  }

  private async onMessage(p: SummaryPanel, m: { type: string; line?: number; column?: number }) {
    if (m.type === 'reveal' && typeof m.line === 'number') {
      this.lastReveal = { uri: p.uri.toString(), line: m.line };
      const doc = await vscode.workspace.openTextDocument(p.uri);
      const ed = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
      // a piece of a long line (minified code) names its column too
      const line = Math.min(m.line, doc.lineCount - 1);
      const pos = new vscode.Position(line, typeof m.column === 'number' ? Math.min(m.column, doc.lineAt(line).text.length) : 0);
      ed.selection = new vscode.Selection(pos, pos);
      ed.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
    } else if (m.type === 'refresh') {
      await this.update(p, true);
    } else if (m.type === 'ready' && p.data) {
      void p.panel.webview.postMessage({ type: 'data', data: p.data });
    }
  }

  private async update(p: SummaryPanel, withProgress: boolean): Promise<SummaryData | undefined> {
    if (p.updating) return p.data;
    p.updating = true;
    const t0 = Date.now();
    try {
      const engine = await this.engine.ready();
      const doc = await vscode.workspace.openTextDocument(p.uri);
      const uri = doc.uri.toString();
      this.engine.log.trace(`summary of ${path.basename(p.uri.fsPath || p.uri.path)}: started after ${Date.now() - t0} ms (engine ready, document open)`);
      void p.panel.webview.postMessage({ type: 'status', text: 'Reading…' });
      const cancelId = newCancelId('summary');
      if (!withProgress) { p.autoCancelId = cancelId; p.stoppedByTyping = false; }
      let msRead = 0;
      const work = async (progress?: vscode.Progress<{ message?: string; increment?: number }>, token?: vscode.CancellationToken) => {
        let lastPct = 0;
        const sub = this.engine.onProgress((r) => {
          if (r.uri !== uri || !r.length) return;
          const pct = Math.floor((100 * r.readOffset) / r.length);
          if (progress && pct > lastPct) {
            progress.report({ increment: pct - lastPct, message: `${pct}% · ${r.tokensRead.toLocaleString()} tokens` });
            lastPct = pct;
          }
          void p.panel.webview.postMessage({ type: 'progress', pct, text: `Reading… ${pct}% · ${r.tokensRead.toLocaleString()} tokens` });
        });
        const cancelSub = token?.onCancellationRequested(() => void engine.cancel(cancelId).catch(() => undefined));
        try {
          const tr = Date.now();
          this.engine.log.trace(`summary: reading ${uri} (${progress ? 'with' : 'without'} a notification)`);
          await engine.read(uri, undefined, cancelId);
          msRead = Date.now() - tr;
          if (token?.isCancellationRequested) return undefined;
          // about one line in six for a small file, the setting's number for a large one
          return await engine.summarize(uri, Math.min(summaryMaxLines(), Math.max(3, Math.ceil(doc.lineCount / 6))), cancelId);
        } finally {
          sub.dispose();
          cancelSub?.dispose();
        }
      };
      let cancelled = false;
      const summary = withProgress
        ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, cancellable: true,
          title: `Flowstate: reading ${path.basename(doc.uri.fsPath || doc.uri.path)}` }, (pr, tok) => work(pr, tok).catch((e) => {
          // the engine rejects a cancelled read: that is the user's Cancel, not a failure
          if (tok.isCancellationRequested) { cancelled = true; return undefined; }
          throw e;
        }))
        : await work();
      if (cancelled) this.engine.log.info(`summary of ${doc.uri.fsPath}: cancelled`);
      if (!summary) {
        void p.panel.webview.postMessage({ type: 'status', text: 'Cancelled. Refresh reads the file again.' });
        return p.data;
      }
      const symbols = await this.symbolScores(doc, summary);
      const data: SummaryData = {
        file: vscode.workspace.asRelativePath(doc.uri), uri, languageId: doc.languageId, lineCount: doc.lineCount,
        bytes: Buffer.byteLength(doc.getText(), 'utf8'), model: this.engine.info?.modelName ?? '?', provider: this.engine.info?.provider ?? '?',
        summary, symbols, msTotal: Date.now() - t0, msRead, updatedAt: new Date().toLocaleTimeString(),
      };
      p.data = data;
      void p.panel.webview.postMessage({ type: 'data', data });
      this.engine.log.info(`summary of ${data.file}: ${summary.lines.length} lines, ${summary.tokens} tokens, ${summary.bitsPerByte.toFixed(3)} bits/byte, waited ${msRead} ms for reading, total ${data.msTotal} ms`);
      this._onDidRender.fire(data);
      return data;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (p.stoppedByTyping) {
        void p.panel.webview.postMessage({ type: 'status', text: 'Out of date: updates when you pause typing' });
        return p.data;
      }
      if (/engine disposed/.test(msg)) {
        // the engine restarted (settings, model): summarize again once the new one is ready
        this.engine.log.info('summary: the engine restarted; summarizing again when it is ready');
        void p.panel.webview.postMessage({ type: 'status', text: 'The engine restarted; waiting for it…' });
        void this.engine.ready().then(() => { if (this.panels.get(p.uri.toString()) === p) void this.update(p, false); }, () => undefined);
        return undefined;
      }
      this.engine.log.error(`summary failed: ${e instanceof Error && e.stack ? e.stack : msg}`);
      void p.panel.webview.postMessage({ type: 'status', text: `Failed: ${msg}` });
      return undefined;
    } finally {
      p.updating = false;
      p.autoCancelId = undefined;
    }
  }

  /** Document symbols (two levels deep) weighted by the importance of their lines. */
  private async symbolScores(doc: vscode.TextDocument, s: FileSummary): Promise<SymbolScore[]> {
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 4000));
    let syms: (vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined;
    try {
      syms = await Promise.race([
        vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[]>('vscode.executeDocumentSymbolProvider', doc.uri),
        timeout,
      ]);
    } catch {
      syms = undefined;
    }
    if (!syms?.length) return [];
    const flat: { name: string; kind: vscode.SymbolKind; range: vscode.Range; sel: vscode.Range }[] = [];
    const walk = (list: vscode.DocumentSymbol[], depth: number) => {
      for (const d of list) {
        flat.push({ name: d.name, kind: d.kind, range: d.range, sel: d.selectionRange });
        if (depth < 1 && d.children?.length) walk(d.children, depth + 1);
      }
    };
    if ('children' in syms[0]) walk(syms as vscode.DocumentSymbol[], 0);
    else for (const si of syms as vscode.SymbolInformation[]) flat.push({ name: si.name, kind: si.kind, range: si.location.range, sel: si.location.range });
    // Importance of a line range from the profile buckets (mean over the overlapped buckets).
    const prof = s.profile;
    const bodyImportance = (a: number, b: number) => {
      let sum = 0, w = 0;
      for (const q of prof) {
        const ov = Math.min(b, q.endLine) - Math.max(a, q.startLine) + 1;
        if (ov > 0) { sum += q.importance * ov; w += ov; }
      }
      return w ? sum / w : 0;
    };
    const engine = this.engine.api;
    const limited = flat.slice(0, 300);
    const nameScores = await Promise.all(limited.map(async (f) => {
      if (!engine) return 0;
      const a = doc.offsetAt(f.sel.start);
      const sc = await engine.scores(doc.uri.toString(), a, Math.min(doc.offsetAt(f.sel.end), a + 256)).catch(() => undefined);
      let m = 0;
      for (const x of sc?.importance ?? []) if (x > m) m = x;
      return m;
    }));
    const out = limited.map((f, i) => ({
      name: f.name, kind: vscode.SymbolKind[f.kind] ?? 'Symbol', line: f.sel.start.line, endLine: f.range.end.line,
      // The name's peak importance, plus the body's mean importance weighted by its size.
      score: nameScores[i] + bodyImportance(f.range.start.line, f.range.end.line) * Math.log2(2 + f.range.end.line - f.range.start.line),
    }));
    out.sort((a, b) => b.score - a.score);
    return out.slice(0, 15);
  }

  private html(webview: vscode.Webview): string {
    const media = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'media', f));
    const nonce = Array.from({ length: 24 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}'; img-src ${webview.cspSource} data:;">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${media('summary.css')}" rel="stylesheet">
<title>Flowstate summary</title></head>
<body>
<header><h1 id="title">Summary</h1><div id="status" class="status">Starting…</div><button id="refresh" class="refresh" title="Read the file and summarize it again">Refresh</button></header>
<div id="progress" class="progress" hidden><div id="fill" class="fill"></div></div>
<p id="hint" class="hint-text" hidden>The model reads the whole file once (the notification can cancel it); later summaries of this file come from what it read.</p>
<main id="content" hidden>
<section id="stats" class="stats"></section>
<section><h2>Importance and surprise along the file</h2><div id="plot" class="plot" role="img" aria-label="importance and surprise along the file"></div>
<div class="legend"><span class="sw imp"></span> importance <span class="sw sur"></span> surprise <span class="hint">click the plot to jump to a line</span></div></section>
<section><h2>Key lines</h2><ol id="lines" class="lines"></ol></section>
<section><h2>Important symbols</h2><ol id="symbols" class="symbols"></ol></section>
</main>
<script nonce="${nonce}" src="${media('summary.js')}"></script>
</body></html>`;
  }

  dispose() {
    for (const p of this.panels.values()) p.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
