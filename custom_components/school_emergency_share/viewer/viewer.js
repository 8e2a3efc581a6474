// The police viewer: live school cameras during an emergency, on a phone or a
// dispatch screen, with the age of every picture on screen.
//
// The link in the address bar is the only credential, so the page keeps it
// nowhere else: no service worker, no storage, every request `no-store`. Under
// the page's own path the server offers cameras.json (the session and its
// cameras), events (status pushes, then `ended`), mp4/<camera> and
// mjpeg/<camera> (live pictures with the time each came off the camera; the
// player, player.js, picks one), request (a standing link asks for sharing)
// and manifest.webmanifest.
//
// A standing link's page may be open before anything is shared: it holds the
// events stream while idle, offers "Request camera access", and turns live
// the moment a session starts, with no reload and no polling.

import { Player } from "./player.js";

const STALE_AFTER_MS = 3000; // older than this is not live, whatever the cause
const TICK_MS = 200; // ages and the countdown are redrawn this often
const OFFSCREEN_GRACE_MS = 3000; // scrolling past a camera does not restart it
const RECHECK_MS = 5000; // while the server cannot be reached
const WAIT_POLL_MS = 15000; // between sessions, where the events stream is refused
const SEARCH_OVER = 12; // a search box once a link shows more cameras than this
const COLLAPSE_OVER = 24; // floors start folded once a link shows more than this
// Over HTTP/1.1 a browser opens at most six connections to one server and
// every live camera holds one open; the events stream holds another and
// requests need one free. Over HTTP/2 (a reverse proxy) they share one.
const protocol = performance.getEntriesByType("navigation")[0]?.nextHopProtocol ?? "";
const STREAM_BUDGET = /^h[23]/.test(protocol) ? 12 : 4;

const base = location.pathname.replace(/\/+$/, "");
const $ = (id) => document.getElementById(id);
const ui = {
  school: $("school"),
  countdown: $("countdown"),
  countdownLabel: $("countdown-label"),
  remaining: $("remaining"),
  reason: $("reason"),
  reasonText: $("reason-text"),
  who: $("who"),
  agency: $("agency"),
  label: $("label"),
  status: $("status"),
  cameras: $("cameras"),
  notice: $("notice"),
  noticeTitle: $("notice-title"),
  noticeText: $("notice-text"),
  noticeTime: $("notice-time"),
  full: $("full"),
  back: $("back"),
  template: $("tile-template"),
  idle: $("idle"),
  idleText: $("idle-text"),
  ask: $("ask"),
  askReason: $("ask-reason"),
  askOfficer: $("ask-officer"),
  askSend: $("ask-send"),
  askStatus: $("ask-status"),
  searchBar: $("search-bar"),
  search: $("search"),
};

// The manifest lives under the token, which static HTML cannot know.
const manifest = document.createElement("link");
manifest.rel = "manifest";
manifest.href = `${base}/manifest.webmanifest`;
document.head.append(manifest);

// ------------------------------------------------------------------ helpers

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function formatAge(ms) {
  if (!Number.isFinite(ms)) return "unknown age";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const two = (n) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${two(Math.floor(s / 60) % 60)} min`;
}

function formatRemaining(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const two = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

function clockTime(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function announce(text) {
  setText(ui.status, text);
}

// -------------------------------------------------------------- server clock
// Capture times come from the server's clock, so ages are measured on it too.
// Each status message says the server's `now`; it arrives a little late, so
// every sample underestimates the offset and the largest recent one is the
// best. performance.now() cannot jump when the phone sets its own clock.
const clock = {
  samples: [],
  offset: Date.now() - performance.now(),
  sample(serverIso, receivedAt) {
    const server = Date.parse(serverIso);
    if (Number.isNaN(server)) return;
    this.samples = [...this.samples.slice(-5), server - receivedAt];
    this.offset = Math.max(...this.samples);
  },
  now() {
    return performance.now() + this.offset;
  },
};

// --------------------------------------------------------------------- views
// A camera is drawn in its grid tile and, while open, in the full-screen
// dialog; both have the same parts, so one class updates either.

class View {
  constructor(root, { withFloor = false } = {}) {
    this.root = root;
    this.withFloor = withFloor;
    const find = (selector) => root.querySelector(selector);
    this.canvas = find("canvas");
    this.context = this.canvas.getContext("2d");
    this.name = find(".name");
    this.where = find(".where");
    this.watermark = find(".watermark");
    this.overlay = find(".overlay");
    this.badge = find(".badge");
    this.age = find(".age");
    this.placeholder = find(".placeholder");
    this.bannerTitle = find(".banner-title");
    this.bannerNote = find(".banner-note");
  }

  describe(camera, label) {
    const where = [camera.area, this.withFloor ? camera.floor : null].filter(Boolean).join(" · ");
    setText(this.name, camera.name);
    setText(this.where, where);
    // The link's label over the picture: a screenshot says whose link it was.
    setText(this.watermark, label);
    this.canvas.setAttribute("aria-label", `Picture from ${camera.name}`);
    if (this.root.classList.contains("tile")) {
      const name = where ? `${camera.name}, ${where}` : camera.name;
      this.root.setAttribute("aria-label", `${name}. Open full screen.`);
    }
  }

  draw(image) {
    if (this.canvas.width !== image.width || this.canvas.height !== image.height) {
      this.canvas.width = image.width;
      this.canvas.height = image.height;
    }
    this.context.drawImage(image, 0, 0);
  }

  clear() {
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  show({ state, badge, age, placeholder, bannerTitle, bannerNote }) {
    if (this.root.dataset.state !== state) this.root.dataset.state = state;
    setText(this.badge, badge);
    setText(this.age, age);
    setText(this.placeholder, placeholder);
    setText(this.bannerTitle, bannerTitle);
    setText(this.bannerNote, bannerNote);
  }
}

// ---------------------------------------------------------------- a camera
const SERVER_PROBLEMS = {
  offline: "Camera offline · the server keeps retrying",
  unavailable: "Camera unavailable",
};
const streaming = new Set(); // signals of the streams open now, for the page's state

let tileCount = 0;

class Tile {
  constructor(camera) {
    this.camera = camera;
    this.grid = new View(ui.template.content.firstElementChild.cloneNode(true));
    this.root = this.grid.root;
    this.root.dataset.camera = camera.id;
    const id = `tile-${++tileCount}`;
    this.grid.overlay.id = `${id}-state`;
    this.grid.placeholder.id = `${id}-note`;
    this.grid.bannerTitle.parentElement.id = `${id}-banner`;
    this.root.setAttribute("aria-describedby", `${id}-state ${id}-banner ${id}-note`);
    this.root.addEventListener("click", () => openFull(this));
    this.visible = false;
    this.seenUntil = 0;
    this.waiting = false; // visible but over the stream budget
    // The live picture: player.js fetches, plays and dates it.
    this.player = new Player({
      picture: () => {
        this.root.dataset.frames = String(this.player.frames);
        this.root.dataset.seq = this.player.seq;
        this.root.dataset.player = this.player.kind ?? "";
        this.render(clock.now());
      },
      opened: (signal) => streaming.add(signal),
      closed: (signal, ended) => {
        streaming.delete(signal);
        // The server closes streams when the session or the link ends.
        if (ended) recheck();
      },
    });
    this.player.attach(this.grid);
    this.update(camera);
  }

  get views() {
    return this.player.views;
  }

  update(camera) {
    this.camera = camera;
    this.player.update(camera);
    for (const view of this.views) view.describe(camera, session.data?.link.label ?? "");
  }

  start() {
    this.player.start();
  }

  stop() {
    this.player.stop();
  }

  attach(view) {
    view.describe(this.camera, session.data?.link.label ?? "");
    this.player.attach(view);
    this.render(clock.now());
  }

  detach(view) {
    this.player.detach(view);
  }

  render(now) {
    const player = this.player;
    const age = player.capturedAt === null ? null : Math.max(0, now - player.capturedAt);
    const serverProblem = SERVER_PROBLEMS[this.camera.status] ?? null;
    const problem = player.problem ?? serverProblem;
    const retry = Math.ceil((player.retryAt - performance.now()) / 1000);
    const retrying = retry > 0 && player.problem ? ` · retrying in ${retry} s` : "";
    let shown;
    if (age !== null && age <= STALE_AFTER_MS) {
      shown = { state: "live", badge: "LIVE", age: formatAge(age) };
    } else if (age !== null) {
      // An old picture stays, dimmed; a failed camera says OFFLINE over it.
      shown = {
        state: "stale",
        badge: problem ? "OFFLINE" : "STALE",
        age: formatAge(age),
        bannerTitle: problem ? "OFFLINE" : `STALE · ${formatAge(age)}`,
        bannerNote: problem
          ? `Last picture ${formatAge(age)} ago · ${problem}`
          : "Not live · no new picture",
      };
    } else if (problem) {
      // No picture here; the server may still know when it last had one.
      const last = Date.parse(this.camera.last_frame_at ?? "");
      const since = Number.isNaN(last) ? "" : ` · last picture ${formatAge(Math.max(0, now - last))} ago`;
      shown = { state: "offline", badge: "OFFLINE", placeholder: `${problem}${since}${retrying}` };
    } else if (!player.running) {
      shown = {
        state: "paused",
        badge: "PAUSED",
        placeholder: this.waiting ? "Paused: too many cameras on screen. Tap to watch." : "Paused",
      };
    } else {
      shown = { state: "connecting", badge: "CONNECTING", placeholder: "Connecting…" };
    }
    shown = { age: "", placeholder: "", bannerTitle: "", bannerNote: "", ...shown };
    for (const view of this.views) view.show(shown);
    this.root.dataset.age = age === null ? "" : String(Math.round(age));
  }
}

// ------------------------------------------------------------------ layout

const session = {
  data: null, // the session shown, from the last status
  idle: null, // the last status while nothing was shared
  ended: false,
  waiting: false, // after an end, for the next session
  events: null,
  checking: false,
};
const tiles = new Map(); // camera id → Tile
let order = []; // tiles in page order
let layoutKey = "";

const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const tile = order.find((t) => t.root === entry.target);
      if (!tile) continue;
      tile.visible = entry.isIntersecting;
      if (!entry.isIntersecting) tile.seenUntil = performance.now() + OFFSCREEN_GRACE_MS;
    }
    schedule();
  },
  { rootMargin: "150px 0px" },
);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

const byName = (a, b) => (a ?? "\uffff").localeCompare(b ?? "\uffff");

// Schools by name (cameras of no school last), then floors by level (no
// level, then no floor, last), areas and cameras by name.
function group(cameras) {
  const schools = new Map();
  for (const camera of cameras) {
    const schoolKey = camera.school ?? "";
    if (!schools.has(schoolKey)) schools.set(schoolKey, { name: camera.school ?? null, floors: new Map() });
    const floors = schools.get(schoolKey).floors;
    const floorKey = camera.floor ?? "";
    if (!floors.has(floorKey)) {
      floors.set(floorKey, { name: camera.floor, level: camera.floor_level, areas: new Map() });
    }
    const areas = floors.get(floorKey).areas;
    const areaKey = camera.area ?? "";
    if (!areas.has(areaKey)) areas.set(areaKey, { name: camera.area, cameras: [] });
    areas.get(areaKey).cameras.push(camera);
  }
  const rank = (floor) => (floor.name === null ? 2 : floor.level === null ? 1 : 0);
  const floorsOf = (school) =>
    [...school.floors.values()]
      .sort((a, b) => rank(a) - rank(b) || (a.level ?? 0) - (b.level ?? 0) || byName(a.name, b.name))
      .map((floor) => ({
        ...floor,
        areas: [...floor.areas.values()]
          .sort((a, b) => byName(a.name, b.name))
          .map((area) => ({ ...area, cameras: area.cameras.sort((a, b) => byName(a.name, b.name)) })),
      }));
  return [...schools.values()]
    .sort((a, b) => byName(a.name, b.name))
    .map((school) => ({ name: school.name, floors: floorsOf(school) }));
}

// "Lincoln High - Ground floor" under Lincoln High is "Ground floor".
function floorTitle(floor, school) {
  const name = floor.name ?? "Other cameras";
  return school && name.startsWith(school) ? name.slice(school.length).replace(/^\s*[-–—·:]\s*/, "") || name : name;
}

function layout(cameras) {
  const key = JSON.stringify(cameras.map((c) => [c.id, c.name, c.area, c.floor, c.floor_level]));
  if (key !== layoutKey) {
    layoutKey = key;
    const focused = order.find((tile) => tile.root === document.activeElement);
    const ids = new Set(cameras.map((c) => c.id));
    for (const [id, tile] of tiles) {
      if (ids.has(id)) continue;
      if (full === tile) closeFull();
      tile.stop();
      observer.unobserve(tile.root);
      tiles.delete(id);
    }
    const sections = [];
    order = [];
    const folded = cameras.length > COLLAPSE_OVER;
    for (const school of group(cameras)) {
      const block = element("section", "school");
      if (school.name) block.append(element("h2", "", school.name));
      for (const floor of school.floors) {
        // One grid per floor, ordered by area: a wide screen stays full even
        // when most areas have a single camera; each tile names its area. A
        // folded floor shows nothing, so streams nothing.
        const section = element("details", "floor");
        section.open = !folded;
        const grid = element("div", "tiles");
        const floorCameras = floor.areas.flatMap((area) => area.cameras);
        for (const camera of floorCameras) {
          let tile = tiles.get(camera.id);
          if (!tile) {
            tile = new Tile(camera);
            tiles.set(camera.id, tile);
            observer.observe(tile.root);
          }
          order.push(tile);
          grid.append(tile.root);
        }
        const summary = element("summary", "", floorTitle(floor, school.name));
        summary.append(" ", element("span", "count", `(${floorCameras.length})`));
        section.append(summary, grid);
        block.append(section);
      }
      sections.push(block);
    }
    ui.searchBar.hidden = cameras.length <= SEARCH_OVER;
    if (!sections.length) {
      sections.push(element("p", "empty", "No cameras are shared with this link right now."));
    }
    ui.cameras.replaceChildren(...sections);
    filter();
    focused?.root.isConnected && focused.root.focus();
  }
  for (const camera of cameras) tiles.get(camera.id).update(camera);
}

// The search box: tiles whose name, area or floor hold every word typed;
// floors with a match open while searching.
function filter() {
  const words = ui.search.value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const tile of order) {
    const text = [tile.camera.name, tile.camera.area, tile.camera.floor, tile.camera.school]
      .join(" ")
      .toLowerCase();
    tile.root.hidden = !words.every((word) => text.includes(word));
  }
  for (const floor of ui.cameras.querySelectorAll("details.floor")) {
    const shown = [...floor.querySelectorAll(".tile")].filter((tile) => !tile.hidden).length;
    floor.hidden = words.length > 0 && shown === 0;
    if (words.length && shown) floor.open = true;
  }
}
ui.search.addEventListener("input", filter);

// Streams only for what can be seen: the full-screen camera, or the tiles on
// screen (and those just scrolled past), up to the connection budget.
function schedule() {
  const now = performance.now();
  let wanted = [];
  if (!session.ended && session.data && !document.hidden) {
    const lingering = order.filter((t) => !t.visible && t.seenUntil > now);
    wanted = full ? [full] : [...order.filter((t) => t.visible), ...lingering];
  }
  const chosen = new Set(wanted.slice(0, STREAM_BUDGET));
  for (const tile of order) {
    tile.waiting = wanted.includes(tile) && !chosen.has(tile);
    if (chosen.has(tile)) tile.start();
    else tile.stop();
  }
}

// ------------------------------------------------------------------ session

function applyStatus(body, receivedAt) {
  if (body.session === null) {
    // A standing link while nothing is shared (or again, after it ended).
    if (session.data && !session.ended) end("session_ended");
    showIdle(body, receivedAt);
    return;
  }
  if (session.ended) {
    // The next session, after this page showed the last one end: start afresh.
    if (session.waiting) location.reload();
    return;
  }
  ui.idle.hidden = true;
  ui.cameras.hidden = false;
  const s = body.session;
  clock.sample(s.now, receivedAt);
  if (s.state === "ended") {
    end("session_ended");
    return;
  }
  const previous = session.data;
  session.data = s;
  setText(ui.school, s.school);
  document.title = `${s.school} · cameras`;
  setText(ui.reasonText, s.incident_id ? `${s.reason} · Incident ${s.incident_id}` : s.reason);
  setText(ui.agency, s.agency);
  setText(ui.label, s.link.label);
  ui.reason.hidden = false;
  ui.who.hidden = false;
  const count = body.cameras.length;
  if (!previous) {
    announce(`Sharing active · ${count} camera${count === 1 ? "" : "s"}`);
  } else if (previous.expires_at !== s.expires_at) {
    announce(`Sharing extended · now ends at ${clockTime(new Date(s.expires_at))}`);
  } else if (ui.status.dataset.trouble) {
    announce(`Connected again · ${count} camera${count === 1 ? "" : "s"}`);
  }
  delete ui.status.dataset.trouble;
  document.body.dataset.state = "active";
  layout(body.cameras);
  tick();
}

function trouble(text) {
  ui.status.dataset.trouble = "1";
  announce(text);
}

// ---------------------------------------------------------------- waiting

const REQUEST_SAID = {
  pending: (r) =>
    `Request sent at ${clockTime(new Date(r.created_at))}: the school is asked to share ` +
    `its cameras. It expires at ${clockTime(new Date(r.expires_at))} if nobody answers.`,
  approved: () => "Approved: the cameras appear here as soon as sharing starts.",
  denied: (r) => `The school denied the request${r.note ? `: ${r.note}` : "."}`,
  expired: () => "Nobody answered within 10 minutes. You may ask again.",
};

function showIdle(body, receivedAt) {
  clock.sample(body.now, receivedAt);
  session.idle = body;
  if (body.school) {
    setText(ui.school, body.school);
    document.title = `${body.school} · cameras`;
  }
  if (body.link?.label) setText(ui.label, body.link.label);
  if (!session.ended) {
    document.body.dataset.state = "idle";
    ui.cameras.hidden = true;
    ui.searchBar.hidden = true;
    ui.countdown.hidden = true;
    announce("Waiting for the school to share its cameras");
  }
  ui.idle.hidden = false;
  const request = body.request;
  const asking = body.link?.standing && (!request || request.status !== "pending");
  ui.ask.hidden = !asking || request?.status === "approved";
  if (!ui.askOfficer.value && body.link?.label) ui.askOfficer.value = body.link.label;
  const said = request ? REQUEST_SAID[request.status]?.(request) : "";
  ui.askStatus.dataset.status = request?.status ?? "";
  if (said) setText(ui.askStatus, said);
}

ui.ask.addEventListener("submit", async (event) => {
  event.preventDefault();
  ui.askSend.disabled = true;
  setText(ui.askStatus, "Sending…");
  try {
    const response = await fetch(`${base}/request`, {
      method: "POST",
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ reason: ui.askReason.value, officer: ui.askOfficer.value }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 202) {
      ui.ask.hidden = true;
      ui.askStatus.dataset.status = "pending";
      setText(ui.askStatus, REQUEST_SAID.pending(body));
    } else {
      setText(ui.askStatus, REQUEST_REFUSED[body.error] ?? `Not sent (${response.status}).`);
    }
  } catch {
    setText(ui.askStatus, "Cannot reach the school's server. Try again.");
  } finally {
    ui.askSend.disabled = false;
  }
});

const REQUEST_REFUSED = {
  request_pending: "A request is already waiting for the school's answer.",
  already_active: "Sharing is active: the cameras are loading.",
  too_many_requests: "Too many requests from here. Try again in a minute.",
  reason_required: "Say what is happening and where.",
  field_too_long: "Shorter, please: 300 characters at most.",
};

// The session's and the link's truth, from cameras.json: on load, after a
// refused or closed stream, after the events stream closed, and on return to
// the page.
async function recheck() {
  if (session.ended || session.checking) return;
  session.checking = true;
  let retry = true;
  try {
    const response = await fetch(`${base}/cameras.json`, { cache: "no-store" });
    if (response.ok) {
      applyStatus(await response.json(), performance.now());
      if (!session.ended && !session.events && !document.hidden) listen();
      retry = false;
    } else if (response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => ({}));
      const why = body.error ?? (response.status === 401 ? "expired_link" : "no_active_session");
      if (why === "no_active_session" && !session.data && !session.ended) {
        // A standing link before any session: wait on the events stream.
        if (!session.events && !document.hidden) listen();
      } else {
        end(why);
      }
      retry = false;
    } else if (response.status === 429) {
      trouble("Too many viewers or failed attempts · retrying");
    } else {
      trouble(`The school's server answered ${response.status} · retrying`);
    }
  } catch {
    trouble("Cannot reach the school's server · retrying");
  } finally {
    session.checking = false;
  }
  if (retry) setTimeout(recheck, RECHECK_MS);
}

function listen() {
  const events = new EventSource(`${base}/events`);
  session.events = events;
  events.addEventListener("status", (event) => {
    applyStatus(JSON.parse(event.data), performance.now());
  });
  events.addEventListener("ended", (event) => {
    let reason = "session_ended";
    try {
      reason = JSON.parse(event.data).reason ?? reason;
    } catch {
      // the session ended either way
    }
    end(reason);
  });
  events.addEventListener("error", () => {
    if (session.events !== events) return;
    if (events.readyState === EventSource.CLOSED) {
      // Refused (401/403, or 429 at the stream cap): the browser gives up.
      // Ask why after a pause: cameras.json can succeed while this fails.
      session.events = null;
      if (!session.data && !session.ended) {
        end("no_active_session");
        return;
      }
      trouble("Live status interrupted · retrying");
      setTimeout(recheck, RECHECK_MS);
    } else {
      trouble("Connection to the school lost · reconnecting…");
    }
  });
}

// Why the page stopped, by the server's reason: [title, text, final]. Final
// endings stop there; others wait for the next session (standing links) or
// for the server to come back.
const ENDINGS = {
  expired_link: [
    "Sharing has ended",
    "This link was for that emergency and no longer opens the cameras.",
    true,
  ],
  revoked_link: [
    "This link was withdrawn",
    "The school revoked this link. Ask for a new one if you still need the cameras.",
    true,
  ],
  unknown_link: ["This link does not work", "Check that the whole link was copied.", true],
  no_active_session: [
    "Sharing has ended",
    "No emergency sharing is active now. This page shows the cameras again " +
      "the moment sharing starts.",
    false,
  ],
  shutdown: [
    "Sharing paused",
    "The school's server is restarting. This page checks every 15 seconds.",
    false,
  ],
};
const DEFAULT_ENDING = [
  "Sharing has ended",
  "The school stopped sharing its cameras. This page shows them again the moment " +
    "sharing starts.",
  false,
];

// Stop everything the session opened and say so; no picture stays on screen.
function end(reason) {
  if (session.ended) return;
  session.ended = true;
  session.events?.close();
  session.events = null;
  closeFull();
  if (history.state?.fullScreen) history.replaceState(null, "");
  for (const tile of tiles.values()) {
    tile.stop();
    observer.unobserve(tile.root);
  }
  tiles.clear();
  order = [];
  layoutKey = "";
  ui.cameras.replaceChildren();
  ui.cameras.hidden = true;
  ui.countdown.hidden = true;
  const [title, text, final] = ENDINGS[reason] ?? DEFAULT_ENDING;
  setText(ui.noticeTitle, title);
  setText(ui.noticeText, text);
  const at = clockTime(new Date());
  setText(ui.noticeTime, `Ended at ${at}. No video is shown after sharing ends.`);
  ui.notice.hidden = false;
  announce(title);
  document.body.dataset.state = "ended";
  document.body.dataset.streams = String(streaming.size);
  if (!final) waitForNextSession();
}

// Standing links open again when the next session starts: the events stream
// says so at once (the page reloads to begin afresh); a link that may not hold
// it is asked every 15 seconds instead.
function waitForNextSession() {
  session.waiting = true;
  const events = new EventSource(`${base}/events`);
  events.addEventListener("status", (event) => {
    applyStatus(JSON.parse(event.data), performance.now());
  });
  events.addEventListener("error", () => {
    if (events.readyState === EventSource.CLOSED) setTimeout(pollForNextSession, WAIT_POLL_MS);
  });
}

async function pollForNextSession() {
  try {
    const response = await fetch(`${base}/cameras.json`, { cache: "no-store" });
    if (response.ok) {
      location.reload();
      return;
    }
    if (response.status === 401) {
      const { error } = await response.json().catch(() => ({}));
      const [title, text] = ENDINGS[error] ?? ENDINGS.expired_link;
      setText(ui.noticeTitle, title);
      setText(ui.noticeText, text);
      ui.idle.hidden = true;
      announce(title);
      return;
    }
  } catch {
    // unreachable for now: keep waiting
  }
  setTimeout(pollForNextSession, WAIT_POLL_MS);
}

// -------------------------------------------------------------- full screen
// A modal dialog: the rest of the page is inert, Escape closes it, and a
// history entry makes the phone's back button close it too.

let full = null;
const fullView = new View(ui.full, { withFloor: true });

function openFull(tile) {
  if (session.ended || full) return;
  full = tile;
  tile.attach(fullView);
  history.pushState({ fullScreen: true }, "");
  ui.full.showModal();
  ui.back.focus();
  schedule();
}

function closeFull() {
  if (!full) return;
  const tile = full;
  full = null;
  tile.detach(fullView);
  fullView.clear();
  if (ui.full.open) ui.full.close();
  if (tile.root.isConnected) tile.root.focus();
  schedule();
}

function leaveFull() {
  if (history.state?.fullScreen) history.back(); // popstate closes it
  else closeFull();
}

ui.back.addEventListener("click", leaveFull);
ui.full.addEventListener("cancel", (event) => {
  event.preventDefault();
  leaveFull();
});
addEventListener("popstate", () => {
  if (!history.state?.fullScreen) closeFull();
});

// ------------------------------------------------------------------ ticking

function tick() {
  const now = clock.now();
  schedule();
  for (const tile of order) {
    tile.player.poll();
    tile.render(now);
  }
  const s = session.data;
  if (s && !session.ended) {
    const sessionEnd = Date.parse(s.expires_at);
    const linkEnd = Date.parse(s.link.expires_at);
    const left = Math.min(sessionEnd, linkEnd) - now;
    setText(ui.countdownLabel, linkEnd < sessionEnd ? "Link ends in" : "Ends in");
    setText(ui.remaining, left > 0 ? formatRemaining(left) : "now");
    ui.countdown.classList.toggle("soon", left < 5 * 60_000);
    ui.countdown.hidden = false;
  }
  document.body.dataset.streams = String(streaming.size);
}

// A phone in a pocket watches nothing: close everything, ask again on return.
document.addEventListener("visibilitychange", () => {
  if (session.ended) return;
  if (document.hidden) {
    session.events?.close();
    session.events = null;
    schedule();
  } else {
    recheck();
  }
});

// A reload keeps history.state; the full-screen view it marked is gone.
if (history.state?.fullScreen) history.replaceState(null, "");
setInterval(tick, TICK_MS);
recheck();
