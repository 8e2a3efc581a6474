// The live picture of one camera, and the time it was taken.
//
// This module is the page's player, apart from its layout: a Player fetches
// one camera's stream under the page's link and shows it in one or more
// views (its tile in the grid, the full-screen dialog), and tells the page
// the capture time of the picture on screen, so ages and STALE stay honest.
//
// Two ways, chosen per camera:
// - mp4/<camera>: the camera's own H.264 in fragmented MP4, played through
//   Media Source Extensions (ManagedMediaSource on iOS 17.1+, MediaSource
//   elsewhere). Every fragment is preceded by a `prft` box (ISO/IEC 14496-12
//   producer reference time) holding the server's wall-clock time the
//   fragment came off the camera; the page keeps which stretch of the media
//   timeline each fragment fills, and the picture presented says its age.
//   A fraction of MJPEG's bytes: what an officer on a cellular plan pays.
// - mjpeg/<camera>: JPEG after JPEG, each part with an X-Capture-Time header.
// MP4 is used where cameras.json offers it and the browser can play the
// codec the init segment names (`avc1.PPCCLL`, from its avcC box); MJPEG
// otherwise, and for good once MP4 turned out not to work for that camera.

import { boundaryOf, codecOf, mjpegParts, mp4Boxes, producerTime } from "./wire.js";

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;
const LIVE_LAG_S = 0.5; // further behind the newest picture than this: jump
const LIVE_EDGE_S = 0.05; // where a jump lands, before the newest picture
const KEEP_BEHIND_S = 10; // media kept behind the picture shown
const SPANS_KEPT = 600; // fragments whose capture times are remembered
const PROBE_CODEC = 'video/mp4; codecs="avc1.42E01E"'; // any H.264 at all?

const MediaSourceType = globalThis.ManagedMediaSource ?? globalThis.MediaSource;

// Whether this browser may play MP4 at all (the camera's codec is asked later).
export function mseOffered() {
  return Boolean(MediaSourceType?.isTypeSupported?.(PROBE_CODEC));
}

class Unsupported extends Error {}

// Plays fragmented MP4 into a <video> through a MediaSource, and tells which
// capture time goes with the picture presented.
class MseSink {
  constructor(video, onPicture) {
    this.video = video;
    this.onPicture = onPicture;
    this.source = null;
    this.buffer = null;
    this.url = null;
    this.codec = null;
    this.pending = []; // [{bytes, capturedAt}] not yet appended
    this.spans = []; // [{end, capturedAt}]: media up to `end` came off at…
    this.appending = null; // earliest capture time in the append under way
    this.lastPresented = -1;
    this.closed = false;
    this.failure = null;
    this.initHead = null; // ftyp, until its moov arrives
    this.moof = null; // a fragment's moof, until its mdat arrives
  }

  async open(init) {
    const codec = codecOf(init);
    const type = codec && `video/mp4; codecs="${codec}"`;
    if (!type || !MediaSourceType.isTypeSupported(type)) throw new Unsupported(codec ?? "?");
    if (this.buffer) {
      // The camera's stream started over: same codec, same timeline on.
      if (codec !== this.codec) this.buffer.changeType?.(type);
      this.codec = codec;
      this.pending.push({ bytes: init, capturedAt: null });
      this.pump();
      return;
    }
    this.codec = codec;
    const source = new MediaSourceType();
    this.source = source;
    const video = this.video;
    video.disableRemotePlayback = true; // ManagedMediaSource requires it
    video.muted = true;
    video.playsInline = true;
    this.url = URL.createObjectURL(source);
    video.src = this.url;
    await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
    if (this.closed) return;
    const buffer = source.addSourceBuffer(type);
    // Pictures one after the other whatever their timestamps: a skipped
    // stretch (the server drops fragments for a slow phone) leaves no gap
    // for playback to stall at.
    buffer.mode = "sequence";
    buffer.addEventListener("updateend", () => this.appended());
    buffer.addEventListener("error", () => this.fail(new Error("MP4 append failed")));
    this.buffer = buffer;
    this.pending.push({ bytes: init, capturedAt: null });
    this.pump();
    this.watch();
  }

  push(bytes, capturedAt) {
    this.pending.push({ bytes, capturedAt });
    this.pump();
  }

  // Appends all that waits in one go; the stretch it fills is remembered
  // with the earliest capture time in it (an age never looks younger).
  pump() {
    const buffer = this.buffer;
    if (!buffer || buffer.updating || this.closed || !this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    const times = batch.map((p) => p.capturedAt).filter((t) => t !== null);
    this.appending = times.length ? Math.min(...times) : null;
    const size = batch.reduce((sum, p) => sum + p.bytes.length, 0);
    const joined = new Uint8Array(size);
    let at = 0;
    for (const piece of batch) {
      joined.set(piece.bytes, at);
      at += piece.bytes.length;
    }
    try {
      buffer.appendBuffer(joined);
    } catch (error) {
      if (error.name === "QuotaExceededError") {
        this.trim(true);
        this.pending = [...batch, ...this.pending];
      } else {
        this.fail(error);
      }
    }
  }

  appended() {
    if (this.closed) return;
    const ranges = this.buffer.buffered;
    if (ranges.length && this.appending !== null) {
      const end = ranges.end(ranges.length - 1);
      this.spans.push({ end, capturedAt: this.appending });
      if (this.spans.length > SPANS_KEPT) this.spans.splice(0, this.spans.length - SPANS_KEPT);
      const video = this.video;
      // Live, not smooth: a picture group arriving late is skipped over.
      if (end - video.currentTime > LIVE_LAG_S) video.currentTime = Math.max(0, end - LIVE_EDGE_S);
      if (video.paused) video.play().catch(() => {});
    }
    if (!this.trim(false)) this.pump();
  }

  // Drops media long played; true if a removal started (it ends in updateend).
  trim(now) {
    const buffer = this.buffer;
    const keepFrom = this.video.currentTime - (now ? 1 : KEEP_BEHIND_S);
    const ranges = buffer.buffered;
    if (buffer.updating || !ranges.length || ranges.start(0) >= keepFrom - (now ? 0 : 5)) return false;
    buffer.remove(0, keepFrom);
    return true;
  }

  // The capture time of the picture at media time `t`.
  capturedAtTime(t) {
    for (const span of this.spans) if (span.end > t + 0.001) return span.capturedAt;
    return null;
  }

  // Each picture presented (requestVideoFrameCallback where there is one,
  // the page's tick otherwise via `poll`).
  watch() {
    const video = this.video;
    if (!("requestVideoFrameCallback" in video)) return;
    const presented = (_now, meta) => {
      if (this.closed) return;
      this.present(meta.mediaTime);
      video.requestVideoFrameCallback(presented);
    };
    video.requestVideoFrameCallback(presented);
  }

  poll() {
    if (this.buffer && !("requestVideoFrameCallback" in this.video)) this.present(this.video.currentTime);
  }

  present(mediaTime) {
    if (mediaTime === this.lastPresented) return;
    this.lastPresented = mediaTime;
    const capturedAt = this.capturedAtTime(mediaTime);
    if (capturedAt !== null) this.onPicture(capturedAt);
  }

  fail(error) {
    this.failure ??= error;
  }

  close() {
    this.closed = true;
    const video = this.video;
    video.pause();
    video.removeAttribute("src");
    video.load();
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    this.buffer = null;
    this.source = null;
  }
}

// ---------------------------------------------------------------------- Player

const PROBLEMS = {
  401: "This link no longer works",
  403: "Not shared right now",
  429: "Too many viewers",
  503: "Camera unavailable",
};

// One camera's live picture. `hooks`: picture() after each new picture,
// opened(signal) / closed(signal, ended) around each open stream (ended:
// the server ended it, or refused 401/403: the page asks cameras.json why).
export class Player {
  constructor(hooks) {
    this.hooks = hooks;
    this.views = [];
    this.camera = null;
    this.controller = null; // the open stream's, while one should be open
    this.kind = null; // "mp4" or "mjpeg": what is being played
    this.capturedAt = null; // capture time (server ms) of the picture shown
    this.frames = 0;
    this.seq = "";
    this.problem = null; // why the last attempt failed, shown to the viewer
    this.retryAt = 0;
    this.noMp4 = false; // MP4 failed for this camera: MJPEG from now on
    this.pending = null;
    this.drawing = false;
    this.video = null;
    this.sink = null;
  }

  get running() {
    return this.controller !== null;
  }

  update(camera) {
    this.camera = camera;
  }

  start() {
    if (this.controller) return;
    this.controller = new AbortController();
    this.run(this.controller.signal);
  }

  stop() {
    if (!this.controller) return;
    this.controller.abort();
    this.controller = null;
    this.closeSink();
    // A camera not being watched shows nothing rather than an old picture.
    this.capturedAt = null;
    this.pending = null;
    this.problem = null;
    this.kind = null;
    for (const view of this.views) view.clear();
  }

  // The view the video is shown in: the last attached (full screen) one.
  get stage() {
    return this.views[this.views.length - 1];
  }

  attach(view) {
    this.views.push(view);
    view.clear();
    if (this.video) this.place();
    else if (this.capturedAt !== null) view.draw(this.views[0].canvas);
  }

  detach(view) {
    this.views = this.views.filter((v) => v !== view);
    if (this.video) this.place();
  }

  // Puts the video over the stage view's (cleared) canvas, which still
  // names the picture for screen readers. Moved within one task, the
  // element keeps playing.
  place() {
    const stage = this.stage;
    if (stage && this.video) stage.canvas.after(this.video);
  }

  async run(signal) {
    let backoff = RETRY_MIN_MS;
    while (!signal.aborted) {
      let wait = backoff;
      const mp4 = Boolean(this.camera.mp4) && !this.noMp4 && mseOffered();
      try {
        const response = await fetch(mp4 ? this.camera.mp4 : this.camera.mjpeg, {
          signal,
          cache: "no-store",
        });
        if (response.ok) {
          this.problem = null;
          this.hooks.opened(signal);
          try {
            if (mp4) await this.playMp4(response, signal, () => (backoff = RETRY_MIN_MS));
            else await this.playMjpeg(response, () => (backoff = RETRY_MIN_MS));
          } finally {
            this.hooks.closed(signal, true);
          }
          wait = RETRY_MIN_MS;
        } else if (mp4 && response.status === 404) {
          // The camera cannot give MP4 (not H.264, masked): MJPEG at once.
          response.body?.cancel().catch(() => {});
          this.noMp4 = true;
          continue;
        } else {
          response.body?.cancel().catch(() => {});
          const after = Number(response.headers.get("Retry-After")) * 1000 || 0;
          this.problem = PROBLEMS[response.status] ?? `Server error ${response.status}`;
          // 401/403 may mean the session ended, or just this camera left it.
          if (response.status === 401 || response.status === 403) this.hooks.closed(signal, true);
          wait = Math.max(after, backoff);
          backoff = Math.min(backoff * 2, RETRY_MAX_MS);
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof Unsupported) {
          this.noMp4 = true;
          this.closeSink();
          continue;
        }
        this.problem = error instanceof TypeError ? "Connection lost" : "Stream damaged";
        wait = backoff;
        backoff = Math.min(backoff * 2, RETRY_MAX_MS);
      }
      if (signal.aborted) return;
      this.retryAt = performance.now() + wait;
      await sleep(wait, signal);
    }
  }

  // ------------------------------------------------------------------ MJPEG

  async playMjpeg(response, healthy) {
    this.kind = "mjpeg";
    for await (const part of mjpegParts(response.body, boundaryOf(response))) {
      this.offer(part);
      healthy();
    }
  }

  // Frames may come faster than they decode: keep only the newest waiting.
  offer(part) {
    this.pending = part;
    if (!this.drawing) this.drawPending();
  }

  async drawPending() {
    this.drawing = true;
    while (this.pending && this.controller) {
      const part = this.pending;
      this.pending = null;
      let image;
      try {
        image = await createImageBitmap(part.blob);
      } catch {
        continue; // a damaged JPEG: the next one will do
      }
      if (this.controller && this.kind === "mjpeg") {
        for (const view of this.views) view.draw(image);
        // The age shown is the age of the picture shown, not of the newest received.
        this.shown(part.capturedAt, part.seq);
      }
      image.close();
    }
    this.drawing = false;
  }

  shown(capturedAt, seq) {
    this.capturedAt = capturedAt;
    this.frames += 1;
    this.seq = String(seq);
    this.hooks.picture();
  }

  // -------------------------------------------------------------------- MP4

  async playMp4(response, signal, healthy) {
    this.kind = "mp4";
    const video = document.createElement("video");
    video.className = "live-video";
    video.setAttribute("aria-hidden", "true"); // the view's canvas names the picture
    let count = 0;
    const sink = new MseSink(video, (capturedAt) => {
      if (this.sink === sink) this.shown(capturedAt, count);
    });
    // The last stream's picture stays (ageing, then STALE) until this one
    // plays; the new video waits in the page beneath it (iOS opens a
    // ManagedMediaSource only for a video in the document).
    const previous = this.sink;
    this.stage?.canvas.after(video);
    let capturedAt = null;
    let started = false;
    try {
      for await (const box of mp4Boxes(response.body)) {
        if (signal.aborted || sink.failure) break;
        if (box.type === "prft") {
          capturedAt = producerTime(box.bytes);
        } else if (box.type === "ftyp") {
          sink.initHead = box.bytes;
        } else if (box.type === "moov") {
          await sink.open(join(sink.initHead, box.bytes));
          if (!started) {
            started = true;
            this.closeSink(previous);
            this.sink = sink;
            this.video = video;
            this.place();
          }
        } else if (box.type === "moof" && started) {
          sink.moof = box.bytes;
        } else if (box.type === "mdat" && sink.moof) {
          const fragment = join(sink.moof, box.bytes);
          sink.moof = null;
          // Without a capture time the age is unknown: shown as stale.
          sink.push(fragment, capturedAt ?? -Infinity);
          capturedAt = null;
          count += 1;
          healthy();
        }
      }
      if (sink.failure) throw sink.failure;
      // Ended before a picture: the camera turned out not to give MP4.
      if (!started && !signal.aborted) throw new Unsupported("no init segment");
    } finally {
      if (!started) {
        sink.close();
        video.remove();
      } else if (signal.aborted) {
        this.closeSink(sink);
      }
    }
  }

  poll() {
    this.sink?.poll();
  }

  closeSink(sink = this.sink) {
    if (!sink) return;
    sink.close();
    if (this.sink === sink) {
      this.sink = null;
      this.video?.remove();
      this.video = null;
    }
  }
}

function join(head, tail) {
  const joined = new Uint8Array((head?.length ?? 0) + tail.length);
  if (head) joined.set(head);
  joined.set(tail, head?.length ?? 0);
  return joined;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
