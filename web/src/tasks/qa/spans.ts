// Start and end logits of each window → the best answer spans, as Python's spans.py: per window,
// softmax over the passage's tokens only, score = p(start) × p(end), end at or after start and at
// most `maxAnswerTokens` long; the best over all windows, one per character range, highest first.
import type { Window } from "./windows";

export interface Span {
  score: number;
  start: number;
  end: number;
}

const TOP_TOKENS = 20;

function contextSoftmax(logits: Float32Array, valid: boolean[]): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < valid.length; i++) if (valid[i] && logits[i] > max) max = logits[i];
  const out = new Float64Array(valid.length);
  let sum = 0;
  for (let i = 0; i < valid.length; i++) if (valid[i]) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < valid.length; i++) out[i] /= sum;
  return out;
}

function topTokens(p: Float64Array, valid: boolean[]): number[] {
  const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b);
  return order.slice(0, TOP_TOKENS).filter((i) => valid[i]);
}

export function bestSpans(windows: Window[], starts: Float32Array[], ends: Float32Array[], maxAnswerTokens: number, top: number): Span[] {
  const all: Span[] = [];
  windows.forEach((window, w) => {
    const valid = window.spans.map((s) => s !== null);
    const pStart = contextSoftmax(starts[w], valid);
    const pEnd = contextSoftmax(ends[w], valid);
    for (const s of topTokens(pStart, valid)) {
      for (const e of topTokens(pEnd, valid)) {
        if (s <= e && e < s + maxAnswerTokens) {
          all.push({ score: pStart[s] * pEnd[e], start: (window.spans[s] as [number, number])[0], end: (window.spans[e] as [number, number])[1] });
        }
      }
    }
  });
  all.sort((a, b) => b.score - a.score || a.start - b.start || a.end - b.end);
  const seen = new Set<string>();
  const best: Span[] = [];
  for (const span of all) {
    const key = `${span.start}:${span.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    best.push(span);
    if (best.length === top) break;
  }
  return best;
}
