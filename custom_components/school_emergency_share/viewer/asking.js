// "Request camera access": a standing link's page, while nothing is shared,
// may ask the school to share; the answer arrives with the page's status.

import { REQUEST_REFUSED, REQUEST_SAID, setText } from "./words.js";

// The form and what became of the last request, from a status with no session.
export function showRequest(ui, body) {
  const request = body.request;
  const asking = body.link?.standing && (!request || request.status !== "pending");
  ui.ask.hidden = !asking || request?.status === "approved";
  if (!ui.askOfficer.value && body.link?.label) ui.askOfficer.value = body.link.label;
  const said = request ? REQUEST_SAID[request.status]?.(request) : "";
  ui.askStatus.dataset.status = request?.status ?? "";
  if (said) setText(ui.askStatus, said);
}

// Sends the form to `${base}/request`; the server's answer shows under it.
export function setUpAsking(ui, base) {
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
}
