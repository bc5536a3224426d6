// Keeps the model state at the cursor's line ready before the user types there: after the
// cursor settles on another line (a jump, a search, go-to-definition), the engine makes the
// state at that line's start in the background (EngineApi.prepare). Without it the first
// keystroke after a jump in a large file replays up to a checkpoint spacing first (about 1.4 s
// measured in a 1 MB file in the browser run), and that keystroke's ghost text waits for it.
import * as vscode from 'vscode';
import { completionSettings } from './config';
import type { EngineService } from './engineService';

/** How long the cursor stays on a line before the engine prepares it (moving through lines with the arrow keys asks nothing). */
const SETTLE_MS = 250;

export class CursorWarmup implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Per document, the line last prepared (or asked for). */
  private readonly prepared = new Map<string, number>();
  /** Lines prepared, for tests. */
  count = 0;

  constructor(private readonly engine: EngineService) {
    this.disposables.push(
      vscode.window.onDidChangeTextEditorSelection((e) => { if (e.textEditor === vscode.window.activeTextEditor) this.schedule(); }),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.workspace.onDidCloseTextDocument((d) => this.prepared.delete(d.uri.toString())),
    );
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; this.prepareActive(); }, SETTLE_MS);
  }

  private prepareActive(): void {
    const ed = vscode.window.activeTextEditor;
    const api = this.engine.api;
    if (!ed || !api || !this.engine.isTracked(ed.document) || !completionSettings(ed.document).enable) return;
    const uri = ed.document.uri.toString();
    const line = ed.selection.active.line;
    if (this.prepared.get(uri) === line) return;   // typing on the same line needs nothing new
    this.prepared.set(uri, line);
    api.prepare(uri, ed.document.offsetAt(new vscode.Position(line, 0)))
      .then((done) => { if (done) this.count++; }, (e) => this.engine.log.debug(`prepare: ${e}`));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
