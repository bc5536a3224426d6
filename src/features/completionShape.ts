// Shaping the engine's text into ghost text: the stop rules of line and block mode, and no
// suggestion that only repeats what already follows the cursor.
import * as vscode from 'vscode';
import type { CompletionResult } from '../engine/api';

/** Decoding stopped at the token limit or the time budget, not at a stop rule (shapeCompletion's `cut`). */
export function cutShort(stoppedBy: CompletionResult['stoppedBy']): boolean {
  return stoppedBy === 'max_tokens' || stoppedBy === 'time';
}

/**
 * Applies the stop rules to the engine's text and drops suggestions that only repeat what
 * is already there. Returns the text to insert and how many characters after the cursor it
 * replaces (line mode, when the completion ends with the rest of the line). `cut`: decoding
 * stopped at the token limit or the time budget, not at a stop rule.
 */
export function shapeCompletion(doc: vscode.TextDocument, pos: vscode.Position, raw: string, mode: 'line' | 'block', cut = false):
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
  // decoding stopped mid-line (token limit or time): a multi-line answer ends at its last whole line
  if (cut && out.length > 1 && out.length === lines.length) out.pop();
  while (out.length > 1 && !out[out.length - 1].trim()) out.pop();
  text = out.join('\n').replace(/[ \t]+$/, '');
  if (!text.trim()) return undefined;
  // Only repeats what follows the cursor.
  const following = doc.getText(new vscode.Range(pos, doc.positionAt(doc.offsetAt(pos) + text.length + 200)));
  if (following.startsWith(text) || following.replace(/^\s+/, '').startsWith(text.trim())) return undefined;
  return { text, replacesAfter: 0 };
}
