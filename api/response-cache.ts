// Serialised responses, kept per (cube db generation, request URL). The cubes change once a day, so
// after the first request a URL is a Map lookup and a write of ready bytes: no validation, no SQL,
// no JSON.stringify, no gzip on the hot path. A new generation (a swapped db) empties the cache.
import crypto from 'node:crypto';
import zlib from 'node:zlib';

export interface CachedResponse {
  /** Route template, for metrics labels. */
  route: string;
  contentType: string;
  body: Buffer;
  etag: string;
  /** The gzip representation, made once when it is worth it; its own strong ETag. */
  gzip?: { body: Buffer; etag: string };
  /** Complete header lists for the fast path, by (gzip, 304) slot; filled on first use. */
  wire: (string[] | undefined)[];
}

/** Below this, gzip costs more than it saves. */
const GZIP_MIN_BYTES = 1024;

export function makeCachedResponse(
  route: string,
  contentType: string,
  body: Buffer,
  identity: string,
  url: string,
): CachedResponse {
  const hash = crypto
    .createHash('sha1')
    .update(identity)
    .update('\0')
    .update(url)
    .digest('base64url')
    .slice(0, 27);
  const response: CachedResponse = { route, contentType, body, etag: `"${hash}"`, wire: [] };
  if (body.length >= GZIP_MIN_BYTES) {
    response.gzip = { body: zlib.gzipSync(body, { level: 6 }), etag: `"${hash}-gz"` };
  }
  return response;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private generation = -1;
  private bytes = 0;

  constructor(
    private readonly maxEntries = 2000,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  get(generation: number, url: string): CachedResponse | undefined {
    if (generation !== this.generation) return undefined;
    return this.entries.get(url);
  }

  set(generation: number, url: string, response: CachedResponse): void {
    if (generation !== this.generation) {
      this.entries.clear();
      this.bytes = 0;
      this.generation = generation;
    }
    const size = response.body.length + (response.gzip?.body.length ?? 0) + url.length;
    if (size > this.maxBytes / 4) return;
    // Oldest first out: insertion order of the Map. A full cache of a fuzzer's URLs stays bounded.
    while (this.entries.size >= this.maxEntries || this.bytes + size > this.maxBytes) {
      const oldest = this.entries.entries().next().value;
      if (!oldest) break;
      this.entries.delete(oldest[0]);
      this.bytes -= oldest[1].body.length + (oldest[1].gzip?.body.length ?? 0) + oldest[0].length;
    }
    this.entries.set(url, response);
    this.bytes += size;
  }

  get size(): number {
    return this.entries.size;
  }
}
