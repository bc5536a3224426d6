// Cancellation by id: callers name a request with a cancel id and may cancel it later (even
// before it started, since messages from another process can arrive in any order). The same id
// can ask a request to hurry: answer early with what it has.

export class CancelledError extends Error {
  constructor(what = 'request') {
    super(`${what} cancelled`);
    this.name = 'CancelledError';
  }
}

export interface CancelToken {
  readonly cancelled: boolean;
  /** The caller wants an early answer (see EngineApi.hurry). */
  readonly hurried: boolean;
  throwIfCancelled(what?: string): void;
  /** Calls fn once when cancelled (at once if already); returns an unsubscribe function. */
  onCancel(fn: () => void): () => void;
}

class Token implements CancelToken {
  private _cancelled = false;
  hurried = false;
  private listeners: (() => void)[] = [];
  get cancelled(): boolean {
    return this._cancelled;
  }
  cancel(): void {
    if (this._cancelled) return;
    this._cancelled = true;
    for (const fn of this.listeners.splice(0)) fn();
  }
  throwIfCancelled(what?: string): void {
    if (this._cancelled) throw new CancelledError(what);
  }
  onCancel(fn: () => void): () => void {
    if (this._cancelled) { fn(); return () => undefined; }
    this.listeners.push(fn);
    return () => { this.listeners = this.listeners.filter((f) => f !== fn); };
  }
}

/** A token its maker cancels directly (work the engine starts and stops itself, no id). */
export function newCancelToken(): CancelToken & { cancel(): void } {
  return new Token();
}

/** Cancelled when either is; hurried when either is. */
export function eitherCancelled(a: CancelToken, b: CancelToken): CancelToken {
  return {
    get cancelled() { return a.cancelled || b.cancelled; },
    get hurried() { return a.hurried || b.hurried; },
    throwIfCancelled(what?: string) { a.throwIfCancelled(what); b.throwIfCancelled(what); },
    onCancel(fn: () => void) {
      let called = false;
      const once = () => { if (!called) { called = true; offA(); offB(); fn(); } };
      const offA = a.onCancel(once);
      const offB = b.onCancel(once);
      return () => { offA(); offB(); };
    },
  };
}

export const NEVER_CANCELLED: CancelToken = { cancelled: false, hurried: false, throwIfCancelled() { /* never */ }, onCancel: () => () => undefined };

export class CancellationRegistry {
  private readonly live = new Map<string, Token>();
  /** Ids cancelled or hurried before their request arrived (bounded: oldest forgotten first). */
  private readonly early = new Set<string>();
  private readonly earlyHurry = new Set<string>();

  /** The token for a request; release it when the request ends. */
  acquire(id: string | undefined): CancelToken {
    if (!id) return NEVER_CANCELLED;
    const t = new Token();
    if (this.early.delete(id)) t.cancel();
    if (this.earlyHurry.delete(id)) t.hurried = true;
    this.live.set(id, t);
    return t;
  }

  release(id: string | undefined): void {
    if (id) this.live.delete(id);
  }

  cancel(id: string): void {
    const t = this.live.get(id);
    if (t) { t.cancel(); return; }
    remember(this.early, id);
  }

  hurry(id: string): void {
    const t = this.live.get(id);
    if (t) { t.hurried = true; return; }
    remember(this.earlyHurry, id);
  }
}

function remember(ids: Set<string>, id: string): void {
  ids.add(id);
  if (ids.size > 1000) ids.delete(ids.values().next().value as string);
}
