// Service worker (sw.js at the site root): precaches the page, its assets, each model's default
// variant (and the WASM runtime when one of those runs on onnxruntime-web), then serves the site
// from that cache, so that after one visit the page loads and predicts with the network off. The
// cache is named after a hash of the build, which `staticml build` writes into this file and into
// precache.json: a new build is a new sw.js, which installs its own cache and deletes the old ones.
//
// Each file crosses the network once per first visit: what the page and its worker already
// downloaded (and checked) is adopted from offline_copy.ts's DOWNLOADS after a revalidation (a 304,
// headers only), the rest is revalidated against the HTTP cache or downloaded.
import { cacheKey, DOWNLOADS, PREFIX, validatorsOf } from "./offline_copy";

/** Replaced by `staticml build` (site.py) with the hash of the site's files. */
const BUILD = "__STATICML_BUILD__";
const CACHE = `${PREFIX}${BUILD}`;
const LAZY = ["models/", "assets/ort/", "assets/worker.js"];

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ServiceWorkerScope {
  readonly registration: { readonly scope: string };
  skipWaiting(): Promise<void>;
  readonly clients: {
    claim(): Promise<void>;
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<readonly { readonly url: string }[]>;
  };
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
}
const sw = self as unknown as ServiceWorkerScope;
const scope = sw.registration.scope;

interface PrecacheList {
  build: string;
  files: string[];
}

async function precache(): Promise<void> {
  // "no-cache": revalidate with the host (cheap 304s right after the first visit's downloads),
  // never take a stale file of an older build from the HTTP cache.
  const response = await fetch(new URL("precache.json", scope), { cache: "no-cache" });
  if (!response.ok) throw new Error(`precache.json: HTTP ${response.status}`);
  const list = (await response.json()) as PrecacheList;
  if (list.build !== BUILD) throw new Error(`precache.json is of build ${list.build}, sw.js of ${BUILD}`);
  const cache = await caches.open(CACHE);
  const downloads = (await caches.has(DOWNLOADS)) ? await caches.open(DOWNLOADS) : null;
  const index = await indexUrl();
  try {
    await Promise.all(list.files.map((file) => cacheFile(cache, downloads, file === "index.html" ? index : new URL(file, scope))));
    if (downloads) await adoptLazyDownloads(cache, downloads, new Set(list.files.map((file) => cacheKey(new URL(file, scope)))));
  } catch (error) {
    await caches.delete(CACHE); // all or nothing (as cache.addAll was): a half-filled cache never serves
    throw error;
  }
  await caches.delete(DOWNLOADS);
  await sw.skipWaiting();
}

/** index.html as the visitor's page asked for it ("./", "index.html", with its query): the HTTP
 * cache holds that URL, so that its revalidation is a 304, not a second download of the page. */
async function indexUrl(): Promise<URL> {
  const index = new URL("index.html", scope);
  const pages = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
  const page = pages.map((p) => new URL(p.url)).find((url) => cacheKey(url) === index.href);
  if (page) page.hash = "";
  return page ?? index;
}

/** One file into the offline cache: the page's checked download if the host still has that file,
 * else revalidated or downloaded. */
async function cacheFile(cache: Cache, downloads: Cache | null, url: URL): Promise<void> {
  const key = cacheKey(url);
  const kept = await downloads?.match(key);
  const current = kept ? await stillCurrent(url, kept) : null;
  if (current) return cache.put(key, current);
  const response = await fetch(new Request(url, { cache: "no-cache" }));
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  await cache.put(key, response);
}

/**
 * The kept download if the host answers 304 to its validators, or the newer file the host answers
 * with instead (a new build was deployed since); null when the host cannot be asked. A copy without
 * validators is taken as it is: it was checked against the manifest of this same visit.
 */
async function stillCurrent(url: URL, kept: Response): Promise<Response | null> {
  const validators = validatorsOf(kept);
  if (!validators) return kept;
  try {
    // A conditional request of our own: the browser passes the host's 304 through (cache "no-store").
    const answer = await fetch(url, { headers: validators, cache: "no-store" });
    if (answer.status === 304) return kept;
    return answer.ok ? answer : null;
  } catch {
    return null;
  }
}

/** The page's other checked downloads that the worker would keep once fetched (another variant,
 * onnxruntime-web for it): kept now rather than downloaded again on their next use. */
async function adoptLazyDownloads(cache: Cache, downloads: Cache, precached: Set<string>): Promise<void> {
  const lazy = (await downloads.keys()).map((request) => request.url)
    .filter((key) => !precached.has(key) && LAZY.some((prefix) => key.startsWith(new URL(prefix, scope).href)));
  await Promise.all(lazy.map(async (key) => {
    const kept = await downloads.match(key);
    const current = kept && (await stillCurrent(new URL(key), kept));
    if (current) await cache.put(key, current);
  }));
}

async function dropOldCaches(): Promise<void> {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
  await sw.clients.claim();
}

async function respond(request: Request, url: URL): Promise<Response> {
  const key = cacheKey(url);
  // caches.match never creates a cache; caches.open would re-create this build's cache after a
  // newer build's worker deleted it (this worker still serves the page until the new one claims it).
  const hit = await caches.match(key, { cacheName: CACHE });
  if (hit) return isolated(hit);
  const response = await fetch(request);
  // Other variants than the precached ones (and onnxruntime-web when only such a variant needs
  // it): kept once fetched (the page checks their sha256).
  if (response.status === 200 && LAZY.some((prefix) => key.startsWith(new URL(prefix, scope).href))) {
    keep(key, response.clone()).catch(() => undefined); // caching must not delay the page
  }
  return isolated(response);
}

/** The site's own files are same-origin; with these headers a page (and its worker) served by this
 * worker is cross-origin isolated, so onnxruntime-web may use several threads, even on a host that
 * cannot set headers (GitHub Pages, a bucket). The page reloads once to get them (offline.ts). */
const ISOLATION: Record<string, string> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

function isolated(response: Response): Response {
  // Opaque and error responses cannot be rebuilt; a host that sends the headers needs no help.
  if (response.type === "opaque" || response.status === 0 || response.headers.has("Cross-Origin-Embedder-Policy")) {
    return response;
  }
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  const { status, statusText } = response;
  return new Response(status === 204 || status === 304 ? null : response.body, { status, statusText, headers });
}

async function keep(key: string, response: Response): Promise<void> {
  if (!(await caches.has(CACHE))) return; // dropped by a newer build: not to be re-created
  await (await caches.open(CACHE)).put(key, response);
}

sw.addEventListener("install", (event) => event.waitUntil(precache()));
sw.addEventListener("activate", (event) => event.waitUntil(dropOldCaches()));
sw.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !url.href.startsWith(scope)) return; // e.g. the API: network
  event.respondWith(respond(event.request, url));
});
