// Checkpoints of the whole packed recurrent state, and the memory budget over all documents:
// when the budget is exceeded the least recently used document loses its least recently
// used checkpoint first (its read frontier last). Nothing is lost for correctness: a state
// is always recomputable from an earlier checkpoint or the zero state at token 0.

export interface Checkpoint {
  /** Global token index: the state after tokens [0, g). */
  g: number;
  state: Float32Array;
  lastUse: number;
  /** Kept near the cursor (start of the cursor's line and of the line before). */
  hot: boolean;
  /**
   * Next-token logits after token g - 1, kept with hot checkpoints and the read frontier: a
   * completion exactly there (typing at a line start, at the end of a read file) needs no run.
   */
  logits?: Float32Array;
}

function bytesOf(c: Checkpoint): number {
  return c.state.byteLength + (c.logits?.byteLength ?? 0);
}

export interface CheckpointOwner {
  readonly uri: string;
  lastUse: number;
  checkpoints: Checkpoint[];
  frontier: Checkpoint | undefined;
}

let clock = 0;
export function tick(): number {
  return ++clock;
}

export class CheckpointBudget {
  bytes = 0;
  evictions = 0;
  private readonly owners = new Set<CheckpointOwner>();

  constructor(public budgetBytes: number) {}

  register(o: CheckpointOwner): void {
    this.owners.add(o);
  }

  unregister(o: CheckpointOwner): void {
    for (const c of o.checkpoints) this.bytes -= bytesOf(c);
    if (o.frontier) this.bytes -= bytesOf(o.frontier);
    o.checkpoints = [];
    o.frontier = undefined;
    this.owners.delete(o);
  }

  /** Adds a checkpoint in g order (replacing one at the same g), then enforces the budget. */
  add(o: CheckpointOwner, c: Checkpoint): void {
    const list = o.checkpoints;
    let i = list.length;
    while (i > 0 && list[i - 1].g > c.g) i--;
    if (i > 0 && list[i - 1].g === c.g) {
      this.bytes -= bytesOf(list[i - 1]);
      c.hot = c.hot || list[i - 1].hot;
      list[i - 1] = c;
    } else {
      list.splice(i, 0, c);
    }
    this.bytes += bytesOf(c);
    this.enforce(c);
  }

  setFrontier(o: CheckpointOwner, c: Checkpoint | undefined): void {
    if (o.frontier) this.bytes -= bytesOf(o.frontier);
    o.frontier = c;
    if (c) { this.bytes += bytesOf(c); this.enforce(c); }
  }

  /** Drops every checkpoint after token g (an edit changed the tokens from g on). */
  dropAfter(o: CheckpointOwner, g: number): void {
    const keep: Checkpoint[] = [];
    for (const c of o.checkpoints) {
      if (c.g <= g) keep.push(c); else this.bytes -= bytesOf(c);
    }
    o.checkpoints = keep;
    if (o.frontier && o.frontier.g > g) this.setFrontier(o, undefined);
  }

  remove(o: CheckpointOwner, c: Checkpoint): void {
    const i = o.checkpoints.indexOf(c);
    if (i >= 0) { o.checkpoints.splice(i, 1); this.bytes -= bytesOf(c); }
  }

  private enforce(protect: Checkpoint): void {
    while (this.bytes > this.budgetBytes) {
      if (!this.evictOne(protect)) return;
    }
  }

  private evictOne(protect: Checkpoint): boolean {
    const owners = [...this.owners].sort((a, b) => a.lastUse - b.lastUse);
    for (const o of owners) {
      let victim: Checkpoint | undefined;
      for (const c of o.checkpoints) if (c !== protect && (!victim || c.lastUse < victim.lastUse)) victim = c;
      if (victim) { this.remove(o, victim); this.evictions++; return true; }
      if (o.frontier && o.frontier !== protect) { this.setFrontier(o, undefined); this.evictions++; return true; }
    }
    return false;
  }
}
