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
  // Errors from our catalog (a wrong id, say) are for people: code and message; anything else gets its stack.
  if (err && typeof err === 'object' && 'code' in err && 'status' in err)
    console.error(`${err.code}: ${err.message}`);
  else console.error(err instanceof Error ? (err.stack ?? err.message) : err);
}
// Exit explicitly with the command's status, whatever handles or timers are still open.
process.exit(code);
