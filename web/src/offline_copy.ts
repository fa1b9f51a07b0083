// The site's files in Cache Storage, shared by the page, its workers and the service worker (sw.ts).
//
// A first visit is not yet served by the service worker (it registers after "ready"), so the page
// and its worker download the model, the tokenizer and the WASM themselves. Those checked bytes are
// kept in DOWNLOADS; when the service worker installs, it takes its offline copy from there instead
// of downloading each file a second time (after a revalidation that costs headers, not a body).
// A model file whose cached copy fails its sha256 is evicted from every cache of the site, so that
// the next fetch downloads it again (the page retries once: download.ts).

/** Every cache of the site starts with this (sw.ts names its own `${PREFIX}${build}`). */
export const PREFIX = "staticml-";
/** Checked downloads of a first visit, waiting for the service worker to adopt them. */
export const DOWNLOADS = `${PREFIX}downloads`;
/** Headers kept with a download: its type, and the validators a revalidation needs. */
const KEPT_HEADERS = ["content-type", "etag", "last-modified"];

/** Files of the site are static: the query (?model=…&variant=…) never changes a file. */
export function cacheKey(url: URL): string {
  const key = new URL(url.pathname, url.origin);
  if (key.pathname.endsWith("/")) key.pathname += "index.html";
  return key.href;
}

/** Whether this page should keep its downloads for the service worker: it registers one (offline.ts)
 * and none serves the page yet. Asked on the page's thread (a worker is told in its init request). */
export function pageKeepsDownloads(): boolean {
  return typeof navigator !== "undefined" && "serviceWorker" in navigator && self.isSecureContext
    && navigator.serviceWorker.controller === null && typeof caches !== "undefined";
}

/** Keeps checked bytes (with their type and validators) for the service worker to adopt. */
export async function keepDownload(url: string, data: Uint8Array, headers: Headers): Promise<void> {
  const kept = new Headers();
  for (const name of KEPT_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept.set(name, value);
  }
  kept.set("content-length", String(data.byteLength));
  const cache = await caches.open(DOWNLOADS);
  await cache.put(cacheKey(new URL(url)), new Response(data as Uint8Array<ArrayBuffer>, { status: 200, headers: kept }));
}

/** Drops `url` from every cache of the site; true if some cache held it. */
export async function evict(url: string): Promise<boolean> {
  if (typeof caches === "undefined") return false;
  const key = cacheKey(new URL(url));
  const names = (await caches.keys()).filter((name) => name.startsWith(PREFIX));
  const dropped = await Promise.all(names.map(async (name) => (await caches.open(name)).delete(key)));
  return dropped.some(Boolean);
}

/** The conditional request headers that ask the host whether `kept` is still its current file
 * (null when the kept copy has no validator to ask with). */
export function validatorsOf(kept: Response): Record<string, string> | null {
  const etag = kept.headers.get("etag");
  if (etag) return { "If-None-Match": etag };
  const modified = kept.headers.get("last-modified");
  return modified ? { "If-Modified-Since": modified } : null;
}
