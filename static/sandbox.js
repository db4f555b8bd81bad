// MCP Console's sandbox proxy for MCP Apps (SEP-1865, "Sandbox proxy"). The console loads
// sandbox.html in <iframe sandbox="allow-scripts">, so this page has an opaque origin and cannot
// reach the console's DOM, cookies or storage. It:
// 1. says `ui/notifications/sandbox-proxy-ready` to the console;
// 2. takes one `ui/notifications/sandbox-resource-ready` from its parent, whose params are
//    {html: the app's HTML, csp: the policy string the console built (core::apps::app_csp)} —
//    the spec's `csp` is the declared domains; the console sends the finished policy instead, so
//    the rules stay in tested Rust and this page builds nothing;
// 3. adds that policy to its own document, then puts the HTML in an inner srcdoc frame (sandboxed
//    again, opaque too), which inherits this document's policies: sandbox.html's outer bound and
//    the app's. So the app's own <meta> can only narrow them, and navigating its frame anywhere
//    but its declared frame origins is refused;
// 4. relays every other message between the console and the app, both ways, except the
//    reserved `ui/notifications/sandbox-*` ones. It decides nothing else: the console checks
//    every message.
"use strict";
(function () {
  var RESERVED = "ui/notifications/sandbox-";
  // Anywhere but a sandboxed frame (opened by itself, or framed without the sandbox attribute on
  // the console's origin) this page does nothing: the app would sit next to the console's storage.
  if (window.origin !== "null" || window.parent === window) return;
  // The URL's origin, which is the console's, though this document's own origin is opaque: what
  // goes up reaches the console and no other parent.
  var consoleOrigin = window.location.origin;
  var app = null;

  function reserved(data) {
    return (
      data !== null &&
      typeof data === "object" &&
      typeof data.method === "string" &&
      data.method.indexOf(RESERVED) === 0
    );
  }

  function load(params) {
    if (!params || typeof params.html !== "string" || typeof params.csp !== "string") return;
    if (params.csp.indexOf("default-src") !== 0) return;
    var policy = document.createElement("meta");
    policy.httpEquiv = "Content-Security-Policy";
    policy.content = params.csp;
    document.head.appendChild(policy);
    document.documentElement.style.height = "100%";
    document.body.style.cssText = "margin:0;height:100%";
    app = document.createElement("iframe");
    app.setAttribute("sandbox", "allow-scripts allow-forms");
    app.setAttribute("title", "App");
    app.style.cssText = "border:0;width:100%;height:100%;display:block";
    app.srcdoc = params.html;
    document.body.appendChild(app);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source === window.parent) {
      if (app === null) {
        if (reserved(data) && data.method === RESERVED + "resource-ready") load(data.params);
      } else if (!reserved(data) && app.contentWindow) {
        // The app's origin is opaque too, so it cannot be named.
        app.contentWindow.postMessage(data, "*");
      }
    } else if (app !== null && event.source === app.contentWindow && !reserved(data)) {
      window.parent.postMessage(data, consoleOrigin);
    }
  });

  window.parent.postMessage(
    { jsonrpc: "2.0", method: RESERVED + "proxy-ready", params: {} },
    consoleOrigin
  );
})();
