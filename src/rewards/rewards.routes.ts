import { audit, auditContext } from '../audit/audit.js';
import { principalOf, requireRole } from '../auth/guard.js';
import { maskPhone } from '../auth/phone.js';
import type { Queryable } from '../platform/db/pool.js';
import { sendCsv } from '../platform/http/csv.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt, type Keys } from '../platform/security/keys.js';
import { citizenRewards } from './ledger.js';
import { type PayoutRow, payoutsPage } from './rewards.repository.js';
import { PayoutsCsvQuery, Rewards } from './rewards.schema.js';

export interface RewardRoutesOptions {
  db: Queryable;
  keys: Pick<Keys, 'phoneEnc'>;
}

export async function rewardRoutes(app: App, opts: RewardRoutesOptions): Promise<void> {
  const { db, keys } = opts;
  app.get(
    '/v1/me/rewards',
    {
      config: { shed: 'read' },
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['rewards'],
        summary: 'Your rewards for paid fines, from the ledger, and the total',
        security: [{ bearer: [] }],
        response: { 200: Rewards, ...errorResponses(401, 403) },
      },
    },
    async (request): Promise<Rewards> => {
      const r = await citizenRewards(db, principalOf(request).id);
      return {
        totalSum: r.accruedSum,
        paidOutSum: r.paidOutSum,
        pendingSum: r.accruedSum - r.paidOutSum,
        items: r.items.map((i) => ({
          reportId: i.reportId,
          amountSum: i.amountSum,
          accruedAt: i.accruedAt.toISOString(),
          paidOutAt: i.paidOutAt?.toISOString() ?? null,
          reference: i.reference,
        })),
      };
    },
  );

  app.get(
    '/v1/admin/payouts.csv',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['rewards'],
        summary: 'Admins: reward payouts as CSV, streamed (constant memory however many rows)',
        security: [{ bearer: [] }],
        querystring: PayoutsCsvQuery,
        produces: ['text/csv'],
        response: { ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const from = request.query.from ?? '-infinity';
      const to = request.query.to ?? 'infinity';
      await audit(db, {
        ...auditContext(request),
        action: 'export',
        targetKind: 'payouts',
        detail: { format: 'csv', from: request.query.from ?? null, to: request.query.to ?? null },
      });
      return sendCsv<PayoutRow, { at: Date; id: string }>(reply, {
        filename: 'payouts.csv',
        header: [
          'paid_at',
          'payout_id',
          'report_id',
          'case_number',
          'citizen_id',
          'phone',
          'amount_sum',
          'reference',
        ],
        pageSize: 1000,
        fetchPage: (after, limit) => payoutsPage(db, { from, to, after, limit }),
        keyOf: (p) => ({ at: p.created_at, id: p.id }),
        toFields: (p) => [
          p.created_at.toISOString(),
          p.id,
          p.report_id,
          p.case_number,
          p.citizen_id,
          p.phone_enc ? maskPhone(decrypt(keys.phoneEnc, p.phone_enc)) : '',
          p.amount_sum,
          p.reference,
        ],
      });
    },
  );
}
