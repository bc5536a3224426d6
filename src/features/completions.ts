// Inline completions (ghost text) from the engine.
// - adaptive debounce: waits a little longer while the user types fast, little when they pause;
// - cancellation: VS Code's token cancels the engine request (engine.cancel);
// - one request at a time per document: a new one cancels the one in flight and waits for it;
// - typing-through cache: characters typed that match the shown ghost text reuse it at once;
// - line mode when the cursor is mid-line, block mode at a line end (with stop rules);
// - no suggestion that only repeats the text after the cursor.
import * as vscode from 'vscode';
import type { CompletionResult } from '../engine/api';
import { completionSettings } from './config';
import { EngineService, newCancelId } from './engineService';

interface CachedSuggestion {
  uri: string;
  /** Offset where the suggestion starts. */
  anchor: number;
  /** Up to 256 characters before the anchor when it was made (to detect edits before it). */
  before: string;
  text: string;
  /** Text the suggestion replaces after the anchor on its line (line mode with a closing suffix). */
  replacesAfter: number;
}

interface InFlight {
  cancelId: string;
  done: Promise<unknown>;
}

export interface CompletionTiming {
  uri: string;
  /** Milliseconds from the keystroke (document change) to the provider answering. */
  keystrokeToResult: number;
  engineMs: number;
  debounceMs: number;
  /** Milliseconds from the keystroke until VS Code asked the provider. */
  askedAfter: number;
  cached: boolean;
  chars: number;
  /** The engine's own timings (ms): to the state at the cursor, to the first token, total. */
  msToState?: number;
  msToFirstToken?: number;
  msEngineTotal?: number;
  tokens?: number;
  stoppedBy?: string;
}

export interface CompletionEvents {
  lastResult?: { uri: string; text: string; at: number; mode: 'line' | 'block'; version: number };
  timings: CompletionTiming[];
  /** Engine requests started, and those that ended cancelled (the user typed on) or stale. */
  requests: number;
  cancelled: number;
}

const sleep = (ms: number, token: vscode.CancellationToken) => new Promise<boolean>((resolve) => {
  if (ms <= 0) return resolve(!token.isCancellationRequested);
  const t = setTimeout(() => { sub.dispose(); resolve(!token.isCancellationRequested); }, ms);
  const sub = token.onCancellationRequested(() => { clearTimeout(t); sub.dispose(); resolve(false); });
});

/** Inter-keystroke rhythm per document, for the adaptive debounce. */
class TypingRhythm {
  private last = new Map<string, number>();
  private ema = new Map<string, number>();
  lastChangeAt = new Map<string, number>();

  keystroke(uri: string, now: number) {
    const prev = this.last.get(uri);
    this.last.set(uri, now);
    this.lastChangeAt.set(uri, now);
    if (prev === undefined) return;
    const dt = Math.min(2000, now - prev);
    const e = this.ema.get(uri);
    this.ema.set(uri, e === undefined ? dt : e * 0.7 + dt * 0.3);
  }

  delay(uri: string, base: number): number {
    const e = this.ema.get(uri);
    const sinceLast = Date.now() - (this.last.get(uri) ?? 0);
    // Typing fast (keys less than ~200 ms apart): wait about as long as the gap between keys,
    // so a burst makes one request at its end; a pause answers after the base debounce.
    if (e !== undefined && e < 200) return Math.max(0, Math.min(Math.max(base, e * 0.8), 160) - sinceLast);
    return Math.max(0, base - sinceLast);
  }
}

export class CompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly inflight = new Map<string, InFlight>();
  private readonly cache = new Map<string, CachedSuggestion>();
  private readonly rhythm = new TypingRhythm();
  private readonly disposables: vscode.Disposable[] = [];
  readonly events: CompletionEvents = { timings: [], requests: 0, cancelled: 0 };
  private readonly _onDidProvide = new vscode.EventEmitter<{ uri: string; text: string }>();
  readonly onDidProvide = this._onDidProvide.event;

  constructor(private readonly engine: EngineService) {
    this.disposables.push(
      this._onDidProvide,
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.rhythm.keystroke(e.document.uri.toString(), Date.now());
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        const u = d.uri.toString();
        this.cache.delete(u);
        this.rhythm.lastChangeAt.delete(u);
      }),
    );
  }

  async provideInlineCompletionItems(doc: vscode.TextDocument, pos: vscode.Position, ctx: vscode.InlineCompletionContext,
    token: vscode.CancellationToken): Promise<vscode.InlineCompletionItem[] | undefined> {
    const settings = completionSettings(doc);
    const manual = ctx.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    if (!settings.enable && !manual) return undefined;
    const engine = this.engine.api;
    if (!engine || !this.engine.isTracked(doc)) return undefined;
    const uri = doc.uri.toString();
    const tAsked = Date.now();
    const t0 = this.rhythm.lastChangeAt.get(uri) ?? tAsked;
    const offset = doc.offsetAt(pos);

    // Typing through the ghost text: reuse what is left of it.
    const hit = this.fromCache(doc, offset);
    if (hit) {
      this.record({ uri, keystrokeToResult: Date.now() - t0, engineMs: 0, debounceMs: 0, askedAfter: tAsked - t0, cached: true, chars: String(hit.insertText).length });
      return [hit];
    }
    if (ctx.selectedCompletionInfo) return undefined; // the suggest widget is open: stay out of its way

    const debounce = manual ? 0 : this.rhythm.delay(uri, settings.debounceMs);
    if (!(await sleep(debounce, token))) return undefined;

    // One request at a time per document.
    const prev = this.inflight.get(uri);
    if (prev) {
      void engine.cancel(prev.cancelId).catch(() => undefined);
      await prev.done.catch(() => undefined);
      if (token.isCancellationRequested) return undefined;
    }
    const line = doc.lineAt(pos.line);
    const after = line.text.slice(pos.character);
    const mode: 'line' | 'block' = after.trim().length > 0 ? 'line' : 'block';
    const cancelId = newCancelId('complete');
    const sub = token.onCancellationRequested(() => void engine.cancel(cancelId).catch(() => undefined));
    const tReq = Date.now();
    const version = doc.version;
    const req = engine.complete({
      uri, version, offset,
      maxTokens: mode === 'line' ? Math.min(settings.maxTokens, 32) : settings.maxTokens,
      temperature: settings.temperature, topP: 0.95,
      // The budget counts from the keystroke, so waiting for VS Code and the debounce is included.
      timeBudgetMs: manual ? settings.timeBudgetMs : Math.max(40, settings.timeBudgetMs - (tReq - t0)),
      mode, suffixLines: settings.suffixLines,
    }, cancelId);
    this.events.requests++;
    const entry: InFlight = { cancelId, done: req };
    this.inflight.set(uri, entry);
    let res: CompletionResult;
    try {
      res = await req;
    } catch (e) {
      if (token.isCancellationRequested) this.events.cancelled++;
      else this.engine.log.debug(`completion failed: ${e}`);
      return undefined;
    } finally {
      sub.dispose();
      if (this.inflight.get(uri) === entry) this.inflight.delete(uri);
    }
    if (token.isCancellationRequested || res.stoppedBy === 'cancelled' || doc.version !== version) {
      this.events.cancelled++;
      return undefined;
    }
    const shaped = shapeCompletion(doc, pos, res.text, mode);
    this.engine.log.trace(`completion ${mode} at ${doc.uri.fsPath}:${pos.line + 1}:${pos.character + 1} ${res.tokens} tokens in ${res.msTotal} ms (state ${res.msToState} ms, first token ${res.msToFirstToken} ms, ${res.stoppedBy}) -> ${JSON.stringify(shaped?.text ?? null)}`);
    if (!shaped) return undefined;
    this.cache.set(uri, {
      uri, anchor: offset, before: doc.getText(new vscode.Range(doc.positionAt(Math.max(0, offset - 256)), pos)),
      text: shaped.text, replacesAfter: shaped.replacesAfter,
    });
    this.record({ uri, keystrokeToResult: Date.now() - t0, engineMs: Date.now() - tReq, debounceMs: debounce, askedAfter: tAsked - t0, cached: false, chars: shaped.text.length,
      msToState: res.msToState, msToFirstToken: res.msToFirstToken, msEngineTotal: res.msTotal, tokens: res.tokens, stoppedBy: res.stoppedBy });
    this.events.lastResult = { uri, text: shaped.text, at: Date.now(), mode, version };
    this._onDidProvide.fire({ uri, text: shaped.text });
    const range = new vscode.Range(pos, pos.translate(0, shaped.replacesAfter));
    return [new vscode.InlineCompletionItem(shaped.text, range)];
  }

  private fromCache(doc: vscode.TextDocument, offset: number): vscode.InlineCompletionItem | undefined {
    const uri = doc.uri.toString();
    const c = this.cache.get(uri);
    if (!c) return undefined;
    const anchorPos = doc.positionAt(c.anchor);
    const beforeNow = doc.getText(new vscode.Range(doc.positionAt(Math.max(0, c.anchor - c.before.length)), anchorPos));
    if (offset < c.anchor || beforeNow !== c.before) { this.cache.delete(uri); return undefined; }
    const typed = doc.getText(new vscode.Range(anchorPos, doc.positionAt(offset)));
    if (!c.text.startsWith(typed)) { this.cache.delete(uri); return undefined; }
    const rest = c.text.slice(typed.length);
    if (!rest.trim()) { this.cache.delete(uri); return undefined; }
    const pos = doc.positionAt(offset);
    const lineRest = doc.lineAt(pos.line).text.length - pos.character;
    const range = new vscode.Range(pos, pos.translate(0, Math.min(c.replacesAfter, lineRest)));
    return new vscode.InlineCompletionItem(rest, range);
  }

  private record(t: CompletionTiming) {
    this.events.timings.push(t);
    if (this.events.timings.length > 2000) this.events.timings.splice(0, 1000);
  }

  /** Forget cached suggestions (after settings change or for tests). */
  clearCache() {
    this.cache.clear();
  }

  dispose() {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Applies the stop rules to the engine's text and drops suggestions that only repeat what
 * is already there. Returns the text to insert and how many characters after the cursor it
 * replaces (line mode, when the completion ends with the rest of the line).
 */
export function shapeCompletion(doc: vscode.TextDocument, pos: vscode.Position, raw: string, mode: 'line' | 'block'):
  { text: string; replacesAfter: number } | undefined {
  const lineText = doc.lineAt(pos.line).text;
  const after = lineText.slice(pos.character);
  let text = raw.replace(/\r\n/g, '\n');
  if (mode === 'line') {
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(0, nl);
    text = text.replace(/\s+$/, '');
    if (!text.trim()) return undefined;
    const afterTrim = after.trim();
    // Only repeats the text after the cursor (or a part of its start).
    if (after.startsWith(text) || afterTrim.startsWith(text.trim())) return undefined;
    if (afterTrim && text.endsWith(afterTrim)) {
      const core = text.slice(0, text.length - afterTrim.length);
      if (!core.trim()) return undefined;
      return { text: text + after.slice(after.indexOf(afterTrim) + afterTrim.length), replacesAfter: after.length };
    }
    return { text, replacesAfter: 0 };
  }
  // Block mode.
  const indentOf = (s: string) => (/^[ \t]*/.exec(s)?.[0].length ?? 0);
  const cursorIndent = indentOf(lineText);
  let nextExisting: string | undefined;
  for (let l = pos.line + 1; l < Math.min(doc.lineCount, pos.line + 50); l++) {
    const t = doc.lineAt(l).text.trim();
    if (t) { nextExisting = t; break; }
  }
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (i > 0 && l.trim()) {
      if (nextExisting !== undefined && l.trim() === nextExisting) break; // would repeat the next line
      if (indentOf(l) < cursorIndent) break; // leaves the cursor's block
    }
    out.push(l);
  }
  while (out.length > 1 && !out[out.length - 1].trim()) out.pop();
  text = out.join('\n').replace(/[ \t]+$/, '');
  if (!text.trim()) return undefined;
  // Only repeats what follows the cursor.
  const following = doc.getText(new vscode.Range(pos, doc.positionAt(doc.offsetAt(pos) + text.length + 200)));
  if (following.startsWith(text) || following.replace(/^\s+/, '').startsWith(text.trim())) return undefined;
  return { text, replacesAfter: 0 };
}
