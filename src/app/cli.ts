import path from 'node:path';
import { importBoundaries } from '../geo/boundaries.js';
import { runGovRegistrySimulatorCli } from '../integrations/gov-registry/simulator.js';
import { formatPlan, loadMeasurements, machine, planCapacity } from '../ops/capacity.js';
import { discardDeadLetter, listDeadLetters, retryDeadLetter } from '../pipeline/dlq.js';
import { type Config, ConfigError, describeConfig, loadConfig } from '../platform/config/config.js';
import { createPool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { seedDemo } from '../staff/demo.js';
import {
  type CliContext,
  STAFF_USAGE,
  staffCommand,
  UNIT_USAGE,
  UsageError,
  unitCommand,
} from '../staff/staff.cli.js';
import { linkBaseUrl } from '../staff/staff-admin.service.js';
import { prepareDatabase } from './setup.js';
import { openDatabase, startPlatform } from './start.js';

const USAGE = `usage: jarima <command>

  start [--demo]            run everything in one process (API, workers, simulators; embedded PostgreSQL
                            unless DATABASE_URL is set); --demo also creates the demo staff (npm start)
  api                       the HTTP API only (needs DATABASE_URL; run any number, with workers elsewhere)
  worker                    the pipeline workers only (needs DATABASE_URL; run any number)
  migrate                   apply database migrations and load reference data
  seed --demo               create the demo staff accounts (prints their passwords) in a demo unit
  staff add|list|disable|enable|reset-password|set-role|set-unit|unlock
                            staff accounts (\`jarima staff\` for details); add and reset-password print a
                            one-time set-password link
  unit add|list|set-districts
                            police units and the districts they cover (\`jarima unit\` for details)
  import-boundaries FILE    import region (ADM1) or district (ADM2) boundaries from a GeoJSON file
  dlq list                  the pipeline's dead letters (jobs out of attempts, reports a stage failed)
  dlq retry ID              run a dead job again / send a failed report back to its stage
  dlq discard ID            delete a dead job / reject a failed report for good
  simulate gov-registry     run the local fines-registry simulator on its own (--port --api-key
                            --error-rate --latency-ms --webhook-url --webhook-secret --fine-after-ms
                            --pay-after-ms); point GOV_REGISTRY_URL at it
  capacity --daily N        workers, connections, cores and memory for N reports a day, from this
                            installation's measured service times (--peak-factor 1.5 --target-p95 1 --json)
  config                    list the environment variables and their defaults
`;

/** Runs `fn` against the configured database (embedded if need be), then shuts it down. */
async function withDatabase<T>(
  config: Config,
  fn: (pool: ReturnType<typeof createPool>) => Promise<T>,
): Promise<T> {
  const db = await openDatabase(config, console.log);
  const pool = createPool(db.url, 4);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
    await db.embedded?.stop();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'config') {
    for (const line of describeConfig()) console.log(line);
    return 0;
  }
  if (command === 'simulate') {
    if (args[0] !== 'gov-registry') {
      console.error('usage: jarima simulate gov-registry [options]');
      return 2;
    }
    try {
      // Runs until SIGINT or SIGTERM.
      await runGovRegistrySimulatorCli(args.slice(1), console.log);
    } catch (err) {
      console.error((err as Error).message);
      return 2;
    }
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 78; // EX_CONFIG
    }
    throw err;
  }

  switch (command) {
    case 'start':
    case 'api':
    case 'worker': {
      if (command !== 'start' && !config.DATABASE_URL) {
        console.error(
          `invalid configuration:\n  DATABASE_URL: required by \`jarima ${command}\` (processes share one database)`,
        );
        return 78;
      }
      const demo = command === 'start' && args.includes('--demo');
      if (demo && config.NODE_ENV === 'production') {
        console.error(
          'invalid configuration:\n  --demo: demo staff accounts are never created in production',
        );
        return 78;
      }
      let platform: Awaited<ReturnType<typeof startPlatform>>;
      try {
        platform = await startPlatform(config, console.log, command === 'start' ? 'all' : command, { demo });
      } catch (err) {
        // A setting found wrong only at start (MEDIA_TOOLS: what the host has): said like any other, no stack.
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        return 78;
      }
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: string) => {
          if (++signals > 1) {
            console.error(`${sig} again: exiting now`);
            process.exit(130);
          }
          platform.stop().then(resolve, (err) => {
            console.error(err);
            process.exit(1);
          });
        };
        process.on('SIGINT', () => onSignal('SIGINT'));
        process.on('SIGTERM', () => onSignal('SIGTERM'));
        process.on('SIGHUP', () => onSignal('SIGHUP'));
      });
      return 0;
    }
    case 'migrate':
      await withDatabase(config, async (pool) => {
        const r = await prepareDatabase(pool);
        console.log(r.migrations.length ? `applied: ${r.migrations.join(', ')}` : 'schema is current');
      });
      return 0;
    case 'seed': {
      if (!args.includes('--demo')) {
        console.error('seed: only --demo is supported');
        return 2;
      }
      await withDatabase(config, async (pool) => {
        await prepareDatabase(pool);
        const demo = await seedDemo(pool, config.JARIMA_DATA_DIR);
        if (!demo.created.length) console.log('demo staff accounts already exist');
        for (const a of demo.created) console.log(`${a.role}\tlogin: ${a.login}\tpassword: ${a.password}`);
        if (demo.file) console.log(`(also saved to ${demo.file})`);
        console.log(demo.unit);
      });
      return 0;
    }
    case 'staff':
    case 'unit': {
      const usage = command === 'staff' ? STAFF_USAGE : UNIT_USAGE;
      if (!args.length || args[0] === 'help' || args[0] === '--help') {
        console.log(usage);
        return args.length ? 0 : 2;
      }
      try {
        await withDatabase(config, async (pool) => {
          await prepareDatabase(pool);
          const ctx: CliContext = {
            pool,
            links: { baseUrl: linkBaseUrl(config), ttlHours: config.PASSWORD_LINK_TTL_HOURS },
            print: console.log,
          };
          await (command === 'staff' ? staffCommand(ctx, args) : unitCommand(ctx, args));
        });
        return 0;
      } catch (err) {
        if (err instanceof UsageError) {
          console.error(`${command}: ${err.message}\n\n${usage}`);
          return 2;
        }
        if (err instanceof AppError) {
          console.error(
            `${command} ${args[0]}: ${err.code}: ${err.message}${err.field ? ` (${err.field})` : ''}`,
          );
          return 1;
        }
        throw err;
      }
    }
    case 'import-boundaries': {
      const file = args[0];
      if (!file) {
        console.error('import-boundaries: give a GeoJSON file');
        return 2;
      }
      await withDatabase(config, async (pool) => {
        await prepareDatabase(pool);
        const r = await importBoundaries(pool, path.resolve(file));
        console.log(
          `imported ${r.count} ${r.level === 'region' ? 'regions' : 'districts'}; removed ${r.removed}`,
        );
        console.log('running processes pick up new boundaries when restarted');
      });
      return 0;
    }
    case 'dlq': {
      const [action, id] = args;
      if (action === 'list') {
        await withDatabase(config, async (pool) => {
          const items = await listDeadLetters(pool, 1000);
          if (!items.length) console.log('no dead letters');
          for (const d of items)
            console.log(`${d.id}\t${d.stage}\t${d.since}\t${(d.error ?? '').split('\n')[0]}`);
        });
        return 0;
      }
      if ((action === 'retry' || action === 'discard') && id) {
        await withDatabase(config, (pool) =>
          action === 'retry'
            ? retryDeadLetter(pool, id, 'operator:cli', { actorLogin: 'operator:cli' })
            : discardDeadLetter(pool, id, 'operator:cli', { actorLogin: 'operator:cli' }),
        );
        console.log(`${action === 'retry' ? 'retried' : 'discarded'} ${id}`);
        return 0;
      }
      console.error('usage: jarima dlq list | dlq retry ID | dlq discard ID');
      return 2;
    }
    case 'capacity': {
      const opt = (name: string) => {
        const i = args.indexOf(`--${name}`);
        return i >= 0 ? args[i + 1] : undefined;
      };
      const daily = Number(opt('daily'));
      const peakFactor = Number(opt('peak-factor') ?? 1.5);
      const targetP95 = Number(opt('target-p95') ?? 1);
      if (!(daily > 0) || !(peakFactor >= 1) || !(targetP95 > 0)) {
        console.error(
          'usage: jarima capacity --daily N [--peak-factor F ≥ 1] [--target-p95 SECONDS] [--json]',
        );
        return 2;
      }
      const measured = await withDatabase(config, loadMeasurements);
      const input = { daily, peakFactor, targetP95, measured, cacheMb: config.CACHE_MEMORY_MB, ...machine() };
      const plan = planCapacity(input);
      console.log(args.includes('--json') ? JSON.stringify(plan, null, 2) : formatPlan(plan, input));
      return 0;
    }
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}
