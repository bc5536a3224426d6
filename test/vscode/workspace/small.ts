// A small TypeScript file for the Flowstate tests.
export interface Point {
  x: number;
  y: number;
}

export function distance(a: Point, b: Point): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  return Math.sqrt(dx * dx + dy * dy);
}

export class Path {
  private points: Point[] = [];

  add(p: Point): void {
    this.points.push(p);
  }

  length(): number {
    let total = 0;
    for (let i = 1; i < this.points.length; i++) {
      total += distance(this.points[i - 1], this.points[i]);
    }
    return total;
  }
}

function main() {
  const path = new Path();
  path.add({ x: 0, y: 0 });
  path.add({ x: 3, y: 4 });
  console.log(path.length());
}

main();
