// Reads the parts of an ONNX ModelProto the compact engine needs, straight from the protobuf wire
// format: opsets, graph inputs/outputs, nodes with their attributes, initializers (raw_data and
// the typed data fields). Hand-written on purpose: the whole engine has a budget of ~30 KB
// compressed, and a general protobuf library (protobufjs) alone is larger than that. Field
// numbers are those of onnx.proto; anything the engine cannot honour (external data, sparse
// initializers, subgraphs, unknown types) is recorded in `unsupported`, never silently skipped.

export type DType = "float32" | "uint8" | "int8" | "int32" | "int64" | "bool" | "string";
/** int64 values are held as doubles (exact up to 2^53, which the ops check where it matters), bools as 0/1 bytes. */
export type NumData = Float32Array | Uint8Array | Int8Array | Int32Array | Float64Array;
export type Data = NumData | string[];

export interface NumTensor {
  type: Exclude<DType, "string">;
  dims: number[];
  data: NumData;
}

export interface StringTensor {
  type: "string";
  dims: number[];
  data: string[];
}

export type Tensor = NumTensor | StringTensor;

/** f / i → number, floats / ints → number[], s → string, strings → string[], t → Tensor. */
export type Attribute = number | number[] | string | string[] | Tensor;

export interface Node {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attribute>;
}

export interface ValueInfo {
  name: string;
  /** onnx TensorProto.DataType, 0 when not a tensor or not given. */
  elemType: number;
}

export interface OnnxModel {
  opsets: Map<string, number>;
  nodes: Node[];
  initializers: Map<string, Tensor>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** What the file holds that the engine does not implement (e.g. "external data for w"). */
  unsupported: string[];
}

/** onnx.TensorProto.DataType codes the engine reads. */
export const ELEM_TYPES: Record<number, DType> = { 1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 8: "string", 9: "bool" };
/** Names of the other types, for messages (onnx's TensorProto.DataType, lowercased). */
const OTHER_TYPES = ",,,,uint16,int16,int32,int64,string,bool,float16,double,uint32,uint64,complex64,complex128,bfloat16".split(",");

export class OnnxError extends Error {}

const utf8 = new TextDecoder();

class Reader {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new OnnxError(`it ends in the middle of its data (byte ${this.pos} of ${this.buf.byteLength})`);
    }
  }

  /** A varint as a signed 64-bit number (two's complement), exact up to 2^53. */
  varint(): number {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      this.need(1);
      const b = this.buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw new OnnxError(`it has a malformed number at byte ${this.pos}`);
  }

  length(): number {
    const n = this.varint();
    this.need(n);
    return n;
  }

  bytes(): Uint8Array {
    const n = this.length();
    this.pos += n;
    return this.buf.subarray(this.pos - n, this.pos);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  message(): Reader {
    const n = this.length();
    this.pos += n;
    return new Reader(this.buf, this.pos - n, this.pos);
  }

  float(): number {
    this.need(4);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4);
    this.pos += 4;
    return view.getFloat32(0, true);
  }

  /** Repeated numbers: packed (wire type 2) or one per field. */
  repeated(wire: number, into: number[], one: () => number): void {
    if (wire !== 2) {
      into.push(one.call(this));
      return;
    }
    const r = this.message();
    while (r.more()) into.push(one.call(r));
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.need(8), (this.pos += 8);
    else if (wire === 2) {
      const n = this.length(); // first: `this.pos += this.length()` would add to the old position
      this.pos += n;
    }
    else if (wire === 5) this.need(4), (this.pos += 4);
    else throw new OnnxError(`it has protobuf wire type ${wire} at byte ${this.pos}, which ONNX does not use`);
  }

  /** Calls `field` for each (number, wire type) of this message. */
  fields(field: (num: number, wire: number) => void): void {
    while (this.more()) {
      const tag = this.varint();
      const before = this.pos;
      field(Math.floor(tag / 8), tag & 7);
      if (this.pos === before) this.skip(tag & 7); // a field the caller did not read
    }
  }
}

/** Parses an ONNX model; throws OnnxError (with the reason) on a truncated or malformed file. */
export function parseModel(bytes: Uint8Array): OnnxModel {
  const model: OnnxModel = {
    opsets: new Map(),
    nodes: [],
    initializers: new Map(),
    inputs: [],
    outputs: [],
    unsupported: [],
  };
  let graph = false;
  const top = new Reader(bytes, 0, bytes.byteLength);
  top.fields((num) => {
    if (num === 7) {
      graph = true;
      readGraph(top.message(), model);
    } else if (num === 8) {
      let domain = "";
      let version = 0;
      const r = top.message();
      r.fields((n) => {
        if (n === 1) domain = r.string();
        else if (n === 2) version = r.varint();
      });
      model.opsets.set(domain === "ai.onnx" ? "" : domain, version);
    } // other fields (local functions: a node using one has an op the engine does not know) are skipped
  });
  if (!graph) throw new OnnxError("it has no graph");
  if (!model.opsets.has("")) throw new OnnxError("it declares no opset for the standard operators");
  return model;
}

function readGraph(r: Reader, model: OnnxModel): void {
  r.fields((num) => {
    if (num === 1) model.nodes.push(readNode(r.message(), model));
    else if (num === 5) {
      const t = readTensor(r.message(), model);
      if (t) model.initializers.set(t.name, t.tensor);
    } else if (num === 11) model.inputs.push(readValueInfo(r.message()));
    else if (num === 12) model.outputs.push(readValueInfo(r.message()));
    else if (num === 15) model.unsupported.push("sparse initializers"); // its bytes are skipped
  });
}

function readNode(r: Reader, model: OnnxModel): Node {
  const node: Node = { op: "", domain: "", name: "", inputs: [], outputs: [], attrs: new Map() };
  r.fields((num) => {
    if (num === 1) node.inputs.push(r.string());
    else if (num === 2) node.outputs.push(r.string());
    else if (num === 3) node.name = r.string();
    else if (num === 4) node.op = r.string();
    else if (num === 7) node.domain = r.string();
    else if (num === 5) readAttribute(r.message(), node, model);
  });
  if (node.domain === "ai.onnx") node.domain = "";
  node.name ||= node.outputs[0] ?? node.op;
  return node;
}

// AttributeProto.type: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7, STRINGS 8; the others
// (graphs, tensor lists, sparse tensors, type protos) are no attribute of an operator the engine implements.
function readAttribute(r: Reader, node: Node, model: OnnxModel): void {
  let name = "";
  let type = 0;
  let value: Attribute | undefined;
  const list: number[] = [];
  const strings: string[] = [];
  r.fields((num, wire) => {
    if (num === 1) name = r.string();
    else if (num === 20) type = r.varint();
    else if (num === 2) value = r.float();
    else if (num === 3) value = r.varint();
    else if (num === 4) value = r.string();
    else if (num === 5) value = readTensor(r.message(), model)?.tensor;
    else if (num === 7) r.repeated(wire, list, r.float);
    else if (num === 8) r.repeated(wire, list, r.varint);
    else if (num === 9) strings.push(r.string());
  });
  if (type === 1 || type === 2) node.attrs.set(name, value ?? 0);
  else if (type === 3) node.attrs.set(name, value ?? "");
  else if (type === 4 && value !== undefined) node.attrs.set(name, value);
  else if (type === 6 || type === 7) node.attrs.set(name, list);
  else if (type === 8) node.attrs.set(name, strings);
  else if (type !== 4) model.unsupported.push(`attribute ${name} of ${node.op || "a node"} (attribute type ${type})`);
}

function readValueInfo(r: Reader): ValueInfo {
  const info: ValueInfo = { name: "", elemType: 0 };
  r.fields((num) => {
    if (num === 1) info.name = r.string();
    else if (num === 2) {
      const type = r.message(); // TypeProto
      type.fields((n) => {
        if (n !== 1) return;
        const tensor = type.message(); // TypeProto.Tensor
        tensor.fields((m) => {
          if (m === 1) info.elemType = tensor.varint();
        });
      });
    }
  });
  return info;
}

function readTensor(r: Reader, model: OnnxModel): { name: string; tensor: Tensor } | null {
  let name = "";
  let elemType = 0;
  let raw: Uint8Array | null = null;
  let external = false;
  const dims: number[] = [];
  const floats: number[] = [];
  const ints: number[] = []; // int32_data (int8/uint8/bool live there too) and int64_data
  const strings: string[] = [];
  r.fields((num, wire) => {
    if (num === 1) r.repeated(wire, dims, r.varint);
    else if (num === 2) elemType = r.varint();
    else if (num === 4) r.repeated(wire, floats, r.float);
    else if (num === 5 || num === 7) r.repeated(wire, ints, r.varint);
    else if (num === 6) strings.push(r.string());
    else if (num === 8) name = r.string();
    else if (num === 9) raw = r.bytes();
    else if (num === 13) r.message(), (external = true);
    else if (num === 14) external = r.varint() === 1 || external;
  });
  const type = ELEM_TYPES[elemType];
  if (external) model.unsupported.push(`external data (${name})`);
  else if (!type) model.unsupported.push(`data type ${OTHER_TYPES[elemType] || elemType} (${name})`);
  if (external || !type) return null;
  const count = dims.reduce((a, b) => a * b, 1);
  const data = type === "string" ? strings : raw ? fromRaw(type, raw) : fromValues(type, type === "float32" ? floats : ints);
  if (data.length !== count) throw new OnnxError(`tensor ${name} holds ${data.length} values for shape [${dims}]`);
  return { name, tensor: { type, dims, data } as Tensor };
}

function fromRaw(type: DType, raw: Uint8Array): NumData {
  const copy = raw.slice().buffer; // aligned, and the file's buffer can be let go
  if (type === "float32") return checkedView(copy, 4, (b) => new Float32Array(b));
  if (type === "int32") return checkedView(copy, 4, (b) => new Int32Array(b));
  if (type === "int64") return Float64Array.from(checkedView(copy, 8, (b) => new BigInt64Array(b)), Number);
  return type === "int8" ? new Int8Array(copy) : new Uint8Array(copy);
}

function checkedView<T>(buffer: ArrayBuffer, size: number, view: (b: ArrayBuffer) => T): T {
  if (buffer.byteLength % size !== 0) throw new OnnxError(`raw data of ${buffer.byteLength} bytes is not whole values`);
  return view(buffer);
}

function fromValues(type: DType, values: number[]): NumData {
  if (type === "float32") return Float32Array.from(values);
  if (type === "int64") return Float64Array.from(values);
  if (type === "int32") return Int32Array.from(values);
  return type === "int8" ? Int8Array.from(values) : Uint8Array.from(values);
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new OnnxError("the compact engine needs a little-endian machine (ONNX raw data is little-endian)");
}
