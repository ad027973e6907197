import type { Config } from '../platform/config/config.js';
import { Gate } from './gate.js';
import { LargeDecoder } from './large-decoder.js';
import type { MediaTools, ToolLimits } from './media-tools.js';

/** What one file may cost to read: refused above these, before anything is decoded. */
export interface MediaLimits {
  /** Pixels of a photo (sharp's limitInputPixels as well). */
  maxPixels: number;
  /** Pixels of an interlaced PNG, which libvips must decode whole. */
  maxInterlacedPixels: number;
  videoMaxSide: number;
  videoMaxSeconds: number;
  videoMaxStreams: number;
  /** An upload waits this long for a decoding slot before leaving the picture to the pipeline. */
  decodeQueueMs: number;
  /** A photo over this many pixels is large: decoded only by the pipeline, in `large`. */
  largePixels: number;
  tool: Omit<ToolLimits, 'maxOutputBytes'>;
}

export type MediaConfig = Pick<
  Config,
  | 'EVIDENCE_MAX_PIXELS'
  | 'EVIDENCE_MAX_INTERLACED_PIXELS'
  | 'DECODE_CONCURRENCY'
  | 'DECODE_LARGE_PIXELS'
  | 'DECODE_QUEUE_TIMEOUT_MS'
  | 'MEDIA_TOOL_CONCURRENCY'
  | 'MEDIA_TOOL_MEMORY_MB'
  | 'MEDIA_TOOL_TIMEOUT_SECONDS'
  | 'VIDEO_MAX_SIDE'
  | 'VIDEO_MAX_SECONDS'
  | 'VIDEO_MAX_STREAMS'
>;

/**
 * Everything that decodes evidence in this process goes through here: the tools, the limits, and two gates — one for
 * photos decoded by sharp on libuv's threads, one for ffmpeg/ffprobe children — so a burst of large or hostile files
 * takes a bounded share of the CPU and memory and ordinary ones wait behind at most their queue.
 */
export class Media {
  readonly images: Gate;
  /**
   * Large photos (over DECODE_LARGE_PIXELS) one at a time, apart from `images`: a burst of legal 49-megapixel photos
   * took both of its slots and made ordinary uploads wait their 5 s deadline (bench/README.md, `hostile`).
   */
  readonly large: Gate;
  readonly videos: Gate;
  /** Where large photos are decoded: a process of its own at a lower CPU priority. */
  readonly decoder: LargeDecoder;
  readonly limits: MediaLimits;

  constructor(
    readonly tools: MediaTools,
    config: MediaConfig,
  ) {
    this.images = new Gate('photo decoding', config.DECODE_CONCURRENCY);
    this.large = new Gate('large photo decoding', 1);
    this.videos = new Gate('ffmpeg', config.MEDIA_TOOL_CONCURRENCY);
    this.limits = {
      maxPixels: config.EVIDENCE_MAX_PIXELS,
      maxInterlacedPixels: config.EVIDENCE_MAX_INTERLACED_PIXELS,
      videoMaxSide: config.VIDEO_MAX_SIDE,
      videoMaxSeconds: config.VIDEO_MAX_SECONDS,
      videoMaxStreams: config.VIDEO_MAX_STREAMS,
      decodeQueueMs: config.DECODE_QUEUE_TIMEOUT_MS,
      largePixels: config.DECODE_LARGE_PIXELS,
      tool: { timeoutMs: config.MEDIA_TOOL_TIMEOUT_SECONDS * 1000, memoryMb: config.MEDIA_TOOL_MEMORY_MB },
    };
    this.decoder = new LargeDecoder({
      timeoutMs: this.limits.tool.timeoutMs,
      maxPixels: this.limits.maxPixels,
    });
  }

  /** Ends the large-photo decoder process. */
  close(): void {
    this.decoder.close();
  }

  /** Whether a picture of these dimensions is large (measured by the pipeline, in `large`). */
  isLarge(width: number | null, height: number | null): boolean {
    return (width ?? 0) * (height ?? 0) > this.limits.largePixels;
  }
}
