import { describe, expect, it } from 'vitest';
import { idFloor, newId } from './ids.js';

describe('idFloor', () => {
  it('sorts at or before every id made from its millisecond on, and after every id made before it', async () => {
    const before = newId();
    await new Promise((r) => setTimeout(r, 5));
    const floor = idFloor(Date.now());
    const after = newId();
    // PostgreSQL orders uuids bytewise, as these lower-case hex strings sort.
    expect(before < floor).toBe(true);
    expect(floor <= after).toBe(true);
    expect(idFloor(0)).toBe('00000000-0000-7000-8000-000000000000');
  });
});
