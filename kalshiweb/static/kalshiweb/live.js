/* Live events on every page (plain JS, no build step).
 *
 * Opens the WebSocket named by the header's connection indicator (rendered for
 * staff only: anyone else's socket would be refused), keeps it open with
 * exponential backoff and jitter (1 s doubling to 30 s), and shows its state
 * in the indicator. Every message `msg` is fired on document.body as the DOM
 * event "live-" + msg.type with dots as dashes (detail = msg), so a page
 * refreshes a fragment with htmx alone:
 *   hx-trigger="live-order-filled from:body, live-reconnected from:body"
 * After a dropped socket opens again it fires "live-reconnected": pages
 * re-fetch what they missed while it was down.
 *
 * Two updates are built in: prediction.update sets every
 * [data-live-probability="<ticker>"] to the bracket's probability, formatted
 * as the `probability` template filter does; trading.state sets every
 * [data-live-trading-state] to the state's label and class.
 */
(function () {
  "use strict";

  var FIRST_DELAY = 1000;
  var MAX_DELAY = 30000;
  var FLASH_MS = 1500;
  var STATES = ["active", "reduce_only", "halted"];

  var indicator = document.getElementById("live-status");
  var failures = 0; // connection attempts that failed since the last open socket
  var opened = false; // a socket was open once: the next open is a reconnection

  // "0.7531" → "75.3%", rounding half to even on the exact decimal, as Python's Decimal does.
  function formatProbability(text) {
    var match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(String(text === null || text === undefined ? "" : text).trim());
    if (!match || (match[2] + (match[3] || "")) === "") {
      return "—";
    }
    var fraction = match[3] || "";
    var digits = BigInt(match[2] + fraction || "0");
    var exponent = Number(match[4] || 0) - fraction.length + 3; // tenths of a percent
    var tenths;
    if (exponent >= 0) {
      tenths = digits * 10n ** BigInt(exponent);
    } else {
      var divisor = 10n ** BigInt(-exponent);
      var remainder = digits % divisor;
      tenths = digits / divisor;
      if (2n * remainder > divisor || (2n * remainder === divisor && tenths % 2n === 1n)) {
        tenths += 1n;
      }
    }
    var sign = match[1] && tenths !== 0n ? "-" : "";
    return sign + (tenths / 10n).toString() + "." + (tenths % 10n).toString() + "%";
  }

  function show(state, text) {
    if (!indicator) {
      return;
    }
    indicator.textContent = text;
    indicator.dataset.state = state;
    indicator.className = "live-status " + state;
  }

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true }));
  }

  function flash(element) {
    element.classList.add("live-updated");
    window.setTimeout(function () {
      element.classList.remove("live-updated");
    }, FLASH_MS);
  }

  function updateProbabilities(msg) {
    Object.keys(msg.brackets || {}).forEach(function (ticker) {
      var cells = document.querySelectorAll('[data-live-probability="' + CSS.escape(ticker) + '"]');
      cells.forEach(function (cell) {
        cell.textContent = formatProbability(msg.brackets[ticker]);
        flash(cell);
      });
    });
    // "predicted 14:05 UTC", as the page renders it, so the time beside the new figures is theirs.
    var at = new Date(msg.as_of);
    if (msg.event && !isNaN(at.getTime())) {
      document.querySelectorAll('[data-live-predicted-at="' + CSS.escape(msg.event) + '"]').forEach(function (el) {
        el.textContent = "predicted " + at.toISOString().slice(11, 16) + " UTC";
      });
    }
  }

  function updateTradingState(msg) {
    document.querySelectorAll("[data-live-trading-state]").forEach(function (element) {
      element.textContent = msg.label;
      element.title = msg.reason || "";
      STATES.forEach(function (state) {
        element.classList.remove(state);
      });
      element.classList.add(msg.state);
    });
  }

  var BUILT_IN = {
    "prediction.update": updateProbabilities,
    "trading.state": updateTradingState,
  };

  function receive(event) {
    var msg;
    try {
      msg = JSON.parse(event.data);
    } catch (error) {
      return; // not ours: the server only sends JSON
    }
    if (!msg || typeof msg.type !== "string") {
      return;
    }
    if (BUILT_IN[msg.type]) {
      BUILT_IN[msg.type](msg);
    }
    fire("live-" + msg.type.replace(/\./g, "-"), msg);
  }

  // "Equal jitter": a random delay in the upper half of 1 s, 2 s, 4 s … 30 s, so tabs never retry in lockstep.
  function nextDelay() {
    var ceiling = Math.min(MAX_DELAY, FIRST_DELAY * Math.pow(2, failures));
    failures += 1;
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  function connect(path) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    show("connecting", opened ? "reconnecting…" : "connecting…");
    socket.addEventListener("open", function () {
      var again = opened;
      opened = true;
      failures = 0;
      show("live", "live");
      if (again) {
        fire("live-reconnected", {});
      }
    });
    socket.addEventListener("message", receive);
    socket.addEventListener("close", function () {
      show("reconnecting", "reconnecting…");
      window.setTimeout(function () {
        connect(path);
      }, nextDelay());
    });
  }

  window.kalshiwebLive = { formatProbability: formatProbability };

  if (indicator && indicator.dataset.liveSocket && "WebSocket" in window) {
    connect(indicator.dataset.liveSocket);
  }
})();
