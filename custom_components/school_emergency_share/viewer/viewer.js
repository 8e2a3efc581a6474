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

import { setUpAsking, showRequest } from "./asking.js";
import { floorTitle, group } from "./grouping.js";
import { FullScreen } from "./fullscreen.js";
import { clock, Tile } from "./tile.js";
import {
  clockTime,
  DEFAULT_ENDING,
  ENDINGS,
  formatRemaining,
  setText,
} from "./words.js";
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

function announce(text) {
  setText(ui.status, text);
}

// ---------------------------------------------------------------- cameras

const streaming = new Set(); // signals of the streams open now, for the page's state
// What each tile needs of the page.
const page = {
  template: ui.template,
  label: () => session.data?.link.label ?? "",
  open: (tile) => fullScreen.open(tile),
  opened: (signal) => streaming.add(signal),
  closed: (signal, ended) => {
    streaming.delete(signal);
    // The server closes streams when the session or the link ends.
    if (ended) recheck();
  },
};

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

function layout(cameras) {
  const key = JSON.stringify(cameras.map((c) => [c.id, c.name, c.area, c.floor, c.floor_level]));
  if (key !== layoutKey) {
    layoutKey = key;
    const focused = order.find((tile) => tile.root === document.activeElement);
    const ids = new Set(cameras.map((c) => c.id));
    for (const [id, tile] of tiles) {
      if (ids.has(id)) continue;
      if (fullScreen.tile === tile) fullScreen.close();
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
            tile = new Tile(camera, page);
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
    const full = fullScreen.tile;
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
  showRequest(ui, body);
}

setUpAsking(ui, base);

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

// Stop everything the session opened and say so; no picture stays on screen.
function end(reason) {
  if (session.ended) return;
  session.ended = true;
  session.events?.close();
  session.events = null;
  fullScreen.close();
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

const fullScreen = new FullScreen(ui.full, ui.back, {
  allowed: () => !session.ended,
  changed: () => schedule(),
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

setInterval(tick, TICK_MS);
recheck();
