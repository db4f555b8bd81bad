// The example host page's side of the console's postMessage API (docs/embedding.md). Every
// message is checked the way the console checks the host's: from the console's origin, from the
// framed window, in the API's envelope; every message is posted with the console's exact origin.
"use strict";

const VERSION = 1;
const frame = document.getElementById("console");
const events = document.getElementById("events");
let consoleOrigin = null;
let ready = false;
let nextId = 1;

function show(text) {
  const item = document.createElement("li");
  // Text, never HTML: results are a server's words.
  item.textContent = text;
  events.prepend(item);
}

function send(type, members) {
  if (!consoleOrigin || !ready) {
    show(`not sent (${type}): the console has not said it is ready`);
    return null;
  }
  const id = `h${nextId++}`;
  const message = Object.assign({ mcpConsole: VERSION, type, id }, members);
  frame.contentWindow.postMessage(message, consoleOrigin);
  show(`sent ${JSON.stringify(message)}`);
  return id;
}

window.addEventListener("message", (event) => {
  if (event.origin !== consoleOrigin || event.source !== frame.contentWindow) return;
  const data = event.data;
  if (!data || data.mcpConsole !== VERSION) return;
  if (data.type === "ready") ready = true;
  show(`received ${JSON.stringify(data)}`);
});

// The listener is in place before the frame loads, so `ready` is not missed.
document.getElementById("frame-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(document.getElementById("console-url").value, location.href);
  url.searchParams.set("embed", "1");
  consoleOrigin = url.origin;
  ready = false;
  frame.src = url.href;
  show(`loading ${url.href}`);
});

document.getElementById("server-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = (id) => document.getElementById(id).value.trim();
  const members = { server: value("server-url") };
  if (value("instance")) members.instance = value("instance");
  if (value("tenant")) members.tenantId = value("tenant");
  if (value("client-id")) members.clientId = value("client-id");
  if (value("scopes")) members.scopes = value("scopes");
  send("setServer", members);
});

document.getElementById("connect").addEventListener("click", () => send("connect", {}));
document.getElementById("disconnect").addEventListener("click", () => send("disconnect", {}));

document.getElementById("call-form").addEventListener("submit", (event) => {
  event.preventDefault();
  let args;
  try {
    args = JSON.parse(document.getElementById("arguments").value || "{}");
  } catch (error) {
    show(`not sent: the arguments are not JSON (${error.message})`);
    return;
  }
  send("callTool", { name: document.getElementById("tool").value.trim(), arguments: args });
});
