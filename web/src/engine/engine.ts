// The compact engine: runs an ONNX file of the operators in ops.ts, in plain JS, on the thread
// that calls it (the page's main thread: a tiny model predicts in microseconds, less than one
// round trip to a worker). At load it parses the file, refuses anything it does not implement
// (naming it), and computes once every node that depends on constants only (e.g. int8 weights
// → float), so that a run is only the work that depends on the input.
import { OnnxError, parseModel, type OnnxModel, type Tensor } from "./onnx";
import { OPS, type OpSpec } from "./ops";

/** Standard-domain opsets whose semantics ops.ts implements (axes as inputs since 13). */
export const OPSET: readonly [number, number] = [13, 25];

/** What the model needs that the engine does not implement; empty when it can run it. */
export function unsupported(model: OnnxModel): string[] {
  const missing = [...model.unsupported];
  const version = model.opsets.get("") ?? 0;
  if (version < OPSET[0] || version > OPSET[1]) missing.push(`opset ${version}`);
  for (const node of model.nodes) {
    const spec = node.domain === "" ? OPS[node.op] : undefined;
    if (!spec) {
      missing.push(node.domain ? `${node.domain}.${node.op}` : node.op);
      continue;
    }
    for (const [name, value] of node.attrs) {
      const allowed = spec.attrs[name];
      if (allowed === undefined) missing.push(`${node.op} attribute ${name}`);
      else if (allowed !== null && !allowed.includes(value as number)) missing.push(`${node.op} with ${name}=${value}`);
    }
    if (node.outputs.length !== 1) missing.push(`${node.op} with ${node.outputs.length} outputs`);
  }
  return [...new Set(missing)];
}

interface Step {
  spec: OpSpec;
  node: OnnxModel["nodes"][number];
  inputs: number[]; // value slots, -1 for an omitted optional input
  output: number;
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
      const step: Step = { spec: OPS[node.op], node, inputs: node.inputs.map((n) => (n ? slot(n) : -1)), output: slot(node.outputs[0]) };
      known.add(node.outputs[0]);
      if (step.inputs.every((i) => i < 0 || constants[i] !== undefined)) {
        constants[step.output] = runStep(step, constants); // depends on constants only: once, now
      } else plan.push(step);
    }
    const outputs = model.outputs.map((o) => o.name);
    for (const name of outputs) {
      if (!known.has(name)) throw new Error(`${file}: the graph output "${name}" is produced by no node`);
    }
    const types = new Map(model.inputs.map((i) => [i.name, i.elemType]));
    return new Engine(plan, constants, slots, inputs, outputs, types);
  }

  /** Runs the graph on `feeds` (one tensor per graph input) and returns the named outputs. */
  run(feeds: Record<string, Tensor>, outputs: string[]): Tensor[] {
    const values = this.constants.slice();
    for (const name of this.inputNames) {
      if (!feeds[name]) throw new Error(`no value for the graph input ${name}`);
      values[this.slots.get(name)!] = feeds[name];
    }
    for (const step of this.plan) values[step.output] = runStep(step, values);
    return outputs.map((name) => {
      const value = this.slots.has(name) ? values[this.slots.get(name)!] : undefined;
      if (!value) throw new Error(`the graph has no output named ${name}`);
      return value;
    });
  }
}

function runStep(step: Step, values: (Tensor | undefined)[]): Tensor {
  const [out] = step.spec.run(step.inputs.map((i) => (i < 0 ? undefined : values[i])), step.node);
  return out;
}
