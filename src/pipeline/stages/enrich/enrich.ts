import type { BoundariesCache } from '../../../geo/boundaries-cache.js';
import type { Config } from '../../../platform/config/config.js';
import type { Queryable } from '../../../platform/db/pool.js';
import { matchPlate } from '../../../reference/plates.js';
import type { ReferenceData } from '../../../reference/reference.js';
import { unitsOfDistricts } from '../../../staff/units.repository.js';
import { sweepJob } from '../../jobs.js';
import type { Decision, ReportStage } from '../../runner.js';

export interface EnrichDeps {
  reference: ReferenceData;
  /** The boundaries index (rebuilt when boundaries are re-imported). */
  boundaries: BoundariesCache;
  config: Pick<Config, 'FORWARD_DEADLINE_HOURS'>;
}

/**
 * deduplicated → enriched: region and district (point-in-polygon through the in-memory index, no scan), the plate's
 * region, the fine in BHM and in sum at the rate in force on the incident date, the deadline by which the violation
 * must reach the registry, and the reporter's trust from their history.
 */
export function enrichStage(deps: EnrichDeps): ReportStage {
  return {
    from: ['deduplicated'],
    async decide(reports, db) {
      const trust = await reporterTrust(
        db,
        reports.map((r) => r.citizen_id),
      );
      const geo = await deps.boundaries.fresh(db);
      const places = reports.map((r) => geo.locate(r.lat, r.lon));
      // The police unit that reviews a report is the one covering its district.
      const units = await unitsOfDistricts(
        db,
        places.flatMap((p) => (p.district ? [p.district.id] : [])),
      );
      return reports.map((r, i): Decision => {
        const place = places[i]!;
        const plate = matchPlate(r.plate);
        const fine = deps.reference.fineFor(r.violation_code, r.incident_at);
        const slaDueAt = new Date(r.incident_at.getTime() + deps.config.FORWARD_DEADLINE_HOURS * 3600_000);
        const score = trust.get(r.citizen_id) ?? PRIOR;
        return {
          toStatus: 'enriched',
          eventType: 'enriched',
          data: {
            region: place.region?.name ?? null,
            district: place.district?.name ?? null,
            plateRegion: plate?.regionName ?? null,
            fine,
            slaDueAt: slaDueAt.toISOString(),
            reporterTrust: score,
          },
          patch: {
            regionId: place.region?.id ?? null,
            districtId: place.district?.id ?? null,
            unitId: (place.district && units.get(place.district.id)) ?? null,
            plateRegionCode: plate?.regionCode ?? null,
            fineBhmMin: fine?.bhmMin ?? null,
            fineBhmMax: fine?.bhmMax ?? null,
            bhmRate: fine?.bhmRate ?? null,
            fineSumMin: fine?.sumMin ?? null,
            fineSumMax: fine?.sumMax ?? null,
            slaDueAt,
            reporterTrust: score,
          },
          next: [sweepJob('analyze')],
        };
      });
    },
  };
}

/** A reporter with no history: neither trusted nor distrusted. */
const PRIOR = 0.5;

/**
 * Trust = (accepted + 1) / (accepted + refused + 2): the share of a reporter's decided reports that held up,
 * smoothed so one report moves it only a little. Accepted = approved and later; refused = rejected or duplicate.
 */
export async function reporterTrust(db: Queryable, citizenIds: string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ citizen_id: string; accepted: number; refused: number }>(
    `select citizen_id,
            count(*) filter (where status in ('approved', 'forwarded', 'fined', 'paid', 'rewarded'))::int as accepted,
            count(*) filter (where status in ('rejected', 'duplicate'))::int as refused
       from reports where citizen_id = any($1::uuid[]) group by citizen_id`,
    [[...new Set(citizenIds)]],
  );
  return new Map(
    rows.map((r) => [
      r.citizen_id,
      Math.round(((r.accepted + 1) / (r.accepted + r.refused + 2)) * 1000) / 1000,
    ]),
  );
}
