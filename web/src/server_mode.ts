// Opt-in server mode: offered only when site.json names an API (`build --api-url`, `serve --api`),
// off by default, and labelled as sending the text away. window.staticml.predict never uses it.
import type { PredictResult, SiteConfig } from "./types";

const LOCAL_NOTE = "Your text never leaves this browser: the model runs on your device.";

export class ServerMode {
  private readonly checkbox: HTMLInputElement;

  private constructor(
    private readonly endpoint: string,
    private readonly model: string,
  ) {
    this.checkbox = document.createElement("input");
    this.checkbox.type = "checkbox";
    this.checkbox.id = "server-mode";
    const label = document.createElement("label");
    label.htmlFor = "server-mode";
    label.textContent = `Server mode: sends your text to the server (${new URL(endpoint).host})`;
    const row = document.createElement("div");
    row.className = "picker server-mode";
    row.append(this.checkbox, label);
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

  async predict(texts: string[]): Promise<PredictResult> {
    const started = performance.now();
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ texts, model: this.model }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`the server answered ${response.status}: ${body.detail ?? ""}`);
    return { predictions: body.predictions, ms: performance.now() - started };
  }

  private showNote(): void {
    const note = document.querySelector(".privacy");
    if (!note) return;
    note.textContent = this.enabled
      ? `Server mode is on: each text you type is sent to ${new URL(this.endpoint).host} to be classified.`
      : LOCAL_NOTE;
  }
}
