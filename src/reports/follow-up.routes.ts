import { perCitizenRateLimit, principalOf, requireRole } from '../auth/guard.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { normalisePlate } from '../reference/plates.js';
import type { ReferenceData } from '../reference/reference.js';
import { AnswerBody, CorrectionBody } from './follow-up.schema.js';
import { answer, type Correction, correct, withdraw } from './follow-up.service.js';
import { findReportWithEvidence } from './reports.repository.js';
import { ReportIdParams, ReportResponse } from './reports.schema.js';
import { toView } from './reports.view.js';

export interface FollowUpRoutesOptions {
  db: Pool;
  reference: ReferenceData;
  config: Pick<Config, 'RATE_LIMIT_SUBMIT_PER_MINUTE'>;
}

/** What the citizen does after filing: answer the inspector's question, withdraw, or correct before review. */
export async function followUpRoutes(app: App, opts: FollowUpRoutesOptions): Promise<void> {
  const { db, reference, config } = opts;
  const citizen = {
    preHandler: requireRole('citizen'),
    config: {
      ...perCitizenRateLimit('follow-up', config.RATE_LIMIT_SUBMIT_PER_MINUTE),
      shed: 'write' as const,
    },
  };
  const schema = {
    tags: ['reports'],
    security: [{ bearer: [] }],
    params: ReportIdParams,
    response: { 200: ReportResponse, ...errorResponses(400, 401, 403, 404, 409, 422, 429, 503) },
  };
  /** The report as its citizen sees it now (it has just changed, so it is read afresh, not from the cache). */
  const citizenView = async (id: string) => {
    const report = await findReportWithEvidence(db, id);
    if (!report) throw new AppError('REPORT_NOT_FOUND');
    return toView(report, reference, report.evidence);
  };

  app.post(
    '/v1/reports/:id/answer',
    {
      ...citizen,
      schema: {
        ...schema,
        summary: "Answer the inspector's question on a report in needs_info",
        description:
          'Text, evidence ids from POST /v1/evidence, or both. The report returns to the review queue with its priority; its deadlines move on by the time the question waited. 409 REPORT_NOT_AWAITING_INFO in any other status.',
        body: AnswerBody,
      },
    },
    async (request) => {
      const citizenId = principalOf(request).id;
      const { text, evidenceIds } = request.body;
      await answer(db, citizenId, request.params.id, {
        text: text?.trim() || null,
        evidenceIds: evidenceIds ?? [],
      });
      return citizenView(request.params.id);
    },
  );

  app.post(
    '/v1/reports/:id/withdraw',
    {
      ...citizen,
      schema: {
        ...schema,
        summary: 'Withdraw a report before review starts',
        description:
          'Allowed while the report is being checked or waits in the queue unclaimed and undecided; afterwards 409 REPORT_REVIEW_STARTED. Withdrawn is final.',
      },
    },
    async (request) => {
      await withdraw(db, principalOf(request).id, request.params.id);
      return citizenView(request.params.id);
    },
  );

  app.patch(
    '/v1/reports/:id',
    {
      ...citizen,
      schema: {
        ...schema,
        summary: "Correct a report's plate, place, time, violation or description before review starts",
        description:
          'Each field is validated as in POST /v1/reports. Every change is a `corrected` event (old → new) and the automated checks run again; nothing changed, nothing happens. Afterwards 409 REPORT_REVIEW_STARTED.',
        body: CorrectionBody,
      },
    },
    async (request) => {
      const b = request.body;
      if (b.violationCode !== undefined && !reference.violationType(b.violationCode))
        throw new AppError('VIOLATION_TYPE_UNKNOWN', { field: 'violationCode' });
      const c: Correction = {
        ...(b.plate !== undefined ? { plate: { plate: normalisePlate(b.plate), plateInput: b.plate } } : {}),
        ...(b.lat !== undefined ? { lat: b.lat } : {}),
        ...(b.lon !== undefined ? { lon: b.lon } : {}),
        ...(b.incidentAt !== undefined ? { incidentAt: new Date(b.incidentAt) } : {}),
        ...(b.violationCode !== undefined ? { violationCode: b.violationCode } : {}),
        ...(b.description !== undefined ? { description: b.description.trim() || null } : {}),
      };
      await correct(db, principalOf(request).id, request.params.id, c);
      return citizenView(request.params.id);
    },
  );
}
