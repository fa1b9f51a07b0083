// Conformal prediction sets in the page: the members (as Python's staticml.runtime.prediction_sets
// and Classifier.sets) and the result's words for one label, two, and all.
import assert from "node:assert/strict";
import { test } from "node:test";
import { predictionSet, setWording } from "../src/tasks/text/sets";

const labels = ["negative", "neutral", "positive"];

test("sets: every label at or above the threshold, the top one always, most probable first", () => {
  assert.deepEqual(predictionSet([0.2, 0.3, 0.5], labels, 0.25), ["positive", "neutral"]);
  assert.deepEqual(predictionSet([0.34, 0.33, 0.33], labels, 0.3), ["negative", "neutral", "positive"]);
  assert.deepEqual(predictionSet([0.4, 0.35, 0.25], labels, 0.9), ["negative"]); // never empty
});

test("sets: one label as it is, two as 'positive or neutral', all as 'not sure'", () => {
  const scores = { negative: 0.2, neutral: 0.3, positive: 0.5 };
  assert.deepEqual(setWording({ label: "positive", scores, set: ["positive"] }, 0.9), { label: "positive", note: "" });
  const two = setWording({ label: "positive", scores, set: ["positive", "neutral"] }, 0.9);
  assert.equal(two?.label, "positive or neutral");
  assert.match(two?.note ?? "", /90% of the time/);
  assert.equal(setWording({ label: "positive", scores, set: ["positive", "neutral", "negative"] }, 0.9)?.label, "not sure");
  assert.equal(setWording({ label: "positive", scores }, 0.9), null); // a model without sets
});
