// Opt-in server mode: offered only when site.json names an API (`build --api-url`, `serve --api`),
// off by default, and labelled as sending away what the visitor enters: their text on a text page,
// their answers on a form (sendsAnswers). window.staticml.predict never uses it.
import type { PredictResult, Row, SiteConfig } from "./types";

interface Wording {
  what: string; // what the switch sends, in its label
  local: string; // the privacy note while it is off
  on: (host: string) => string; // the privacy note while it is on
}

const TEXT: Wording = {
  what: "your text",
  local: "Your text never leaves this browser: the model runs on your device.",
  on: (host) => `Server mode is on: each text you type is sent to ${host} to be classified.`,
};
const ANSWERS: Wording = {
  what: "your answers",
  local: "Your answers never leave this browser: the model runs on your device.",
  on: (host) => `Server mode is on: your answers are sent to ${host} to be scored, each time you change one.`,
};

export class ServerMode {
  private readonly checkbox: HTMLInputElement;
  private readonly label: HTMLLabelElement;
  private wording = TEXT;

  private constructor(
    private readonly endpoint: string,
    private readonly model: string,
  ) {
    this.checkbox = document.createElement("input");
    this.checkbox.type = "checkbox";
    this.checkbox.id = "server-mode";
    this.label = document.createElement("label");
    this.label.htmlFor = "server-mode";
    this.showLabel();
    const row = document.createElement("div");
    row.className = "picker server-mode";
    row.append(this.checkbox, this.label);
    document.querySelector(".header")?.after(row);
    this.checkbox.addEventListener("change", () => this.showNote());
  }

  /** The toggle, or null when the site has no API. */
  static offer(site: SiteConfig, model: string): ServerMode | null {
    if (site.api_url == null) return null;
    const base = new URL(site.api_url, location.href);
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    return new ServerMode(new URL("v1/predict", base).href, model);
  }

  get enabled(): boolean {
    return this.checkbox.checked;
  }

  /** A form's page: the switch and the notes speak of the visitor's answers. */
  sendsAnswers(): void {
    this.wording = ANSWERS;
    this.showLabel();
    this.showNote();
  }

  async predict(texts: string[]): Promise<PredictResult> {
    return this.post({ texts, model: this.model });
  }

  /** A tabular model's rows, as the API's `rows` field takes them. */
  async predictRows(rows: Row[]): Promise<PredictResult> {
    return this.post({ rows, model: this.model });
  }

  private async post(body: object): Promise<PredictResult> {
    const started = performance.now();
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`the server answered ${response.status}: ${answer.detail ?? ""}`);
    return { predictions: answer.predictions, ms: performance.now() - started };
  }

  private showLabel(): void {
    this.label.textContent = `Server mode: sends ${this.wording.what} to the server (${new URL(this.endpoint).host})`;
  }

  private showNote(): void {
    const note = document.querySelector(".privacy");
    if (!note) return;
    note.textContent = this.enabled ? this.wording.on(new URL(this.endpoint).host) : this.wording.local;
  }
}
