/**
 * The write buffer of one entity in one partition of a TS table: rows appended since its last
 * block was sealed, column-wise, in the table's layout at the time (an ALTER seals every buffer
 * first, so a buffer never mixes layouts). The table seals a buffer into a block when it reaches
 * rowsPerBlock rows, and every buffer at flush.
 */
import type { ColumnData, ColumnType } from './block.js';
import { ColumnBuilder } from './column_builder.js';

/** Rows of one entity, column-wise, in typed arrays that double as they fill. */
export class EntityBuffer {
  rows = 0;
  cols: ColumnBuilder[];

  constructor(readonly types: ColumnType[]) {
    this.cols = types.map((t) => new ColumnBuilder(t));
  }

  /** Rows [from, to) of columns in this buffer's layout. */
  append(src: ColumnData[], from: number, to: number): void {
    for (let c = 0; c < this.cols.length; c++) (this.cols[c] as ColumnBuilder).append(src[c] as ColumnData, from, to);
    this.rows += to - from;
  }

  /** The buffered rows (views: read them before the next append). */
  all(): ColumnData[] {
    return this.cols.map((b) => b.finish());
  }

  clear(): void {
    this.rows = 0;
    this.cols = this.types.map((t) => new ColumnBuilder(t));
  }
}
