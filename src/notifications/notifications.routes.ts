import { principalOf, requireRole } from '../auth/guard.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt, encrypt, type Keys } from '../platform/security/keys.js';
import type { CitizenStreams, LiveEvent } from './live.js';
import {
  findChannelSettings,
  inAppNotificationsAfter,
  saveChannelSettings,
} from './notifications.repository.js';
import {
  LiveEventsHeaders,
  NotificationSettings,
  NotificationSettingsUpdate,
  type ReportChangeMessage,
} from './notifications.schema.js';

const HEARTBEAT_MS = 15_000;
const REPLAY_LIMIT = 500;

export interface NotificationRoutesOptions {
  db: Pool;
  /** The e-mail address is kept encrypted with the phone's key. */
  keys: Pick<Keys, 'phoneEnc'>;
  /** The live in-app streams of this process. */
  streams: CitizenStreams;
}

/** The citizen's notification channels and the live in-app stream. */
export async function notificationRoutes(app: App, opts: NotificationRoutesOptions): Promise<void> {
  const { db, keys, streams } = opts;
  const citizen = { preHandler: requireRole('citizen') };

  const read = async (id: string): Promise<NotificationSettings> => {
    const r = (await findChannelSettings(db, id))!;
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
        response: { 200: NotificationSettings, ...errorResponses(401, 403) },
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
        body: NotificationSettingsUpdate,
        response: { 200: NotificationSettings, ...errorResponses(400, 401, 403) },
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
      await saveChannelSettings(db, id, {
        notify_sms: next.sms,
        notify_email: next.email,
        email_enc: next.emailAddress ? encrypt(keys.phoneEnc, next.emailAddress) : null,
        language: next.language,
      });
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
        headers: LiveEventsHeaders,
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
      const write = (e: LiveEvent) => {
        const data: ReportChangeMessage = { reportId: e.reportId, event: e.event, at: e.at };
        res.write(`id: ${e.id}\nevent: report\ndata: ${JSON.stringify(data)}\n\n`);
      };
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
          for (const r of await inAppNotificationsAfter(db, citizenId, lastId, REPLAY_LIMIT)) {
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
