// The hash side of the join (income, self-employment), stored compactly: the cells of every row in
// one Float64Array (plus a null mask), neighborhoods and line numbers in arrays, and an Id -> slot
// map. As objects (a row object, a cell array, a boxed double per cell, a map entry) the two sides
// took ~150 MB of V8 heap at 250k Ids, and V8 let the heap grow to ~4x that before collecting the
// probe's garbage (776 MB RSS); here the cells are outside the heap and the heap stays small.
// Reads the same as a Map<number, { row: CleanRow }> (a row object is rebuilt on each get).
import type { Cell, CleanRow } from './clean-source.ts';

const INITIAL_SLOTS = 16_384;

export class BuildSide {
  private readonly slots = new Map<number, number>();
  private cells: Float64Array;
  private nulls: Uint8Array;
  private lines: Int32Array;
  private readonly neighborhoods: string[] = [];
  private used = 0;

  /** `width`: cells per row (the source's value columns). */
  constructor(private readonly width: number) {
    this.cells = new Float64Array(INITIAL_SLOTS * width);
    this.nulls = new Uint8Array(INITIAL_SLOTS * width);
    this.lines = new Int32Array(INITIAL_SLOTS);
  }

  /** Ids currently in the side. */
  get size(): number {
    return this.slots.size;
  }

  set(id: number, entry: { row: CleanRow }): void {
    const { row } = entry;
    if (row.values.length !== this.width)
      throw new Error(`row of ${row.values.length} cells in a build side of ${this.width}`);
    if (this.slots.has(id)) throw new Error(`Id ${id} already in the build side`);
    if (this.used === this.lines.length) this.grow();
    const slot = this.used++;
    const at = slot * this.width;
    for (let k = 0; k < this.width; k++) {
      const v = row.values[k] as Cell;
      if (v === null) this.nulls[at + k] = 1;
      else this.cells[at + k] = v;
    }
    this.lines[slot] = row.line;
    this.neighborhoods[slot] = row.neighborhood;
    this.slots.set(id, slot);
  }

  get(id: number): { row: CleanRow } | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : { row: this.rowAt(id, slot) };
  }

  delete(id: number): boolean {
    // The slot's storage is not reused: the side only shrinks while the probe runs.
    return this.slots.delete(id);
  }

  /** Remaining Ids in insertion order, as a Map would give them. */
  *[Symbol.iterator](): IterableIterator<[number, { row: CleanRow }]> {
    for (const [id, slot] of this.slots) yield [id, { row: this.rowAt(id, slot) }];
  }

  private rowAt(id: number, slot: number): CleanRow {
    const at = slot * this.width;
    const values = new Array<Cell>(this.width);
    for (let k = 0; k < this.width; k++) values[k] = this.nulls[at + k] ? null : this.cells[at + k]!;
    return { id, neighborhood: this.neighborhoods[slot]!, values, line: this.lines[slot]! };
  }

  private grow(): void {
    const slots = this.lines.length * 2;
    const cells = new Float64Array(slots * this.width);
    cells.set(this.cells);
    const nulls = new Uint8Array(slots * this.width);
    nulls.set(this.nulls);
    const lines = new Int32Array(slots);
    lines.set(this.lines);
    this.cells = cells;
    this.nulls = nulls;
    this.lines = lines;
  }
}
