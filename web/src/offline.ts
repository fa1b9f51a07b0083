// Page side of offline use: registers sw.js (built from sw.ts), which precaches the site.
export async function registerServiceWorker(wantsThreads = false): Promise<void> {
  if (!("serviceWorker" in navigator)) return;
  if (wantsThreads) reloadOnceIsolated();
  // updateViaCache "none": a new build's sw.js is always noticed, whatever the host's caching.
  await navigator.serviceWorker.register(new URL("sw.js", document.baseURI), { updateViaCache: "none" });
}

const RELOADED = "staticml-isolation-reload";

/** On a host that sends no COOP/COEP (GitHub Pages, a bucket) the page is not cross-origin isolated
 * until the service worker serves it with those headers (sw.ts): reload once when it takes control.
 * At most once per tab and path (sessionStorage), so a browser that still will not isolate the page
 * never loops. */
function reloadOnceIsolated(): void {
  if (self.crossOriginIsolated || !self.isSecureContext) return;
  const key = `${RELOADED}:${location.pathname}`;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    try {
      if (self.crossOriginIsolated || sessionStorage.getItem(key)) return;
      sessionStorage.setItem(key, "1");
    } catch {
      return; // no storage, no guard: no reload
    }
    location.reload();
  }, { once: true });
}
