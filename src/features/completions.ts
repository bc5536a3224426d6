// Inline completions (ghost text) from the engine.
// - the request starts on the keystroke itself (after a pause in typing), at the cursor the edit
//   left, so VS Code's own ~50 ms debounce before it asks the provider is not spent waiting;
// - adaptive debounce while typing fast: one request at the end of a burst;
// - cancellation: VS Code's token cancels the engine request, and the engine itself stops a
//   document's requests when the document changes (the user typed on);
// - one request at a time per document: a new one cancels the one in flight and waits for it;
// - typing-through cache: characters typed that match the shown ghost text reuse it at once;
// - the first answer comes within the time budget, or sooner: when VS Code asks while the request
//   started on the keystroke decodes, it answers with what it has at the next word end; after a
//   pause a longer one replaces it when it extends what is shown (multi-line completions from a
//   slow model without a slow first answer);
// - line mode when the cursor is mid-line, block mode at a line end (stop rules: completionShape.ts);
// - while the suggestion list is open, ghost text that continues its selected item (the engine
//   takes the item as typed), so the two never disagree and Tab on the item keeps the rest.
import * as vscode from 'vscode';
import type { CompletionRequest, CompletionResult } from '../engine/api';
import { cutShort, shapeCompletion } from './completionShape';
import { completionSettings, CompletionSettings } from './config';
import { EngineService, newCancelId } from './engineService';

export { cutShort, shapeCompletion } from './completionShape';

/** A keystroke this long after the one before starts a request at once (not in a burst). */
const SPECULATE_AFTER_MS = 150;
/** Quiet time after an answer cut short by the time budget before asking for a longer one. */
const EXTEND_AFTER_MS = 300;
/** Time for that longer answer. */
const EXTEND_BUDGET_MS = 2000;

interface CachedSuggestion {
  uri: string;
  /** Offset where the suggestion starts. */
  anchor: number;
  /** Up to 256 characters before the anchor when it was made (to detect edits before it). */
  before: string;
  text: string;
  /** Text the suggestion replaces after the anchor on its line (line mode with a closing suffix). */
  replacesAfter: number;
  /** Cut short by the time budget: typing into it (or taking the list's item) asks for a longer one after a pause. */
  cut: boolean;
}

type Assumed = NonNullable<CompletionRequest['assume']>;

interface InFlight {
  uri: string;
  version: number;
  offset: number;
  mode: 'line' | 'block';
  /** The suggestion list's item the request took as typed. */
  assume?: Assumed;
  cancelId: string;
  /** When the engine was asked. */
  tReq: number;
  done: Promise<CompletionResult>;
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
  /** The engine request had started on the keystroke, before VS Code asked. */
  speculative?: boolean;
  /** Characters of ghost text (0: the answer was empty or only repeated what follows the cursor). */
  chars: number;
  /** The engine's own timings (ms): to the state at the cursor, to the first token, total. */
  msToState?: number;
  msToFirstToken?: number;
  msEngineTotal?: number;
  tokens?: number;
  stoppedBy?: string;
}

export interface CompletionEvents {
  /**
   * What was last offered, for the document version it was offered at. text: what the ghost text
   * inserts; with a suggestion list's item, the item and what follows it (replacing `replaces`
   * characters before the cursor); cached: the rest of a suggestion typed into.
   */
  lastResult?: { uri: string; text: string; at: number; mode: 'line' | 'block'; version: number; extended?: boolean; cached?: boolean; replaces?: number };
  timings: CompletionTiming[];
  /** Engine requests started (on a keystroke or when VS Code asked), and those that ended cancelled (the user typed on). */
  requests: number;
  cancelled: number;
  /** Engine requests that ended, for any reason (a request that beat the next keystroke is not cancelled). */
  ended: number;
  /** The last few requests that ended: how long each took here and in the engine (for diagnostics). */
  recent: { offset: number; ms: number; stoppedBy: string; tokens: number; msToState: number; msToFirstToken: number; msTotal: number; endedAt: number }[];
  /** When the extension host last saw a document change (Date.now()). */
  changedAt: number;
  /** Requests started on the keystroke, and those VS Code's request then used. */
  speculative: number;
  speculativeUsed: number;
  /** Longer answers asked for after a pause, and those shown. */
  extensions: number;
  extended: number;
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

  /** Milliseconds between this document's last two keystrokes (undefined for the first). */
  gap = new Map<string, number>();

  keystroke(uri: string, now: number) {
    const prev = this.last.get(uri);
    if (prev === undefined) this.gap.delete(uri); else this.gap.set(uri, now - prev);
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
  private extendTimer: NodeJS.Timeout | undefined;
  readonly events: CompletionEvents = { timings: [], requests: 0, cancelled: 0, ended: 0, recent: [], changedAt: 0, speculative: 0, speculativeUsed: 0, extensions: 0, extended: 0 };
  private readonly _onDidProvide = new vscode.EventEmitter<{ uri: string; text: string }>();
  readonly onDidProvide = this._onDidProvide.event;

  constructor(private readonly engine: EngineService) {
    this.disposables.push(
      this._onDidProvide,
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!e.contentChanges.length) return;
        const uri = e.document.uri.toString();
        this.events.changedAt = Date.now();
        this.rhythm.keystroke(uri, this.events.changedAt);
        if (this.extendTimer) { clearTimeout(this.extendTimer); this.extendTimer = undefined; }
        const gap = this.rhythm.gap.get(uri);
        // After a pause, start at once; the cursor is read once VS Code has moved it (next task).
        if (gap === undefined || gap >= SPECULATE_AFTER_MS) {
          const version = e.document.version;
          setTimeout(() => this.speculate(e.document, version), 0);
        }
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        const u = d.uri.toString();
        if (this.cache.delete(u)) this.engine.log.trace(`completion cache: ${d.uri.fsPath} closed`);
        this.inflight.delete(u);
        this.rhythm.lastChangeAt.delete(u);
      }),
    );
  }

  /** Starts the request VS Code is about to make (after its debounce) for the cursor the edit left. */
  private speculate(doc: vscode.TextDocument, version: number) {
    const ed = vscode.window.activeTextEditor;
    if (!ed || ed.document !== doc || doc.version !== version || ed.selections.length !== 1 || !ed.selection.isEmpty) return;
    const settings = completionSettings(doc);
    if (!settings.enable || !this.engine.api || !this.engine.isTracked(doc)) return;
    const offset = doc.offsetAt(ed.selection.active);
    if (this.fromCache(doc, offset, false)) return; // typed into the ghost text: the cache answers
    const uri = doc.uri.toString();
    const prev = this.inflight.get(uri);
    const t0 = this.rhythm.lastChangeAt.get(uri) ?? Date.now();
    this.events.speculative++;
    void this.start(doc, ed.selection.active, settings, t0, false, prev);
  }

  /** Cancels the document's request in flight, waits for it, then asks the engine. */
  private async start(doc: vscode.TextDocument, pos: vscode.Position, settings: CompletionSettings, t0: number, manual: boolean,
    prev: InFlight | undefined, budgetMs?: number, assume?: Assumed): Promise<InFlight | undefined> {
    const engine = this.engine.api;
    if (!engine) return undefined;
    const uri = doc.uri.toString();
    const version = doc.version;
    const offset = doc.offsetAt(pos);
    const mode = completionMode(doc, pos);
    const cancelId = newCancelId('complete');
    // Claim the slot now so that a later caller cancels this one, not the one before.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const entry: InFlight = { uri, version, offset, mode, assume, cancelId, tReq: Date.now(), done: gate.then(() => req) };
    let req!: Promise<CompletionResult>;
    this.inflight.set(uri, entry);
    if (prev) {
      void engine.cancel(prev.cancelId).catch(() => undefined);
      await prev.done.catch(() => undefined);
    }
    if (this.inflight.get(uri) !== entry || doc.version !== version) {
      req = Promise.resolve({ text: '', tokens: 0, msToState: 0, msToFirstToken: 0, msTotal: 0, stoppedBy: 'cancelled' });
      release();
      if (this.inflight.get(uri) === entry) this.inflight.delete(uri);
      return entry;
    }
    entry.tReq = Date.now();
    this.events.requests++;
    req = engine.complete({
      uri, version, offset,
      maxTokens: mode === 'line' ? Math.min(settings.maxTokens, 32) : settings.maxTokens,
      temperature: settings.temperature, topP: 0.95,
      // Counted from the keystroke, so waiting for VS Code and the debounce is included.
      timeBudgetMs: budgetMs ?? (manual ? settings.timeBudgetMs : Math.max(40, settings.timeBudgetMs - (entry.tReq - t0))),
      mode, suffixLines: settings.suffixLines, assume,
    }, cancelId);
    release();
    // The entry stays after it finished: a request started on the keystroke may finish before VS
    // Code asks for it (a fast model); entries are matched by version and offset, so it is reused
    // only for the very cursor it was made for.
    req.then((r) => {
      if (r.stoppedBy === 'cancelled') this.events.cancelled++;
      const { stoppedBy, tokens, msToState, msToFirstToken, msTotal } = r;
      const endedAt = Date.now();
      this.events.recent = [...this.events.recent.slice(-7), { offset, ms: endedAt - entry.tReq, stoppedBy, tokens, msToState, msToFirstToken, msTotal, endedAt }];
    }, () => undefined).finally(() => { this.events.ended++; });
    entry.done.catch(() => undefined); // a request started on a keystroke may go unused
    return entry;
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
    // The suggestion list is open: its selected item counts as typed, and the ghost text (which
    // VS Code shows only when it starts with that item) continues it.
    const selected = ctx.selectedCompletionInfo;
    let assume: Assumed | undefined;
    if (selected) {
      const r = selected.range;
      // an item that would replace text after the cursor or across lines: no ghost text beside it
      if (r.start.line !== pos.line || !r.end.isEqual(pos) || /[\r\n]/.test(selected.text)) return undefined;
      assume = { text: selected.text, replaces: pos.character - r.start.character };
    }

    const mode = completionMode(doc, pos);
    // Typing through the ghost text (or a longer answer after a pause): reuse it.
    const hit = this.fromCache(doc, offset, !assume, assume);
    if (hit) {
      this.record({ uri, keystrokeToResult: Date.now() - t0, engineMs: 0, debounceMs: 0, askedAfter: tAsked - t0, cached: true, chars: String(hit.insertText).length });
      this.events.lastResult = { uri, text: String(hit.insertText), at: Date.now(), mode, version: doc.version, cached: true, replaces: assume?.replaces };
      // a suggestion cut short by the time budget grows after a pause here too
      const c = this.cache.get(uri);
      if (!assume && c?.cut) {
        c.cut = false; // once per suggestion
        this.scheduleExtension(doc, pos, doc.version, String(hit.insertText), settings);
      }
      return [hit];
    }

    // The request started on the keystroke, when it is for this very cursor.
    let cur = this.inflight.get(uri);
    const speculative = !!cur && !manual && !assume && !cur.assume && cur.version === doc.version && cur.offset === offset && cur.mode === mode;
    let debounce = 0;
    if (speculative) {
      this.events.speculativeUsed++;
      // It has been decoding since the keystroke: take what it has at the next word end rather
      // than its whole time budget (the rest comes as the longer answer after a pause).
      void engine.hurry(cur!.cancelId).catch(() => undefined);
    } else {
      debounce = manual ? 0 : this.rhythm.delay(uri, settings.debounceMs);
      if (!(await sleep(debounce, token))) return undefined;
      cur = await this.start(doc, pos, settings, t0, manual, this.inflight.get(uri), undefined, assume);
      if (!cur) return undefined;
    }
    const entry = cur!;
    const sub = token.onCancellationRequested(() => void engine.cancel(entry.cancelId).catch(() => undefined));
    let res: CompletionResult;
    try {
      res = await entry.done;
    } catch (e) {
      if (!token.isCancellationRequested) this.engine.log.debug(`completion failed: ${e}`);
      return undefined;
    } finally {
      sub.dispose();
    }
    if (token.isCancellationRequested || res.stoppedBy === 'cancelled' || doc.version !== entry.version) return undefined;
    const shaped = shapeCompletion(doc, pos, res.text, mode, cutShort(res.stoppedBy));
    this.engine.log.trace(`completion ${mode} at ${doc.uri.fsPath}:${pos.line + 1}:${pos.character + 1}${speculative ? ' (started on the keystroke)' : ''}${assume ? ` after the list's ${JSON.stringify(assume.text)}` : ''} ${res.tokens} tokens in ${res.msTotal} ms (state ${res.msToState} ms, first token ${res.msToFirstToken} ms, ${res.stoppedBy}) -> ${JSON.stringify(shaped?.text ?? null)}`);
    // Cut short by the time budget: a longer answer follows after a pause (also when this one is
    // empty; not beside the suggestion list, whose selection may change any moment).
    if (res.stoppedBy === 'time' && !assume) this.scheduleExtension(doc, pos, entry.version, shaped?.text ?? '', settings);
    this.record({ uri, keystrokeToResult: Date.now() - t0, engineMs: Date.now() - entry.tReq, debounceMs: debounce, askedAfter: tAsked - t0, cached: false, speculative, chars: shaped?.text.length ?? 0,
      msToState: res.msToState, msToFirstToken: res.msToFirstToken, msEngineTotal: res.msTotal, tokens: res.tokens, stoppedBy: res.stoppedBy });
    if (!shaped) return undefined;
    // with the list's item, the ghost text replaces the typed part of the word with the item and its continuation
    const start = assume ? pos.translate(0, -assume.replaces) : pos;
    const insert = { text: (assume?.text ?? '') + shaped.text, replacesAfter: shaped.replacesAfter };
    this.remember(doc, doc.offsetAt(start), start, insert, res.stoppedBy === 'time');
    this.events.lastResult = { uri, text: insert.text, at: Date.now(), mode, version: entry.version, replaces: assume?.replaces };
    this._onDidProvide.fire({ uri, text: insert.text });
    return [new vscode.InlineCompletionItem(insert.text, new vscode.Range(start, pos.translate(0, shaped.replacesAfter)))];
  }

  private remember(doc: vscode.TextDocument, offset: number, pos: vscode.Position, shaped: { text: string; replacesAfter: number }, cut = false) {
    this.engine.log.trace(`completion cache: ${JSON.stringify(shaped.text)} at ${offset}`);
    this.cache.set(doc.uri.toString(), {
      uri: doc.uri.toString(), anchor: offset, before: doc.getText(new vscode.Range(doc.positionAt(Math.max(0, offset - 256)), pos)),
      text: shaped.text, replacesAfter: shaped.replacesAfter, cut,
    });
  }

  /**
   * The answer was cut short by the time budget: when the user pauses, ask again with time to
   * spare; if the longer text extends the shown one, VS Code is asked to show it (from the cache).
   */
  private scheduleExtension(doc: vscode.TextDocument, pos: vscode.Position, version: number, shown: string, settings: CompletionSettings) {
    if (this.extendTimer) clearTimeout(this.extendTimer);
    this.extendTimer = setTimeout(async () => {
      this.extendTimer = undefined;
      const ed = vscode.window.activeTextEditor;
      const here = () => doc.version === version && ed?.document === doc && ed.selection.isEmpty && ed.selection.active.isEqual(pos);
      if (!here() || !this.engine.api || !completionSettings(doc).enable) return; // turned off meanwhile
      this.events.extensions++;
      const entry = await this.start(doc, pos, settings, Date.now(), true, this.inflight.get(doc.uri.toString()), Math.max(EXTEND_BUDGET_MS, settings.timeBudgetMs));
      const res = await entry?.done.catch(() => undefined);
      if (!entry || !res || res.stoppedBy === 'cancelled' || !here()) return;
      const shaped = shapeCompletion(doc, pos, res.text, entry.mode, cutShort(res.stoppedBy));
      if (!shaped || shaped.text.length <= shown.length || !shaped.text.startsWith(shown)) return;
      this.remember(doc, entry.offset, pos, shaped);
      this.events.extended++;
      this.events.lastResult = { uri: entry.uri, text: shaped.text, at: Date.now(), mode: entry.mode, version, extended: true };
      this.engine.log.trace(`completion extended after a pause: ${res.tokens} tokens -> ${JSON.stringify(shaped.text)}`);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }, EXTEND_AFTER_MS);
  }

  /** The cached suggestion's rest at the cursor, when what was typed since (and the list's item, if any) follows it. */
  private fromCache(doc: vscode.TextDocument, offset: number, drop = true, assume?: Assumed): vscode.InlineCompletionItem | undefined {
    const uri = doc.uri.toString();
    const c = this.cache.get(uri);
    if (!c) return undefined;
    const miss = (why: string) => {
      this.engine.log.trace(`completion cache: ${why}${drop ? ', dropped' : ''}`);
      if (drop) this.cache.delete(uri);
      return undefined;
    };
    const typedEnd = offset - (assume?.replaces ?? 0);   // the list's item replaces the word's typed part
    const anchorPos = doc.positionAt(c.anchor);
    const beforeNow = doc.getText(new vscode.Range(doc.positionAt(Math.max(0, c.anchor - c.before.length)), anchorPos));
    if (typedEnd < c.anchor || beforeNow !== c.before) return miss(typedEnd < c.anchor ? 'the cursor is before the suggestion' : 'the text before the suggestion changed');
    const typed = doc.getText(new vscode.Range(anchorPos, doc.positionAt(typedEnd))) + (assume?.text ?? '');
    if (!c.text.startsWith(typed)) return miss('typed text that differs from the suggestion');
    const rest = c.text.slice(typed.length);
    if (!rest.trim()) return miss('the suggestion is used up');
    const pos = doc.positionAt(offset);
    const lineRest = doc.lineAt(pos.line).text.length - pos.character;
    const range = new vscode.Range(doc.positionAt(typedEnd), pos.translate(0, Math.min(c.replacesAfter, lineRest)));
    return new vscode.InlineCompletionItem((assume?.text ?? '') + rest, range);
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
    if (this.extendTimer) clearTimeout(this.extendTimer);
    for (const d of this.disposables) d.dispose();
  }
}

/** 'line' with text after the cursor on its line (the completion stays on it), else 'block'. */
function completionMode(doc: vscode.TextDocument, pos: vscode.Position): 'line' | 'block' {
  return doc.lineAt(pos.line).text.slice(pos.character).trim().length > 0 ? 'line' : 'block';
}
