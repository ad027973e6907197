import { seededRandom } from './arrivals.js';
import type { RequestSpec } from './open-loop.js';
import type { Population } from './volume.js';

export const CLASSES = ['status', 'list', 'stats', 'map', 'reference', 'queue', 'submit'] as const;
export type RequestClass = (typeof CLASSES)[number];

/** Share of arrivals per class, in percent (see `npm run bench` for what each is). */
export const DEFAULT_MIX: Record<RequestClass, number> = {
  status: 40,
  list: 15,
  stats: 20,
  map: 8,
  reference: 7,
  queue: 5,
  submit: 5,
};

/** "status:40,list:15,…" → a weight per class in CLASSES order; a class not named gets none. */
export function parseMix(text: string): number[] {
  const given = new Map(
    text.split(',').map((part) => {
      const [name, weight] = part.split(':');
      if (!CLASSES.includes(name as RequestClass) || !(Number(weight) >= 0))
        throw new Error(`--mix: "${part}" is not <class>:<weight> with a class of ${CLASSES.join(', ')}`);
      return [name, Number(weight)] as const;
    }),
  );
  return CLASSES.map((c) => given.get(c) ?? 0);
}

const json = { 'content-type': 'application/json' };
const dayOf = (t: number) => new Date(t + 5 * 3600_000).toISOString().slice(0, 10); // Tashkent is UTC+5

/**
 * The request an arrival makes, from its class and random word alone, so two runs of one schedule send the same
 * requests. Citizens poll and list their own reports and submit with evidence they uploaded; the public reads a
 * handful of statistics queries (a landing page, a dashboard) and map views of the cities; inspectors read their
 * queue with the filters the console offers.
 */
export class MixedRequests {
  private readonly stats: string[];
  private readonly maps: string[];
  private readonly queues: string[];

  constructor(
    private readonly pop: Population,
    now = Date.now(),
  ) {
    const today = dayOf(now);
    const weekAgo = dayOf(now - 6 * 86_400_000);
    const [first, second] = [pop.codes[0]!, pop.codes[1] ?? pop.codes[0]!];
    this.stats = [
      'summary',
      'summary',
      'summary',
      'by-district',
      `by-district?type=${first}`,
      `by-district?from=${today.slice(0, 8)}01&to=${today}`,
      'timeseries?bucket=day',
      `timeseries?bucket=hour&from=${weekAgo}&to=${today}`,
      `timeseries?bucket=day&type=${second}`,
      `timeseries?bucket=day&region=${pop.tashkentRegion}`,
    ].map((q) => `/v1/stats/${q}`);
    const boxes = [
      '69.1,41.2,69.4,41.4', // Tashkent
      '69.2,41.28,69.3,41.34', // Tashkent centre
      '69.25,41.3,69.4,41.4',
      '69.1,41.2,69.25,41.3',
      '66.9,39.6,67.05,39.72', // Samarkand
      '71.55,40.95,71.75,41.05', // Namangan
      '72.28,40.72,72.42,40.82', // Andijan
      '64.35,39.7,64.5,39.82', // Bukhara
      '56,37.1,73.2,45.6', // the whole country
    ];
    const lastWeek = `${weekAgo}T00:00:00%2B05:00`;
    this.maps = boxes.flatMap((b) => [
      `/v1/map/reports?bbox=${b}`,
      `/v1/map/reports?bbox=${b}&from=${lastWeek}`,
    ]);
    this.queues = [
      '',
      '',
      '?status=awaiting_review',
      `?region=${pop.tashkentRegion}`,
      `?violation=${first}`,
      '?overdue=true',
    ].map((q) => `/v1/review/queue${q}`);
  }

  /** The citizen an arrival of a citizen class acts as (a submission's evidence must be theirs). */
  citizenOf(pick: number): { id: string; token: string; reports: string[] } {
    return this.pop.citizens[pick % this.pop.citizens.length]!;
  }

  build(cls: RequestClass, pick: number, evidenceId?: string): RequestSpec {
    const random = seededRandom(pick);
    const any = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const citizen = this.citizenOf(pick);
    const asCitizen = { authorization: `Bearer ${citizen.token}` };
    switch (cls) {
      case 'status': {
        // A citizen polls the report they are waiting on — mostly the one they filed last — and now and then an
        // older one from their list.
        const report =
          random() < 0.7
            ? citizen.reports[0]!
            : citizen.reports[Math.floor(random() ** 2 * citizen.reports.length)]!;
        return { method: 'GET', path: `/v1/reports/${report}`, headers: asCitizen };
      }
      case 'list':
        return {
          method: 'GET',
          // Most open the first page; some scroll on.
          path: random() < 0.8 ? '/v1/me/reports' : `/v1/me/reports?cursor=${any(citizen.reports)}`,
          headers: asCitizen,
        };
      case 'stats':
        return { method: 'GET', path: any(this.stats), headers: {} };
      case 'map':
        return { method: 'GET', path: any(this.maps), headers: {} };
      case 'reference':
        return {
          method: 'GET',
          path: random() < 0.7 ? '/v1/violation-types?active=true' : '/v1/violation-types',
          headers: {},
        };
      case 'queue':
        return {
          method: 'GET',
          path: any(this.queues),
          headers: { authorization: `Bearer ${any(this.pop.inspectorTokens)}` },
        };
      case 'submit': {
        if (!evidenceId) throw new Error('a submission needs its evidence id');
        const region = any(['01', '01', '01', '10', '30', '40', '50', '60']);
        const letter = () => any([...'ABCDEHKLMNOPSTUXYZ']);
        const digits = String(Math.floor(random() * 1000)).padStart(3, '0');
        return {
          method: 'POST',
          path: '/v1/reports',
          headers: { ...json, ...asCitizen },
          body: JSON.stringify({
            violationCode: this.pop.codes[Math.floor(random() ** 2 * this.pop.codes.length)],
            plate: `${region} ${letter()} ${digits} ${letter()}${letter()}`,
            lat: 41.22 + random() * 0.18,
            lon: 69.15 + random() * 0.25,
            incidentAt: new Date(Date.now() - 60_000 - random() * 3_600_000).toISOString(),
            evidenceIds: [evidenceId],
          }),
        };
      }
    }
  }
}
