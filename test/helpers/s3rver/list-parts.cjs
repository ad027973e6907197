// ListParts (GET /bucket/key?uploadId=…), which s3rver 3.7 does not implement and @tus/s3-store needs to find how
// much of an upload it holds: read from s3rver's own store, where UploadPart wrote each part as <uploadId>/<n> with
// its MD5 beside it. Installed in front of s3rver's router by test/helpers/s3-server.ts (tests and benchmarks only).
const fs = require('node:fs/promises');
const path = require('node:path');

module.exports = function listParts(store) {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.query.uploadId === undefined) return next();
    const [, bucket, ...rest] = decodeURIComponent(ctx.path).split('/');
    const key = rest.join('/');
    const dir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), ctx.query.uploadId);
    let names;
    try {
      names = await fs.readdir(dir);
    } catch {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    const numbers = names
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
    const parts = await Promise.all(
      numbers.map(async (n) => {
        const [stat, md5] = await Promise.all([
          fs.stat(path.join(dir, String(n))),
          fs.readFile(path.join(dir, `${n}.md5`), 'utf8'),
        ]);
        return `<Part><PartNumber>${n}</PartNumber><LastModified>${stat.mtime.toISOString()}</LastModified><ETag>"${md5.trim()}"</ETag><Size>${stat.size}</Size></Part>`;
      }),
    );
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${ctx.query.uploadId}</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${numbers.at(-1) ?? 0}</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
  };
};
