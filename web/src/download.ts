// Streamed downloads with byte progress, sha256 integrity checks, and the offline copy: checked
// bytes kept for the service worker on a first visit, a damaged cached copy evicted and fetched again.
import { evict, keepDownload } from "./offline_copy";
import type { FileEntry } from "./types";

export type OnBytes = (bytes: number) => void;
export type OnProgress = (loaded: number, total: number) => void;

/** A file to download and check against its manifest entry. */
export interface CheckedFile {
  url: string;
  name: string;
  entry: FileEntry;
}

/**
 * Every file downloaded (progress over their total) and checked against its manifest sha256. A
 * file that fails its check and came from one of the site's caches (a copy damaged or tampered with
 * there) is evicted and downloaded once more; only a second failure is an error. With `keep` (a
 * first visit: no service worker serves the page yet), the checked bytes are kept for the service
 * worker, which then fills its offline cache from them instead of downloading them again.
 */
export async function downloadChecked(files: CheckedFile[], onProgress: OnProgress, keep = false): Promise<Uint8Array[]> {
  const total = files.reduce((sum, f) => sum + f.entry.bytes, 0);
  let loaded = 0;
  const onBytes = (n: number): void => {
    loaded += n;
    onProgress(loaded, Math.max(total, loaded));
  };
  onProgress(0, total);
  return Promise.all(files.map(async (file) => {
    let got = await fetchBody(file.url, onBytes);
    if (!(await matches(got.data, file.entry.sha256)) && (await evict(file.url))) {
      got = await fetchBody(file.url, onBytes, "reload");
    }
    await checkSha256(file.name, got.data, file.entry.sha256);
    // Awaited: the service worker registers after "ready" and must find the copy complete.
    if (keep) await keepDownload(file.url, got.data, got.headers).catch(() => undefined); // a full quota only costs a download
    return got.data;
  }));
}

/** Fetches url into memory, calling onBytes with each chunk's size as it arrives. */
export async function download(url: string, onBytes: OnBytes): Promise<Uint8Array> {
  return (await fetchBody(url, onBytes)).data;
}

async function fetchBody(url: string, onBytes: OnBytes, cache: RequestCache = "default"): Promise<{ data: Uint8Array; headers: Headers }> {
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
  if (!response.body) {
    const data = new Uint8Array(await response.arrayBuffer());
    onBytes(data.byteLength);
    return { data, headers: response.headers };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    onBytes(value.byteLength);
  }
  return { data: concat(chunks, size), headers: response.headers };
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
