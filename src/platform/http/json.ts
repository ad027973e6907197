/** A body from another system as JSON, or undefined when it is not JSON: the caller's schema check then names it. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
