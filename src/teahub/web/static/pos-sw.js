// The counter's service worker (served at /pos/sw.js so that its scope is /pos): the counter page and its
// files come from the network, and from the copy kept in the browser's cache when the network is down, so that
// the page opens again offline (its sales are in IndexedDB).
"use strict";
var CACHE = "teahub-pos-v1";
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname !== "/pos" && url.pathname.indexOf("/static/") !== 0) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (hit) {
        return hit || cache.match(request, { ignoreSearch: true });
      });
    }).then(function (hit) { return hit || Response.error(); });
  }));
});
