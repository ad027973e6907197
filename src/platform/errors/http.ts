import type { FastifyError, FastifyInstance } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { AppError, ERRORS, type ErrorCode } from './catalog.js';

interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
  details?: Record<string, unknown>;
  requestId: string;
}

// Fastify's own client errors, by its error code, mapped to ours.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_TYPE: 'MALFORMED_BODY',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_REQ_FILE_TOO_LARGE: 'EVIDENCE_TOO_LARGE',
  FST_PARTS_LIMIT: 'BODY_TOO_LARGE',
  FST_FILES_LIMIT: 'BODY_TOO_LARGE',
  FST_FIELDS_LIMIT: 'BODY_TOO_LARGE',
};

// character_not_in_repertoire, untranslatable_character
const PG_BAD_TEXT = new Set(['22021', '22P05']);

/** Field path of the first schema error, as the client wrote it: "plate", "evidenceIds.0", "Idempotency-Key". */
function fieldOf(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const params = v.params as Record<string, unknown>;
  const parts = v.instancePath.split('/').filter(Boolean);
  if (typeof params.missingProperty === 'string') parts.push(params.missingProperty);
  if (typeof params.additionalProperty === 'string') parts.push(params.additionalProperty);
  const field = parts.join('.');
  return field || (err.validationContext === 'body' ? 'body' : undefined);
}

/**
 * One mapping from anything thrown to an HTTP answer: AppErrors keep their code, schema errors become
 * VALIDATION_FAILED with the field, Fastify's client errors map to our codes, and everything else is a 500 whose
 * details stay in the log.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let body: ErrorBody;
    let status: number;
    if (error instanceof AppError) {
      status = error.status;
      body = {
        code: error.code,
        message: error.message,
        field: error.field,
        details: error.details,
        requestId: request.id,
      };
      if (typeof error.details?.retryAfterSeconds === 'number') {
        void reply.header('retry-after', String(error.details.retryAfterSeconds));
      }
    } else if (error.validation) {
      status = 400;
      const field = fieldOf(error);
      body = {
        code: 'VALIDATION_FAILED',
        message: `${field ?? error.validationContext ?? 'request'}: ${error.validation[0]?.message ?? 'is invalid'}`,
        field,
        requestId: request.id,
      };
    } else if (isDatabaseUnavailable(error)) {
      status = 503;
      void reply.header('retry-after', '5');
      body = {
        code: 'SERVICE_UNAVAILABLE',
        message: ERRORS.SERVICE_UNAVAILABLE.message,
        requestId: request.id,
      };
    } else if (PG_BAD_TEXT.has((error as { code?: string }).code ?? '')) {
      // Safety net: text PostgreSQL cannot store (a NUL byte) that a schema let through is the client's error.
      status = 400;
      body = {
        code: 'MALFORMED_BODY',
        message: 'The request contains characters that cannot be stored.',
        requestId: request.id,
      };
    } else if (error.statusCode === 429) {
      status = 429;
      body = { code: 'RATE_LIMITED', message: ERRORS.RATE_LIMITED.message, requestId: request.id };
    } else if (error.code && FASTIFY_CODES[error.code]) {
      const code = FASTIFY_CODES[error.code]!;
      status = ERRORS[code].status;
      body = { code, message: ERRORS[code].message, requestId: request.id };
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      body = { code: 'MALFORMED_BODY', message: error.message, requestId: request.id };
    } else {
      status = 500;
      body = { code: 'INTERNAL', message: ERRORS.INTERNAL.message, requestId: request.id };
    }
    // A 503 we chose (load shed, database away) is expected under pressure: one short line, no stack — writing
    // stacks is CPU the overloaded process does not have (bench/README.md, mixed benchmark).
    if (status === 503 && error instanceof AppError)
      request.log[body.code === 'OVERLOADED' ? 'debug' : 'warn']({ code: body.code }, 'request refused');
    else if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, field: body.field }, 'request rejected');
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ code: 'ROUTE_NOT_FOUND', message: ERRORS.ROUTE_NOT_FOUND.message, requestId: request.id }),
  );
}
