// The operators the compact engine runs, keyed by domain and operator name, as onnxruntime-web and
// the ONNX reference evaluator organise theirs: one file per operator family (ops/*.ts) holds the
// kernels; the table (src/staticml/data/compact_ops.json, which staticml/compact.py reads too, so
// that build and page never disagree) holds, per operator, the opset range the kernel covers,
// the attributes and values it honours, and the data types of its first input.
import { ops as TABLE } from "../../../src/staticml/data/compact_ops.json";
import type { Kernel } from "./kernel";
import type { DType, OnnxModel } from "./onnx";
import { ELEMENTWISE } from "./ops/elementwise";
import { LINALG } from "./ops/linalg";
import { ML } from "./ops/ml";
import { QUANTIZE } from "./ops/quantize";
import { REDUCE } from "./ops/reduce";
import { SHAPE } from "./ops/shape";

export interface OpSpec {
  domain: string;
  op: string;
  /** Versions of the operator's domain this kernel implements, inclusive. */
  opsets: readonly [number, number];
  /** Attribute name → allowed values (for a list attribute, of each item); null: any value. */
  attrs: Readonly<Record<string, readonly (number | string)[] | null>>;
  /** Data types of the first input; null: any. */
  inputs: readonly DType[] | null;
  run: Kernel;
}

/** The kernels of each domain, by operator name. */
export const KERNELS: Readonly<Record<string, Readonly<Record<string, Kernel>>>> = {
  "": { ...ELEMENTWISE, ...LINALG, ...SHAPE, ...REDUCE, ...QUANTIZE },
  "ai.onnx.ml": ML,
};

interface TableEntry {
  opsets: number[];
  attrs: Record<string, (number | string)[] | null>;
  inputs: string[] | null;
}

function build(): Map<string, OpSpec> {
  const specs = new Map<string, OpSpec>();
  for (const [domain, ops] of Object.entries(TABLE as Record<string, Record<string, TableEntry>>)) {
    for (const [op, entry] of Object.entries(ops)) {
      const run = KERNELS[domain]?.[op];
      if (!run) continue; // the table names an operator with no kernel: test/engine.test.ts fails on it
      specs.set(key(domain, op), {
        domain, op, run, opsets: [entry.opsets[0], entry.opsets[1]], attrs: entry.attrs, inputs: entry.inputs as DType[] | null,
      });
    }
  }
  return specs;
}

function key(domain: string, op: string): string {
  return `${domain}\u0000${op}`;
}

const SPECS = build();

export function lookup(domain: string, op: string): OpSpec | undefined {
  return SPECS.get(key(domain, op));
}

/** Every operator of the registry, "domain.op" (just "op" in the standard domain). */
export function registered(): string[] {
  return [...SPECS.values()].map((s) => label(s.domain, s.op));
}

function label(domain: string, op: string): string {
  return domain ? `${domain}.${op}` : op;
}

function allowed(values: readonly (number | string)[] | null, value: unknown): unknown {
  if (values === null) return undefined;
  const items = Array.isArray(value) ? value : [value];
  return items.find((item) => !values.includes(item as number | string));
}

/** What the model needs that the engine does not implement, in staticml/compact.py's words; empty when it can run it. */
export function unsupported(model: OnnxModel): string[] {
  const missing = [...model.unsupported];
  for (const node of model.nodes) {
    const spec = lookup(node.domain, node.op);
    if (!spec) {
      missing.push(label(node.domain, node.op));
      continue;
    }
    const version = model.opsets.get(node.domain) ?? 0;
    if (version < spec.opsets[0] || version > spec.opsets[1]) missing.push(`${label(node.domain, node.op)} at opset ${version}`);
    for (const [name, value] of node.attrs) {
      if (!(name in spec.attrs)) {
        missing.push(`${node.op} attribute ${name}`);
        continue;
      }
      const bad = allowed(spec.attrs[name], value);
      if (bad !== undefined) missing.push(`${node.op} with ${name}=${bad}`);
    }
  }
  return [...new Set(missing)];
}
