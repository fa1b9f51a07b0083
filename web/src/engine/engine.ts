// The compact engine: runs an ONNX file of the operators in its registry (registry.ts, kernels in
// ops/*.ts), in plain JS, on the thread
// that calls it (the page's main thread: a tiny model predicts in microseconds, less than one
// round trip to a worker). At load it parses the file, refuses anything it does not implement
// (naming it), and computes once every node that depends on constants only (e.g. int8 weights
// → float), so that a run is only the work that depends on the input.
import { withBuffers, type Buffers, type Kernel } from "./kernel";
import { OnnxError, parseModel, type OnnxModel, type Tensor } from "./onnx";
import { mulReduceSum } from "./ops/reduce";
import { lookup, unsupported } from "./registry";

export { unsupported };

interface Step {
  run: Kernel;
  node: OnnxModel["nodes"][number];
  inputs: number[]; // value slots, -1 for an omitted optional input
  outputs: number[]; // value slots, -1 for an output the graph leaves unnamed
  buffers: Buffers | null; // null while folding constants: their results are kept
  fused?: boolean;
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
    fuse(plan, outputs.map((name) => slots.get(name)!));
    const types = new Map(model.inputs.map((i) => [i.name, i.elemType]));
    return new Engine(plan, constants, slots, inputs, outputs, types);
  }

  /** The operators a run executes, in order ("Mul+ReduceSum" where fused): for tests and curious readers. */
  get steps(): string[] {
    return this.plan.map((step) => (step.fused ? `Mul+${step.node.op}` : step.node.op));
  }

  /** Runs the graph on `feeds` (one tensor per graph input) and returns (copies of) the named outputs. */
  run(feeds: Record<string, Tensor>, outputs: string[]): Tensor[] {
    const values = this.constants.slice();
    for (const name of this.inputNames) {
      if (!feeds[name]) throw new Error(`no value for the graph input ${name}`);
      values[this.slots.get(name)!] = feeds[name];
    }
    for (const step of this.plan) runStep(step, values);
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

/** A Mul whose output only a ReduceSum reads (attention pooling) runs inside it: one pass, same numbers. */
function fuse(plan: Step[], outputs: number[]): void {
  const reads = new Map<number, number>();
  for (const slot of [...plan.flatMap((s) => s.inputs), ...outputs]) reads.set(slot, (reads.get(slot) ?? 0) + 1);
  for (const sum of plan) {
    const mul = plan.find((s) => s.outputs[0] === sum.inputs[0] && s.node.op === "Mul" && s.node.domain === "");
    if (sum.node.op !== "ReduceSum" || sum.node.domain !== "" || !mul || reads.get(mul.outputs[0]) !== 1) continue;
    Object.assign(sum, { run: mulReduceSum(mul.node), inputs: [...mul.inputs, sum.inputs[1] ?? -1], fused: true });
    plan.splice(plan.indexOf(mul), 1);
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
