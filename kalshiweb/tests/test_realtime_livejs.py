"""live.js, run by Node against a small stand-in for the browser: the socket it opens, its backoff, the DOM events
it fires and its built-in updates. (The browser tests drive it in chromium against the real server.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from kalshiweb.templatetags.money import probability

LIVE_JS = Path(__file__).resolve().parents[1] / "static" / "kalshiweb" / "live.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js (installed with the front-end assets)")

HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const fired = [], timers = [], sockets = [];
class Element {
  constructor(dataset, text, classes) {
    this.dataset = dataset; this.textContent = text; this.title = ""; this.names = new Set(classes);
    const self = this;
    this.classList = { add: (c) => self.names.add(c), remove: (c) => self.names.delete(c) };
  }
  get className() { return [...this.names].join(" "); }
  set className(value) { this.names = new Set(value.split(/\s+/).filter(Boolean)); }
  view() { return { text: this.textContent, classes: [...this.names].sort(), state: this.dataset.state || null }; }
}
const indicator = new Element({ liveSocket: "/ws/events/" }, "connecting…", ["live-status"]);
const cells = {
  T1: new Element({ liveProbability: "T1" }, "10.0%", []),
  T2: new Element({ liveProbability: "T2" }, "", []),
};
const banner = new Element({ liveTradingState: "" }, "Active", ["trading-state-label", "active"]);
const document = {
  getElementById: (id) => (id === "live-status" ? indicator : null),
  querySelectorAll: (selector) => {
    const ticker = /^\[data-live-probability="(.*)"\]$/.exec(selector);
    if (ticker) return cells[ticker[1]] ? [cells[ticker[1]]] : [];
    return selector === "[data-live-trading-state]" ? [banner] : [];
  },
  body: { dispatchEvent: (event) => fired.push({ name: event.type, detail: event.detail }) },
};
class WebSocket {
  constructor(url) { this.url = url; this.listeners = {}; sockets.push(this); }
  addEventListener(name, listener) { (this.listeners[name] = this.listeners[name] || []).push(listener); }
  emit(name, event) { (this.listeners[name] || []).forEach((listener) => listener(event || {})); }
}
const window = {
  location: { protocol: "https:", host: "desk.example:8443" },
  setTimeout: (callback, delay) => { timers.push({ callback, delay }); return timers.length; },
  WebSocket,
};
const context = vm.createContext({
  window, document, WebSocket, BigInt, JSON, Math, Object, String, Number,
  CSS: { escape: (s) => s },
  CustomEvent: class { constructor(type, init) { this.type = type; this.detail = init.detail; } },
});
vm.runInContext(fs.readFileSync(process.argv[2], "utf8"), context);

const out = { inputs: JSON.parse(process.argv[3]), steps: {} };
out.formatted = out.inputs.map((text) => window.kalshiwebLive.formatProbability(text));
const last = () => sockets[sockets.length - 1];
const send = (msg) => last().emit("message", { data: JSON.stringify(msg) });
const runTimer = () => timers.pop().callback();  // the latest: the reconnection
out.steps.first = { url: last().url, indicator: indicator.view(), sockets: sockets.length };
last().emit("open");
out.steps.opened = { indicator: indicator.view(), fired: fired.length };
send({ type: "prediction.update", event: "E", as_of: "t", model: "m", brackets: { T1: "0.7531", T2: "0.1235" } });
send({
  type: "trading.state", state: "halted", label: "Halted", reason: "drawdown", changed_by: "ops", changed_at: "t",
});
send({ type: "order.filled", ticker: "T1" });
last().emit("message", { data: "not json" });
out.steps.updated = { T1: cells.T1.view(), T2: cells.T2.view(), banner: banner.view(), title: banner.title };
out.flashes = timers.map((timer) => timer.delay);
timers.splice(0).forEach((timer) => timer.callback());
out.steps.flashed = { T1: cells.T1.view() };
out.delays = [];
last().emit("close");
out.steps.dropped = { indicator: indicator.view() };
for (let n = 0; n < 8; n++) {  // the server stays away: each attempt fails
  out.delays.push(timers[timers.length - 1].delay);
  runTimer();
  last().emit("close");
}
out.steps.retried = { sockets: sockets.length, indicator: indicator.view() };
runTimer();
last().emit("open");
out.steps.back = { indicator: indicator.view() };
last().emit("close");
out.after_reopen_delay = timers[timers.length - 1].delay;
out.fired = fired.map((event) => ({ name: event.name, type: (event.detail && event.detail.type) || null }));
console.log(JSON.stringify(out));
"""

PROBABILITIES = [
    "0.7531", "0.1235", "0.1225", "0.0005", "0.0015", "0", "1", "0E-8", "1E+0", "0.00049999", "0.99951",
    "0.333333333333333333", "0.5", "0.999", "0.04", ".5",
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    harness = tmp_path_factory.mktemp("livejs") / "harness.js"
    harness.write_text(HARNESS)
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(harness), str(LIVE_JS), json.dumps(PROBABILITIES)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


def test_probabilities_are_formatted_as_the_template_filter_does(run):
    assert run["formatted"] == [probability(Decimal(text)) for text in PROBABILITIES]
    assert run["formatted"][:3] == ["75.3%", "12.4%", "12.2%"]  # exact halves round to even, as Decimal does


def test_it_opens_the_socket_of_the_page_and_shows_its_state(run):
    assert run["steps"]["first"] == {
        "url": "wss://desk.example:8443/ws/events/",
        "indicator": {"text": "connecting…", "classes": ["connecting", "live-status"], "state": "connecting"},
        "sockets": 1,
    }
    assert run["steps"]["opened"] == {
        "indicator": {"text": "live", "classes": ["live", "live-status"], "state": "live"},
        "fired": 0,  # the first open is no reconnection
    }
    assert run["steps"]["dropped"]["indicator"]["text"] == "reconnecting…"
    assert run["steps"]["retried"] == {
        "sockets": 9,
        "indicator": {"text": "reconnecting…", "classes": ["live-status", "reconnecting"], "state": "reconnecting"},
    }
    assert run["steps"]["back"]["indicator"]["text"] == "live"


def test_it_backs_off_from_one_second_to_thirty_with_jitter(run):
    ceilings = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    for delay, ceiling in zip(run["delays"], ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(run["delays"])) == len(run["delays"])  # jittered
    assert 500 <= run["after_reopen_delay"] <= 1000  # an open socket starts the backoff again


def test_every_message_is_a_dom_event_and_a_reopened_socket_says_so(run):
    assert run["fired"] == [
        {"name": "live-prediction-update", "type": "prediction.update"},
        {"name": "live-trading-state", "type": "trading.state"},
        {"name": "live-order-filled", "type": "order.filled"},
        {"name": "live-reconnected", "type": None},
    ]


def test_probabilities_and_the_trading_state_update_in_place(run):
    updated = run["steps"]["updated"]
    assert updated["T1"] == {"text": "75.3%", "classes": ["live-updated"], "state": None}
    assert updated["T2"]["text"] == "12.4%"
    assert updated["banner"] == {"text": "Halted", "classes": ["halted", "trading-state-label"], "state": None}
    assert updated["title"] == "drawdown"
    assert run["flashes"] == [1500, 1500]
    assert run["steps"]["flashed"]["T1"]["classes"] == []  # the highlight is taken off again
