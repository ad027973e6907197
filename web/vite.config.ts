import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);
const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Writes .br (quality 11) and .gz (level 9) beside every text file of the build, so the server sends the smallest
 * encoding without compressing anything per request (src/web/static.ts picks them up).
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'jarima-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    async writeBundle(_options, bundle) {
      const files = [...Object.keys(bundle), 'index.html'].filter((f) => /\.(js|css|html|svg|json)$/.test(f));
      await Promise.all(
        [...new Set(files)].map(async (name) => {
          const file = path.join(outDir, name);
          const body = await readFile(file);
          if (body.length < 1024) return;
          const [br, gz] = await Promise.all([
            brotli(body, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 11,
                [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
              },
            }),
            gzipAsync(body, { level: 9 }),
          ]);
          await Promise.all([writeFile(`${file}.br`, br), writeFile(`${file}.gz`, gz)]);
        }),
      );
    },
  };
}

export default defineConfig({
  root,
  // React's automatic runtime through Vite's own transformer: no Babel, no extra plugin.
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The bundle sizes are reported by the build itself (gzip) and by `npm run bench -- web` later.
    reportCompressedSize: true,
    rollupOptions: {
      output: {
        // React changes less often than the app: its own chunk stays cached across app releases. uPlot is left to
        // the chunk of the operator dashboard's charts, the only page that draws it.
        manualChunks: (id: string) =>
          id.includes('/node_modules/') && !id.includes('/node_modules/uplot/') ? 'vendor' : undefined,
      },
    },
  },
  plugins: [precompress()],
  server: {
    // `npx vite web` during development, with `npm start` serving the API on :3000.
    proxy: Object.fromEntries(
      ['/v1', '/docs', '/healthz', '/readyz'].map((p) => [
        p,
        { target: process.env.JARIMA_API ?? 'http://127.0.0.1:3000' },
      ]),
    ),
  },
});
