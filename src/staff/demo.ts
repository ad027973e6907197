import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type DemoAccount, seedDemoStaff } from '../auth/staff.js';
import type { Pool } from '../platform/db/pool.js';
import { seedDemoUnit } from './staff.cli.js';

/**
 * The demo staff (inspector, supervisor, admin) with fresh passwords, in a demo unit covering every district no
 * other unit covers; the accounts it created are also written to `<dataDir>/demo-accounts.txt` (mode 0600). For
 * `jarima seed --demo` and `npm start` (`jarima start --demo`), never for production.
 */
export async function seedDemo(
  pool: Pool,
  dataDir: string,
): Promise<{ created: DemoAccount[]; file: string | null; unit: string }> {
  const created = await seedDemoStaff(pool);
  let file: string | null = null;
  if (created.length) {
    file = path.join(dataDir, 'demo-accounts.txt');
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${created.map((a) => `${a.role}\t${a.login}\t${a.password}`).join('\n')}\n`, {
      mode: 0o600,
    });
  }
  const unit = await seedDemoUnit(pool, ['inspector', 'supervisor', 'admin']);
  return { created, file, unit };
}
