"use strict";
(async () => {
  const base = location.pathname.replace(/\/+$/, "");
  const app = document.getElementById("app");
  const response = await fetch(base + "/cameras.json", { cache: "no-store" });
  if (!response.ok) { app.textContent = "This link does not open any camera now."; return; }
  const body = await response.json();
  app.textContent = "";
  for (const camera of body.cameras) {
    const tile = document.createElement("figure");
    tile.className = "tile";
    const img = document.createElement("img");
    img.alt = camera.name;
    img.src = camera.mjpeg;
    const caption = document.createElement("figcaption");
    caption.textContent = camera.name + (camera.area ? " · " + camera.area : "");
    tile.append(img, caption);
    app.append(tile);
  }
})();
