import { type Static, Type as T } from '@sinclair/typebox';

const Id = T.String({ format: 'uuid' });

export const EvidenceResponse = T.Object({
  id: Id,
  kind: T.Union([T.Literal('photo'), T.Literal('video')]),
  mime: T.String(),
  bytes: T.Integer(),
  sha256: T.String(),
  media: T.Object(
    {
      readable: T.Boolean({
        description: 'False when the file could not be decoded; the report will be rejected',
      }),
      width: T.Union([T.Integer(), T.Null()]),
      height: T.Union([T.Integer(), T.Null()]),
      durationMs: T.Union([T.Integer(), T.Null()]),
      warnings: T.Array(T.Union([T.Literal('blurry'), T.Literal('dark'), T.Literal('low_resolution')]), {
        description:
          'What the picture measures say before the report is filed (the inspector sees the same): too blurry, ' +
          'too dark, below 1280×720',
      }),
    },
    { description: 'What the file really is, read from its content' },
  ),
});
export type EvidenceBody = Static<typeof EvidenceResponse>;

export const UploadParams = T.Object({ id: Id });

export const UploadState = T.Object({
  id: Id,
  offset: T.Integer({ description: 'Bytes received so far: the next chunk starts here' }),
  size: T.Integer(),
});

/** Opening a resumable upload; the size limit is the configured EVIDENCE_MAX_BYTES. */
export const OpenUploadBody = (maxBytes: number) =>
  T.Object(
    {
      size: T.Integer({ minimum: 1, maximum: maxBytes }),
      filename: T.Optional(T.String({ maxLength: 255 })),
    },
    { additionalProperties: false },
  );
export type OpenUploadBody = Static<ReturnType<typeof OpenUploadBody>>;

export const ChunkHeaders = T.Object({ 'upload-offset': T.Integer({ minimum: 0 }) });

export const ChunkStored = T.Null({
  description: 'Chunk stored; the Upload-Offset header says where the next starts',
});
