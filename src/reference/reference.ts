import type { Queryable } from '../platform/db/pool.js';
import { listBhmRates, listViolationTypes } from './reference.repository.js';
import type { ViolationType } from './reference.schema.js';
import { type BhmRate, bhmRateOn, fineInSum } from './reference-data.js';

/** Sent (NOTIFY) by a transaction that changes reference data; every API process then refreshes its copies. */
export const REFERENCE_CHANNEL = 'jarima_reference';

export interface Fine {
  bhmMin: number;
  bhmMax: number | null;
  bhmRate: number;
  rateEffectiveFrom: string;
  sumMin: number;
  sumMax: number | null;
}

/**
 * Violation types and BHM rates held in memory: a few dozen rows read on every submission and every report view.
 * Loaded at start-up; `reload()` after an administrator changes them.
 */
export class ReferenceData {
  private byCode = new Map<string, ViolationType>();
  private rates: BhmRate[] = [];

  private constructor(private readonly db: Queryable) {}

  static async load(db: Queryable): Promise<ReferenceData> {
    const ref = new ReferenceData(db);
    await ref.reload();
    return ref;
  }

  async reload(): Promise<void> {
    const [types, rates] = await Promise.all([listViolationTypes(this.db), listBhmRates(this.db)]);
    this.byCode = new Map(
      types.map((r) => [
        r.code,
        {
          code: r.code,
          article: r.article,
          part: r.part,
          name: { en: r.name_en, uz: r.name_uz, ru: r.name_ru },
          bhmMin: r.bhm_min,
          bhmMax: r.bhm_max,
          extraSanction: r.extra_sanction,
          cameraRecordable: r.camera_recordable,
          active: r.active,
        },
      ]),
    );
    this.rates = rates;
  }

  violationTypes(): ViolationType[] {
    return [...this.byCode.values()];
  }

  violationType(code: string): ViolationType | undefined {
    return this.byCode.get(code);
  }

  /** The BHM (базовая расчётная величина) in sum on a day (Asia/Tashkent), or null before the first known rate. */
  bhmOn(at: Date): number | null {
    return bhmRateOn(this.rates, at)?.amountSum ?? null;
  }

  /** The fine for a violation at the BHM rate in force on the incident date (Asia/Tashkent), never today's. */
  fineFor(code: string, incidentAt: Date): Fine | null {
    const type = this.byCode.get(code);
    const rate = bhmRateOn(this.rates, incidentAt);
    if (!type || !rate) return null;
    const sum = fineInSum(type.bhmMin, type.bhmMax, rate);
    return {
      bhmMin: type.bhmMin,
      bhmMax: type.bhmMax,
      bhmRate: rate.amountSum,
      rateEffectiveFrom: rate.effectiveFrom,
      sumMin: sum.min,
      sumMax: sum.max,
    };
  }
}
