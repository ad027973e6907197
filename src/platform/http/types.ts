import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';

/** The Fastify instance every route module registers on: TypeBox schemas give validation, types and OpenAPI. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The error body every 4xx/5xx uses (see platform/errors). */
export const ErrorBody = T.Object(
  {
    code: T.String({ description: 'Stable error code, e.g. REPORT_NOT_FOUND' }),
    message: T.String(),
    field: T.Optional(T.String({ description: 'The offending field, for validation errors' })),
    details: T.Optional(T.Record(T.String(), T.Unknown())),
    requestId: T.String(),
  },
  { $id: 'Error' },
);

/** Standard error responses for a route's OpenAPI entry. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, T.Ref(ErrorBody)]));
}

export type { Static };

/**
 * Sends a body that is already JSON (a cached, serialised response) as it is: Fastify does not serialise a string
 * again. Its shape is the route's response schema by construction, which the typed `send` cannot see.
 */
export function sendJson(reply: { type(t: string): { send(body: never): unknown } }, json: string): void {
  reply.type('application/json').send(json as never);
}
