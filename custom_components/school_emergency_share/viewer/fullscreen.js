// One camera full screen: a modal dialog, so the rest of the page is inert;
// Escape closes it, and a history entry makes the phone's back button close
// it too.

import { View } from "./tile.js";

export class FullScreen {
  // `allowed()`: whether a camera may open now; `changed()`: told on open
  // and close (what streams follows what is in front of the officer).
  constructor(dialog, back, { allowed, changed }) {
    this.dialog = dialog;
    this.back = back;
    this.view = new View(dialog, { withFloor: true });
    this.allowed = allowed;
    this.changed = changed;
    this.tile = null; // the camera shown, if any
    back.addEventListener("click", () => this.leave());
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      this.leave();
    });
    addEventListener("popstate", () => {
      if (!history.state?.fullScreen) this.close();
    });
    // A reload keeps history.state; the full-screen view it marked is gone.
    if (history.state?.fullScreen) history.replaceState(null, "");
  }

  open(tile) {
    if (!this.allowed() || this.tile) return;
    this.tile = tile;
    tile.attach(this.view);
    history.pushState({ fullScreen: true }, "");
    this.dialog.showModal();
    this.back.focus();
    this.changed();
  }

  close() {
    const tile = this.tile;
    if (!tile) return;
    this.tile = null;
    tile.detach(this.view);
    this.view.clear();
    if (this.dialog.open) this.dialog.close();
    if (tile.root.isConnected) tile.root.focus();
    this.changed();
  }

  // Back or Escape: through history, so the history entry goes too.
  leave() {
    if (history.state?.fullScreen) history.back(); // popstate closes it
    else this.close();
  }
}
