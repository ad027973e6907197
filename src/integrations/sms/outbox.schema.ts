import { type Static, Type as T } from '@sinclair/typebox';

export const SmsOutboxQuery = T.Object({ to: T.Optional(T.String({ maxLength: 24 })) });

export const SmsOutboxView = T.Object({
  simulator: T.Literal(true),
  messages: T.Array(
    T.Object({ messageId: T.String(), to: T.String(), text: T.String(), sentAt: T.String() }),
  ),
});
export type SmsOutboxView = Static<typeof SmsOutboxView>;
