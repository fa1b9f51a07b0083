// Page side of offline use: registers sw.js (built from sw.ts), which precaches the site.
export async function registerServiceWorker(): Promise<void> {
  if (!("serviceWorker" in navigator)) return;
  // updateViaCache "none": a new build's sw.js is always noticed, whatever the host's caching.
  await navigator.serviceWorker.register(new URL("sw.js", document.baseURI), { updateViaCache: "none" });
}
