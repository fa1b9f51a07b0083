// Bundles web/src into src/staticml/web_assets/, the folder the Python `build` copies into
// every site as-is: index.html, embed.html, sw.js, assets/{staticml.js,staticml-element.js,
// worker.js,style.css}, assets/ort/*. The Python build stamps the build hash into sw.js.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "staticml", "web_assets");
const ortDist = join(here, "node_modules", "onnxruntime-web", "dist");
// The plain CPU path needs only these two (not the 27 MB WebGPU build below).
const ORT_FILES = ["ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

const wasm = readFileSync(join(ortDist, "ort-wasm-simd-threaded.wasm"));
// WebGPU: onnxruntime-web's WebGPU build (`onnxruntime-web/webgpu`, which loads the asyncify WASM),
// in assets/ort-webgpu/ with a worker of its own; build copies them only for transformer-size models.
// (Its JSEP build, ort.min.mjs, gave int8 MiniLM logits 0.9 off and failed MatMulNBits on SwiftShader.)
const WEBGPU_FILES = ["ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm"];
const webgpuWasm = readFileSync(join(ortDist, WEBGPU_FILES[1]));
const ortDefines = (backend, file, bytes) => ({
  __ORT_BACKEND__: JSON.stringify(backend),
  __ORT_WASM_FILE__: JSON.stringify(file),
  __ORT_WASM_BYTES__: String(bytes.byteLength),
  __ORT_WASM_SHA256__: JSON.stringify(createHash("sha256").update(bytes).digest("hex")),
});

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets", "ort"), { recursive: true });
mkdirSync(join(out, "assets", "ort-webgpu"), { recursive: true });

const common = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  // Resolve `onnxruntime-web/wasm` to ort.wasm.min.mjs, which loads the threaded
  // mjs + wasm from env.wasm.wasmPaths instead of inlining the Emscripten glue.
  conditions: ["onnxruntime-web-use-extern-wasm"],
  define: ortDefines("wasm", "ort-wasm-simd-threaded.wasm", wasm),
  logLevel: "info",
};
await esbuild.build({
  ...common,
  entryPoints: {
    staticml: join(here, "src", "main.ts"),
    "staticml-element": join(here, "src", "element.ts"),
    worker: join(here, "src", "worker.ts"),
    // The video page (camera.html, the face-detection task): its own entry and the task's worker, in sites of a face detector only.
    camera: join(here, "src", "video.ts"),
    "camera-worker": join(here, "src", "tasks", "camera", "worker.ts"),
    // The question-answering page (qa.html): its own entry and worker (onnxruntime-web and the tokenizer), in QA sites only.
    qa: join(here, "src", "tasks", "qa", "index.ts"),
    "qa-worker": join(here, "src", "tasks", "qa", "worker.ts"),
    // The eyes and hands controls' worker (face-landmarks, hand-landmarks): their pipelines of models.
    "landmarks-worker": join(here, "src", "tasks", "landmarks", "worker.ts"),
  },
  outdir: join(out, "assets"),
});
// The same worker on onnxruntime-web's WebGPU build: `onnxruntime-web/wasm` resolves to ort.webgpu.min.mjs.
await esbuild.build({
  ...common,
  define: ortDefines("webgpu", WEBGPU_FILES[1], webgpuWasm),
  plugins: [{
    name: "ort-webgpu",
    setup(build) {
      build.onResolve({ filter: /^onnxruntime-web\/wasm$/ }, () => ({ path: join(ortDist, "ort.webgpu.min.mjs") }));
    },
  }],
  entryPoints: { "worker-webgpu": join(here, "src", "worker.ts") },
  outdir: join(out, "assets"),
});
// At the site root, so that its scope is the whole site; a classic script for every browser.
await esbuild.build({ ...common, entryPoints: [join(here, "src", "sw.ts")], outfile: join(out, "sw.js"), format: "iife" });

for (const page of ["index.html", "embed.html", "camera.html", "qa.html"]) copyFileSync(join(here, "static", page), join(out, page));
for (const sheet of ["style.css", "camera.css", "qa.css"]) copyFileSync(join(here, "static", sheet), join(out, "assets", sheet));
for (const name of ORT_FILES) copyFileSync(join(ortDist, name), join(out, "assets", "ort", name));
for (const name of WEBGPU_FILES) copyFileSync(join(ortDist, name), join(out, "assets", "ort-webgpu", name));
// What `staticml --version` reports (bundle.py); never copied into a site.
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const versionOf = (name) => lock.packages[`node_modules/${name}`].version;
const bundle = { "onnxruntime-web": versionOf("onnxruntime-web"), "@huggingface/tokenizers": versionOf("@huggingface/tokenizers") };
writeFileSync(join(out, "bundle.json"), JSON.stringify(bundle, null, 1) + "\n");
console.log(`web assets written to ${out}`);
