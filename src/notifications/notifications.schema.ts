import { type Static, Type as T } from '@sinclair/typebox';

export const NotificationSettings = T.Object({
  sms: T.Boolean({ description: 'SMS to the phone you signed in with' }),
  email: T.Boolean({ description: 'E-mail to emailAddress' }),
  emailAddress: T.Union([T.String({ format: 'email', maxLength: 254 }), T.Null()]),
  language: T.Union([T.Literal('uz'), T.Literal('ru'), T.Literal('en')]),
});
export type NotificationSettings = Static<typeof NotificationSettings>;

export const NotificationSettingsUpdate = T.Partial(NotificationSettings, { additionalProperties: false });

export const LiveEventsHeaders = T.Object({
  'last-event-id': T.Optional(T.String({ pattern: '^[0-9]{1,18}$' })),
});

/** The data of each `event: report` message on GET /v1/me/events: one of the citizen's reports changed. */
export const ReportChangeMessage = T.Object({
  reportId: T.String({ format: 'uuid' }),
  event: T.String({ description: 'The status the report entered' }),
  at: T.String({ format: 'date-time' }),
});
export type ReportChangeMessage = Static<typeof ReportChangeMessage>;
