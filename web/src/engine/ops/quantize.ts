// DequantizeLinear: int8/uint8 → float32, one scale (and zero point) or one per slice of an axis.
import { alloc, attr, axis, fail, FLOAT, num, size, type Kernel } from "../kernel";

const dequantizeLinear: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, ["int8", "uint8"]);
  const scale = num(node, inputs, 1, FLOAT);
  const zero = inputs[2];
  if (zero && zero.type !== x.type) fail(node, `zero point is ${zero.type}, input is ${x.type}`);
  if (zero && zero.data.length !== scale.data.length) fail(node, "zero point and scale differ in size");
  const out = alloc("float32", x.data.length);
  const s = scale.data;
  const z = zero?.data as ArrayLike<number> | undefined;
  const xd = x.data;
  if (s.length === 1) {
    const zp = z ? z[0] : 0;
    const s0 = s[0];
    for (let i = 0; i < out.length; i++) out[i] = (xd[i] - zp) * s0;
  } else {
    if (scale.dims.length !== 1) fail(node, "blocked quantization is not implemented");
    const ax = axis(node, attr(node, "axis", 1), x.dims.length);
    if (x.dims[ax] !== s.length) fail(node, `${s.length} scales for axis ${ax} of [${x.dims}]`);
    const inner = size(x.dims.slice(ax + 1));
    for (let i = 0; i < out.length; i++) {
      const c = Math.floor(i / inner) % s.length;
      out[i] = (xd[i] - (z ? z[c] : 0)) * s[c];
    }
  }
  return [{ type: "float32", dims: x.dims, data: out }];
};

export const QUANTIZE: Record<string, Kernel> = { DequantizeLinear: dequantizeLinear };
