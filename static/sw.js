// The phone diary's service worker, served at /sw.js (scope: the whole site) after two constants the server
// writes: SHELL_VERSION (changes with any shell file) and SHELL_URLS (the diary screen, the manifest, its
// scripts, styles and icons).
//
// What it does, and only this:
// - keeps a copy of the shell, so that the diary screen opens with no network;
// - the diary screen is asked of the network first (a fresh screen, a signed-out member sent to sign in) and
//   taken from the copy only when the network fails or is too slow;
// - the other shell files come from the copy (a new SHELL_VERSION brings new copies).
// Nothing else is touched: no other page, no POST, no API answer, no scan page (/Q/...) is intercepted or kept.
// The cooperative's data lives in the screen's IndexedDB, by account; signing out wipes both (Clear-Site-Data).

const CACHE = "ocop-shell-" + SHELL_VERSION;
const SCREEN = SHELL_URLS[0];
const NETWORK_WAIT_MS = 4000;  // an orchard's weak signal: after this, the copy opens instead

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("ocop-shell-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

async function precache() {
  const cache = await caches.open(CACHE);
  await Promise.all(SHELL_URLS.map(async (url) => {
    const response = await fetch(url, { cache: "no-cache", redirect: "manual" });
    if (isShellCopy(response)) await cache.put(url, response);
  }));
}

// Only a straight answer is kept: never a redirect to the sign-in page in place of the diary screen.
function isShellCopy(response) {
  return response.ok && response.type === "basic" && !response.redirected;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.search) return;
  if (url.pathname === SCREEN && request.mode === "navigate") {
    event.respondWith(screenFirstFromNetwork(request));
  } else if (SHELL_URLS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((copy) => copy || fetch(request)));
  }
});

async function screenFirstFromNetwork(request) {
  const cache = await caches.open(CACHE);
  const fromNetwork = fetch(request).then((response) => {
    if (isShellCopy(response)) cache.put(SCREEN, response.clone());
    return response;
  });
  const slow = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS));
  try {
    const first = await Promise.race([fromNetwork, slow]);
    if (first) return first;
  } catch (offline) {
    // no network: the copy below
  }
  const copy = await cache.match(SCREEN);
  return copy || fromNetwork;
}
