// The store counter (POS): ring up a sale fast, price it as the server will, and never lose it.
//
// - The store's products and prices are kept in IndexedDB (fetched from /pos/catalog.json while online): search
//   and scanning work from that copy, and offline the sale is priced from it (member or list price).
// - Online, every change of the sale asks POST /api/v1/orders/quote, which prices it with the server's own code:
//   the totals shown are what the server charges (coupons, points, member price).
// - A completed sale is first written to IndexedDB (with its client_id), then sent to POST /api/v1/orders. It
//   leaves the queue only when the server answered it (201, or 200 for a client_id it already has); network
//   failures and 5xx keep it queued, sent again in order when the network returns; any other 4xx keeps it
//   visible as needing attention, with the problem.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("pos-config").textContent);
  var root = document.getElementById("pos");
  if (!root || !config.store) return;

  function t(text) { return window.teahub.t(text); }
  var esc = function (text) { return window.teahub.escapeHtml(text); };
  var money = function (fen) { return window.teahub.money(fen); };
  var $ = function (id) { return document.getElementById(id); };

  var STORE = config.store;
  var RETRY_MS = 10000;
  var CATALOG_REFRESH_MS = 5 * 60 * 1000;
  var PAY_METHODS = ["cash", "wechat", "alipay", "card"];
  var GRAM_BUTTONS = [[50, "1两"], [250, "半斤"], [500, "1斤"]];

  // -- durable storage (IndexedDB) -------------------------------------------------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open("teahub-pos", 1);
        open.onupgradeneeded = function () {
          var d = open.result;
          d.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });  // unsent sales, in order
          d.createObjectStore("catalogs", { keyPath: "store" });  // each store's products and prices
          d.createObjectStore("members", { keyPath: "id" });  // members found here (masked), for offline sales
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }
  function request(storeName, mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(storeName, mode);
        var result;
        var req = work(tx.objectStore(storeName));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  var store = {
    all: function (name) { return request(name, "readonly", function (s) { return s.getAll(); }); },
    get: function (name, key) { return request(name, "readonly", function (s) { return s.get(key); }); },
    put: function (name, value) { return request(name, "readwrite", function (s) { return s.put(value); }); },
    remove: function (name, key) { return request(name, "readwrite", function (s) { return s.delete(key); }); },
  };

  // -- small helpers ---------------------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));  // where randomUUID is missing (plain http)
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function parseYuan(text) {
    var s = String(text || "").trim().replace(/[,¥\s]/g, "");
    if (!s) return 0;
    var m = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(s);
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function yuanText(fen) { return (fen / 100).toFixed(2); }
  function weight(grams) {
    var shown = grams.toLocaleString("en-US") + " g";
    if (grams && grams % 500 === 0) return shown + " (" + grams / 500 + " 斤)";
    if (grams >= 50 && grams % 25 === 0) return shown + " (" + grams / 50 + " 两)";
    return shown;
  }
  function quantityText(line) { return line.unit === "g" ? weight(line.quantity) : "× " + line.quantity; }
  function basisText(unit, basis) {
    if (unit !== "g") return "";
    return "/" + ({ 50: "两", 500: "斤", 1000: "kg" }[basis] || basis + " g");
  }
  var timeFormat = new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  function localTime(iso) { return timeFormat.format(new Date(iso)); }
  function methodName(method) {
    return { cash: t("cash"), wechat: t("wechat"), alipay: t("alipay"), card: t("card"), points: t("points") }[method]
      || method;
  }
  function tierName(code) {
    var tier = catalog && catalog.tiers && catalog.tiers[code];
    if (!tier) return code || "";
    return config.lang === "en" && tier.name_en ? tier.name_en : tier.name;
  }
  function online() { return navigator.onLine && !serverDown; }
  function problemOf(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      return { status: response.status, title: body.title || t("Something went wrong"), detail: body.detail || null,
        field: body.field || null };
    });
  }
  function showProblem(problem) { window.teahub.showProblem(problem); }
  function clearProblems() { var box = $("problems"); if (box) box.innerHTML = ""; }
  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      var json = (r.headers.get("content-type") || "").indexOf("json") >= 0;
      if (r.ok && json) return r.json();
      if (r.redirected || !json) throw { status: 401, title: t("Log in again: the session has ended") };
      return problemOf(r).then(function (p) { throw p; });
    });
  }

  // -- the store's catalog ---------------------------------------------------------------------------------
  var catalog = null;  // {products, tiers, point_value_fen, fetched_at}
  var bySku = {};
  function useCatalog(data) {
    catalog = data;
    bySku = {};
    data.products.forEach(function (p) { bySku[p.sku.toLowerCase()] = p; });
    $("catalog-state").textContent = t("Prices of") + " " + localTime(data.fetched_at);
    render();
  }
  function refreshCatalog() {
    if (!navigator.onLine) return Promise.resolve();
    return getJson("/pos/catalog.json?store=" + encodeURIComponent(STORE)).then(function (data) {
      data.fetched_at = new Date().toISOString();
      useCatalog(data);
      return store.put("catalogs", data);
    }).catch(function (problem) {
      if (problem && problem.status) showProblem(problem);
    });
  }

  function search(text) {
    var q = text.trim().toLowerCase();
    if (!q || !catalog) return [];
    var hits = [];
    catalog.products.forEach(function (p) {
      var sku = p.sku.toLowerCase();
      var rank = sku === q ? 0 : sku.indexOf(q) === 0 ? 1 : sku.indexOf(q) > 0 ? 2
        : p.name.toLowerCase().indexOf(q) >= 0 || (p.name_en || "").toLowerCase().indexOf(q) >= 0 ? 3 : -1;
      if (rank >= 0) hits.push([rank, p]);
    });
    hits.sort(function (a, b) { return a[0] - b[0]; });
    return hits.slice(0, 8).map(function (h) { return h[1]; });
  }

  // Offline pricing: the member's price list (vip → member → list), a running special price when lower.
  function unitPrice(product, priceList, at) {
    var prices = product.prices;
    var price = prices.list, used = "list";
    if (priceList === "vip" && prices.vip != null) { price = prices.vip; used = "vip"; }
    else if ((priceList === "vip" || priceList === "member") && prices.member != null) {
      price = prices.member; used = "member";
    }
    if (prices.special != null && prices.special < price &&
        (!prices.special_from || new Date(prices.special_from) <= at) &&
        (!prices.special_until || at < new Date(prices.special_until))) {
      return { price: prices.special, list: "special" };
    }
    return { price: price, list: used };
  }
  function lineAmount(quantity, price, basis) {  // quantity × price ÷ basis, half up, in integers
    var product = BigInt(quantity) * BigInt(price), b = BigInt(basis);
    return Number((2n * product + b) / (2n * b));
  }

  // -- the sale being rung up ------------------------------------------------------------------------------
  var cart = newCart();
  function newCart() {
    return { clientId: uuid(), lines: [], member: null, newPhone: null, coupons: [], points: 0 };
  }
  var quote = null;        // the server's answer for the current cart, or null
  var quoteState = "none"; // none | waiting | ok | failed | offline
  var quoteSeq = 0;
  var quoteTimer = null;
  var serverDown = false;  // the last call could not reach the server (though the browser says online)

  function addProduct(product, quantity) {
    if (product.unit === "g") {
      cart.lines.push({ sku: product.sku, quantity: quantity || 50 });
    } else {
      var same = cart.lines.find(function (l) { return l.sku === product.sku; });
      if (same) same.quantity += quantity || 1;
      else cart.lines.push({ sku: product.sku, quantity: quantity || 1 });
    }
    changed();
    if (product.unit === "g") {  // weigh it: the grams field of the new line, ready to type over
      var inputs = document.querySelectorAll("#lines input.grams");
      var last = inputs[inputs.length - 1];
      if (last) { last.focus(); last.select(); }
    }
  }
  function changed(delay) {  // the clerk changed the sale: old problems go, the server prices it again
    clearProblems();
    scheduleQuote(delay);
  }

  function saleBody(forQuote) {
    var body = { channel: "pos", location: STORE, client_id: cart.clientId, sold_at: new Date().toISOString(),
      lines: cart.lines.map(function (l) { return { sku: l.sku, quantity: l.quantity }; }), coupons: [],
      payments: [] };
    if (cart.member) body.customer = { id: cart.member.id };
    else if (cart.newPhone) body.customer = { phone: cart.newPhone };
    if (online()) {
      body.coupons = cart.coupons.slice();
      if (cart.points > 0) body.payments.push({ method: "points", points: cart.points });
    }
    if (!forQuote) {
      PAY_METHODS.forEach(function (method) {
        var fen = parseYuan($("pay-" + method).value);
        if (fen) body.payments.push({ method: method, amount: fen });
      });
    }
    return body;
  }

  function scheduleQuote(delay) {
    clearTimeout(quoteTimer);
    quoteSeq++;  // an answer still on its way is for an older sale
    if (!cart.lines.length) { quote = null; quoteState = "none"; render(); return; }
    if (!online()) { quote = null; quoteState = "offline"; render(); return; }
    quoteState = "waiting";  // the last answer stays shown until the new one comes; paying waits for it
    render();
    quoteTimer = setTimeout(askQuote, delay || 120);
  }
  function askQuote() {
    var seq = ++quoteSeq;
    fetch("/api/v1/orders/quote", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(saleBody(true)) })
      .then(function (r) {
        if (seq !== quoteSeq) return;
        serverDown = r.status >= 500;
        if (r.ok) return r.json().then(function (answer) {
          if (seq !== quoteSeq) return;
          quote = answer; quoteState = "ok"; render();
        });
        return problemOf(r).then(function (problem) {
          if (seq !== quoteSeq) return;
          quoteState = r.status >= 500 ? "offline" : "failed";
          showProblem(problem);
          var field = problem.field || "";
          if (/^coupons\.\d+/.test(field)) {  // a coupon that cannot be used here comes off again
            cart.coupons.splice(parseInt(field.split(".")[1], 10), 1);
            scheduleQuote();
          } else if (/^payments\.\d+\.points$/.test(field) || /^payments/.test(field) && cart.points) {
            cart.points = 0; $("points").value = ""; scheduleQuote();
          } else render();
        });
      })
      .catch(function () {
        if (seq !== quoteSeq) return;
        serverDown = true; quoteState = "offline"; render();
      });
  }

  // What the sale comes to: the server's quote, or (offline) this device's copy of the prices.
  function figures() {
    var at = new Date();
    var priceList = cart.member ? cart.member.price_list || "list" : cart.newPhone ? "member" : "list";
    var local = cart.lines.map(function (l) {
      var p = bySku[l.sku.toLowerCase()];
      if (!p) return { unit_price: 0, amount: 0, net: 0, product: null };
      var price = unitPrice(p, priceList, at);
      var amount = lineAmount(l.quantity, price.price, p.price_basis);
      return { unit_price: price.price, price_list: price.list, amount: amount, net: amount, product: p };
    });
    if (quote && (quoteState === "ok" || quoteState === "waiting") && quote.lines.length === cart.lines.length) {
      var pointsFen = quote.payments.filter(function (p) { return p.method === "points"; })
        .reduce(function (s, p) { return s + p.amount; }, 0);
      return { server: true, lines: quote.lines.map(function (l, i) {
        return { unit_price: l.unit_price, price_list: l.price_list, amount: l.amount, net: l.net_amount,
          product: local[i].product };
      }), subtotal: quote.subtotal, discount: quote.discount, total: quote.total, points: pointsFen,
      toPay: quote.payments_missing };
    }
    var subtotal = local.reduce(function (s, l) { return s + l.amount; }, 0);
    return { server: false, lines: local, subtotal: subtotal, discount: 0, total: subtotal, points: 0,
      toPay: subtotal };
  }

  function paymentsState(toPay) {
    var given = {};
    var bad = false;
    PAY_METHODS.forEach(function (m) {
      var fen = parseYuan($("pay-" + m).value);
      if (fen === null) { bad = true; fen = 0; }
      given[m] = fen;
    });
    var nonCash = given.wechat + given.alipay + given.card;
    var paid = nonCash + given.cash;
    var remaining = Math.max(toPay - paid, 0);
    var change = Math.max(paid - toPay, 0);
    // Only cash gives change (the server refuses more than due by another method).
    var ok = !bad && remaining === 0 && nonCash <= toPay && change <= given.cash;
    return { given: given, remaining: remaining, change: ok ? change : 0, ok: ok, overNonCash: nonCash > toPay };
  }

  // -- drawing -----------------------------------------------------------------------------------------------
  var drawnSkus = null;  // the lines as last drawn: redrawn whole only when lines come or go
  function render() {
    var f = figures();
    var cells = cart.lines.map(function (line, i) {
      var p = bySku[line.sku.toLowerCase()];
      var fl = f.lines[i] || {};
      var short = p && line.quantity > p.available ?
        ' <span class="badge warn">' + esc(t("Stock here")) + ": " + (p.unit === "g" ? weight(Math.max(p.available, 0))
          : Math.max(p.available, 0)) + "</span>" : "";
      var listBadge = fl.price_list && fl.price_list !== "list" ?
        ' <span class="badge ok">' + esc(t(fl.price_list)) + "</span>" : "";
      return {
        item: "<strong>" + esc(p ? p.name : line.sku) + '</strong><br><code class="muted">' + esc(line.sku) + "</code>" +
          short,
        price: money(fl.unit_price || 0) + (p ? basisText(p.unit, p.price_basis) : "") + listBadge,
        amount: money(fl.net || 0) + (fl.net !== fl.amount ? '<br><s class="muted">' + money(fl.amount || 0) + "</s>" : ""),
        qty: p && p.unit === "g" ?
          '<div class="qty grams-box"><input class="grams" data-i="' + i + '" type="number" min="1" step="1" ' +
          'inputmode="numeric" value="' + line.quantity + '" aria-label="' + esc(t("Grams")) + '"><span>g</span>' +
          GRAM_BUTTONS.map(function (b) {
            return '<button type="button" class="quick" data-i="' + i + '" data-grams="' + b[0] + '">' + b[1] + "</button>";
          }).join("") + "</div>"
          : '<div class="qty"><button type="button" class="step" data-i="' + i + '" data-step="-1" aria-label="−">−</button>' +
          '<input class="pieces" data-i="' + i + '" type="number" min="1" step="1" inputmode="numeric" value="' +
          line.quantity + '" aria-label="' + esc(t("Quantity")) + '">' +
          '<button type="button" class="step" data-i="' + i + '" data-step="1" aria-label="+">+</button></div>',
      };
    });
    var linesBody = $("lines");
    var skus = cart.lines.map(function (l) { return l.sku + (bySku[l.sku.toLowerCase()] ? "" : "?"); }).join("\n");
    if (skus !== drawnSkus) {
      drawnSkus = skus;
      linesBody.innerHTML = cells.map(function (c) {
        return '<tr><td class="c-item">' + c.item + '</td><td class="num c-price">' + c.price + '</td><td class="c-qty">' +
          c.qty + '</td><td class="num c-amount">' + c.amount + '</td><td><button type="button" class="remove" ' +
          'data-i="' + cells.indexOf(c) + '" aria-label="' + esc(t("Remove")) + '">×</button></td></tr>';
      }).join("");
    } else {
      // Same lines: refresh the figures, and leave the field being typed in alone.
      Array.prototype.forEach.call(linesBody.rows, function (row, i) {
        row.querySelector(".c-item").innerHTML = cells[i].item;
        row.querySelector(".c-price").innerHTML = cells[i].price;
        row.querySelector(".c-amount").innerHTML = cells[i].amount;
        var input = row.querySelector(".c-qty input");
        if (input && input !== document.activeElement && input.value !== String(cart.lines[i].quantity)) {
          input.value = String(cart.lines[i].quantity);
        }
      });
    }
    $("empty-cart").hidden = cart.lines.length > 0;

    $("t-subtotal").textContent = money(f.subtotal);
    $("t-discount").textContent = f.discount ? "−" + money(f.discount) : money(0);
    $("t-total").textContent = money(f.total);
    $("t-points").textContent = f.points ? "−" + money(f.points) : money(0);
    $("t-topay").textContent = money(f.toPay);
    var source = $("price-source");
    source.textContent = !cart.lines.length ? "" : quoteState === "ok" ? t("Priced by the server") :
      quoteState === "waiting" ? t("Pricing…") : quoteState === "offline" ? t("Offline price from this device") :
      quoteState === "failed" ? t("The server refused this sale: see the problem above") : "";
    source.className = "small " + (quoteState === "ok" ? "muted" : quoteState === "failed" ? "bad" : "warn");

    var pay = paymentsState(f.toPay);
    $("t-remaining").textContent = money(pay.remaining);
    $("t-change").textContent = money(pay.change);
    $("t-remaining").classList.toggle("bad", pay.remaining > 0);
    var ready = cart.lines.length > 0 && pay.ok && (quoteState === "ok" || quoteState === "offline") &&
      cart.lines.every(function (l) { return l.quantity > 0 && bySku[l.sku.toLowerCase()]; });
    $("pay-button").disabled = !ready || busy;

    var isOnline = online();
    $("offline-note").hidden = isOnline;
    $("coupon-code").disabled = !isOnline;
    $("points").disabled = !isOnline || !cart.member || !cart.member.points;
    var net = $("net-state");
    net.textContent = isOnline ? t("Online") : t("Offline");
    net.className = "badge " + (isOnline ? "ok" : "bad");
    renderMember();
    renderCoupons();
  }

  function renderMember() {
    var card = $("member-card");
    var m = cart.member;
    if (!m && !cart.newPhone) { card.hidden = true; card.innerHTML = ""; return; }
    card.hidden = false;
    if (m) {
      card.innerHTML = "<div><strong>" + esc(m.name || t("Member")) + "</strong> " +
        '<span class="badge ok">' + esc(tierName(m.tier) || t("not a member")) + "</span></div>" +
        '<div class="muted">' + esc(m.phone_masked || m.phone || "") + "</div>" +
        "<div>" + esc(t("Points")) + ': <strong id="member-points">' + (m.points != null ? m.points : "—") +
        "</strong>" + (m.offline ? ' <span class="muted">(' + esc(t("as last seen")) + ")</span>" : "") + "</div>" +
        '<button type="button" class="link-like" id="member-clear">' + esc(t("Remove member")) + "</button>";
    } else {
      card.innerHTML = "<div><strong>" + esc(t("New member")) + "</strong> " + esc(cart.newPhone) + "</div>" +
        '<button type="button" class="link-like" id="member-clear">' + esc(t("Remove member")) + "</button>";
    }
    var worth = catalog ? catalog.point_value_fen : 1;
    $("points-hint").textContent = cart.points ? "= " + money(cart.points * worth) :
      m && m.points ? "(" + t("up to") + " " + m.points + ")" : "";
  }

  function renderCoupons() {
    var own = $("member-coupons");
    var list = cart.member && cart.member.coupons ? cart.member.coupons.filter(function (c) {
      return cart.coupons.indexOf(c.code) < 0;
    }) : [];
    own.hidden = !list.length || !online();
    own.innerHTML = list.map(function (c) {
      return '<li><button type="button" class="chip" data-code="' + esc(c.code) + '">' + esc(c.name) +
        " <code>" + esc(c.code) + "</code></button></li>";
    }).join("");
    var applied = $("applied-coupons");
    var discount = quote && quoteState === "ok" ? quote.coupon_discount : null;
    applied.innerHTML = cart.coupons.map(function (code) {
      return '<li class="chip on"><code>' + esc(code) + "</code>" + (discount ? " −" + money(discount) : "") +
        ' <button type="button" class="uncoupon" data-code="' + esc(code) + '" aria-label="' + esc(t("Remove")) +
        '">×</button></li>';
    }).join("");
  }

  // -- scanning and searching --------------------------------------------------------------------------------
  var matches = [];
  var active = -1;
  function showMatches() {
    var list = $("matches");
    matches = search($("scan").value);
    active = matches.length ? 0 : -1;
    if (!matches.length) { list.hidden = true; list.innerHTML = ""; return; }
    list.hidden = false;
    drawMatches();
  }
  function drawMatches() {
    $("matches").innerHTML = matches.map(function (p, i) {
      return '<li role="option" data-i="' + i + '" class="' + (i === active ? "active" : "") + '" aria-selected="' +
        (i === active) + '"><span><strong>' + esc(p.name) + '</strong> <code class="muted">' + esc(p.sku) +
        '</code></span><span class="num">' + money(p.prices.list) + basisText(p.unit, p.price_basis) +
        (p.prices.member != null ? ' <span class="muted">' + esc(t("member")) + " " + money(p.prices.member) + "</span>"
          : "") + ' <span class="badge ' + (p.available > 0 ? "ok" : "warn") + '">' + esc(t("Stock here")) + ": " +
        (p.unit === "g" ? weight(Math.max(p.available, 0)) : Math.max(p.available, 0)) + "</span></span></li>";
    }).join("");
  }
  function pick(product) {
    $("scan").value = "";
    $("matches").hidden = true;
    matches = [];
    addProduct(product);
    if (product.unit !== "g") $("scan").focus();
  }
  $("scan").addEventListener("input", showMatches);
  $("scan").addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!matches.length) return;
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : -1) + matches.length) % matches.length;
      drawMatches();
    } else if (e.key === "Enter") {
      e.preventDefault();
      var text = $("scan").value.trim();
      if (!text) return;
      var exact = bySku[text.toLowerCase()];
      if (exact) return pick(exact);
      if (!catalog) return showProblem({ title: t("The products are not loaded yet") });
      var found = search(text);
      if (active >= 0 && matches[active]) return pick(matches[active]);
      if (found.length === 1) return pick(found[0]);
      showProblem({ title: t("No product with this SKU"), detail: text });
    }
  });
  $("matches").addEventListener("mousedown", function (e) {
    var li = e.target.closest("li[data-i]");
    if (!li) return;
    e.preventDefault();
    pick(matches[parseInt(li.dataset.i, 10)]);
  });
  $("scan").addEventListener("blur", function () { setTimeout(function () { $("matches").hidden = true; }, 150); });
  $("scan").addEventListener("focus", function () { if ($("scan").value) showMatches(); });

  // -- editing lines -------------------------------------------------------------------------------------------
  $("lines").addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b) return;
    var i = parseInt(b.dataset.i, 10);
    if (b.classList.contains("remove")) { cart.lines.splice(i, 1); changed(); $("scan").focus(); }
    else if (b.classList.contains("quick")) { cart.lines[i].quantity = parseInt(b.dataset.grams, 10); changed(); }
    else if (b.classList.contains("step")) {
      cart.lines[i].quantity = Math.max(1, cart.lines[i].quantity + parseInt(b.dataset.step, 10));
      changed();
    }
  });
  $("lines").addEventListener("input", function (e) {
    var input = e.target;
    if (!input.dataset || input.dataset.i === undefined) return;
    var value = parseInt(input.value, 10);
    var line = cart.lines[parseInt(input.dataset.i, 10)];
    if (!line) return;
    line.quantity = value > 0 && value <= 10000000 ? value : 0;
    changed(300);
  });
  $("lines").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.matches("input")) { e.preventDefault(); changed(); $("scan").focus(); }
  });

  // -- the member ----------------------------------------------------------------------------------------------
  function chooseMember(m) {
    cart.member = m;
    cart.newPhone = null;
    cart.points = 0;
    $("points").value = "";
    $("member-results").hidden = true;
    $("member-q").value = "";
    if (!m.offline) store.put("members", { id: m.id, name: m.name, phone_masked: m.phone_masked, tier: m.tier,
      price_list: m.price_list, points: m.points }).catch(function () {});
    changed();
    $("scan").focus();
  }
  function showMemberChoices(items, query) {
    var list = $("member-results");
    var fullPhone = /^\+?\d{11,15}$/.test(query.replace(/[\s-]/g, ""));
    var html = items.map(function (m, i) {
      return '<li><button type="button" class="pick-member" data-i="' + i + '"><strong>' + esc(m.name || "—") +
        "</strong> " + esc(m.phone_masked || "") + ' <span class="badge ok">' + esc(tierName(m.tier) || t("not a member")) +
        "</span> " + esc(t("Points")) + " " + (m.points != null ? m.points : "—") + "</button></li>";
    });
    if (!items.length) html.push('<li class="muted">' + esc(t("No member found")) + "</li>");
    if (!items.length && fullPhone && online()) {
      html.push('<li><button type="button" id="new-member">' + esc(t("Sell to a new member with this phone")) +
        "</button></li>");
    }
    list.innerHTML = html.join("");
    list.hidden = false;
    list.onclick = function (e) {
      var b = e.target.closest("button");
      if (!b) return;
      if (b.id === "new-member") {
        cart.member = null; cart.newPhone = query.replace(/[\s-]/g, ""); list.hidden = true;
        $("member-q").value = ""; changed(); $("scan").focus();
      } else chooseMember(items[parseInt(b.dataset.i, 10)]);
    };
  }
  $("member-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("member-q").value.trim();
    if (!q) return;
    if (!online()) {
      // Offline: only members found before at this counter (their phone is kept masked: the last four digits).
      var digits = q.replace(/\D/g, "").slice(-4);
      store.all("members").then(function (known) {
        var found = known.filter(function (m) {
          return (digits.length === 4 && (m.phone_masked || "").slice(-4) === digits) ||
            (!/\d/.test(q) && (m.name || "").indexOf(q) >= 0);
        }).map(function (m) { return Object.assign({}, m, { offline: true, coupons: [] }); });
        if (found.length === 1) chooseMember(found[0]); else showMemberChoices(found, q);
      });
      return;
    }
    getJson("/pos/members.json?q=" + encodeURIComponent(q)).then(function (answer) {
      if (answer.items.length === 1) chooseMember(answer.items[0]);
      else showMemberChoices(answer.items, q);
    }).catch(function (problem) {
      if (problem && problem.status) showProblem(problem);
      else { serverDown = true; render(); }
    });
  });
  $("member-card").addEventListener("click", function (e) {
    if (e.target.id === "member-clear") {
      cart.member = null; cart.newPhone = null; cart.points = 0; cart.coupons = []; $("points").value = "";
      changed();
    }
  });

  // -- coupons and points ----------------------------------------------------------------------------------------
  function applyCoupon(code) {
    code = code.trim();
    if (!code || cart.coupons.indexOf(code) >= 0) return;
    cart.coupons.push(code);
    $("coupon-code").value = "";
    changed();
  }
  $("coupon-form").addEventListener("submit", function (e) { e.preventDefault(); applyCoupon($("coupon-code").value); });
  $("member-coupons").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-code]");
    if (b) applyCoupon(b.dataset.code);
  });
  $("applied-coupons").addEventListener("click", function (e) {
    var b = e.target.closest("button.uncoupon");
    if (!b) return;
    cart.coupons = cart.coupons.filter(function (c) { return c !== b.dataset.code; });
    changed();
  });
  $("points").addEventListener("input", function () {
    var n = parseInt($("points").value, 10);
    cart.points = n > 0 ? n : 0;
    changed(300);
  });

  // -- payments -------------------------------------------------------------------------------------------------
  PAY_METHODS.forEach(function (m) {
    $("pay-" + m).addEventListener("input", function () { render(); });
    $("pay-" + m).addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); if (!$("pay-button").disabled) completeSale(); }
    });
  });
  document.querySelectorAll("button.rest").forEach(function (b) {
    b.addEventListener("click", function () {
      var f = figures();
      var input = $("pay-" + b.dataset.method);
      var others = 0;
      PAY_METHODS.forEach(function (m) {
        if (m !== b.dataset.method) others += parseYuan($("pay-" + m).value) || 0;
      });
      var rest = Math.max(f.toPay - others, 0);
      input.value = rest ? yuanText(rest) : "";
      render();
      input.focus();
    });
  });

  // -- completing a sale: kept first, then sent ---------------------------------------------------------------------
  var busy = false;
  function receiptOf(body, f, pay) {
    var lines = cart.lines.map(function (l, i) {
      var p = bySku[l.sku.toLowerCase()] || {};
      var fl = f.lines[i] || {};
      return { sku: l.sku, name: p.name || l.sku, unit: p.unit, price_basis: p.price_basis, quantity: l.quantity,
        unit_price: fl.unit_price, net_amount: fl.net };
    });
    var payments = body.payments.map(function (p) {
      if (p.method === "points") return { method: "points", points: p.points, amount: f.points };
      var amount = p.method === "cash" ? p.amount - pay.change : p.amount;
      return { method: p.method, amount: amount, tendered: p.method === "cash" ? p.amount : null };
    });
    return { store: STORE, store_name: config.storeName, at: body.sold_at, client_id: body.client_id, lines: lines,
      subtotal: f.subtotal, discount: f.discount, coupons: body.coupons, total: f.total, payments: payments,
      change: pay.change, points_spent: body.payments.filter(function (p) { return p.method === "points"; })
        .reduce(function (s, p) { return s + p.points; }, 0),
      member: cart.member ? { name: cart.member.name, phone: cart.member.phone_masked, tier: cart.member.tier }
        : cart.newPhone ? { name: t("New member"), phone: cart.newPhone, tier: null } : null };
  }

  function completeSale() {
    if (busy || $("pay-button").disabled) return;
    var f = figures();
    var pay = paymentsState(f.toPay);
    if (!pay.ok) return;
    busy = true;
    render();
    var body = saleBody(false);
    var receipt = receiptOf(body, f, pay);
    var item = { client_id: body.client_id, store: STORE, body: body, receipt: receipt, state: "pending",
      created_at: new Date().toISOString(), problem: null };
    store.put("queue", item).then(function () {
      cart = newCart();  // the sale is safe on this device: the counter is free for the next one
      quote = null; quoteState = "none";
      PAY_METHODS.forEach(function (m) { $("pay-" + m).value = ""; });
      $("points").value = "";
      busy = false;
      render();
      showReceipt(receipt, null, online() ? "sending" : "queued");
      refreshQueue();
      return sendQueue();
    }).then(function () {
      var result = outcomes[item.client_id] || { kind: "retry" };
      var showing = !$("receipt-view").hidden && $("receipt").dataset.clientId === item.client_id;
      if (result.kind === "sent") {
        if (showing) showReceipt(receipt, result.order, "sent");
        // The stock shown moves with the sales: fetched again, at most once a minute.
        if (catalog && Date.now() - new Date(catalog.fetched_at).getTime() > 60000) refreshCatalog();
      } else if (result.kind === "problem") {
        if (showing) hideReceipt();
        showProblem(result.problem);
      } else if (showing) showReceipt(receipt, null, "queued");
    }).catch(function (err) {
      busy = false;
      render();
      showProblem({ title: t("This device could not keep the sale"), detail: String(err) });
    });
  }
  $("pay-button").addEventListener("click", completeSale);
  $("clear-button").addEventListener("click", function () {
    cart = newCart(); quote = null; quoteState = "none";
    PAY_METHODS.forEach(function (m) { $("pay-" + m).value = ""; });
    $("points").value = "";
    clearProblems(); render(); $("scan").focus();
  });

  // -- the queue: send in order, keep what the server has not answered ---------------------------------------------
  var sending = null;
  var outcomes = {};  // client_id → what the server answered (sent, problem) or that it must wait (retry)
  function sendQueue() {
    // One pass at a time; a call during a pass gets the next pass (which sees the sales added meanwhile).
    if (sending) return sending.then(sendQueue);
    sending = store.all("queue").then(function (items) {
      var chain = Promise.resolve(false);
      items.sort(function (a, b) { return a.seq - b.seq; }).forEach(function (item) {
        chain = chain.then(function (stopped) {
          if (stopped || item.state !== "pending") return stopped;
          if (!navigator.onLine) { outcomes[item.client_id] = { kind: "retry" }; return true; }
          return sendOne(item).then(function (result) {
            outcomes[item.client_id] = result;
            return result.kind === "retry";  // keep the order: later sales wait for this one
          });
        });
      });
      return chain;
    }).then(refreshQueue, refreshQueue).finally(function () { sending = null; });
    return sending;
  }
  function sendOne(item) {
    return fetch("/api/v1/orders", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(item.body) })
      .then(function (r) {
        if (r.status === 201 || r.status === 200) {
          serverDown = false;
          return r.json().then(function (order) {
            return store.remove("queue", item.seq).then(function () { return { kind: "sent", order: order }; });
          });
        }
        // Not answered for good: the server is down or busy, or the session ended (log in, it goes then).
        if (r.status >= 500 || r.status === 401 || r.status === 408 || r.status === 429) {
          serverDown = r.status >= 500;
          return problemOf(r).then(function (problem) {
            item.problem = r.status === 401 ? problem : null;
            return store.put("queue", item).then(function () { return { kind: "retry" }; });
          });
        }
        return problemOf(r).then(function (problem) {  // refused: a person has to look at it
          item.state = "attention";
          item.problem = problem;
          return store.put("queue", item).then(function () { return { kind: "problem", problem: problem }; });
        });
      }, function () {
        serverDown = true;
        return { kind: "retry" };
      })
      .then(function (result) { render(); return result; });
  }

  var queued = [];
  function refreshQueue() {
    return store.all("queue").then(function (items) {
      queued = items.sort(function (a, b) { return a.seq - b.seq; });
      var pending = queued.filter(function (q) { return q.state === "pending"; }).length;
      var attention = queued.length - pending;
      $("unsent-count").textContent = String(pending);
      $("unsent").className = "badge " + (pending ? "warn" : "");
      $("attention-count").textContent = String(attention);
      $("attention-badge").hidden = attention === 0;
      $("queue").hidden = queued.length === 0;
      $("queue-rows").innerHTML = queued.map(function (q) {
        var state = q.state === "pending" ? '<span class="badge warn">' + esc(t("Waiting for the network")) + "</span>" +
          (q.problem ? " " + esc(t(q.problem.title)) : "")
          : '<span class="badge bad">' + esc(t("Needs attention")) + "</span> <strong>" + esc(t(q.problem.title)) +
            "</strong>" + (q.problem.field ? " <code>" + esc(q.problem.field) + "</code>" : "") +
            (q.problem.detail ? '<br><span class="muted">' + esc(t(q.problem.detail)) + "</span>" : "");
        var actions = '<button type="button" data-act="receipt" data-seq="' + q.seq + '">' + esc(t("Receipt")) +
          "</button>";
        if (q.state === "attention") {
          actions += ' <button type="button" data-act="retry" data-seq="' + q.seq + '">' + esc(t("Send again")) +
            '</button> <button type="button" data-act="edit" data-seq="' + q.seq + '">' + esc(t("Back to the counter")) +
            '</button> <button type="button" class="danger" data-act="drop" data-seq="' + q.seq + '">' +
            esc(t("Discard")) + "</button>";
        }
        return '<tr data-client-id="' + esc(q.client_id) + '" class="' + q.state + '"><td>' + esc(localTime(q.created_at)) +
          "</td><td>" + esc(q.store) + '</td><td class="num">' + money(q.receipt.total) + "</td><td>" + state +
          '</td><td class="actions-cell">' + actions + "</td></tr>";
      }).join("");
    });
  }
  $("queue-rows").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-act]");
    if (!b) return;
    var item = queued.find(function (q) { return String(q.seq) === b.dataset.seq; });
    if (!item) return;
    var act = b.dataset.act;
    if (act === "receipt") showReceipt(item.receipt, null, item.state === "pending" ? "queued" : "attention");
    else if (act === "retry") {
      item.state = "pending"; item.problem = null;
      store.put("queue", item).then(sendQueue).then(function () {
        var result = outcomes[item.client_id];
        if (result && result.kind === "problem") showProblem(result.problem);
      });
    } else if (act === "edit") {
      // The refused sale comes back to the counter to be put right; it leaves the queue only now.
      cart = { clientId: item.client_id, lines: item.body.lines.map(function (l) { return { sku: l.sku,
        quantity: l.quantity }; }), member: null, newPhone: null, coupons: item.body.coupons || [], points: 0 };
      var customer = item.body.customer;
      if (customer && customer.id && item.receipt.member) {
        cart.member = { id: customer.id, name: item.receipt.member.name, phone_masked: item.receipt.member.phone,
          tier: item.receipt.member.tier, price_list: null, points: null, coupons: [] };
        store.get("members", customer.id).then(function (m) { if (m && cart.member) { cart.member.price_list = m.price_list; render(); } });
      } else if (customer && customer.phone) cart.newPhone = customer.phone;
      store.remove("queue", item.seq).then(refreshQueue);
      clearProblems();
      changed();
    } else if (act === "drop") {
      if (window.confirm(t("Discard this sale? It was never recorded by the server."))) {
        store.remove("queue", item.seq).then(refreshQueue);
      }
    }
  });
  $("send-now").addEventListener("click", function () { serverDown = false; sendQueue(); });

  // -- the receipt ------------------------------------------------------------------------------------------------
  function showReceipt(r, order, state) {
    var lines = order ? order.lines.map(function (l) {
      return { name: l.name, sku: l.sku, unit: l.unit, price_basis: l.price_basis, quantity: l.quantity,
        unit_price: l.unit_price, net_amount: l.net_amount };
    }) : r.lines;
    var payments = order ? order.payments : r.payments;
    var change = order ? order.change : r.change;
    var pointsSpent = order ? payments.filter(function (p) { return p.method === "points"; })
      .reduce(function (s, p) { return s + (p.points || 0); }, 0) : r.points_spent;
    var row = function (label, value, cls) {
      return '<div class="r-row ' + (cls || "") + '"><span>' + label + "</span><span>" + value + "</span></div>";
    };
    var html = ['<div class="r-head"><div class="r-brand">茶 teahub</div><div>' + esc(r.store_name || r.store) +
      " (" + esc(r.store) + ")</div><div>" + esc(localTime(order ? order.placed_at : r.at)) + "</div>",
      order ? "<div>" + esc(t("Order")) + ' <strong id="receipt-number">' + esc(order.number) + "</strong></div>"
        : '<div class="r-offline">' + esc(state === "attention" ? t("Not recorded: needs attention")
          : state === "sending" ? t("Sending…") : t("Saved on this device; sent when the network returns")) +
          "<br><small>" + esc(r.client_id) + "</small></div>", "</div><hr>"];
    lines.forEach(function (l) {
      html.push('<div class="r-line"><div>' + esc(l.name) + "</div>" +
        row(esc(quantityText(l)) + " @ " + money(l.unit_price || 0) + basisText(l.unit, l.price_basis),
          money(l.net_amount || 0)) + "</div>");
    });
    html.push("<hr>");
    var subtotal = order ? order.subtotal : r.subtotal;
    var discount = order ? order.discount : r.discount;
    var total = order ? order.total : r.total;
    html.push(row(esc(t("Subtotal")), money(subtotal)));
    if (discount) {
      var codes = order ? order.coupons : r.coupons;
      html.push(row(esc(t("Discount")) + (codes && codes.length ? " (" + esc(codes.join(", ")) + ")" : ""),
        "−" + money(discount)));
    }
    html.push(row("<strong>" + esc(t("Total")) + "</strong>", '<strong id="receipt-total">' + money(total) +
      "</strong>", "r-total"));
    payments.forEach(function (p) {
      if (p.amount <= 0) return;
      var label = methodName(p.method) + (p.method === "points" ? " (" + p.points + ")" : "");
      html.push(row(esc(label), money(p.method === "cash" && p.tendered ? p.tendered : p.amount)));
    });
    html.push(row("<strong>" + esc(t("Change")) + "</strong>", '<strong id="receipt-change">' + money(change) +
      "</strong>"));
    if (r.member) {
      html.push("<hr>" + row(esc(t("Member")), esc((r.member.name || "") + " " + (r.member.phone || ""))));
      if (r.member.tier) html.push(row(esc(t("Tier")), esc(tierName(r.member.tier))));
      html.push(row(esc(t("Points spent")), '<span id="receipt-points-spent">' + pointsSpent + "</span>"));
      html.push(row(esc(t("Points earned")), '<span id="receipt-points-earned">' +
        esc(order ? t("being credited…") : t("after the sale is sent")) + "</span>"));
      html.push(row(esc(t("Points balance")), '<span id="receipt-points-balance">—</span>'));
    }
    html.push('<hr><div class="r-foot">' + esc(t("Thank you, enjoy your tea")) + "</div>");
    $("receipt").innerHTML = html.join("");
    $("receipt").dataset.state = order ? "sent" : state;
    $("receipt").dataset.clientId = r.client_id;
    $("receipt-view").hidden = false;
    document.body.classList.add("showing-receipt");
    $("next-sale").focus();
    if (order && r.member) followPoints(order.id, 0);
  }
  function followPoints(orderId, tries) {
    // Points are earned by the server a moment after the sale: ask until they show (a few times).
    getJson("/pos/orders/" + orderId + "/points.json").then(function (p) {
      var earned = $("receipt-points-earned");
      if (!earned || $("receipt-view").hidden) return;
      if (p.balance != null) $("receipt-points-balance").textContent = String(p.balance);
      if (p.earned != null) earned.textContent = String(p.earned);
      else if (tries < 20) setTimeout(function () { followPoints(orderId, tries + 1); }, tries < 5 ? 500 : 1500);
      else earned.textContent = t("credited shortly");
    }).catch(function () {});
  }
  function hideReceipt() {
    $("receipt-view").hidden = true;
    document.body.classList.remove("showing-receipt");
    $("scan").focus();
  }
  $("next-sale").addEventListener("click", hideReceipt);
  $("print-receipt").addEventListener("click", function () { window.print(); });

  // -- keyboard -----------------------------------------------------------------------------------------------------
  document.addEventListener("keydown", function (e) {
    if (!$("receipt-view").hidden) {
      if (e.key === "Escape" || (e.key === "Enter" && document.activeElement === $("next-sale"))) {
        e.preventDefault(); hideReceipt();
      }
      return;
    }
    if (e.key === "Escape") { e.preventDefault(); $("scan").focus(); $("scan").select(); }
    else if (e.key === "F2") { e.preventDefault(); $("member-q").focus(); }
    else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); completeSale(); }
  });

  // -- the network comes and goes ---------------------------------------------------------------------------------
  window.addEventListener("online", function () {
    serverDown = false;
    render();
    sendQueue();
    refreshCatalog();
    if (cart.lines.length) scheduleQuote();
  });
  window.addEventListener("offline", function () {
    if (cart.lines.length) scheduleQuote();
    render();
  });
  setInterval(function () {  // and a server that could not be reached is tried again now and then
    if (!navigator.onLine) return;
    var wasDown = serverDown;
    serverDown = false;
    if (queued.some(function (q) { return q.state === "pending"; })) sendQueue();
    if (wasDown && cart.lines.length && quoteState !== "waiting") scheduleQuote();
    else if (wasDown) render();
  }, RETRY_MS);
  setInterval(refreshCatalog, CATALOG_REFRESH_MS);

  // -- start --------------------------------------------------------------------------------------------------------
  store.get("catalogs", STORE).then(function (cached) {
    if (cached) useCatalog(cached);
    return refreshCatalog();
  }).catch(function (err) {
    showProblem({ title: t("This device cannot keep sales (storage unavailable)"), detail: String(err) });
  });
  refreshQueue().then(function () { if (navigator.onLine) sendQueue(); });
  render();
  $("scan").focus();

  if ("serviceWorker" in navigator && window.isSecureContext && window.caches) {
    // Lets the counter page open again while the network is down (the sales themselves are in IndexedDB): the
    // worker answers from a copy of this page and its files when the network does not.
    navigator.serviceWorker.register("/pos/sw.js", { scope: "/pos" }).then(function () {
      var files = [location.pathname + location.search];
      document.querySelectorAll("link[rel=stylesheet][href^='/static/'], script[src^='/static/']").forEach(function (n) {
        files.push(n.getAttribute("href") || n.getAttribute("src"));
      });
      if (!navigator.onLine) return;
      return caches.open("teahub-pos-v1").then(function (cache) { return cache.addAll(files); }).then(function () {
        root.dataset.offlineReady = "true";  // this page can now open without the network
      });
    }).catch(function () {});
  }
})();
