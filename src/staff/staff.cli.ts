import type { StaffRole } from '../auth/tokens.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { listStaff, unitIdByName } from './staff-admin.repository.js';
import { STAFF_ROLES } from './staff-admin.schema.js';
import {
  CLI_ACTOR,
  createAccount,
  type LinkOptions,
  resetPassword,
  resolveAccount,
  unlockAccount,
  updateAccount,
} from './staff-admin.service.js';
import { findUnitByName, listDistricts, listUnits } from './units.repository.js';
import { createUnit, updateUnit } from './units.service.js';

export const STAFF_USAGE = `usage:
  jarima staff add --login LOGIN --name "NAME" --role inspector|supervisor|admin [--unit UNIT]
  jarima staff list [--role ROLE] [--unit UNIT] [--inactive]
  jarima staff disable|enable|reset-password|unlock LOGIN
  jarima staff set-role LOGIN ROLE
  jarima staff set-unit LOGIN UNIT|none`;

export const UNIT_USAGE = `usage:
  jarima unit add "NAME" [--districts ID|NAME,…|all]
  jarima unit list
  jarima unit set-districts "UNIT" ID|NAME,…|all|none`;

/** A mistake in how the command was called: usage text and exit code 2. */
export class UsageError extends Error {}

/** What a command needs: the database, where links point, and where to print. */
export interface CliContext {
  pool: Pool;
  links: LinkOptions;
  print: (line: string) => void;
}

/** `--name value` options and the positional arguments, in order. */
function parse(args: string[], flags: readonly string[], switches: readonly string[] = []) {
  const opts: Record<string, string> = {};
  const on = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) rest.push(a);
    else if (switches.includes(a.slice(2))) on.add(a.slice(2));
    else if (flags.includes(a.slice(2)) && args[i + 1] !== undefined) opts[a.slice(2)] = args[++i]!;
    else throw new UsageError(`unknown or incomplete option: ${a}`);
  }
  return { opts, on, rest };
}

function role(value: string | undefined): StaffRole {
  if (!value || !(STAFF_ROLES as readonly string[]).includes(value))
    throw new UsageError(`role must be one of ${STAFF_ROLES.join(', ')}`);
  return value as StaffRole;
}

async function unitByName(pool: Pool, name: string): Promise<number> {
  const id = /^\d+$/.test(name) ? Number(name) : await unitIdByName(pool, name);
  if (id === null) throw new AppError('UNIT_NOT_FOUND', { message: `No police unit is named "${name}".` });
  return id;
}

/** District ids from "12,Yunusobod tumani,…", "all" (those no other unit covers) or "none". */
async function districtIds(pool: Pool, list: string, unitId: number | null): Promise<number[]> {
  const districts = await listDistricts(pool);
  if (list === 'none') return [];
  if (list === 'all')
    return districts.filter((d) => d.unit_id === null || d.unit_id === unitId).map((d) => d.id);
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      if (/^\d+$/.test(item)) return Number(item);
      const named = districts.filter((d) => d.name.toLowerCase() === item.toLowerCase());
      if (named.length === 1) return named[0]!.id;
      throw new AppError('DISTRICT_NOT_FOUND', {
        message: named.length
          ? `"${item}" names ${named.length} districts (${named.map((d) => `${d.id} in ${d.region_name}`).join(', ')}); give the id`
          : `No district is named "${item}" (jarima unit list shows units; GET /v1/districts lists districts).`,
      });
    });
}

/** `jarima staff …`: the same service functions as the administrators' API, acting as `operator:cli`. */
export async function staffCommand(ctx: CliContext, args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { pool, print } = ctx;
  switch (action) {
    case 'add': {
      const { opts, rest: extra } = parse(rest, ['login', 'name', 'role', 'unit']);
      if (!opts.login || !opts.name || extra.length)
        throw new UsageError('staff add needs --login and --name');
      const unitId = opts.unit ? await unitByName(pool, opts.unit) : null;
      const { account, setPasswordLink } = await createAccount(
        pool,
        CLI_ACTOR,
        { login: opts.login, displayName: opts.name, role: role(opts.role), unitId },
        ctx.links,
      );
      print(`created ${account.role} ${account.login}${account.unitName ? ` in ${account.unitName}` : ''}`);
      print(`one-time link to set the password (until ${setPasswordLink.expiresAt}):`);
      print(`  ${setPasswordLink.url}`);
      return;
    }
    case 'list': {
      const { opts, on, rest: extra } = parse(rest, ['role', 'unit'], ['inactive']);
      if (extra.length) throw new UsageError('staff list takes only options');
      const rows = await listStaff(pool, {
        ...(opts.role ? { role: role(opts.role) } : {}),
        ...(opts.unit ? { unitId: await unitByName(pool, opts.unit) } : {}),
        ...(on.has('inactive') ? { active: false } : {}),
      });
      if (!rows.length) print('no staff accounts');
      for (const r of rows) {
        const state = [
          r.active ? 'active' : 'disabled',
          r.password_set ? null : 'no password yet',
          r.totp_enrolled ? '2fa' : null,
          r.locked ? 'locked' : null,
        ].filter(Boolean);
        print(`${r.login}\t${r.role}\t${r.unit_name ?? '-'}\t${state.join(', ')}\t${r.display_name}`);
      }
      return;
    }
    case 'disable':
    case 'enable':
    case 'reset-password':
    case 'unlock': {
      const [login, ...extra] = rest;
      if (!login || extra.length) throw new UsageError(`staff ${action} needs one LOGIN`);
      const account = await resolveAccount(pool, login);
      if (action === 'reset-password') {
        const link = await resetPassword(pool, CLI_ACTOR, account.id, ctx.links);
        print(`${account.login}: password cleared, sessions ended; one-time link (until ${link.expiresAt}):`);
        print(`  ${link.url}`);
      } else if (action === 'unlock') {
        await unlockAccount(pool, CLI_ACTOR, account.id);
        print(`${account.login}: sign-in unlocked`);
      } else {
        await updateAccount(pool, CLI_ACTOR, account.id, { active: action === 'enable' });
        print(`${account.login}: ${action === 'enable' ? 'enabled' : 'disabled, sessions ended'}`);
      }
      return;
    }
    case 'set-role': {
      const [login, value, ...extra] = rest;
      if (!login || !value || extra.length) throw new UsageError('staff set-role needs LOGIN and ROLE');
      const account = await resolveAccount(pool, login);
      const after = await updateAccount(pool, CLI_ACTOR, account.id, { role: role(value) });
      print(`${after.login}: ${after.role}${account.role !== after.role ? ', sessions ended' : ''}`);
      return;
    }
    case 'set-unit': {
      const [login, unit, ...extra] = rest;
      if (!login || !unit || extra.length)
        throw new UsageError('staff set-unit needs LOGIN and UNIT (or none)');
      const account = await resolveAccount(pool, login);
      const unitId = unit === 'none' ? null : await unitByName(pool, unit);
      const after = await updateAccount(pool, CLI_ACTOR, account.id, { unitId });
      print(`${after.login}: ${after.unitName ?? 'no unit (sees every unit)'}`);
      return;
    }
    default:
      throw new UsageError(action ? `unknown staff command: ${action}` : 'staff needs a command');
  }
}

/** `jarima unit …`: police units and the districts they cover. */
export async function unitCommand(ctx: CliContext, args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { pool, print } = ctx;
  switch (action) {
    case 'add': {
      const { opts, rest: names } = parse(rest, ['districts']);
      if (names.length !== 1) throw new UsageError('unit add needs one NAME (quote it if it has spaces)');
      const ids = opts.districts ? await districtIds(pool, opts.districts, null) : [];
      const unit = await createUnit(pool, CLI_ACTOR, { name: names[0]!, districtIds: ids });
      print(`created unit ${unit.id} "${unit.name}" covering ${unit.districts.length} districts`);
      return;
    }
    case 'list': {
      if (rest.length) throw new UsageError('unit list takes no arguments');
      const units = await listUnits(pool);
      if (!units.length) print('no police units');
      for (const u of units) {
        print(
          `${u.id}\t${u.name}\t${u.active ? 'active' : 'inactive'}\t${u.staff_count} staff\t${u.districts.length} districts`,
        );
        for (const d of u.districts) print(`\t\t${d.id}\t${d.name} (${d.regionName ?? '-'})`);
      }
      return;
    }
    case 'set-districts': {
      const [name, list, ...extra] = rest;
      if (!name || !list || extra.length)
        throw new UsageError('unit set-districts needs UNIT and a district list');
      const unit = await findUnitByName(pool, name);
      const id = unit?.id ?? (/^\d+$/.test(name) ? Number(name) : null);
      if (id === null)
        throw new AppError('UNIT_NOT_FOUND', { message: `No police unit is named "${name}".` });
      const after = await updateUnit(pool, CLI_ACTOR, id, { districtIds: await districtIds(pool, list, id) });
      print(`unit "${after.name}" covers ${after.districts.length} districts; their open reports follow it`);
      return;
    }
    default:
      throw new UsageError(action ? `unknown unit command: ${action}` : 'unit needs a command');
  }
}

/** The demo unit of `seed --demo`: every district no other unit covers, with the demo staff in it. */
export async function seedDemoUnit(pool: Pool, logins: string[]): Promise<string> {
  let unit = await findUnitByName(pool, 'Demo unit');
  if (!unit) {
    const ids = await districtIds(pool, 'all', null);
    const created = await createUnit(pool, CLI_ACTOR, { name: 'Demo unit', districtIds: ids });
    unit = { ...created, staff_count: created.staffCount };
  }
  for (const login of logins) {
    const account = await resolveAccount(pool, login).catch(() => null);
    if (account && account.unit_id === null)
      await updateAccount(pool, CLI_ACTOR, account.id, { unitId: unit.id });
  }
  return `demo unit "${unit.name}" covers ${unit.districts.length} districts`;
}
