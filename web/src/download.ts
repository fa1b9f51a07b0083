// Streamed downloads with byte progress, and sha256 integrity checks.

export type OnBytes = (bytes: number) => void;

/** Fetches url into memory, calling onBytes with each chunk's size as it arrives. */
export async function download(url: string, onBytes: OnBytes): Promise<Uint8Array> {
  const name = url.split("/").pop();
  let response: Response;
  try {
    response = await fetch(url);
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
    return data;
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
  return concat(chunks, size);
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
