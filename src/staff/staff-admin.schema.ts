import { type Static, Type as T } from '@sinclair/typebox';

const Id = T.String({ format: 'uuid' });
const Time = T.String({ format: 'date-time' });
const UnitId = T.Integer({ minimum: 1, maximum: 2_147_483_647 });

export const STAFF_ROLES = ['inspector', 'supervisor', 'admin'] as const;
export const StaffRoleSchema = T.Union(STAFF_ROLES.map((r) => T.Literal(r)));

/** A login as typed: letters, digits, dot, dash, underscore; stored lower-case. */
export const LOGIN_PATTERN = '^[A-Za-z0-9._-]{3,64}$';
export const Login = T.String({
  pattern: LOGIN_PATTERN,
  description: '3–64 letters, digits, ".", "_" or "-"; case does not matter (kept lower-case)',
});
// No control characters: a name is shown in consoles and written to logs.
export const DisplayName = T.String({
  minLength: 1,
  maxLength: 120,
  pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$',
});

export const StaffAccount = T.Object({
  id: Id,
  login: T.String(),
  displayName: T.String(),
  role: StaffRoleSchema,
  unitId: T.Union([T.Integer(), T.Null()]),
  unitName: T.Union([T.String(), T.Null()]),
  active: T.Boolean(),
  totpEnrolled: T.Boolean(),
  passwordSet: T.Boolean(),
  locked: T.Boolean({ description: 'Signing in is locked after repeated failures (POST …/unlock ends it)' }),
  lastSignInAt: T.Union([Time, T.Null()]),
  createdAt: Time,
});
export type StaffAccount = Static<typeof StaffAccount>;

export const StaffListQuery = T.Object(
  {
    role: T.Optional(StaffRoleSchema),
    unit: T.Optional(UnitId),
    active: T.Optional(T.Boolean()),
    q: T.Optional(T.String({ minLength: 1, maxLength: 100, description: 'Part of the login or the name' })),
  },
  { additionalProperties: false },
);
export type StaffListQuery = Static<typeof StaffListQuery>;

export const StaffList = T.Object({ items: T.Array(StaffAccount) });

export const StaffIdParams = T.Object({ id: Id });

export const CreateStaffBody = T.Object(
  {
    login: Login,
    displayName: DisplayName,
    role: StaffRoleSchema,
    unitId: T.Optional(T.Union([UnitId, T.Null()])),
  },
  { additionalProperties: false },
);
export type CreateStaffBody = Static<typeof CreateStaffBody>;

export const UpdateStaffBody = T.Object(
  {
    displayName: T.Optional(DisplayName),
    role: T.Optional(StaffRoleSchema),
    unitId: T.Optional(T.Union([UnitId, T.Null()], { description: 'null: no unit (sees every unit)' })),
    active: T.Optional(T.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateStaffBody = Static<typeof UpdateStaffBody>;

export const PasswordLink = T.Object({
  url: T.String({ description: 'One-time link to set the password; give it to the person only' }),
  expiresAt: Time,
});
export type PasswordLink = Static<typeof PasswordLink>;

export const CreatedStaff = T.Object({ account: StaffAccount, setPasswordLink: PasswordLink });
