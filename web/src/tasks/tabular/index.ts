// Tabular classification on the classifier page: the form generated from manifest.json "features"
// instead of the text box, and a file scored a whole row at a time; window.staticml gains
// predict(rows), rows of form data [{column: value}] checked in the model's runtime.
import { $ } from "../../ui";
import type { Prediction, PredictResult, Row } from "../../types";
import type { ClassifierPage, ClassifierTask, ClassifierView } from "../task";
import { TabularForm } from "./form";
import { featuresOf, positiveLabel } from "./rows";

function mount(page: ClassifierPage): ClassifierView {
  const features = featuresOf(page.manifest);
  page.serverMode?.sendsAnswers();
  const score = (rows: Row[]): Promise<PredictResult> =>
    page.serverMode?.enabled ? page.serverMode.predictRows(rows) : page.run({ type: "predict-rows", rows });
  const form = new TabularForm(features, positiveLabel(page.manifest), score, (ms) => {
    $("d-infer").textContent = `${ms.toFixed(1)} ms`;
  });
  form.mount();
  return {
    ready() {
      form.enable();
      page.fileScoring.view.scoreWholeRows(features.map((f) => f.name));
    },
  };
}

export const tabular: ClassifierTask = {
  title: "Check your answers privately",
  mount,
  api: {
    async predict(page: ClassifierPage, rows: unknown): Promise<Prediction[]> {
      return (await page.run({ type: "predict-rows", rows: rows as never })).predictions;
    },
  },
};
