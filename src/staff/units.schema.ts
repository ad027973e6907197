import { type Static, Type as T } from '@sinclair/typebox';

const DbId = T.Integer({ minimum: 1, maximum: 2_147_483_647 });
const UnitName = T.String({
  minLength: 1,
  maxLength: 120,
  pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$',
});
const DistrictIds = T.Array(DbId, { maxItems: 1000, uniqueItems: true });

export const DistrictRef = T.Object({
  id: T.Integer(),
  name: T.String(),
  regionName: T.Union([T.String(), T.Null()]),
});

export const Unit = T.Object({
  id: T.Integer(),
  name: T.String(),
  active: T.Boolean(),
  districts: T.Array(DistrictRef),
  staffCount: T.Integer({ description: 'Active staff members of the unit' }),
});
export type Unit = Static<typeof Unit>;

export const UnitList = T.Object({ items: T.Array(Unit) });

export const DistrictList = T.Object({
  items: T.Array(
    T.Object({
      id: T.Integer(),
      name: T.String(),
      regionName: T.Union([T.String(), T.Null()]),
      unitId: T.Union([T.Integer(), T.Null()], { description: 'The police unit covering it, if any' }),
    }),
  ),
});

export const UnitIdParams = T.Object({ id: DbId });

export const CreateUnitBody = T.Object(
  { name: UnitName, districtIds: DistrictIds },
  { additionalProperties: false },
);
export type CreateUnitBody = Static<typeof CreateUnitBody>;

export const UpdateUnitBody = T.Object(
  {
    name: T.Optional(UnitName),
    districtIds: T.Optional(DistrictIds),
    active: T.Optional(T.Boolean({ description: 'An inactive unit is routed no reports' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUnitBody = Static<typeof UpdateUnitBody>;
