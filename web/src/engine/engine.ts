// The compact engine: runs an ONNX file of the operators in its registry (registry.ts, kernels in
// ops/*.ts), in plain JS, on the thread
// that calls it (the page's main thread: a tiny model predicts in microseconds, less than one
// round trip to a worker). At load it parses the file, refuses anything it does not implement
// (naming it), and computes once every node that depends on constants only (e.g. int8 weights
// → float), so that a run is only the work that depends on the input.
import { withBuffers, type Buffers, type Kernel } from "./kernel";
import { OnnxError, parseModel, type OnnxModel, type Tensor } from "./onnx";
import { gatherMean, mulReduceSum } from "./ops/reduce";
import { lookup, unsupported } from "./registry";

export { unsupported };

interface Step {
  run: Kernel;
  node: OnnxModel["nodes"][number];
  inputs: number[]; // value slots, -1 for an omitted optional input
  outputs: number[]; // value slots, -1 for an output the graph leaves unnamed
  buffers: Buffers | null; // null while folding constants: their results are kept
  /** The operator that runs inside this one (its output read by nothing else). */
  fusedOp?: string;
  /** Reads only constants and shapes (Shape outputs and what is computed from them alone): rerun only when those change. */
  shapeOnly?: boolean;
  /** This step's results in the previous run. */
  last?: Tensor[];
}

export class Engine {
  private constructor(
    private readonly plan: Step[],
    private readonly constants: (Tensor | undefined)[],
    private readonly slots: Map<string, number>,
    readonly inputNames: string[],
    readonly outputNames: string[],
    /** Declared onnx element type of each graph input (0 when not given). */
    readonly inputTypes: Map<string, number>,
  ) {}

  /** Parses and prepares `bytes`; errors name `file` and say what is wrong, in plain words. */
  static load(bytes: Uint8Array, file: string): Engine {
    let model: OnnxModel;
    try {
      model = parseModel(bytes);
    } catch (error) {
      if (!(error instanceof OnnxError)) throw error;
      throw new Error(`${file} is not a complete ONNX model: ${error.message}; the file is truncated or damaged.`);
    }
    const missing = unsupported(model);
    if (missing.length > 0) {
      throw new Error(`${file} needs what the compact engine does not implement: ${missing.join(", ")}`);
    }
    dequantizeTables(model);
    dequantizeRowTables(model);
    const slots = new Map<string, number>();
    const constants: (Tensor | undefined)[] = [];
    const slot = (name: string): number => {
      if (!slots.has(name)) slots.set(name, constants.push(undefined) - 1);
      return slots.get(name)!;
    };
    for (const [name, tensor] of model.initializers) constants[slot(name)] = tensor;
    const inputs = model.inputs.map((i) => i.name).filter((name) => !model.initializers.has(name));
    const known = new Set([...inputs, ...model.initializers.keys()]);
    for (const name of inputs) slot(name);
    const plan: Step[] = [];
    for (const node of model.nodes) {
      for (const name of node.inputs) {
        if (name && !known.has(name)) {
          throw new Error(`${file}: node ${node.name} reads "${name}", which nothing before it produces (the graph is incomplete)`);
        }
      }
      const step: Step = {
        run: lookup(node.domain, node.op)!.run, node, inputs: node.inputs.map((n) => (n ? slot(n) : -1)),
        outputs: node.outputs.map((n) => (n ? slot(n) : -1)), buffers: null,
      };
      for (const name of node.outputs) if (name) known.add(name);
      if (step.inputs.every((i) => i < 0 || constants[i] !== undefined)) {
        runStep(step, constants); // depends on constants only: once, now
      } else plan.push({ ...step, buffers: { list: [], next: 0 } });
    }
    const outputs = model.outputs.map((o) => o.name);
    for (const name of outputs) {
      if (!known.has(name)) throw new Error(`${file}: the graph output "${name}" is produced by no node`);
    }
    fuse(plan, outputs.map((name) => slots.get(name)!), constants);
    markShapeOnly(plan, constants);
    const types = new Map(model.inputs.map((i) => [i.name, i.elemType]));
    return new Engine(plan, constants, slots, inputs, outputs, types);
  }

  /** The operators a run executes, in order ("Mul+ReduceSum", "Gather+ReduceMean" where fused): for tests and curious readers. */
  get steps(): string[] {
    return this.plan.map((step) => (step.fusedOp ? `${step.fusedOp}+${step.node.op}` : step.node.op));
  }

  /** Runs the graph on `feeds` (one tensor per graph input) and returns (copies of) the named outputs. */
  run(feeds: Record<string, Tensor>, outputs: string[]): Tensor[] {
    const values = this.constants.slice();
    for (const name of this.inputNames) {
      if (!Object.hasOwn(feeds, name)) throw new Error(`no value for the graph input ${name}`); // a feature may be named "constructor"
      values[this.slots.get(name)!] = feeds[name];
    }
    const changed = new Set<number>(); // slots of shape values that differ from the previous run's
    for (const step of this.plan) {
      if (step.shapeOnly && step.last && !step.inputs.some((i) => changed.has(i))) {
        step.outputs.forEach((slot, i) => slot >= 0 && (values[slot] = step.last![i])); // same inputs: same results, still in its buffers
        continue;
      }
      const before = step.last;
      runStep(step, values);
      if (step.node.op === "Shape" || step.shapeOnly) {
        step.last = step.outputs.map((slot) => values[slot]!);
        // A shape-only step that ran had new inputs (its results may sit in the same reused buffers:
        // no comparing those); a Shape's result is a new array, compared with the previous one.
        if (step.shapeOnly || !before || !sameValues(step.last[0], before[0])) step.outputs.forEach((slot) => changed.add(slot));
      }
    }
    return outputs.map((name) => {
      const value = this.slots.has(name) ? values[this.slots.get(name)!] : undefined;
      if (!value) throw new Error(`the graph has no output named ${name}`);
      return { type: value.type, dims: value.dims, data: value.data.slice() } as Tensor; // its buffer is reused next run
    });
  }
}

/**
 * Gather(int8 table) → DequantizeLinear(one scale, one zero point), as `train` exports the tiny
 * model's int8 embeddings, becomes a Gather from the table dequantized once: the same floats
 * (dequantizing is elementwise, so it commutes with picking rows), without the per-token work.
 */
function dequantizeTables(model: OnnxModel): void {
  const users = new Map<string, number>();
  for (const node of model.nodes) for (const name of node.inputs) users.set(name, (users.get(name) ?? 0) + 1);
  for (const name of model.outputs) users.set(name.name, (users.get(name.name) ?? 0) + 1);
  const constant = (name: string | undefined): Tensor | undefined => (name ? model.initializers.get(name) : undefined);
  model.nodes = model.nodes.filter((dq) => {
    if (dq.op !== "DequantizeLinear" || dq.domain !== "") return true;
    const gather = model.nodes.find((n) => n.op === "Gather" && n.domain === "" && n.outputs[0] === dq.inputs[0]);
    const table = constant(gather?.inputs[0]);
    const scale = constant(dq.inputs[1]);
    const zero = dq.inputs[2] ? constant(dq.inputs[2]) : undefined;
    if (!gather || !table || !scale || scale.data.length !== 1 || (dq.inputs[2] && !zero) || users.get(dq.inputs[0]) !== 1) return true;
    const name = `${gather.inputs[0]}/dequantized`;
    model.initializers.set(name, lookup("", "DequantizeLinear")!.run([table, scale, zero], dq)[0]);
    gather.inputs[0] = name;
    gather.outputs[0] = dq.outputs[0];
    return false;
  });
}

/**
 * Gather(int8 table Q) → Cast(float) → Mul(Gather(scales S)) with the same indices, as `staticml
 * import` quantizes an embedding per row, becomes a Gather from Cast(Q)·S computed once: the same
 * floats (Cast and Mul are elementwise and S has one scale per row), without the per-token work.
 */
function dequantizeRowTables(model: OnnxModel): void {
  const users = new Map<string, number>();
  for (const name of [...model.nodes.flatMap((n) => n.inputs), ...model.outputs.map((o) => o.name)]) users.set(name, (users.get(name) ?? 0) + 1);
  const producer = (name: string) => model.nodes.find((n) => n.outputs[0] === name && n.domain === "");
  const once = (name: string) => users.get(name) === 1;
  for (const mul of model.nodes.filter((n) => n.op === "Mul" && n.domain === "")) {
    for (const [castName, scaleName] of [mul.inputs, [...mul.inputs].reverse()]) {
      const cast = producer(castName);
      const table = cast?.op === "Cast" && cast.attrs.get("to") === 1 ? producer(cast.inputs[0]) : undefined;
      const scales = producer(scaleName);
      if (!cast || !table || !scales || table.op !== "Gather" || scales.op !== "Gather" || table.inputs[1] !== scales.inputs[1]) continue;
      const q = model.initializers.get(table.inputs[0]);
      const s = model.initializers.get(scales.inputs[0]);
      const axis0 = (n: typeof table) => (n.attrs.get("axis") ?? 0) === 0;
      if (!q || !s || (q.type !== "int8" && q.type !== "uint8") || s.type !== "float32" || !axis0(table) || !axis0(scales)) continue;
      if (q.dims.length !== s.dims.length || q.dims[0] !== s.dims[0] || s.dims.slice(1).some((d) => d !== 1)) continue;
      if (!once(castName) || !once(scaleName) || !once(cast.inputs[0])) continue;
      const floats = lookup("", "Cast")!.run([q], cast)[0];
      const name = `${table.inputs[0]}/dequantized`;
      model.initializers.set(name, lookup("", "Mul")!.run([floats, s], mul)[0]);
      Object.assign(table, { inputs: [name, table.inputs[1]], outputs: [...mul.outputs] });
      model.nodes = model.nodes.filter((n) => n !== cast && n !== scales && n !== mul);
      break;
    }
  }
}

/** Marks the steps that read only constants and shape values (Shape's outputs, and what they alone compute). */
function markShapeOnly(plan: Step[], constants: (Tensor | undefined)[]): void {
  const shapeValues = new Set<number>();
  for (const step of plan) {
    const fromShapes = step.node.op === "Shape" || step.inputs.every((i) => i < 0 || constants[i] !== undefined || shapeValues.has(i));
    if (step.node.op !== "Shape") step.shapeOnly = fromShapes;
    if (fromShapes) step.outputs.forEach((slot) => slot >= 0 && shapeValues.add(slot));
  }
}

function sameValues(a: Tensor, b: Tensor): boolean {
  if (a.type !== b.type || a.data.length !== b.data.length || a.dims.length !== b.dims.length) return false;
  return a.dims.every((d, i) => d === b.dims[i]) && Array.prototype.every.call(a.data, (v: unknown, i: number) => v === b.data[i]);
}

/**
 * A Mul whose output only a ReduceSum reads (attention pooling) runs inside it, and a Gather of
 * embedding rows whose output only a ReduceMean over the tokens reads runs inside that: one pass,
 * same numbers. (The gathered indices must then be a [batch, tokens] tensor: checked when it runs.)
 */
function fuse(plan: Step[], outputs: number[], constants: (Tensor | undefined)[]): void {
  const reads = new Map<number, number>();
  for (const slot of [...plan.flatMap((s) => s.inputs), ...outputs]) reads.set(slot, (reads.get(slot) ?? 0) + 1);
  for (const sum of plan) {
    const mul = plan.find((s) => s.outputs[0] === sum.inputs[0] && s.node.op === "Mul" && s.node.domain === "");
    if (sum.node.op !== "ReduceSum" || sum.node.domain !== "" || !mul || reads.get(mul.outputs[0]) !== 1) continue;
    Object.assign(sum, { run: mulReduceSum(mul.node), inputs: [...mul.inputs, sum.inputs[1] ?? -1], fusedOp: "Mul" });
    plan.splice(plan.indexOf(mul), 1);
  }
  for (const mean of plan) {
    const gather = plan.find((s) => s.outputs[0] === mean.inputs[0] && s.node.op === "Gather" && s.node.domain === "");
    const table = gather && constants[gather.inputs[0]];
    const axes = (mean.node.attrs.get("axes") as number[] | undefined) ?? (mean.inputs[1] >= 0 ? constants[mean.inputs[1]]?.data : undefined);
    if (mean.node.op !== "ReduceMean" || mean.node.domain !== "" || !gather || !table || table.type !== "float32" || table.dims.length !== 2) continue;
    if ((gather.node.attrs.get("axis") ?? 0) !== 0 || reads.get(gather.outputs[0]) !== 1 || axes?.length !== 1 || (axes[0] !== 1 && axes[0] !== -2)) continue;
    if (mean.node.attrs.get("noop_with_empty_axes") === 1) continue;
    Object.assign(mean, { run: gatherMean(gather.node), inputs: [...gather.inputs], fusedOp: "Gather" });
    plan.splice(plan.indexOf(gather), 1);
  }
}

/** Runs one step and stores its results in their slots. */
function runStep(step: Step, values: (Tensor | undefined)[]): void {
  const inputs = step.inputs.map((i) => (i < 0 ? undefined : values[i]));
  const results = withBuffers(step.buffers, () => step.run(inputs, step.node));
  step.outputs.forEach((slot, i) => {
    if (slot >= 0) values[slot] = results[i];
  });
}
