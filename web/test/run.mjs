// npm test: the page's unit tests (the compact engine, the page's parts, the task registry). Python onnxruntime computes the expected outputs
// (tests/engine_fixtures.py writes them into a temporary folder), esbuild bundles test/*.test.ts
// for Node, and Node's own test runner runs them.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const work = mkdtempSync(join(tmpdir(), "staticml-engine-test-"));
const venv = join(root, ".venv", "bin", "python");
const python = process.env.STATICML_PYTHON ?? (existsSync(venv) ? venv : "python3");
try {
  execFileSync(python, [join(root, "tests", "engine_fixtures.py"), join(work, "fixtures")], { stdio: "inherit" });
  const tests = readdirSync(here).filter((name) => name.endsWith(".test.ts"));
  await esbuild.build({
    entryPoints: tests.map((name) => join(here, name)),
    outdir: join(work, "out"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
  const files = tests.map((name) => join(work, "out", name.replace(/\.ts$/, ".mjs")));
  const run = spawnSync(process.execPath, ["--test", ...files], {
    stdio: "inherit",
    env: { ...process.env, ENGINE_FIXTURES: join(work, "fixtures"), STATICML_ROOT: root },
  });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
