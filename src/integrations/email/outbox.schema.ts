import { type Static, Type as T } from '@sinclair/typebox';

export const EmailOutboxQuery = T.Object({ to: T.Optional(T.String({ maxLength: 254 })) });

export const EmailOutboxView = T.Object({
  simulator: T.Literal(true),
  messages: T.Array(T.Object({ to: T.String(), subject: T.String(), text: T.String() })),
});
export type EmailOutboxView = Static<typeof EmailOutboxView>;
