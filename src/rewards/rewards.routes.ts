import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { principalOf, requireRole } from '../auth/guard.js';
import { maskPhone } from '../auth/phone.js';
import { csvStream } from '../platform/http/csv.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt } from '../platform/security/keys.js';
import { citizenRewards } from './ledger.js';

const Rewards = T.Object({
  totalSum: T.Integer({ description: 'Every reward accrued, in sum' }),
  paidOutSum: T.Integer(),
  pendingSum: T.Integer({ description: 'Accrued, not yet paid out' }),
  items: T.Array(
    T.Object({
      reportId: T.String({ format: 'uuid' }),
      amountSum: T.Integer(),
      accruedAt: T.String({ format: 'date-time' }),
      paidOutAt: T.Union([T.String({ format: 'date-time' }), T.Null()]),
      reference: T.Union([T.String(), T.Null()]),
    }),
  ),
});

const CsvQuery = T.Object(
  {
    from: T.Optional(T.String({ format: 'date-time' })),
    to: T.Optional(T.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

interface PayoutRow {
  id: string;
  created_at: Date;
  report_id: string;
  case_number: string | null;
  citizen_id: string;
  phone_enc: Buffer;
  amount_sum: number;
  reference: string | null;
}

export function rewardRoutes(app: App, deps: Deps): void {
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
    async (request) => {
      const r = await citizenRewards(deps.pool, principalOf(request).id);
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
        querystring: CsvQuery,
        produces: ['text/csv'],
        response: { ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const from = request.query.from ?? '-infinity';
      const to = request.query.to ?? 'infinity';
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="payouts.csv"');
      const { pool, keys } = deps;
      const stream = csvStream<PayoutRow, { at: Date; id: string }>({
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
        fetchPage: async (after, limit) =>
          (
            await pool.query<PayoutRow>(
              `select t.id, t.created_at, t.report_id, r.case_number, t.citizen_id, c.phone_enc, t.amount_sum, t.reference
                 from ledger_transactions t join reports r on r.id = t.report_id join citizens c on c.id = t.citizen_id
                where t.kind = 'payout' and t.created_at >= $1::timestamptz and t.created_at < $2::timestamptz
                  and ($3::timestamptz is null or (t.created_at, t.id) > ($3::timestamptz, $4::uuid))
                order by t.created_at, t.id limit $5`,
              [from, to, after?.at ?? null, after?.id ?? null, limit],
            )
          ).rows,
        keyOf: (p) => ({ at: p.created_at, id: p.id }),
        toFields: (p) => [
          p.created_at.toISOString(),
          p.id,
          p.report_id,
          p.case_number,
          p.citizen_id,
          maskPhone(decrypt(keys.phoneEnc, p.phone_enc)),
          p.amount_sum,
          p.reference,
        ],
      });
      return reply.send(stream);
    },
  );
}
