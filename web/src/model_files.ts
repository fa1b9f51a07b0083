// A model folder's files as manifest.json lists them: the variant's graph and any file by name,
// each with the sha256 and size downloadChecked (download.ts) holds it to. Every task reads its
// files through these, with the same words when one is missing.
import type { CheckedFile } from "./download";
import type { FileEntry, Manifest } from "./types";

export function fileEntry(manifest: Manifest, name: string): FileEntry {
  const entry = manifest.files[name];
  if (!entry || typeof entry.sha256 !== "string" || typeof entry.bytes !== "number") {
    throw new Error(`manifest.json of model ${manifest.name} has no sha256/bytes for ${name}`);
  }
  return entry;
}

/** The variant's graph file name; throws naming the variants there are. */
export function variantFile(manifest: Manifest, variant: string): string {
  const modelFile = manifest.variants[variant];
  if (!modelFile) {
    const known = Object.keys(manifest.variants).join(", ");
    throw new Error(`model ${manifest.name} has no variant "${variant}" (available: ${known})`);
  }
  return modelFile;
}

/** A file of the model folder at `modelUrl` (ending in "/"), to be downloaded and checked. */
export function checkedFile(manifest: Manifest, modelUrl: string, name: string): CheckedFile {
  return { url: modelUrl + name, name, entry: fileEntry(manifest, name) };
}
