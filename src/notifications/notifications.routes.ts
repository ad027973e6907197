import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { principalOf, requireRole } from '../auth/guard.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt, encrypt } from '../platform/security/keys.js';
import type { CitizenStreams, LiveEvent } from './live.js';

const Settings = T.Object({
  sms: T.Boolean({ description: 'SMS to the phone you signed in with' }),
  email: T.Boolean({ description: 'E-mail to emailAddress' }),
  emailAddress: T.Union([T.String({ format: 'email', maxLength: 254 }), T.Null()]),
  language: T.Union([T.Literal('uz'), T.Literal('ru'), T.Literal('en')]),
});
const SettingsUpdate = T.Partial(Settings, { additionalProperties: false });

const HEARTBEAT_MS = 15_000;
const REPLAY_LIMIT = 500;

/** The citizen's notification channels and the live in-app stream. */
export function notificationRoutes(app: App, deps: Deps, streams: CitizenStreams): void {
  const { pool, keys } = deps;
  const citizen = { preHandler: requireRole('citizen') };

  const read = async (id: string) => {
    const { rows } = await pool.query<{
      notify_sms: boolean;
      notify_email: boolean;
      email_enc: Buffer | null;
      language: 'uz' | 'ru' | 'en';
    }>('select notify_sms, notify_email, email_enc, language from citizens where id = $1', [id]);
    const r = rows[0]!;
    return {
      sms: r.notify_sms,
      email: r.notify_email,
      emailAddress: r.email_enc ? decrypt(keys.phoneEnc, r.email_enc) : null,
      language: r.language,
    };
  };

  app.get(
    '/v1/me/notification-settings',
    {
      ...citizen,
      schema: {
        tags: ['notifications'],
        summary: 'How you hear about your reports (the in-app stream is always on)',
        security: [{ bearer: [] }],
        response: { 200: Settings, ...errorResponses(401, 403) },
      },
    },
    async (request) => read(principalOf(request).id),
  );

  app.put(
    '/v1/me/notification-settings',
    {
      ...citizen,
      schema: {
        tags: ['notifications'],
        summary: 'Choose channels and language; e-mail needs an address',
        security: [{ bearer: [] }],
        body: SettingsUpdate,
        response: { 200: Settings, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const id = principalOf(request).id;
      const b = request.body;
      const current = await read(id);
      const next = { ...current, ...b };
      if (next.email && !next.emailAddress) {
        throw new AppError('VALIDATION_FAILED', {
          field: 'emailAddress',
          message: 'Give an e-mail address to receive e-mails.',
        });
      }
      await pool.query(
        `update citizens set notify_sms = $2, notify_email = $3, email_enc = $4, language = $5 where id = $1`,
        [
          id,
          next.sms,
          next.email,
          next.emailAddress ? encrypt(keys.phoneEnc, next.emailAddress) : null,
          next.language,
        ],
      );
      return next;
    },
  );

  app.get(
    '/v1/me/events',
    {
      ...citizen,
      schema: {
        tags: ['notifications'],
        summary:
          'Server-Sent Events: each change to your reports as it commits (event: report). Reconnect with ' +
          'Last-Event-ID to receive what you missed.',
        security: [{ bearer: [] }],
        headers: T.Object({ 'last-event-id': T.Optional(T.String({ pattern: '^[0-9]{1,18}$' })) }),
      },
    },
    async (request, reply) => {
      const citizenId = principalOf(request).id;
      const lastId = request.headers['last-event-id'] ? Number(request.headers['last-event-id']) : null;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const write = (e: LiveEvent) =>
        res.write(
          `id: ${e.id}\nevent: report\ndata: ${JSON.stringify({ reportId: e.reportId, event: e.event, at: e.at })}\n\n`,
        );
      // Subscribe first, then replay: an event committed in between arrives twice at worst, never not at all;
      // the client keys on the id.
      let sentUpTo = lastId ?? 0;
      const buffered: LiveEvent[] = [];
      let replaying = true;
      const unsubscribe = streams.subscribe(citizenId, (e) => {
        if (e === 'reset') return res.end();
        if (replaying) buffered.push(e);
        else if (e.id > sentUpTo) {
          sentUpTo = e.id;
          write(e);
        }
      });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      res.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
      res.write('retry: 2000\n\n');
      try {
        if (lastId !== null) {
          const { rows } = await pool.query<{
            id: number;
            report_id: string;
            event: string;
            created_at: Date;
          }>(
            `select id, report_id, event, created_at from notifications
              where citizen_id = $1 and channel = 'inapp' and id > $2 order by id limit $3`,
            [citizenId, lastId, REPLAY_LIMIT],
          );
          for (const r of rows) {
            write({
              id: r.id,
              citizenId,
              reportId: r.report_id,
              event: r.event,
              at: r.created_at.toISOString(),
            });
            sentUpTo = r.id;
          }
        }
      } catch (err) {
        // The database is away: end the stream; the client reconnects (retry: 2000) and replays from its last id.
        request.log.warn({ err }, 'live stream replay failed');
        res.end();
        return;
      }
      replaying = false;
      for (const e of buffered) {
        if (e.id > sentUpTo) {
          sentUpTo = e.id;
          write(e);
        }
      }
    },
  );
}
