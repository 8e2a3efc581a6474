// What the server sends a player, read as it arrives: multipart MJPEG parts
// (each JPEG with its X-Capture-Time) and MP4 boxes (the init segment's codec,
// each fragment's prft capture time). Nothing here touches the page.

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_BOX_BYTES = 16 * 1024 * 1024;
const NTP_UNIX_S = 2208988800; // from 1900 (NTP) to 1970 (Unix)

// ---------------------------------------------------------------- byte reading

// A growing buffer that yields whole units cut from the front of a stream.
class Bytes {
  constructor() {
    this.buffer = new Uint8Array(256 * 1024);
    this.length = 0;
  }

  add(value) {
    if (this.length + value.length > this.buffer.length) {
      const bigger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + value.length));
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  // The first `size` bytes, copied out and dropped from the buffer.
  take(size) {
    const unit = this.buffer.slice(0, size);
    this.buffer.copyWithin(0, size, this.length);
    this.length -= size;
    return unit;
  }
}

// Yields whatever `cut` finds in the body, as it arrives.
async function* units(body, cut) {
  const reader = body.getReader();
  const bytes = new Bytes();
  try {
    for (;;) {
      for (let unit = cut(bytes); unit; unit = cut(bytes)) yield unit;
      const { value, done } = await reader.read();
      if (done) return;
      bytes.add(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

// ---------------------------------------------------------------------- MJPEG
// An <img> shows multipart MJPEG but hides each part's headers, and with them
// the capture time; so the stream is read and split here.

const headerText = new TextDecoder("ascii");

export function boundaryOf(response) {
  const type = response.headers.get("Content-Type") ?? "";
  return /boundary="?([^";]+)"?/i.exec(type)?.[1] ?? "frame";
}

// Yields {blob, capturedAt, seq} for each part of a multipart body.
export function mjpegParts(body, boundary) {
  return units(body, (bytes) => {
    const { buffer, length } = bytes;
    let start = 0;
    while (start < length && (buffer[start] === 13 || buffer[start] === 10)) start++;
    const limit = Math.min(length, start + MAX_HEADER_BYTES);
    let end = -1;
    for (let i = start; i + 3 < limit && end < 0; i++) {
      const crlf = buffer[i] === 13 && buffer[i + 1] === 10;
      if (crlf && buffer[i + 2] === 13 && buffer[i + 3] === 10) end = i;
    }
    if (end < 0) {
      if (length - start >= MAX_HEADER_BYTES) throw new Error("part headers too long");
      return null;
    }
    const [first, ...lines] = headerText.decode(buffer.subarray(start, end)).split("\r\n");
    if (first.trim() !== `--${boundary}`) throw new Error("not a multipart boundary");
    const headers = new Map();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const size = Number(headers.get("content-length"));
    if (!Number.isSafeInteger(size) || size <= 0 || size > MAX_FRAME_BYTES) {
      throw new Error("bad part length");
    }
    const from = end + 4;
    if (length < from + size) return null;
    const part = bytes.take(from + size).subarray(from);
    const captured = Number.parseInt(headers.get("x-capture-time") ?? "", 10);
    return {
      blob: new Blob([part], { type: "image/jpeg" }),
      // A frame without a capture time has an unknown age: shown as stale.
      capturedAt: Number.isFinite(captured) ? captured : -Infinity,
      seq: headers.get("x-frame-seq") ?? "",
    };
  });
}

// ------------------------------------------------------------------------ MP4

function fourcc(bytes, at) {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

// Yields {type, bytes} for each top-level box of the body.
export function mp4Boxes(body) {
  return units(body, (bytes) => {
    if (bytes.length < 8) return null;
    const view = new DataView(bytes.buffer.buffer, 0, bytes.length);
    let size = view.getUint32(0);
    if (size === 1) {
      if (bytes.length < 16) return null;
      size = Number(view.getBigUint64(8));
    }
    if (size < 8 || size > MAX_BOX_BYTES) throw new Error("bad MP4 box");
    if (bytes.length < size) return null;
    const type = fourcc(bytes.buffer, 4);
    return { type, bytes: bytes.take(size) };
  });
}

// The children of a box's payload, as {type, start, end} (offsets in `bytes`).
function children(bytes, start, end) {
  const found = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (start + 8 <= end) {
    const size = view.getUint32(start);
    if (size < 8 || start + size > end) break;
    found.push({ type: fourcc(bytes, start + 4), start: start + 8, end: start + size });
    start += size;
  }
  return found;
}

function child(bytes, box, type) {
  return children(bytes, box.start, box.end).find((c) => c.type === type);
}

// The RFC 6381 codec of an init segment's video track ("avc1.64001f"), from
// its sample entry and avcC; null if it has none this page can ask about.
export function codecOf(init) {
  const top = { start: 0, end: init.length };
  const moov = child(init, top, "moov");
  for (const trak of moov ? children(init, moov.start, moov.end) : []) {
    if (trak.type !== "trak") continue;
    const mdia = child(init, trak, "mdia");
    const hdlr = mdia && child(init, mdia, "hdlr");
    if (!hdlr || fourcc(init, hdlr.start + 8) !== "vide") continue;
    const minf = child(init, mdia, "minf");
    const stbl = minf && child(init, minf, "stbl");
    const stsd = stbl && child(init, stbl, "stsd");
    const [entry] = stsd ? children(init, stsd.start + 8, stsd.end) : [];
    if (!entry || !["avc1", "avc3"].includes(entry.type)) return null;
    const avcC = children(init, entry.start + 78, entry.end).find((c) => c.type === "avcC");
    if (!avcC) return null;
    const hex = (i) => init[avcC.start + i].toString(16).padStart(2, "0");
    return `${entry.type}.${hex(1)}${hex(2)}${hex(3)}`;
  }
  return null;
}

// The Unix time in ms of a prft box (version 1: 64-bit NTP time).
export function producerTime(prft) {
  const view = new DataView(prft.buffer, prft.byteOffset, prft.byteLength);
  const seconds = view.getUint32(16) - NTP_UNIX_S;
  return seconds * 1000 + (view.getUint32(20) / 2 ** 32) * 1000;
}
