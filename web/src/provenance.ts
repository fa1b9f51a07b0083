// Whose model is this, and is it the one its owner signed? Reads the manifest's `provenance` (licence,
// author, source, model card) and checks its `signature` (Ed25519, WebCrypto) over the same canonical
// JSON Python signs (staticml.provenance.signing): sorted keys, no spaces. The files themselves are
// held to the manifest's sha256 as they download (download.ts), so a valid signature covers them too.
// Shown in the "Model details" card as text nodes and links (never as HTML), returned by info(). Every page
// uses it: the classifier page (main.ts), the video pages (video.ts) and the question-answering page (tasks/qa).
import type { Manifest } from "./types";

/** The manifest fields a signature covers (staticml.provenance.signing.SIGNED_FIELDS). */
const SIGNED_FIELDS = ["name", "task", "labels", "files", "variants", "default_variant", "provenance"] as const;

export interface ProvenanceInfo {
  license: string | null;
  author: string | null;
  source_url: string | null;
  license_url: string | null;
  card_url: string | null;
  /** "signed" (valid for its key), "unsigned", "invalid" (another key, or the manifest changed), or
   * "unchecked" (no WebCrypto Ed25519 here: an insecure context, an older browser). */
  signature: "signed" | "unsigned" | "invalid" | "unchecked";
  signer: string | null;
  key_id: string | null;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function signatureStatus(manifest: Manifest): Promise<ProvenanceInfo["signature"]> {
  const signature = manifest.signature;
  if (!signature) return "unsigned";
  if (signature.algorithm !== "Ed25519") return "invalid";
  if (!globalThis.crypto?.subtle) return "unchecked";
  const statement: Record<string, unknown> = {};
  for (const key of SIGNED_FIELDS) if (key in manifest) statement[key] = manifest[key];
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", base64Bytes(signature.public_key), { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    // No Ed25519 in this browser: not checked; a key that is not one: invalid.
    return error instanceof DOMException && error.name === "NotSupportedError" ? "unchecked" : "invalid";
  }
  try {
    const valid = await crypto.subtle.verify({ name: "Ed25519" }, key, base64Bytes(signature.value), new TextEncoder().encode(canonicalJson(statement)));
    return valid ? "signed" : "invalid";
  } catch {
    return "invalid"; // a signature that is not base64
  }
}

function httpUrl(value: string | undefined): string | null {
  return value && /^https?:\/\//.test(value) ? value : null;
}

export async function checkProvenance(manifest: Manifest, modelUrl: string): Promise<ProvenanceInfo> {
  const p = manifest.provenance ?? {};
  const signed = await signatureStatus(manifest);
  return {
    license: p.license ?? null,
    author: p.author ?? null,
    source_url: httpUrl(p.source_url),
    license_url: p.license_file ? modelUrl + encodeURIComponent(p.license_file) : null,
    card_url: p.card ? modelUrl + encodeURIComponent(p.card) : null,
    signature: signed,
    signer: manifest.signature?.signer ?? null,
    key_id: manifest.signature?.key_id ?? null,
  };
}

function link(text: string, href: string): HTMLAnchorElement {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = href;
  a.rel = "noopener noreferrer";
  return a;
}

function row(list: Element, id: string, title: string, parts: (string | Node)[]): void {
  const div = document.createElement("div");
  div.className = "details-wide"; // a sentence with links: a whole row of the grid, not one narrow column
  const dt = document.createElement("dt");
  const dd = document.createElement("dd");
  dt.textContent = title;
  dd.id = id;
  dd.append(...parts);
  div.append(dt, dd);
  list.append(div);
}

/** Two rows of the model details: "Licence" (licence, author, links) and "Signature". */
export function showProvenance(info: ProvenanceInfo, list: Element | null): void {
  if (!list) return;
  const terms: (string | Node)[] = [info.license ?? (info.license_url ? "see the licence" : "no licence given")];
  if (info.author) terms.push(` · by ${info.author}`);
  if (info.license_url) terms.push(" · ", link("licence", info.license_url));
  if (info.card_url) terms.push(" · ", link("model card", info.card_url));
  if (info.source_url) terms.push(" · ", link("source", info.source_url));
  row(list, "d-license", "Licence", terms);
  const signature = {
    signed: `signed by ${info.signer ?? "?"} (key ${info.key_id ?? "?"})`,
    unsigned: "not signed",
    invalid: "warning: the signature does not match this model; it may have been changed",
    unchecked: `signed by ${info.signer ?? "?"} (key ${info.key_id ?? "?"}), not checked: this browser cannot verify Ed25519`,
  }[info.signature];
  row(list, "d-signature", "Signature", [signature]);
}

/** Checks the manifest's provenance and shows it in the page's "Model details" list (`.details dl`). */
export async function showModelProvenance(manifest: Manifest, modelUrl: string): Promise<ProvenanceInfo> {
  const info = await checkProvenance(manifest, modelUrl);
  showProvenance(info, document.querySelector(".details dl"));
  return info;
}
