// What the result says for a conformal prediction set (manifest "conformal", Python:
// staticml.runtime.prediction_sets): one label as it is, two or more as "positive or neutral", all
// of them as "not sure". A model without sets (trained before them) keeps the old threshold wording.
import type { Prediction } from "../../types";

export interface Wording {
  label: string;
  note: string;
}

/** The members of a set of the probabilities: each label at or above the threshold, and always the
 * top one, by falling probability (ties in label order), as Python's Classifier.sets. */
export function predictionSet(probs: number[], labels: string[], threshold: number): string[] {
  const top = probs.reduce((best, p, i) => (p > probs[best] ? i : best), 0);
  const order = labels.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.filter((i) => i === top || probs[i] >= threshold).map((i) => labels[i]);
}

/** The result's words for a prediction with a set, or null without one. */
export function setWording(prediction: Prediction, coverage: number | undefined): Wording | null {
  const set = prediction.set;
  if (!set || set.length === 0) return null;
  const labels = Object.keys(prediction.scores);
  const share = coverage === undefined ? "" : ` (its answers hold the right label ${Math.round(coverage * 100)}% of the time)`;
  if (set.length === 1) return { label: set[0], note: "" };
  if (set.length >= labels.length) {
    return { label: "not sure", note: `the model is not sure: any of ${labels.join(", ")} could be right${share}` };
  }
  return { label: set.join(" or "), note: `the model cannot choose between ${set.join(" and ")}${share}` };
}
