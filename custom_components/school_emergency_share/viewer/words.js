// What the page says: ages and times, and its sentences for a request, a
// camera's trouble and the end of sharing. Nothing here touches the page.

export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

export function formatAge(ms) {
  if (!Number.isFinite(ms)) return "unknown age";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const two = (n) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${two(Math.floor(s / 60) % 60)} min`;
}

export function formatRemaining(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const two = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

export function clockTime(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// A camera's trouble, as the server reports it in cameras.json.
export const SERVER_PROBLEMS = {
  offline: "Camera offline · the server keeps retrying",
  unavailable: "Camera unavailable",
};

// A police request's answer, by its status.
export const REQUEST_SAID = {
  pending: (r) =>
    `Request sent at ${clockTime(new Date(r.created_at))}: the school is asked to share ` +
    `its cameras. It expires at ${clockTime(new Date(r.expires_at))} if nobody answers.`,
  approved: () => "Approved: the cameras appear here as soon as sharing starts.",
  denied: (r) => `The school denied the request${r.note ? `: ${r.note}` : "."}`,
  expired: () => "Nobody answered within 10 minutes. You may ask again.",
};

// Why a request was not sent, by the server's error.
export const REQUEST_REFUSED = {
  request_pending: "A request is already waiting for the school's answer.",
  already_active: "Sharing is active: the cameras are loading.",
  too_many_requests: "Too many requests from here. Try again in a minute.",
  reason_required: "Say what is happening and where.",
  field_too_long: "Shorter, please: 300 characters at most.",
};

// Why the page stopped, by the server's reason: [title, text, final]. Final
// endings stop there; others wait for the next session (standing links) or
// for the server to come back.
export const ENDINGS = {
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
export const DEFAULT_ENDING = [
  "Sharing has ended",
  "The school stopped sharing its cameras. This page shows them again the moment " +
    "sharing starts.",
  false,
];

