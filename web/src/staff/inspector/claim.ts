import { staffApi } from '../session';
import type { Decision, Review } from '../types';

/** The queue's filters (GET /v1/review/queue); "take next" honours the ones POST /v1/review/next accepts. */
export interface Filters {
  region?: number;
  district?: number;
  violation?: string;
  status?: 'awaiting_review' | 'in_review';
  overdue?: boolean;
}

const KEY = 'jarima.inspector.filters';

export function filtersFrom(search: URLSearchParams): Filters {
  const int = (k: string) => {
    const v = Number(search.get(k));
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  const status = search.get('status');
  const violation = search.get('violation');
  return {
    region: int('region'),
    district: int('district'),
    violation: violation && /^[0-9]{1,4}(-[0-9]{1,2})?\.[0-9]{1,2}$/.test(violation) ? violation : undefined,
    status: status === 'awaiting_review' || status === 'in_review' ? status : undefined,
    overdue: search.get('overdue') === 'true' ? true : undefined,
  };
}

export function filtersQuery(f: Filters): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

/** The filters last used in this tab: the review screen's "next" takes from the same slice of the queue. */
export function rememberFilters(f: Filters): void {
  try {
    sessionStorage.setItem(KEY, filtersQuery(f));
  } catch {
    // Storage off: "next" takes from the whole queue.
  }
}

export function rememberedFilters(): Filters {
  try {
    return filtersFrom(new URLSearchParams(sessionStorage.getItem(KEY) ?? ''));
  } catch {
    return {};
  }
}

/** The queue as last filtered in this tab: where the review screen returns to. */
export function queuePath(): string {
  const q = filtersQuery(rememberedFilters());
  return q ? `/inspector?${q}` : '/inspector';
}

/**
 * A report claimed by POST /v1/review/next arrives whole (evidence, findings, related): it is handed to the review
 * screen here, so the screen shows it at once instead of fetching it a second time.
 */
const handoff = new Map<string, Review>();

export function takeHandoff(id: string): Review | undefined {
  return handoff.get(id);
}

export function dropHandoff(id: string): void {
  handoff.delete(id);
}

/** Claims the next free report (with a lease) under the remembered filters; null when none is free. */
export async function takeNext(f: Filters = rememberedFilters()): Promise<Review | null> {
  const body = { region: f.region, district: f.district, violation: f.violation };
  const r = await staffApi<Review | undefined>('/v1/review/next', { method: 'POST', body });
  if (!r) return null;
  handoff.set(r.report.id, r);
  return r;
}

/**
 * What was last decided here, for the screen that comes next to say: the next report ("Approved 01 A 777 AA"), or
 * the queue when nothing else was free.
 */
export interface Outcome {
  what: Decision | 'released';
  plate: string;
}

let lastOutcome: Outcome | null = null;

export function setOutcome(o: Outcome | null): void {
  lastOutcome = o;
}

export function takeOutcome(): Outcome | null {
  const o = lastOutcome;
  lastOutcome = null;
  return o;
}
