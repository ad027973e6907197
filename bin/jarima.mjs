#!/usr/bin/env node
// The jarima CLI. TypeScript sources run through tsx's loader, so there is no build step between a checkout and
// `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/app/cli.ts');
let code = 1;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
}
// Exit explicitly with the command's status, whatever handles or timers are still open.
process.exit(code);
