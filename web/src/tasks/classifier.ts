// The classifier page's part of each task (index.ts): its view and its members of window.staticml.
import type { TaskOn } from "./index";
import { tabular } from "./tabular/index";
import type { ClassifierTask } from "./task";
import { text } from "./text/index";

export const CLASSIFIER_PAGE: Record<TaskOn<"classifier">, ClassifierTask> = {
  "text-classification": text,
  "tabular-classification": tabular,
};
