import type { Static } from '@sinclair/typebox';
import { type Cache, cacheNamespace } from '../platform/cache/cache.js';
import type { PgListener } from '../platform/db/listener.js';
import type { Changes, Queryable } from '../platform/db/pool.js';
import type { EventsResponse, ReportView } from './reports.schema.js';

/**
 * What a status poll reads, cached per report and dropped after every transition commits (write-through
 * invalidation from `applyTransitions`; see `noteChanges`). The ttl only bounds a missed invalidation.
 * key: report id; value: the staff view (the citizen's is the same without `review`) and whose report it is.
 */
export const REPORT_CACHE = cacheNamespace<{ citizenId: string; view: ReportView }>('report', {
  ttl: '10m',
  grace: '10m',
});

/** A report's timeline, invalidated with the report. key: report id; value: events with their real actors. */
export const TIMELINE_CACHE = cacheNamespace<{ citizenId: string } & Static<typeof EventsResponse>>(
  'timeline',
  { ttl: '10m', grace: '10m' },
);

/** Newest reports a citizen's list shows first; a request for more, or for a later page, reads the database. */
export const FIRST_PAGE = 20;

/**
 * The first page of a citizen's list (citizen views, FIRST_PAGE + 1 of them, so a shorter page knows whether more
 * follow), dropped when they submit or any of their reports moves. key: citizen id.
 */
export const CITIZEN_REPORTS_CACHE = cacheNamespace<{ items: ReportView[] }>('citizenReports', {
  ttl: '10m',
  grace: '10m',
});

export const REPORT_CACHES = [REPORT_CACHE, TIMELINE_CACHE, CITIZEN_REPORTS_CACHE];

/**
 * Sent (NOTIFY, delivered at commit) with the ids a transaction changed, so every API process drops its copies —
 * with or without Redis (whose bus only reaches processes that share it), whichever process made the change —
 * and with how many reports entered each status, so every process knows the stages' arrivals.
 */
export const REPORT_CHANGES_CHANNEL = 'jarima_report_changes';
// NOTIFY payloads stop at 8,000 bytes: 80 tagged ids are ~3.1 kB.
const IDS_PER_NOTICE = 80;

/** Tells every process, at commit, what changed (one statement however many notices). */
export async function announceChanges(db: Queryable, changes: Changes): Promise<void> {
  // r<report id>, c<citizen id>, e<status>=<count>
  const tagged = [
    ...Object.entries(changes.entered).map(([status, n]) => `e${status}=${n}`),
    ...changes.reports.map((id) => `r${id}`),
    ...[...new Set(changes.citizens)].map((id) => `c${id}`),
  ];
  if (tagged.length === 0) return;
  const notices: string[] = [];
  for (let i = 0; i < tagged.length; i += IDS_PER_NOTICE)
    notices.push(JSON.stringify(tagged.slice(i, i + IDS_PER_NOTICE)));
  await db.query('select pg_notify($1, n) from unnest($2::text[]) n', [REPORT_CHANGES_CHANNEL, notices]);
}

/** Hears every process's changes: drops this process's cached copies and reports the arrivals. */
export function listenForChanges(
  listener: PgListener,
  cache: Cache,
  onEntered?: (entered: Record<string, number>) => void,
): void {
  listener.on(REPORT_CHANGES_CHANNEL, (payload) => {
    const tagged = JSON.parse(payload) as string[];
    const pick = (tag: string) => tagged.filter((t) => t[0] === tag).map((t) => t.slice(1));
    const entered: Record<string, number> = {};
    for (const e of pick('e')) {
      const [status, n] = e.split('=');
      entered[status!] = Number(n);
    }
    if (onEntered && Object.keys(entered).length) onEntered(entered);
    void dropChangedReports(cache, { reports: pick('r'), citizens: pick('c') });
  });
}

/** The write-through half: called after each commit that changed reports. */
export async function dropChangedReports(
  cache: Cache,
  changes: Pick<Changes, 'reports' | 'citizens'>,
): Promise<void> {
  await Promise.all([
    cache.invalidate(REPORT_CACHE, changes.reports),
    cache.invalidate(TIMELINE_CACHE, changes.reports),
    cache.invalidate(CITIZEN_REPORTS_CACHE, [...new Set(changes.citizens)]),
  ]);
}
