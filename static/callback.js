// The redirect URI of MCP Console's sign-in. The authorization server sends the browser here with
// `code` and `state` (or `error` and `state`). This page removes them from the address bar at once
// and hands them on, never storing them:
// - `state` starting with "p." is a popup sign-in: the answer goes to the console window over the
//   BroadcastChannel named "mcp-console-signin:<state>" (this survives Cross-Origin-Opener-Policy,
//   which cuts window.opener), then this window closes;
// - anything else is a full-page sign-in: this history entry becomes the console's address with the
//   answer as its history state, and reloads into the console, which reads the state, clears it at
//   once, checks the answer and puts its address back to where the person was.
// The console checks `state` and `iss` before redeeming anything; this page decides nothing.
"use strict";
(function () {
  var here = window.location.href;
  var search = window.location.search;
  var params = new URLSearchParams(search.length > 1 ? search : window.location.hash.slice(1));
  var state = params.get("state") || "";
  var console_ = new URL("./", here);
  function say(text) {
    var p = document.getElementById("message");
    if (p) p.textContent = text;
  }
  if (state.indexOf("p.") === 0) {
    window.history.replaceState(null, "", window.location.pathname);
    try {
      var channel = new BroadcastChannel("mcp-console-signin:" + state);
      channel.postMessage({ url: here });
      channel.close();
      say("Signed in. This window closes by itself; if it stays open, close it.");
    } catch (e) {
      say("This browser cannot hand the sign-in back to the console (no BroadcastChannel). Choose full-page sign-in in the console's settings.");
      return;
    }
    window.setTimeout(function () { window.close(); }, 100);
  } else {
    // The answer rides in this history entry's state, not in any storage and not in the console's
    // address (where the browser would quote it in console warnings about that page): the entry
    // becomes the console's address holding the answer as its state, and reloads into the console,
    // which reads the state and clears it at once.
    try {
      window.history.replaceState({ mcpConsoleAnswer: here }, "", console_.pathname);
      window.location.reload();
    } catch (e) {
      window.location.replace(console_.pathname + search + window.location.hash);
    }
  }
})();
