import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import type { App } from '../platform/http/types.js';
import { ViolationName } from './reference.schema.js';

const ViolationTypeView = T.Object({
  code: T.String({ description: 'Article.part of the Code of Administrative Responsibility' }),
  article: T.String(),
  part: T.String(),
  name: ViolationName,
  bhmMin: T.Number(),
  bhmMax: T.Union([T.Number(), T.Null()]),
  extraSanction: T.Union([T.String(), T.Null()]),
  cameraRecordable: T.Boolean(),
  active: T.Boolean({ description: 'Whether citizens may report it' }),
  fineToday: T.Union([
    T.Object({ sumMin: T.Integer(), sumMax: T.Union([T.Integer(), T.Null()]), bhmRate: T.Integer() }),
    T.Null(),
  ]),
});

export function referenceRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/violation-types',
    {
      config: { shed: 'public' },
      schema: {
        tags: ['reference'],
        summary: 'Traffic violation types with their fines (BHM multiples and sum at today’s BHM)',
        querystring: T.Object({
          active: T.Optional(T.Boolean({ description: 'Only those citizens may report' })),
        }),
        response: { 200: T.Object({ items: T.Array(ViolationTypeView) }) },
      },
    },
    async (request, reply) => {
      const now = new Date();
      const items = deps.reference
        .violationTypes()
        .filter((v) => request.query.active === undefined || v.active === request.query.active)
        .map((v) => {
          const fine = deps.reference.fineFor(v.code, now);
          return {
            ...v,
            fineToday: fine && { sumMin: fine.sumMin, sumMax: fine.sumMax, bhmRate: fine.bhmRate },
          };
        });
      void reply.header('cache-control', 'public, max-age=300');
      return { items };
    },
  );
}
