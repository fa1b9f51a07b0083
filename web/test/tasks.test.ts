// The page's task registry (web/src/tasks/) against Python's (src/staticml/tasks/): the same task
// names, a part in each place a task's page needs one, and no task name compared outside tasks/.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { partFor, TASKS, type PageName } from "../src/tasks/index";
import type { Manifest } from "../src/types";

const root = process.env.STATICML_ROOT ?? join(process.cwd(), "..");
const web = join(root, "web", "src");

/** Every `NAME = "..."` of a Python task module (tasks/<task>/__init__.py, tasks/<task>.py). */
function pythonTaskNames(): string[] {
  const tasks = join(root, "src", "staticml", "tasks");
  const modules = readdirSync(tasks, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? [join(tasks, entry.name, "__init__.py")] : entry.name.endsWith(".py") ? [join(tasks, entry.name)] : []);
  const names: string[] = [];
  for (const module of modules) {
    let source: string;
    try {
      source = readFileSync(module, "utf8");
    } catch {
      continue; // a folder without __init__.py (__pycache__)
    }
    for (const match of source.matchAll(/^NAME = "([^"]+)"$/gm)) names.push(match[1]);
  }
  return names.sort();
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(folder, entry.name)) : entry.name.endsWith(".ts") ? [join(folder, entry.name)] : []);
}

/** The quoted keys of the registry object in one of tasks/'s part files. */
function registeredIn(file: string): string[] {
  const source = readFileSync(join(web, "tasks", file), "utf8");
  return [...source.matchAll(/^\s+"([a-z0-9-]+)":/gm)].map((m) => m[1]).sort();
}

const tasksOn = (page: PageName): string[] => Object.entries(TASKS).filter(([, entry]) => entry.page === page).map(([name]) => name).sort();

test("the page registry names exactly the tasks Python's registry knows", () => {
  const python = pythonTaskNames();
  assert.ok(python.length >= 3, `found only ${python.length} Python task names: ${python.join(", ")}`);
  assert.deepEqual(Object.keys(TASKS).sort(), python);
});

test("each task has a folder and a part in every registry of its page", () => {
  for (const [name, entry] of Object.entries(TASKS)) {
    assert.ok(readdirSync(join(web, "tasks", entry.folder)).includes("index.ts"), `${name}: web/src/tasks/${entry.folder}/index.ts`);
  }
  assert.deepEqual(registeredIn("classifier.ts"), tasksOn("classifier"));
  assert.deepEqual(registeredIn("compact.ts"), tasksOn("classifier"));
  assert.deepEqual(registeredIn("onnxruntime.ts"), tasksOn("classifier"));
  assert.deepEqual(registeredIn("video.ts"), tasksOn("video"));
});

test("a model of another page's task, or of an unknown task, is refused in one sentence naming it", () => {
  const manifest = (task: string) => ({ name: "m", task }) as Manifest;
  const parts = { "text-classification": 1 };
  assert.equal(partFor(parts, manifest("text-classification"), "classifier"), 1);
  assert.throws(() => partFor(parts, manifest("face-detection"), "classifier"),
                { message: "model m is a face-detection model: it runs on the video page, not on the classifier page" });
  assert.throws(() => partFor(parts, manifest("constructor"), "classifier"), /model m has task "constructor", which this page does not know/);
});

test("no file outside web/src/tasks/ names a task or compares a manifest's task", () => {
  const names = Object.keys(TASKS);
  const offenders: string[] = [];
  for (const file of filesUnder(web)) {
    const path = relative(web, file);
    if (path.startsWith(`tasks/`) || path.startsWith(`tasks\\`)) continue;
    const source = readFileSync(file, "utf8");
    for (const name of names) if (source.includes(`"${name}"`) || source.includes(`'${name}'`) || source.includes(`\`${name}\``)) offenders.push(`${path}: ${name}`);
    if (/\.task\s*[!=]==?/.test(source) || /[!=]==?\s*[\w.]*\.task\b/.test(source)) offenders.push(`${path}: compares .task`);
  }
  assert.deepEqual(offenders, []);
});
