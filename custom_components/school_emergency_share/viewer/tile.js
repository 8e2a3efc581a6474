// A camera on the page: its tile in the grid (and the full-screen dialog
// while open), the picture its player draws, and what the officer is told
// about that picture: LIVE with its age, STALE, OFFLINE, PAUSED.

import { Player } from "./player.js";
import { formatAge, SERVER_PROBLEMS, setText } from "./words.js";

const STALE_AFTER_MS = 3000; // older than this is not live, whatever the cause

// -------------------------------------------------------------- server clock
// Capture times come from the server's clock, so ages are measured on it too.
// Each status message says the server's `now`; it arrives a little late, so
// every sample underestimates the offset and the largest recent one is the
// best. performance.now() cannot jump when the phone sets its own clock.
export const clock = {
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

export class View {
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


let tileCount = 0;

// `page` is what a tile needs of the page: `template` (a tile's markup),
// `label()` (the link's label, watermarked on the picture), `open(tile)`
// (full screen), `opened(signal)` and `closed(signal, ended)` (its streams).
export class Tile {
  constructor(camera, page) {
    this.camera = camera;
    this.page = page;
    this.grid = new View(page.template.content.firstElementChild.cloneNode(true));
    this.root = this.grid.root;
    this.root.dataset.camera = camera.id;
    const id = `tile-${++tileCount}`;
    this.grid.overlay.id = `${id}-state`;
    this.grid.placeholder.id = `${id}-note`;
    this.grid.bannerTitle.parentElement.id = `${id}-banner`;
    this.root.setAttribute("aria-describedby", `${id}-state ${id}-banner ${id}-note`);
    this.root.addEventListener("click", () => page.open(this));
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
      opened: page.opened,
      closed: page.closed,
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
    for (const view of this.views) view.describe(camera, this.page.label());
  }

  start() {
    this.player.start();
  }

  stop() {
    this.player.stop();
  }

  attach(view) {
    view.describe(this.camera, this.page.label());
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
