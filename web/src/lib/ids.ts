/**
 * A fresh Idempotency-Key. crypto.randomUUID exists only in secure contexts (https, localhost); a plain-http
 * deployment on a LAN address still gets a random v4 UUID from getRandomValues, which exists everywhere.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A list with a further page appended, leaving out rows already shown (keyset pages of a list that moves — a new
 * report, a claimed one — can repeat a row at their seam).
 */
export function appendNew<T extends { id: string }>(shown: T[] | null, more: T[]): T[] {
  const have = new Set((shown ?? []).map((r) => r.id));
  return [...(shown ?? []), ...more.filter((r) => !have.has(r.id))];
}
