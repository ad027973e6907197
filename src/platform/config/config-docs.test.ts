import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC, configurationDoc } from '../../../scripts/docs.js';
import { ConfigSchema } from './config.js';

describe('docs/configuration.md', () => {
  it('is what the config schema generates', () => {
    const committed = readFileSync(CONFIGURATION_DOC, 'utf8');
    expect(
      committed === configurationDoc(),
      'docs/configuration.md is out of date with ConfigSchema: run `npm run docs` and commit the result',
    ).toBe(true);
  });

  it('lists every setting once, with its default', () => {
    const doc = configurationDoc();
    for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
      const rows = doc.split('\n').filter((l) => l.startsWith(`| \`${name}\` `));
      expect(rows, name).toHaveLength(1);
      const def = (schema as { default?: unknown }).default;
      if (def !== undefined && def !== '') expect(rows[0], name).toContain(`\`${def}\``);
    }
  });
});
