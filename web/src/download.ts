// Streamed downloads with progress in bytes on the wire, sha256 integrity checks, and the offline copy: checked
// bytes kept for the service worker on a first visit, a damaged cached copy evicted and fetched again.
import { evict, keepDownload } from "./offline_copy";
import type { FileEntry } from "./types";

export type OnProgress = (loaded: number, total: number) => void;

/** A file to download and check against its manifest entry. */
export interface CheckedFile {
  url: string;
  name: string;
  entry: FileEntry;
}

/** Bytes downloaded in this realm (the page's thread, or a worker) by downloadChecked: as they crossed
 * the network (the response bodies as the server sent them, compressed or not; nothing for a file a
 * cache answered) and as the page holds them, uncompressed. */
export interface DownloadTally {
  wire: number;
  uncompressed: number;
}

const tally: DownloadTally = { wire: 0, uncompressed: 0 };

/** What this realm's downloads have cost so far (info()'s bytes_downloaded and bytes_uncompressed). */
export function downloadTally(): DownloadTally {
  return { ...tally };
}

/**
 * Every file downloaded (progress in bytes on the wire over their expected total) and checked
 * against its manifest sha256. A file that fails its check and came from one of the site's caches
 * (a copy damaged or tampered with there) is evicted and downloaded once more; only a second failure
 * is an error. With `keep` (a first visit: no service worker serves the page yet), the checked bytes
 * are kept for the service worker, which then fills its offline cache from them instead of
 * downloading them again.
 */
export async function downloadChecked(files: CheckedFile[], onProgress: OnProgress, keep = false): Promise<Uint8Array[]> {
  const progress = new WireProgress(files.map((f) => f.entry.bytes), onProgress);
  return Promise.all(files.map(async (file, i) => {
    let got = await fetchBody(file.url, progress.of(i));
    if (!(await matches(got.data, file.entry.sha256)) && (await evict(file.url))) {
      got = await fetchBody(file.url, progress.of(i), "reload");
    }
    await checkSha256(file.name, got.data, file.entry.sha256);
    // Awaited: the service worker registers after "ready" and must find the copy complete.
    if (keep) await keepDownload(file.url, got.data, got.headers).catch(() => undefined); // a full quota only costs a download
    return got.data;
  }));
}

/** What fetchBody tells about one file as it downloads. */
interface FileProgress {
  /** The response's headers arrived: its body is this many bytes on the wire, if the headers say. */
  expect(wireBytes: number | null): void;
  /** `uncompressed` bytes of the body have arrived so far. */
  arrived(uncompressed: number): void;
  /** The body is complete: `wire` bytes crossed the network for it. */
  done(wire: number): void;
}

/**
 * The loading bar's figures in bytes on the wire. A fetch hands JavaScript the body decoded, so while
 * a compressed file arrives its wire bytes are estimated from the share of it decoded so far and its
 * compressed length (Content-Length of an encoded response); each file's exact figure comes from the
 * Resource Timing API once it is complete. Before its headers arrive, a file counts its manifest size.
 */
class WireProgress {
  private readonly loaded: number[];
  private readonly totals: number[];

  constructor(private readonly sizes: number[], private readonly report: OnProgress) {
    this.loaded = sizes.map(() => 0);
    this.totals = [...sizes];
    this.emit();
  }

  of(i: number): FileProgress {
    return {
      expect: (wireBytes) => {
        this.totals[i] = wireBytes ?? this.sizes[i];
        this.loaded[i] = 0;
        this.emit();
      },
      arrived: (uncompressed) => {
        this.loaded[i] = Math.min(this.totals[i], Math.round((uncompressed / Math.max(this.sizes[i], 1)) * this.totals[i]));
        this.emit();
      },
      done: (wire) => {
        this.loaded[i] = this.totals[i] = wire;
        this.emit();
      },
    };
  }

  private emit(): void {
    const loaded = this.loaded.reduce((a, b) => a + b, 0);
    this.report(loaded, Math.max(loaded, this.totals.reduce((a, b) => a + b, 0)));
  }
}

async function fetchBody(url: string, progress: FileProgress, cache: RequestCache = "default"): Promise<{ data: Uint8Array; headers: Headers }> {
  const name = url.split("/").pop();
  let response: Response;
  try {
    response = await fetch(url, { cache });
  } catch {
    throw new Error(`Could not download ${name}: the network is unreachable (${url}).`);
  }
  if (response.status === 404) {
    throw new Error(`The file ${name} is missing from the site (HTTP 404 for ${url}), so the model cannot run.`);
  }
  if (!response.ok) {
    throw new Error(`Could not download ${name}: the site answered HTTP ${response.status} ${response.statusText}.`);
  }
  progress.expect(encodedLength(response));
  const data = await readBody(response, progress);
  const wire = await wireBytes(url, response, data.byteLength);
  tally.wire += wire;
  tally.uncompressed += data.byteLength;
  progress.done(wire);
  return { data, headers: response.headers };
}

async function readBody(response: Response, progress: FileProgress): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    progress.arrived(size);
  }
  return concat(chunks, size);
}

/** The body's length on the wire when the response is compressed and says how long it is. */
function encodedLength(response: Response): number | null {
  const length = Number(response.headers.get("content-length") ?? NaN);
  return response.headers.has("content-encoding") && Number.isFinite(length) && length > 0 ? length : null;
}

// How long to wait for a download's Resource Timing entry (the browser adds it as the load finishes,
// which may come a moment after the body's last chunk).
const TIMING_WAIT_MS = 200;

/**
 * The bytes of a downloaded body that crossed the network: Resource Timing's encodedBodySize, or 0
 * when transferSize says a cache answered (the HTTP cache, the service worker's). Without an entry
 * (no Resource Timing, or another origin without Timing-Allow-Origin): the compressed length the
 * headers give, else the body's own size.
 */
async function wireBytes(url: string, response: Response, uncompressed: number): Promise<number> {
  const timing = await resourceTiming(new URL(url, self.location.href).href);
  if (timing && (timing.encodedBodySize > 0 || uncompressed === 0)) return timing.transferSize > 0 ? timing.encodedBodySize : 0;
  return encodedLength(response) ?? uncompressed;
}

async function resourceTiming(url: string): Promise<PerformanceResourceTiming | null> {
  if (typeof performance === "undefined" || typeof performance.getEntriesByName !== "function") return null;
  const latest = (): PerformanceResourceTiming | null =>
    (performance.getEntriesByName(url, "resource").at(-1) as PerformanceResourceTiming | undefined) ?? null;
  const found = latest();
  if (found || typeof PerformanceObserver === "undefined") return found;
  return new Promise((resolve) => {
    const observer = new PerformanceObserver(() => {
      const entry = latest();
      if (entry) finish(entry);
    });
    const timer = setTimeout(() => finish(latest()), TIMING_WAIT_MS);
    function finish(entry: PerformanceResourceTiming | null): void {
      clearTimeout(timer);
      observer.disconnect();
      resolve(entry);
    }
    observer.observe({ type: "resource" });
  });
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function matches(data: Uint8Array, expected: string): Promise<boolean> {
  return (await sha256Hex(data)) === expected.toLowerCase();
}

/** Throws a clear error unless data has the expected sha256 (hex, case-insensitive). */
export async function checkSha256(name: string, data: Uint8Array, expected: string): Promise<void> {
  const actual = await sha256Hex(data);
  if (actual !== expected.toLowerCase()) {
    throw new Error(
      `${name} has been changed or damaged: it does not match the sha256 in manifest.json, so the ` +
        `page refuses to run it (integrity check failed: sha256 is ${actual}, the manifest says ${expected}).`,
    );
  }
}
