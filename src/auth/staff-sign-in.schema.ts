import { type Static, Type as T } from '@sinclair/typebox';
import { TokenResponse } from './auth.schema.js';

const Login = T.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]+$' });
const TotpCode = T.String({ pattern: '^[0-9]{6}$', description: 'The 6 digits the authenticator app shows' });
const Challenge = T.String({
  minLength: 1,
  maxLength: 512,
  description: 'From the sign-in answer; 5 minutes',
});
// Longer than the policy's 256 so that an over-long password is a PASSWORD_WEAK answer, not a schema one.
const NewPassword = T.String({ minLength: 1, maxLength: 1024 });

export const LoginBody = T.Object(
  { login: Login, password: T.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const SignedIn = T.Composite([T.Object({ status: T.Literal('signed_in') }), TokenResponse]);

const ChallengeAnswer = (status: 'totp_required' | 'totp_enrolment_required', description: string) =>
  T.Object(
    {
      status: T.Literal(status),
      challenge: T.String(),
      challengeExpiresAt: T.String({ format: 'date-time' }),
    },
    { description },
  );

export const LoginResponse = T.Union([
  SignedIn,
  ChallengeAnswer('totp_required', 'Give an authenticator or recovery code: POST /v1/auth/login/totp'),
  ChallengeAnswer(
    'totp_enrolment_required',
    'This role must use two-factor sign-in: POST /v1/auth/totp/enrol, then /v1/auth/totp/confirm',
  ),
]);

export const TotpLoginBody = T.Object(
  {
    challenge: Challenge,
    code: T.Optional(TotpCode),
    recoveryCode: T.Optional(T.String({ minLength: 1, maxLength: 32, description: 'One of the ten, once' })),
  },
  { additionalProperties: false, description: 'Exactly one of code and recoveryCode' },
);

export const TotpEnrolBody = T.Object(
  { challenge: T.Optional(Challenge) },
  { additionalProperties: false, description: 'A sign-in challenge, or none with a staff bearer token' },
);

export const TotpEnrolResponse = T.Object({
  secret: T.String({ description: 'Base32, for typing into an authenticator app' }),
  otpauthUri: T.String(),
  qrSvg: T.String({ description: 'The otpauth URI as a QR code (SVG)' }),
});

export const TotpConfirmBody = T.Object(
  { challenge: T.Optional(Challenge), code: TotpCode },
  { additionalProperties: false },
);

export const TotpConfirmResponse = T.Object({
  recoveryCodes: T.Array(T.String(), { description: 'Ten single-use codes, shown this once' }),
  session: T.Optional(TokenResponse),
});

export const TotpRemoveBody = T.Object({ code: TotpCode }, { additionalProperties: false });

export const PasswordLinkParams = T.Object({
  token: T.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'From the link’s #token= fragment' }),
});

export const PasswordLinkResponse = T.Object({
  login: T.String(),
  displayName: T.String(),
  purpose: T.Union([T.Literal('set'), T.Literal('reset'), T.Literal('bootstrap')]),
  expiresAt: T.String({ format: 'date-time' }),
});

export const SetPasswordBody = T.Object(
  { token: PasswordLinkParams.properties.token, password: NewPassword },
  { additionalProperties: false },
);

export const ChangePasswordBody = T.Object(
  { currentPassword: T.String({ minLength: 1, maxLength: 1024 }), newPassword: NewPassword },
  { additionalProperties: false },
);

export type LoginResponse = Static<typeof LoginResponse>;
