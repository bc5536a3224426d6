// The attention overlay: background bands on tokens by importance (source competition) or
// surprise (surprisal), in four discrete levels with theme-contributed colours; a hover with
// the numbers; a legend in the status bar. Only the visible ranges (plus a margin) are
// decorated; scrolling inside the margin costs nothing, scrolling past it fetches the next
// window; edits re-fetch after the engine has re-read. Decorations are replaced, never
// cleared first, so nothing flickers. The on/off state and mode are per document.
import * as vscode from 'vscode';
import type { TokenScores } from '../engine/api';
import { OverlayMode, overlayDefaultMode, overlayShowLegend } from './config';
import { EngineService } from './engineService';

export const LEVEL_QUANTILES = [0.5, 0.75, 0.9, 0.97];
const LEVEL_LABELS = ['top 50%', 'top 25%', 'top 10%', 'top 3%'];
interface Window {
  uri: string;
  version: number;
  mode: OverlayMode;
  startLine: number;
  endLine: number;
  /** Offsets covered by the engine's read when fetched (tokens past it were not known yet). */
  endOffset: number;
  /** Offsets decorated, when the lines on screen held more than MAX_WINDOW_CHARS (long lines). */
  span?: [number, number];
  readComplete: boolean;
  scores: TokenScores;
  levels: Uint8Array;
}

export interface OverlayRefresh {
  uri: string;
  version: number;
  reason: string;
  ms: number;
  tokens: number;
  decorated: number;
  perLevel: number[];
  fetched: boolean;
  /** Offsets fetched, when cut to MAX_WINDOW_CHARS around the cursor (long lines). */
  span?: [number, number];
}

/**
 * Most characters decorated at once. Windows are whole lines, and a minified bundle's one line
 * would make its window the whole file: hundreds of thousands of tokens read, fetched and banded
 * on every refresh. Lines on screen longer than this are decorated around the cursor instead.
 */
export const MAX_WINDOW_CHARS = 40_000;
/** Scored tokens the level thresholds (the file's quantiles) must come from to be kept. */
const MIN_TOKENS_FOR_THRESHOLDS = 256;

interface Thresholds {
  version: number;
  at: number;
  importance: number[];
  surprise: number[];
}

function quantiles(values: number[], qs: number[]): number[] {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return qs.map(() => Infinity);
  return qs.map((q) => v[Math.min(v.length - 1, Math.floor(q * v.length))]);
}

function levelOf(x: number, th: number[]): number {
  let l = 0;
  for (let i = 0; i < th.length; i++) if (x >= th[i]) l = i + 1;
  return l;
}

export class Overlay implements vscode.Disposable, vscode.HoverProvider {
  private readonly modes = new Map<string, OverlayMode>();
  private readonly types: Record<OverlayMode, vscode.TextEditorDecorationType[]>;
  private readonly windows = new Map<vscode.TextEditor, Window>();
  private readonly thresholds = new Map<string, Thresholds>();
  private readonly pending = new Map<vscode.TextEditor, NodeJS.Timeout>();
  private readonly running = new Set<vscode.TextEditor>();
  private readonly again = new Map<vscode.TextEditor, string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly legend: vscode.StatusBarItem;
  readonly refreshes: OverlayRefresh[] = [];
  private readonly _onDidRefresh = new vscode.EventEmitter<OverlayRefresh>();
  readonly onDidRefresh = this._onDidRefresh.event;

  constructor(private readonly engine: EngineService) {
    const mk = (mode: OverlayMode, i: number) => vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor(`flowstate.${mode}${i + 1}`),
      borderRadius: '2px',
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.types = { importance: [0, 1, 2, 3].map((i) => mk('importance', i)), surprise: [0, 1, 2, 3].map((i) => mk('surprise', i)) };
    this.legend = vscode.window.createStatusBarItem('flowstate.legend', vscode.StatusBarAlignment.Right, 99);
    this.legend.name = 'Flowstate Overlay Legend';
    this.legend.command = 'flowstate.switchOverlayMode';
    this.disposables.push(
      this.legend, this._onDidRefresh, ...this.types.importance, ...this.types.surprise,
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.schedule(e.textEditor, 'scroll', 0)),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        // in a long line the window follows the cursor (scrolling along a line reports no change)
        const w = this.windows.get(e.textEditor);
        if (w?.span && moved(w.span, windowSpan(e.textEditor, w.startLine, w.endLine))) this.schedule(e.textEditor, 'cursor', 100);
      }),
      vscode.window.onDidChangeVisibleTextEditors((eds) => {
        for (const ed of [...this.windows.keys()]) if (!eds.includes(ed)) this.windows.delete(ed);
        for (const ed of eds) if (this.modes.has(ed.document.uri.toString())) this.schedule(ed, 'editor shown', 0);
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContext()),
      vscode.workspace.onDidCloseTextDocument((d) => this.thresholds.delete(d.uri.toString())),
      engine.onDidSyncEdit((doc) => {
        const u = doc.uri.toString();
        if (!this.modes.has(u)) return;
        for (const ed of vscode.window.visibleTextEditors) if (ed.document === doc) this.schedule(ed, 'edit', 120);
      }),
      engine.onProgress((p) => {
        if (!this.modes.has(p.uri)) return;
        for (const ed of vscode.window.visibleTextEditors) {
          if (ed.document.uri.toString() !== p.uri) continue;
          const w = this.windows.get(ed);
          // Newly read text reaches into the window: fill it in (at most every 250 ms).
          if (w && !w.readComplete && p.readOffset > w.endOffset) this.schedule(ed, 'read progress', 250);
        }
      }),
      engine.onDidChangeState((s) => { if (s === 'ready') this.refreshAll('engine ready'); }),
      vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], this),
    );
  }

  modeOf(uri: vscode.Uri): OverlayMode | undefined {
    return this.modes.get(uri.toString());
  }

  /** Turns the overlay on (in the default or given mode) or off for a document. */
  set(doc: vscode.TextDocument, mode: OverlayMode | undefined) {
    const u = doc.uri.toString();
    if (mode && this.engine.info?.importanceKind === 'none' && mode === 'importance') {
      void vscode.window.showInformationMessage('Flowstate: this model has no importance scores; showing surprise.');
      mode = 'surprise';
    }
    if (mode) this.modes.set(u, mode); else this.modes.delete(u);
    for (const ed of vscode.window.visibleTextEditors) {
      if (ed.document !== doc) continue;
      this.windows.delete(ed);
      if (mode) this.schedule(ed, mode === undefined ? 'off' : 'toggle', 0); else this.clear(ed);
    }
    this.updateContext();
  }

  toggle(doc: vscode.TextDocument) {
    this.set(doc, this.modes.has(doc.uri.toString()) ? undefined : overlayDefaultMode());
  }

  switchMode(doc: vscode.TextDocument) {
    const cur = this.modes.get(doc.uri.toString());
    this.set(doc, cur === 'importance' ? 'surprise' : 'importance');
  }

  private clear(ed: vscode.TextEditor) {
    for (const t of [...this.types.importance, ...this.types.surprise]) ed.setDecorations(t, []);
  }

  private refreshAll(reason: string) {
    for (const ed of vscode.window.visibleTextEditors) if (this.modes.has(ed.document.uri.toString())) this.schedule(ed, reason, 0);
  }

  private updateContext() {
    const ed = vscode.window.activeTextEditor;
    const mode = ed ? this.modes.get(ed.document.uri.toString()) : undefined;
    void vscode.commands.executeCommand('setContext', 'flowstate.overlayActive', !!mode);
    if (mode && overlayShowLegend()) {
      this.legend.text = `$(symbol-color) ${mode === 'importance' ? 'Importance' : 'Surprise'} ▁▃▅▇`;
      this.legend.tooltip = this.legendMarkdown(mode);
      this.legend.show();
    } else {
      this.legend.hide();
    }
  }

  legendMarkdown(mode: OverlayMode): vscode.MarkdownString {
    const what = mode === 'importance'
      ? 'how strongly each token competes for the model\'s memory (source competition; 1 = average)'
      : 'how unexpected each token was to the model (surprisal, in bits)';
    const md = new vscode.MarkdownString(`**Flowstate overlay: ${mode}** — ${what}.\n\n`);
    md.supportHtml = true;
    // The theme's own colours (the hover's sanitizer allows var(--vscode-...) backgrounds).
    md.appendMarkdown(LEVEL_LABELS.map((label, i) => `<span style="background-color:var(--vscode-flowstate-${mode}${i + 1});">&nbsp;&nbsp;level ${i + 1}&nbsp;&nbsp;</span> ${label}`).join('<br>'));
    md.appendMarkdown('\n\nPercentiles are among the tokens of this file. Click to switch mode.');
    return md;
  }

  /** Whether no refresh of this editor is waiting, running or queued (for tests). */
  isIdle(ed: vscode.TextEditor): boolean {
    return !this.pending.has(ed) && !this.running.has(ed) && !this.again.has(ed);
  }

  schedule(ed: vscode.TextEditor, reason: string, delayMs: number) {
    if (!this.modes.has(ed.document.uri.toString())) return;
    if (this.running.has(ed)) { if (!this.again.has(ed) || reason === 'edit') this.again.set(ed, reason); return; }
    const t = this.pending.get(ed);
    if (t) { if (delayMs > 0) return; clearTimeout(t); }
    this.pending.set(ed, setTimeout(() => { this.pending.delete(ed); void this.refresh(ed, reason); }, delayMs));
  }

  /** Decorates the visible ranges of one editor (plus a margin of half a screen each side). */
  async refresh(ed: vscode.TextEditor, reason: string): Promise<void> {
    const t0 = performance.now();
    const doc = ed.document;
    const uri = doc.uri.toString();
    const mode = this.modes.get(uri);
    const engine = this.engine.api;
    if (!mode || !engine || !this.engine.isTracked(doc) || doc.isClosed) return;
    const vis = ed.visibleRanges;
    if (vis.length === 0) return;
    const first = Math.min(...vis.map((r) => r.start.line));
    const last = Math.max(...vis.map((r) => r.end.line));
    const old = this.windows.get(ed);
    if (old && old.version === doc.version && old.mode === mode && old.readComplete && old.startLine <= first && old.endLine >= last && (!old.span || !moved(old.span, windowSpan(ed, old.startLine, old.endLine)))) {
      this.record({ uri, version: doc.version, reason, ms: performance.now() - t0, tokens: 0, decorated: 0, perLevel: [], fetched: false });
      return; // still inside the decorated window
    }
    this.running.add(ed);
    try {
      const screen = Math.max(10, last - first + 1);
      const startLine = Math.max(0, first - Math.ceil(screen / 2));
      const endLine = Math.min(doc.lineCount - 1, last + Math.ceil(screen / 2));
      const version = doc.version;
      const span = windowSpan(ed, startLine, endLine);
      const [startOff, endOff] = span ?? [doc.offsetAt(new vscode.Position(startLine, 0)), doc.offsetAt(doc.lineAt(endLine).range.end)];
      // The engine scores only what it has read: read up to the window's end first (cheap from a
      // checkpoint after an edit); if that takes long (a large file still being read), decorate
      // what is known now and come back when the read is done.
      const progress = this.engine.progressOf(doc.uri);
      let readDone = !!progress && progress.version === version && progress.readOffset >= endOff;
      if (!readDone) {
        const readP = engine.read(uri, endOff).then((r) => r.readOffset >= endOff || r.readOffset >= r.length).catch(() => false);
        const first = await Promise.race([readP, new Promise<undefined>((r) => setTimeout(() => r(undefined), reason === 'edit' ? 1000 : 150))]);
        if (first === undefined) {
          void readP.then(() => { if (this.modes.get(uri) === mode) this.schedule(ed, 'read done', 0); });
        } else {
          readDone = first;
        }
      }
      if (doc.version !== version || this.modes.get(uri) !== mode) return;
      const scores = await engine.scores(uri, startOff, endOff);
      if (doc.version !== version || this.modes.get(uri) !== mode) return;
      const th = await this.thresholdsFor(doc, mode, scores);
      const values = mode === 'importance' ? scores.importance : scores.surprisal;
      const n = scores.starts.length;
      const levels = new Uint8Array(n);
      const ranges: vscode.Range[][] = [[], [], [], []];
      const text = doc.getText(new vscode.Range(doc.positionAt(startOff), doc.positionAt(endOff)));
      let decorated = 0;
      for (let i = 0; i < n; i++) {
        let s = scores.starts[i], e = scores.ends[i];
        if (s === 0 && mode === 'surprise') continue; // the first token's surprisal means nothing
        const lv = levelOf(values[i], th);
        levels[i] = lv;
        if (lv === 0) continue;
        // Band the token's visible characters, not its leading or trailing whitespace.
        while (s < e && /\s/.test(text[s - startOff] ?? '')) s++;
        while (e > s && /\s/.test(text[e - 1 - startOff] ?? '')) e--;
        if (e <= s) continue;
        ranges[lv - 1].push(new vscode.Range(doc.positionAt(s), doc.positionAt(e)));
        decorated++;
      }
      const other: OverlayMode = mode === 'importance' ? 'surprise' : 'importance';
      for (let i = 0; i < 4; i++) ed.setDecorations(this.types[mode][i], ranges[i]);
      if (!old || old.mode !== mode) for (const t of this.types[other]) ed.setDecorations(t, []);
      const lastRead = n ? scores.ends[n - 1] : startOff;
      const readComplete = readDone;
      this.windows.set(ed, { uri, version, mode, startLine, endLine, endOffset: lastRead, readComplete, scores, levels, span });
      this.record({ uri, version, reason, ms: performance.now() - t0, tokens: n, decorated, perLevel: ranges.map((r) => r.length), fetched: true, span });
    } catch (e) {
      this.engine.log.debug(`overlay refresh (${reason}): ${e}`);
    } finally {
      this.running.delete(ed);
      const next = this.again.get(ed);
      if (next !== undefined) { this.again.delete(ed); this.schedule(ed, next, 0); }
    }
  }

  private record(r: OverlayRefresh): void {
    this.refreshes.push(r);
    if (this.refreshes.length > 1000) this.refreshes.splice(0, 500);
    this._onDidRefresh.fire(r);
  }

  /**
   * Level thresholds: quantiles of the file's scores, from a sample of evenly spaced slices
   * of the file (the whole file when small); refreshed when the file changed and 10 s passed.
   */
  private async thresholdsFor(doc: vscode.TextDocument, mode: OverlayMode, local: TokenScores): Promise<number[]> {
    const uri = doc.uri.toString();
    const cached = this.thresholds.get(uri);
    const fresh = cached && (cached.version === doc.version || Date.now() - cached.at < 10000);
    if (cached && fresh) return cached[mode];
    const engine = this.engine.api;
    const imp: number[] = Array.from(local.importance);
    const sur: number[] = local.surprisal.filter((_, i) => local.starts[i] > 0);
    if (engine) {
      const len = doc.getText().length;
      const slices = len <= 96 * 1024 ? [[0, len]] : Array.from({ length: 24 }, (_, k) => {
        const s = Math.floor((k * len) / 24);
        return [s, Math.min(len, s + 4096)];
      });
      const got = await Promise.all(slices.map(([s, e]) => engine.scores(uri, s, e).catch(() => undefined)));
      for (const g of got) {
        if (!g) continue;
        for (const x of g.importance) imp.push(x);
        for (let i = 0; i < g.surprisal.length; i++) if (g.starts[i] > 0) sur.push(g.surprisal[i]);
      }
    }
    const t: Thresholds = { version: doc.version, at: Date.now(), importance: quantiles(imp, LEVEL_QUANTILES), surprise: quantiles(sur, LEVEL_QUANTILES) };
    // from next to nothing read (a long line's window before the reading reaches it) they would
    // band nothing, and stay so for this version of the file: kept only from enough tokens
    if (imp.length >= MIN_TOKENS_FOR_THRESHOLDS) this.thresholds.set(uri, t);
    return t[mode];
  }

  /** Token under a position, from the decorated window. */
  private tokenAt(ed: vscode.TextEditor | undefined, doc: vscode.TextDocument, offset: number): { start: number; end: number; i: number; w: Window } | undefined {
    const w = ed ? this.windows.get(ed) : [...this.windows.values()].find((x) => x.uri === doc.uri.toString());
    if (!w || w.version !== doc.version) return undefined;
    const { starts, ends } = w.scores;
    let lo = 0, hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid] <= offset) lo = mid + 1;
      else if (starts[mid] > offset) hi = mid - 1;
      else return { start: starts[mid], end: ends[mid], i: mid, w };
    }
    return undefined;
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const mode = this.modes.get(doc.uri.toString());
    const engine = this.engine.api;
    if (!mode || !engine) return undefined;
    const ed = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    const offset = doc.offsetAt(pos);
    const tok = this.tokenAt(ed, doc, offset);
    const p = await engine.predictionsAt(doc.uri.toString(), tok ? tok.start : offset, 5).catch(() => undefined);
    if (!p || token.isCancellationRequested) return undefined;
    const range = tok ? new vscode.Range(doc.positionAt(tok.start), doc.positionAt(tok.end)) : undefined;
    const ord = (x: number) => {
      const n = Math.round(x);
      const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] || 'th';
      return `${n}${s}`;
    };
    const level = tok ? tok.w.levels[tok.i] : 0;
    const pct = (p: number) => (p >= 0.1 ? `${(p * 100).toFixed(0)}%` : p >= 0.001 ? `${(p * 100).toFixed(1)}%` : `${(p * 100).toPrecision(2)}%`);
    const shown = JSON.stringify(p.tokenText).slice(1, -1).replace(/`/g, '\\`');
    const md = new vscode.MarkdownString();
    md.supportHtml = false;
    md.appendMarkdown(`**Flowstate** · token \`${shown}\`\n\n`);
    md.appendMarkdown(`| | score | percentile in file |\n|---|---:|---:|\n`);
    md.appendMarkdown(`| ${mode === 'importance' ? '**importance**' : 'importance'} | ${p.importance.toFixed(2)} | ${ord(p.importancePercentile)} |\n`);
    md.appendMarkdown(`| ${mode === 'surprise' ? '**surprise**' : 'surprise'} | ${p.surprisal.toFixed(2)} bits | ${ord(p.surprisalPercentile)} |\n\n`);
    md.appendMarkdown(level ? `Level ${level} of 4 (${LEVEL_LABELS[level - 1]} of this file by ${mode}).` : `Below the file's median ${mode}: not banded.`);
    if (mode === 'surprise' && p.top.length) {
      md.appendMarkdown('\n\nThe model expected: ' + p.top.map((t) => `\`${JSON.stringify(t.text).slice(1, -1).replace(/`/g, '\\`')}\` ${pct(t.probability)}`).join(' · '));
    }
    return new vscode.Hover(md, range);
  }

  dispose() {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The offsets to decorate when the lines [startLine, endLine] hold more than MAX_WINDOW_CHARS:
 * around the cursor when it is among them, else from the first line on screen.
 */
function windowSpan(ed: vscode.TextEditor, startLine: number, endLine: number): [number, number] | undefined {
  const doc = ed.document;
  const lo = doc.offsetAt(new vscode.Position(startLine, 0));
  const hi = doc.offsetAt(doc.lineAt(endLine).range.end);
  if (hi - lo <= MAX_WINDOW_CHARS) return undefined;
  const cursor = doc.offsetAt(ed.selection.active);
  const screen = ed.visibleRanges.length ? doc.offsetAt(new vscode.Position(ed.visibleRanges[0].start.line, 0)) : lo;
  const from = cursor >= lo && cursor <= hi ? cursor - MAX_WINDOW_CHARS / 2 : screen;
  const start = Math.max(lo, Math.min(from, hi - MAX_WINDOW_CHARS));
  return [start, start + MAX_WINDOW_CHARS];
}

/** Whether the window to decorate has moved by a quarter of its length or more. */
function moved(old: [number, number], now: [number, number] | undefined): boolean {
  return !now || Math.abs(now[0] - old[0]) >= MAX_WINDOW_CHARS / 4;
}
