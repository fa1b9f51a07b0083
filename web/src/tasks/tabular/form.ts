// The page of a tabular model: a form generated from manifest.json "features" (number fields with
// their training range, selects for categories, yes/no switches, "I'd rather not say" where a value
// may be missing), the result as a probability and a plain sentence, and "what moves this result":
// each input set to its typical value and the row scored again, in the same run (in the page, so it
// works for any model). DOM only; scoring is the caller's (the worker, like every prediction).
// The headline is the probability of the favourable outcome (manifest positive_label), labelled as the
// result for typical answers until the visitor changes one; a compact summary stays in view while the
// result block is off screen; a screen reader hears the result once the visitor pauses.
import { formatValue, recordOf, typicalRow } from "./rows";
import type { Feature, PredictResult, Row, RowValue } from "../../types";
import { debounce } from "../../debounce";
import { $ } from "../../ui";

/** Inputs listed under "what moves this result", and the smallest move worth a line (in probability). */
const MOVES_SHOWN = 5;
const SMALLEST_MOVE = 0.0005;
/** The pause in editing after which the result is announced (a polite live region, once per pause). */
export const ANNOUNCE_AFTER_MS = 1000;

/** The label the headline gives the probability of; `named` when the manifest names it the favourable outcome. */
export interface Outcome {
  label: string;
  named: boolean;
}

export type ScoreRows = (rows: Row[]) => Promise<PredictResult>;

interface Field {
  feature: Feature;
  read(): RowValue | undefined; // undefined: not filled in (and not optional)
  controls: HTMLInputElement[] | (HTMLInputElement | HTMLSelectElement)[];
}

export class TabularForm {
  private readonly fields: Field[];
  private readonly boxes: HTMLElement[] = [];
  private readonly form = document.createElement("form");
  private latest = 0;
  private touched = false; // the visitor has changed an answer: the result is theirs, not the typical one
  private readonly announce = debounce((text: string) => void ($("tab-announce").textContent = text), ANNOUNCE_AFTER_MS);

  constructor(
    private readonly features: Feature[],
    private readonly outcome: Outcome,
    private readonly scoreRows: ScoreRows,
    private readonly onScored: (ms: number) => void,
  ) {
    this.fields = features.map((feature, i) => this.field(feature, i));
  }

  /** Replaces the text box with the form (disabled until the model is ready). */
  mount(): void {
    const classify = document.querySelector<HTMLElement>("section.classify");
    if (!classify) throw new Error("index.html has no section.classify");
    const privacy = document.querySelector(".privacy");
    if (privacy) privacy.textContent = "Your answers never leave this browser: the model runs on your device.";
    const section = document.createElement("section");
    section.id = "tabular";
    section.className = "card tabular";
    section.setAttribute("aria-labelledby", "tabular-title");
    const title = document.createElement("h2");
    title.id = "tabular-title";
    title.textContent = "Your answers";
    this.form.className = "tabular-form";
    this.form.noValidate = true; // out-of-range numbers are allowed: the result says so
    this.form.addEventListener("submit", (event) => event.preventDefault());
    this.form.append(...this.boxes);
    const result = resultBlock();
    section.append(title, this.form, result, summaryBar()); // last: it sticks over the whole section
    classify.before(section);
    document.querySelector<HTMLElement>(".embed-link")?.remove(); // the embeddable element takes text, not a form
    // The summary bar shows only while the headline is off screen (a narrow page, a long form).
    const headline = $("tab-probability").parentElement as HTMLElement;
    new IntersectionObserver(([entry]) => $("tab-summary").classList.toggle("result-in-view", entry.isIntersecting), { threshold: 1 })
      .observe(headline);
    classify.hidden = true;
    this.setDisabled(true);
  }

  enable(): void {
    this.setDisabled(false);
    const edited = (): void => {
      this.touched = true;
      void this.score();
    };
    this.form.addEventListener("input", edited);
    this.form.addEventListener("change", edited);
    void this.score();
  }

  /** The row the form holds now, or the name of the first required field left empty. */
  values(): Row | string {
    const entries: [string, RowValue][] = [];
    for (const { feature, read } of this.fields) {
      const value = read();
      if (value === undefined) return feature.name;
      entries.push([feature.name, value]);
    }
    return recordOf(entries); // not row[name] = value: a feature may be named __proto__
  }

  /** Scores the form; data-pending="1" on the form until the latest scoring is shown (for tests). */
  private async score(): Promise<void> {
    const ticket = ++this.latest;
    this.form.dataset.pending = "1";
    try {
      await this.scoreNow(ticket);
    } finally {
      if (ticket === this.latest) this.form.dataset.pending = "0";
    }
  }

  private async scoreNow(ticket: number): Promise<void> {
    const row = this.values();
    if (typeof row === "string") return this.showProblem(`Fill in “${row}” (or tick “I'd rather not say” where it is offered).`);
    // The row itself, then the row with each differing input set to its typical value.
    const typical = typicalRow(this.features);
    const moved = this.features.filter((f) => typical[f.name] !== null && !same(row[f.name], typical[f.name]));
    const rows = [row, ...moved.map((f) => ({ ...row, [f.name]: typical[f.name] }))];
    let result: PredictResult;
    try {
      result = await this.scoreRows(rows);
    } catch (error) {
      if (ticket === this.latest) this.showProblem(error instanceof Error ? error.message : String(error));
      return;
    }
    if (ticket !== this.latest) return;
    const [own, ...others] = result.predictions;
    const p = own.scores[this.outcome.label];
    const moves = moved
      .map((feature, i) => ({ feature, delta: p - others[i].scores[this.outcome.label] }))
      .filter((m) => Math.abs(m.delta) >= SMALLEST_MOVE)
      .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta))
      .slice(0, MOVES_SHOWN);
    this.showResult(p, own.label, row, moves);
    this.onScored(result.ms);
  }

  private showResult(p: number, label: string, row: Row, moves: { feature: Feature; delta: number }[]): void {
    $("tab-problem").hidden = true;
    $("tab-result").hidden = false;
    const positive = this.outcome.label;
    const whose = this.touched ? "your answers" : "typical answers";
    $("tab-whose").textContent = this.touched ? "Result for your answers" : "Result for typical answers: change any answer to see yours";
    $("tab-probability").textContent = percent(p);
    $("tab-probability").dataset.probability = String(p); // the unrounded value (tests compare it)
    $("tab-probability-label").textContent = `probability of “${positive}”` + (this.outcome.named ? " (the favourable outcome)" : "");
    $("tab-sentence").textContent =
      `For ${whose} the model says “${label}”: it gives “${positive}” a probability of ${percent(p)}.` +
      outOfRange(this.features, row);
    $("tab-summary-text").textContent = `${percent(p)} probability of “${positive}” · ${whose}`;
    this.announce(`${percent(p)} probability of “${positive}” for ${whose}; the model says “${label}”.`);
    const typical = typicalRow(this.features);
    const items = moves.map(({ feature, delta }) => {
      const item = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = feature.label ?? feature.name;
      const what = delta > 0 ? "raises" : "lowers";
      const points = Math.abs(delta * 100).toFixed(1);
      item.append(name, ` ${shownValue(feature, row[feature.name])} instead of the typical ` +
        `${shownValue(feature, typical[feature.name])} ${what} the probability by ${points} points`);
      return item;
    });
    $("tab-moves-none").hidden = items.length > 0;
    $("tab-moves-hint").hidden = items.length === 0;
    $("tab-moves").replaceChildren(...items);
  }

  private showProblem(message: string): void {
    $("tab-result").hidden = true;
    $("tab-problem").textContent = message;
    $("tab-problem").hidden = false;
    $("tab-summary-text").textContent = message;
    this.announce(message);
  }

  private setDisabled(disabled: boolean): void {
    for (const field of this.fields) {
      const [main, skip] = field.controls;
      main.disabled = disabled || (skip instanceof HTMLInputElement && skip.checked);
      if (skip) skip.disabled = disabled;
    }
  }

  private field(feature: Feature, index: number): Field {
    const id = `tab-f${index}`;
    const box = document.createElement("div");
    box.className = "tab-field";
    this.boxes.push(box);
    const label = document.createElement("label");
    label.htmlFor = id;
    label.className = "field-label";
    label.textContent = feature.label ?? feature.name;
    if (feature.unit) label.append(" ", unitSpan(feature.unit));
    const main = control(feature, id);
    main.setAttribute("data-feature", feature.name);
    box.append(label);
    const described: string[] = [];
    if (feature.type === "yes-no") {
      const row = document.createElement("span");
      row.className = "switch-row";
      const state = document.createElement("span");
      state.className = "switch-state";
      const input = main as HTMLInputElement;
      const show = (): void => void (state.textContent = input.checked ? "Yes" : "No");
      input.addEventListener("change", show);
      show();
      row.append(main, state);
      box.append(row);
    } else {
      box.append(main);
    }
    if (feature.type === "number" && rangeText(feature)) {
      const hint = element("span", `${id}-hint`, "muted tab-hint", rangeText(feature));
      described.push(hint.id);
      box.append(hint);
    }
    if (feature.help) {
      const help = element("span", `${id}-help`, "muted tab-help", feature.help);
      described.push(help.id);
      box.append(help);
    }
    if (described.length > 0) main.setAttribute("aria-describedby", described.join(" "));
    let skip: HTMLInputElement | null = null;
    if (feature.optional) {
      skip = document.createElement("input");
      skip.type = "checkbox";
      skip.id = `${id}-skip`;
      skip.setAttribute("data-skip", feature.name);
      const skipLabel = document.createElement("label");
      skipLabel.className = "tab-skip";
      skipLabel.append(skip, " I'd rather not say");
      const toggle = skip;
      toggle.addEventListener("change", () => (main.disabled = toggle.checked));
      box.append(skipLabel);
    }
    const read = (): RowValue | undefined => {
      if (skip?.checked) return null;
      if (feature.type === "yes-no") return (main as HTMLInputElement).checked;
      if (feature.type === "category") return main.value;
      if (main.value.trim() === "") return feature.optional ? null : undefined;
      const number = Number(main.value);
      return Number.isFinite(number) ? number : undefined;
    };
    return { feature, read, controls: skip ? [main, skip] : [main] };
  }
}

function control(feature: Feature, id: string): HTMLInputElement | HTMLSelectElement {
  if (feature.type === "category") {
    const select = document.createElement("select");
    select.id = id;
    const categories = feature.categories ?? [];
    select.append(...categories.map((c) => new Option(c, c, c === feature.typical, c === feature.typical)));
    return select;
  }
  const input = document.createElement("input");
  input.id = id;
  if (feature.type === "yes-no") {
    input.type = "checkbox";
    input.className = "switch";
    input.setAttribute("role", "switch");
    input.checked = feature.typical === true;
    return input;
  }
  input.type = "number";
  input.inputMode = "decimal";
  if (feature.min !== undefined) input.min = String(feature.min);
  if (feature.max !== undefined) input.max = String(feature.max);
  input.step = feature.step !== undefined ? String(feature.step) : "any";
  if (typeof feature.typical === "number") input.value = String(feature.typical);
  return input;
}

/** The compact summary that sticks to the bottom of the screen while the result block is out of view.
 * Hidden from screen readers: the result block and the announcement say the same. */
function summaryBar(): HTMLElement {
  const bar = element("div", "tab-summary", "tab-summary");
  bar.setAttribute("aria-hidden", "true");
  bar.append(element("span", "tab-summary-text"));
  return bar;
}

function resultBlock(): HTMLElement {
  const result = document.createElement("div");
  result.className = "result tab-result-block";
  // Announced once the visitor pauses (#tab-announce), not on every keystroke: no live region here.
  const announce = element("p", "tab-announce", "visually-hidden");
  announce.setAttribute("role", "status");
  announce.setAttribute("aria-live", "polite");
  const problem = element("p", "tab-problem", "tab-problem");
  problem.hidden = true;
  const shown = element("div", "tab-result");
  shown.hidden = true;
  const whose = element("p", "tab-whose", "muted tab-whose");
  const headline = element("p", "", "verdict");
  headline.append(element("strong", "tab-probability", "label"), " ", element("span", "tab-probability-label", "muted"));
  const movesTitle = element("h3", "", "", "What moves this result");
  const movesHint = element("p", "tab-moves-hint", "muted", "Each of your answers set to its typical value, scored again on this device:");
  const none = element("p", "tab-moves-none", "muted", "Your answers are the typical ones: change one to see what moves the result.");
  shown.append(whose, headline, element("p", "tab-sentence"), movesTitle, movesHint, element("ul", "tab-moves", "tab-moves"), none);
  result.append(announce, problem, shown);
  return result;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, id = "", className = "", text = ""): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (id) node.id = id;
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function percent(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

function rangeText(feature: Feature): string {
  if (feature.min === undefined || feature.max === undefined) return "";
  return `Expected: ${feature.min.toLocaleString("en")} to ${feature.max.toLocaleString("en")}${feature.unit ? ` ${feature.unit}` : ""}`;
}

function unitSpan(unit: string): HTMLElement {
  return element("span", "", "tab-unit", `(${unit})`);
}

/** A value as the form shows it: with its unit. */
function shownValue(feature: Feature, value: RowValue): string {
  const text = formatValue(feature, value);
  return feature.unit && typeof value === "number" ? `${text} ${feature.unit}` : text;
}

function outOfRange(features: Feature[], row: Row): string {
  const outside = features.filter((f) => {
    const v = row[f.name];
    return f.type === "number" && typeof v === "number" && ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max));
  });
  if (outside.length === 0) return "";
  return ` ${outside.map((f) => f.label ?? f.name).join(", ")} ${outside.length === 1 ? "is" : "are"} outside the expected range: treat the result with care.`;
}

function same(a: RowValue, b: RowValue): boolean {
  return a === b || (typeof a === "boolean" && typeof b === "number" && Number(a) === b) || (typeof b === "boolean" && typeof a === "number" && Number(b) === a);
}
