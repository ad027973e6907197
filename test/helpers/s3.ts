import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll } from 'vitest';
import { s3ClientFor } from '../../src/evidence/s3-blob-store.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { runS3rver } from './s3-server.js';

export interface TestS3 {
  /** The settings that point Jarima at this bucket (for createTestApp or loadConfig). */
  env: Record<string, string>;
  client: S3Client;
  bucket: string;
  prefix: string;
}

/**
 * An S3-compatible server for one test file: s3rver on a free loopback port serving a fresh directory with one
 * bucket, stopped after the file. With JARIMA_TEST_S3_URL (http://KEY:SECRET@host:9000/bucket) the tests use that
 * S3 or MinIO instead, each file under a fresh random prefix that is emptied afterwards.
 */
export async function startTestS3(): Promise<TestS3> {
  const external = process.env.JARIMA_TEST_S3_URL;
  let stop: () => Promise<void>;
  let env: Record<string, string>;
  if (external) {
    const url = new URL(external);
    const bucket = url.pathname.replace(/^\/|\/$/g, '');
    if (!bucket) throw new Error('JARIMA_TEST_S3_URL needs the bucket as its path');
    env = {
      S3_BUCKET: bucket,
      S3_ENDPOINT: url.origin,
      S3_FORCE_PATH_STYLE: 'true',
      S3_PREFIX: `test-${randomBytes(6).toString('hex')}/`,
      ...(url.username
        ? {
            S3_ACCESS_KEY_ID: decodeURIComponent(url.username),
            S3_SECRET_ACCESS_KEY: decodeURIComponent(url.password),
          }
        : {}),
    };
    stop = async () => {};
  } else {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'jarima-s3-'));
    const bucket = `jarima-${randomBytes(4).toString('hex')}`;
    const server = await runS3rver(directory, bucket);
    env = {
      S3_BUCKET: bucket,
      S3_ENDPOINT: `http://127.0.0.1:${server.port}`,
      S3_FORCE_PATH_STYLE: 'true',
      S3_PREFIX: '',
      // s3rver's own pair: it checks signatures.
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    };
    stop = async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    };
  }
  const config = loadConfig({ BLOB_STORE: 's3', ...env });
  const client = s3ClientFor(config);
  const bucket = config.S3_BUCKET!;
  if (external) {
    await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
      const name = (err as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    });
  }
  afterAll(async () => {
    if (external) await emptyPrefix(client, bucket, config.S3_PREFIX);
    client.destroy();
    await stop();
  });
  return { env: { BLOB_STORE: 's3', ...env }, client, bucket, prefix: config.S3_PREFIX };
}

/** Every key under `prefix` (what a test file wrote to a shared bucket). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  const keys = await listKeys(client, bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
}
