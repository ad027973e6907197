import { FormatRegistry } from '@sinclair/typebox';

// TypeBox's Value.Check knows no string formats by default; register the ones our schemas use (HTTP validation
// uses Fastify's ajv, which has its own).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID.test(v));
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));
