import { v7 } from 'uuid';

/** Time-ordered UUID v7: ids sort by creation time, so "newest first" is an index scan on the primary key. */
export function newId(): string {
  return v7();
}

/**
 * The smallest v7 id made at or after `ms` (Unix milliseconds): `id >= idFloor(t)` selects what was made since t,
 * as a range scan of an index on the id.
 */
export function idFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
