import { type Static, Type as T } from '@sinclair/typebox';

export const DeletionCodeSent = T.Object({
  sentTo: T.String({ description: 'The masked phone the confirmation code went to' }),
  expiresInSeconds: T.Integer(),
  resendAfterSeconds: T.Integer(),
});

export const DeleteAccountBody = T.Object(
  { code: T.String({ pattern: '^[0-9]{6}$', description: 'The code sent by POST /v1/me/deletion-code' }) },
  { additionalProperties: false },
);

export const AccountDeleted = T.Object({
  withdrawnReports: T.Integer({ description: 'Open reports withdrawn' }),
  keptReports: T.Integer({
    description: 'Reports that led (or may lead) to a fine, kept with their evidence, without personal data',
  }),
  purgedEvidence: T.Integer({ description: 'Evidence files deleted with the reports that did not' }),
});
export type AccountDeleted = Static<typeof AccountDeleted>;
