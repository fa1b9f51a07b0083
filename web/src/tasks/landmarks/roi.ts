// A turned region of interest and its crop, step by step as staticml/tasks/face_landmarks/roi.py
// computes them (MediaPipe's DetectionsToRects, RectTransformation, ImageToTensor and
// LandmarkProjection), in float64, sampling the crop the same way (bilinear at pixel centres, zero
// outside), so that the page's landmarks equal Python's. A rect is in the frame's pixels.

export interface Rect {
  cx: number;
  cy: number;
  width: number;
  height: number;
  /** Radians, positive turning x towards y (clockwise on the screen). */
  angle: number;
}

export interface RoiSpec {
  target_angle: number;
  scale: number;
  shift_x?: number;
  shift_y?: number;
  square_long?: boolean;
}

export function normalizedAngle(angle: number): number {
  return angle - 2 * Math.PI * Math.floor((angle + Math.PI) / (2 * Math.PI));
}

export function rotation(start: readonly number[], end: readonly number[], targetAngle: number): number {
  return normalizedAngle(targetAngle - Math.atan2(-(end[1] - start[1]), end[0] - start[0]));
}

export function transformed(rect: Rect, roi: RoiSpec): Rect {
  let { cx, cy, width, height } = rect;
  const { angle } = rect;
  const shiftX = roi.shift_x ?? 0;
  const shiftY = roi.shift_y ?? 0;
  cx += width * shiftX * Math.cos(angle) - height * shiftY * Math.sin(angle);
  cy += width * shiftX * Math.sin(angle) + height * shiftY * Math.cos(angle);
  if (roi.square_long ?? true) width = height = Math.max(width, height);
  return { cx, cy, width: width * roi.scale, height: height * roi.scale, angle };
}

/** The region of a detection: its box [x, y, w, h] and two keypoints, normalised to the frame. */
export function fromBox(box: readonly number[], start: readonly number[], end: readonly number[], frameWidth: number, frameHeight: number, roi: RoiSpec): Rect {
  const angle = rotation([start[0] * frameWidth, start[1] * frameHeight], [end[0] * frameWidth, end[1] * frameHeight], roi.target_angle);
  const rect = { cx: (box[0] + box[2] / 2) * frameWidth, cy: (box[1] + box[3] / 2) * frameHeight, width: box[2] * frameWidth, height: box[3] * frameHeight, angle };
  return transformed(rect, roi);
}

/** The region around two landmarks (an eye's corners), normalised to the frame. */
export function fromPoints(start: readonly number[], end: readonly number[], frameWidth: number, frameHeight: number, roi: RoiSpec): Rect {
  const x0 = start[0] * frameWidth, y0 = start[1] * frameHeight, x1 = end[0] * frameWidth, y1 = end[1] * frameHeight;
  const angle = rotation([x0, y0], [x1, y1], roi.target_angle);
  return transformed({ cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, width: Math.abs(x1 - x0), height: Math.abs(y1 - y0), angle }, roi);
}

/** The rect's pixels of an RGBA frame as the model's NHWC float32 input in `range`. */
export function crop(rgba: Uint8ClampedArray, frameWidth: number, frameHeight: number, rect: Rect, outWidth: number, outHeight: number,
                     range: readonly number[], flip = false): Float32Array {
  const out = new Float32Array(outWidth * outHeight * 3);
  const cos = Math.cos(rect.angle), sin = Math.sin(rect.angle);
  const [low, high] = range;
  const factor = (high - low) / 255;
  const at = (x: number, y: number, c: number): number =>
    x >= 0 && x < frameWidth && y >= 0 && y < frameHeight ? rgba[(y * frameWidth + x) * 4 + c] : 0;
  for (let v = 0; v < outHeight; v++) {
    const ly = ((v + 0.5) / outHeight - 0.5) * rect.height;
    for (let u = 0; u < outWidth; u++) {
      let lx = ((u + 0.5) / outWidth - 0.5) * rect.width;
      if (flip) lx = -lx;
      const sx = rect.cx + cos * lx - sin * ly - 0.5;
      const sy = rect.cy + sin * lx + cos * ly - 0.5;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const top = at(x0, y0, c) * (1 - fx) + at(x0 + 1, y0, c) * fx;
        const bottom = at(x0, y0 + 1, c) * (1 - fx) + at(x0 + 1, y0 + 1, c) * fx;
        out[(v * outWidth + u) * 3 + c] = (top * (1 - fy) + bottom * fy) * factor + low;
      }
    }
  }
  return out;
}

/** Landmarks (flat, `dims` values each) in the crop's input pixels → the frame, normalised (z as x). */
export function project(points: ArrayLike<number>, dims: number, count: number, rect: Rect, outWidth: number, outHeight: number,
                        frameWidth: number, frameHeight: number, flip = false): number[][] {
  const cos = Math.cos(rect.angle), sin = Math.sin(rect.angle);
  const result: number[][] = [];
  for (let i = 0; i < count; i++) {
    let lx = (points[i * dims] / outWidth - 0.5) * rect.width;
    const ly = (points[i * dims + 1] / outHeight - 0.5) * rect.height;
    if (flip) lx = -lx;
    const point = [(rect.cx + cos * lx - sin * ly) / frameWidth, (rect.cy + sin * lx + cos * ly) / frameHeight];
    if (dims > 2) point.push(points[i * dims + 2] / outWidth * rect.width / frameWidth);
    result.push(point);
  }
  return result;
}

export function boundingBox(points: number[][]): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

export function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-Math.max(-80, Math.min(80, value))));
}
