// The ai.onnx.ml operators scikit-learn pipelines export with (skl2onnx): imputation, scaling,
// one-hot and label encoding, column picking, linear models and tree ensembles, with their
// outputs (labels and scores) computed as onnxruntime's CPU kernels do, down to its binary-case
// rules (onnxruntime/core/providers/cpu/ml/): the page must give Python's numbers, not the spec's.
import { alloc, fail, input, list, NUMERIC, num, text, type Kernel } from "../kernel";
import type { Node, NumTensor, Tensor } from "../onnx";

const f32 = Math.fround;

/** Rows × columns of a [N, C] (or [C]) input, as onnxruntime's ml kernels read it. */
function matrix(node: Node, x: NumTensor): [number, number] {
  if (x.dims.length === 0 || x.dims.length > 2) fail(node, `input of rank ${x.dims.length}; expected [N, C] or [C]`);
  return x.dims.length === 1 ? [1, x.dims[0]] : [x.dims[0], x.dims[1]];
}

/** Per-column parameters: one value for all columns, or one per column. */
function perColumn(node: Node, values: number[], columns: number, what: string): (j: number) => number {
  if (values.length === 1) return () => values[0];
  if (values.length !== columns) fail(node, `${values.length} ${what} for ${columns} columns`);
  return (j) => values[j];
}

const imputer: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, ["float32", "int64"]);
  const float = x.type === "float32";
  const imputed = list<number>(node, float ? "imputed_value_floats" : "imputed_value_int64s");
  const replaced = node.attrs.get(float ? "replaced_value_float" : "replaced_value_int64") ?? 0;
  const columns = x.dims[x.dims.length - 1] ?? 1;
  const value = perColumn(node, imputed, columns, "imputed values");
  const out = alloc(x.type, x.data.length);
  const xd = x.data;
  const isMissing = Number.isNaN(replaced) ? Number.isNaN : (v: number) => v === replaced;
  for (let i = 0; i < out.length; i++) out[i] = isMissing(xd[i]) ? value(i % columns) : xd[i];
  return [{ type: x.type, dims: x.dims, data: out }];
};

const scaler: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, NUMERIC);
  const columns = x.dims[x.dims.length - 1] ?? 1;
  const offset = perColumn(node, list<number>(node, "offset", [0]), columns, "offsets");
  const scale = perColumn(node, list<number>(node, "scale", [1]), columns, "scales");
  const out = alloc("float32", x.data.length);
  const xd = x.data;
  for (let i = 0; i < out.length; i++) out[i] = f32(f32(xd[i]) - offset(i % columns)) * scale(i % columns);
  return [{ type: "float32", dims: x.dims, data: out }];
};

const normalizer: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, NUMERIC);
  const [rows, columns] = matrix(node, x);
  const norm = text(node, "norm", "MAX");
  const out = alloc("float32", x.data.length);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.data.subarray(r * columns, (r + 1) * columns), f32);
    let divisor = norm === "MAX" ? Math.max(...row) : 0;
    if (norm === "L1") for (const v of row) divisor = f32(divisor + Math.abs(v));
    if (norm === "L2") divisor = Math.sqrt(row.reduce((s, v) => f32(s + f32(v * v)), 0));
    row.forEach((v, j) => (out[r * columns + j] = divisor === 0 ? v : v / divisor));
  }
  return [{ type: "float32", dims: x.dims, data: out }];
};

const oneHotEncoder: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0, ["string", "int64", "int32", "float32"]);
  const categories: (string | number)[] = x.type === "string" ? list<string>(node, "cats_strings") : list<number>(node, "cats_int64s");
  const index = new Map(categories.map((c, i) => [c, i]));
  const zeros = node.attrs.get("zeros") ?? 1;
  const k = categories.length;
  const out = alloc("float32", x.data.length * k, true);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    const at = index.get(typeof v === "string" ? v : Math.trunc(v));
    if (at !== undefined) out[i * k + at] = 1;
    else if (zeros === 0) fail(node, `category ${JSON.stringify(v)} is not one of its categories (zeros=0)`);
  }
  return [{ type: "float32", dims: [...x.dims, k], data: out }];
};

/** Keys → values, each of the type the attributes name (keys by the input's type), a default for the rest. */
const labelEncoder: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0, ["string", "int64", "float32"]);
  const keys: (string | number)[] = list(node, { string: "keys_strings", int64: "keys_int64s" }[x.type as string] ?? "keys_floats");
  const [type, values, fallback] =
    node.attrs.has("values_strings") ? ["string", list<string>(node, "values_strings"), text(node, "default_string", "_Unused")] as const
    : node.attrs.has("values_int64s") ? ["int64", list<number>(node, "values_int64s"), node.attrs.get("default_int64") ?? -1] as const
    : node.attrs.has("values_floats") ? ["float32", list<number>(node, "values_floats"), node.attrs.get("default_float") ?? -0] as const
    : fail(node, "needs values_strings, values_int64s or values_floats");
  if (keys.length !== values.length) fail(node, `${keys.length} keys for ${values.length} values`);
  const map = new Map<string | number, string | number>(keys.map((key, i) => [key, values[i]]));
  const out = alloc(type, x.data.length) as { [i: number]: unknown };
  for (let i = 0; i < x.data.length; i++) out[i] = map.get(x.data[i]) ?? fallback;
  return [{ type, dims: x.dims, data: out } as Tensor];
};

/** X[..., indices]: the picked columns of the last axis. */
const arrayFeatureExtractor: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const picked = num(node, inputs, 1, ["int64", "int32"]).data;
  const columns = x.dims[x.dims.length - 1];
  if (x.dims.length === 0 || picked.length === 0) fail(node, "needs an input of rank 1 or more and at least one index");
  for (const j of picked) if (j < 0 || j >= columns) fail(node, `index ${j} is out of range (${columns} columns)`);
  const rows = x.data.length / columns;
  const dims = x.dims.length === 1 ? [1, picked.length] : [...x.dims.slice(0, -1), picked.length];
  const out = alloc(x.type, rows * picked.length) as { [i: number]: unknown };
  for (let r = 0, k = 0; r < rows; r++) for (const j of picked) out[k++] = x.data[r * columns + j];
  return [{ type: x.type, dims, data: out } as Tensor];
};

// ---- classifiers: labels (output 1) and scores (output 2) ----

/** onnxruntime's ComputeLogistic, in float32. */
function logistic(v: number): number {
  const e = f32(1 / f32(1 + f32(Math.exp(-Math.abs(v)))));
  return v < 0 ? f32(1 - e) : e;
}

/** post_transform over one row of scores (two or more of them), in place. */
function transform(row: Float64Array, how: string): void {
  if (how === "LOGISTIC") row.forEach((v, i) => (row[i] = logistic(v)));
  else if (how === "SOFTMAX" || how === "SOFTMAX_ZERO") {
    const max = Math.max(...row);
    let sum = 0;
    row.forEach((v, i) => {
      const keep = how === "SOFTMAX" || v > 1e-7 || v < -1e-7;
      row[i] = keep ? Math.exp(v - max) : v * Math.exp(-max);
      if (keep) sum += row[i];
    });
    row.forEach((v, i) => (row[i] = v / sum));
  }
}

/** The label output: int64 labels, or strings (classlabels_strings), picked by index. */
function labelsOut(node: Node, names: string, ints: string, picked: number[]): Tensor {
  if (node.attrs.has(names)) {
    const labels = list<string>(node, names);
    return { type: "string", dims: [picked.length], data: picked.map((i) => labels[i]) };
  }
  const labels = list<number>(node, ints, [0, 1]);
  return { type: "int64", dims: [picked.length], data: Float64Array.from(picked, (i) => labels[i]) };
}

const linearClassifier: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, NUMERIC);
  const [rows, features] = matrix(node, x);
  const coefficients = list<number>(node, "coefficients");
  const intercepts = list<number>(node, "intercepts");
  const classes = intercepts.length;
  if (classes === 0 || coefficients.length !== classes * features) {
    fail(node, `${coefficients.length} coefficients and ${classes} intercepts for ${features} features`);
  }
  const labelCount = list(node, node.attrs.has("classlabels_strings") ? "classlabels_strings" : "classlabels_ints").length;
  const secondClass = classes === 1;
  if (secondClass && labelCount !== 2) fail(node, `one row of coefficients needs exactly 2 labels, not ${labelCount}`);
  const how = text(node, "post_transform", "NONE");
  const width = secondClass ? 2 : classes;
  const scores = alloc("float32", rows * width);
  const picked: number[] = [];
  const row = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < classes; c++) {
      let sum = 0;
      for (let j = 0; j < features; j++) sum += x.data[r * features + j] * coefficients[c * features + j];
      row[c] = f32(sum + intercepts[c]);
    }
    if (classes === 1) picked.push(row[0] > 0 ? 1 : 0);
    else picked.push(row.indexOf(Math.max(...row)));
    // onnxruntime (1.32): one score s gives [1 - p, p], p = σ(s) with LOGISTIC, else s itself.
    if (secondClass) {
      const p = how === "LOGISTIC" ? logistic(row[0]) : row[0];
      (scores[r * 2] = 1 - p), (scores[r * 2 + 1] = p);
    }
    else {
      if (classes > 1) transform(row, how);
      scores.set(row, r * classes);
    }
  }
  return [labelsOut(node, "classlabels_strings", "classlabels_ints", picked), { type: "float32", dims: [rows, width], data: scores }];
};

const BRANCHES: Record<string, (x: number, v: number) => boolean> = {
  BRANCH_LEQ: (x, v) => x <= v,
  BRANCH_LT: (x, v) => x < v,
  BRANCH_GTE: (x, v) => x >= v,
  BRANCH_GT: (x, v) => x > v,
  BRANCH_EQ: (x, v) => x === v,
  BRANCH_NEQ: (x, v) => x !== v,
};

/** A tree ensemble laid out once per node: flat arrays of tree nodes, and each leaf's (class, weight) pairs. */
interface Forest {
  roots: number[];
  feature: Int32Array;
  value: Float32Array;
  test: ((x: number, v: number) => boolean)[]; // undefined for a leaf
  missingTrue: Uint8Array;
  yes: Int32Array;
  no: Int32Array;
  leaves: Map<number, [number, number][]>;
  classes: number;
  binaryCase: boolean;
  allPositive: boolean;
}

const forests = new WeakMap<Node, Forest>();

function forestOf(node: Node): Forest {
  const known = forests.get(node);
  if (known) return known;
  const trees = list<number>(node, "nodes_treeids");
  const ids = list<number>(node, "nodes_nodeids");
  const modes = list<string>(node, "nodes_modes");
  const n = trees.length;
  const where = new Map<string, number>(trees.map((t, i) => [`${t}:${ids[i]}`, i]));
  const at = (tree: number, id: number): number => {
    const i = where.get(`${tree}:${id}`);
    return i === undefined ? fail(node, `tree ${tree} has no node ${id}`) : i;
  };
  const yesIds = list<number>(node, "nodes_truenodeids");
  const noIds = list<number>(node, "nodes_falsenodeids");
  const isLeaf = modes.map((m) => m === "LEAF");
  const forest: Forest = {
    roots: [...new Set(trees)].map((t) => at(t, Math.min(...ids.filter((_, i) => trees[i] === t)))),
    feature: Int32Array.from(list<number>(node, "nodes_featureids")),
    value: Float32Array.from(list<number>(node, "nodes_values")),
    test: modes.map((m) => BRANCHES[m]),
    missingTrue: Uint8Array.from(list<number>(node, "nodes_missing_value_tracks_true", new Array<number>(n).fill(0))),
    yes: Int32Array.from(trees, (t, i) => (isLeaf[i] ? -1 : at(t, yesIds[i]))),
    no: Int32Array.from(trees, (t, i) => (isLeaf[i] ? -1 : at(t, noIds[i]))),
    leaves: new Map(),
    classes: list(node, node.attrs.has("classlabels_strings") ? "classlabels_strings" : "classlabels_int64s").length,
    binaryCase: false,
    allPositive: true,
  };
  if ([forest.feature, forest.value, modes, yesIds, noIds, ids].some((a) => a.length !== n)) fail(node, "its nodes_* attributes differ in length");
  const classIds = list<number>(node, "class_ids");
  const weights = list<number>(node, "class_weights");
  const leafTrees = list<number>(node, "class_treeids");
  list<number>(node, "class_nodeids").forEach((id, i) => {
    const leaf = at(leafTrees[i], id);
    if (classIds[i] < 0 || classIds[i] >= forest.classes) fail(node, `class id ${classIds[i]} for ${forest.classes} labels`);
    if (!forest.leaves.has(leaf)) forest.leaves.set(leaf, []);
    forest.leaves.get(leaf)!.push([classIds[i], f32(weights[i])]);
  });
  forest.binaryCase = forest.classes === 2 && new Set(classIds).size === 1;
  forest.allPositive = weights.every((w) => w >= 0);
  forests.set(node, forest);
  return forest;
}

function leafOf(forest: Forest, root: number, x: ArrayLike<number>, base: number): number {
  let i = root;
  while (forest.yes[i] >= 0) {
    const v = x[base + forest.feature[i]];
    i = forest.test[i](v, forest.value[i]) || (forest.missingTrue[i] === 1 && Number.isNaN(v)) ? forest.yes[i] : forest.no[i];
  }
  return i;
}

const treeEnsembleClassifier: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, NUMERIC);
  const [rows, features] = matrix(node, x);
  const forest = forestOf(node);
  const base = list<number>(node, "base_values").map(f32);
  const how = text(node, "post_transform", "NONE");
  const k = forest.classes;
  const scores = alloc("float32", rows * k);
  const picked: number[] = [];
  const sums = new Float64Array(k);
  const has = new Uint8Array(k);
  const xf = Float32Array.from(x.data);
  for (let r = 0; r < rows; r++) {
    sums.fill(0);
    has.fill(0);
    for (const root of forest.roots) {
      for (const [c, w] of forest.leaves.get(leafOf(forest, root, xf, r * features)) ?? []) (sums[c] = f32(sums[c] + w)), (has[c] = 1);
    }
    const [label, row] = k > 2 ? multiclass(sums, has, base, how) : binary(forest, sums, has, base, how);
    picked.push(label);
    scores.set(row, r * k);
  }
  return [labelsOut(node, "classlabels_strings", "classlabels_int64s", picked), { type: "float32", dims: [rows, k], data: scores }];
};

function multiclass(sums: Float64Array, has: Uint8Array, base: number[], how: string): [number, Float64Array] {
  base.forEach((b, c) => ((sums[c] = has[c] ? f32(sums[c] + b) : b), (has[c] = 1)));
  let best = -1;
  sums.forEach((v, c) => {
    if (has[c] && (best < 0 || v > sums[best])) best = c;
  });
  const row = Float64Array.from(sums);
  transform(row, how);
  return [best, row];
}

/**
 * onnxruntime's binary case (TreeAggregatorClassifier::FinalizeScores): the class sums become two
 * scores, or one score s that is written as [1 - s, s] (weights all positive), [σ(-s), σ(s)]
 * (LOGISTIC) or [-s, s], by its rules on base_values and on which classes the leaves feed.
 */
function binary(forest: Forest, sums: Float64Array, has: Uint8Array, base: number[], how: string): [number, Float64Array] {
  const scores = Array.from(sums);
  let has1 = has[1] === 1;
  if (base.length === 2 && has1) [scores[0], scores[1]] = [-f32(base[1] + scores[0]), f32(base[1] + scores[0])];
  else if (base.length === 2) [scores[0], scores[1]] = [f32(scores[0] + base[0]), f32(scores[1] + base[1])];
  if (base.length === 1) scores[0] = f32(scores[0] + base[0]);
  const two = base.length === 2 || has1; // else the second score is dropped before the rules below
  has1 &&= two;
  const positive = has1 ? scores[1] : has[0] ? scores[0] : 0;
  let label = positive > 0 ? 1 : 0;
  let second = base.length === 0 ? 3 : -1;
  if (forest.binaryCase) {
    label = forest.allPositive ? (positive > 0.5 ? 1 : 0) : positive > 0 ? 1 : 0;
    second = forest.allPositive ? 1 - label : 3 - label;
  }
  const row = Float64Array.of(scores[0], two ? scores[1] : 0);
  if (two) transform(row, how);
  else if (second === 0 || second === 1) (row[0] = f32(1 - scores[0])), (row[1] = scores[0]);
  else if (second >= 2 && how === "LOGISTIC") (row[0] = logistic(-scores[0])), (row[1] = logistic(scores[0]));
  else if (second >= 2) row[0] = -scores[0], (row[1] = scores[0]);
  return [label, row];
}

export const ML: Record<string, Kernel> = {
  Imputer: imputer,
  Scaler: scaler,
  Normalizer: normalizer,
  OneHotEncoder: oneHotEncoder,
  LabelEncoder: labelEncoder,
  ArrayFeatureExtractor: arrayFeatureExtractor,
  LinearClassifier: linearClassifier,
  TreeEnsembleClassifier: treeEnsembleClassifier,
};

