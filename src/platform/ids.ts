import { v7 } from 'uuid';

/** Time-ordered UUID v7: ids sort by creation time, so "newest first" is an index scan on the primary key. */
export function newId(): string {
  return v7();
}
