import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * s3rver in a process of its own, as a real S3 is: what it buffers does not count in the tests' memory, and its
 * work does not share their event loop. It prints its port once listening.
 */
export async function runS3rver(
  directory: string,
  bucket: string,
): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const main = createRequire(import.meta.url).resolve('s3rver');
  const listParts = path.join(import.meta.dirname, 's3rver', 'list-parts.cjs');
  // With ListParts added in front of its router (list-parts.cjs): @tus/s3-store needs it.
  const script = `
    const S3rver = require(${JSON.stringify(main)});
    const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)},
      configureBuckets: [{ name: ${JSON.stringify(bucket)}, configs: [] }] });
    s3.middleware.unshift(require(${JSON.stringify(listParts)})(s3.store));
    s3.run().then((a) => console.log(JSON.stringify({ port: a.port })), (e) => { console.error(e); process.exit(1); });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = /\{"port":\d+\}/.exec(out);
      if (line) resolve(JSON.parse(line[0]).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  return {
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill();
      await once(child, 'exit');
    },
  };
}
