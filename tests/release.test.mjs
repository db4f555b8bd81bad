// The release archive (scripts/release.mjs) from the built dist/: every file it holds is listed in
// SHA256SUMS with its true digest and has its headers in headers.json; the headers say what the
// deploy recipes need (immutable hashed assets, index.html no-cache with the strict policy and the
// deployer's connect-src and frame-ancestors, callback.html no-store without a COOP); and the same
// dist/ gives the same archive, byte for byte, with each text and wasm file also gzip'd and brotli'd.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import zlib from "node:zlib";
import { NOT_SERVED } from "../deploy/static-web-apps.mjs";

const root = path.resolve(import.meta.dirname, "..");
const release = (out) => execFileSync("node", [path.join(root, "scripts/release.mjs"), "--out", out], { encoding: "utf8" });
const sha = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

test("the archive holds dist/, its headers and its checksums, the same each time", () => {
  const [a, b] = [fs.mkdtempSync(path.join(os.tmpdir(), "rel-")), fs.mkdtempSync(path.join(os.tmpdir(), "rel-"))];
  release(a);
  release(b);
  const [archive] = fs.readdirSync(a).filter((f) => f.endsWith(".tar.gz"));
  assert.match(archive, /^mcp-console-\d+\.\d+\.\d+\.tar\.gz$/);
  assert.equal(sha(path.join(a, archive)), sha(path.join(b, archive)), "two packings differ");

  const dir = path.join(a, archive.replace(/\.tar\.gz$/, ""));
  const listed = execFileSync("tar", ["-tzf", path.join(a, archive)], { encoding: "utf8" })
    .split("\n").filter((l) => l && !l.endsWith("/")).map((l) => l.split("/").slice(1).join("/")).sort();
  const dist = fs.readdirSync(path.join(root, "dist"));
  for (const file of [...dist, "config.example.json", ...NOT_SERVED]) assert.ok(listed.includes(file), `${file} missing`);

  const sums = fs.readFileSync(path.join(dir, "SHA256SUMS"), "utf8").trim().split("\n").map((l) => l.split("  "));
  assert.deepEqual(sums.map(([, f]) => f).sort(), listed.filter((f) => f !== "SHA256SUMS"));
  for (const [digest, file] of sums) assert.equal(digest, sha(path.join(dir, file)), file);

  const served = listed.filter((f) => !/\.(gz|br)$/.test(f) && !NOT_SERVED.includes(f));
  // Each text and wasm file also comes compressed, and unpacks to itself.
  for (const file of served.filter((f) => /\.(html|js|css|wasm|json)$/.test(f))) {
    const bytes = fs.readFileSync(path.join(dir, file));
    assert.ok(zlib.gunzipSync(fs.readFileSync(path.join(dir, `${file}.gz`))).equals(bytes), `${file}.gz`);
    assert.ok(zlib.brotliDecompressSync(fs.readFileSync(path.join(dir, `${file}.br`))).equals(bytes), `${file}.br`);
  }
  const { files, settings } = JSON.parse(fs.readFileSync(path.join(dir, "headers.json"), "utf8"));
  for (const file of served) {
    assert.ok(files[file], `no headers for ${file}`);
    assert.equal(files[file]["X-Content-Type-Options"], "nosniff", file);
    assert.equal(files[file]["Referrer-Policy"], "no-referrer", file);
  }
  for (const file of dist.filter((f) => /\.(wasm|css)$/.test(f) || /^mcp-console-.*\.js$/.test(f))) {
    assert.match(files[file]["Cache-Control"], /immutable/, file);
  }
  assert.equal(files["index.html"]["Cache-Control"], "no-cache");
  const policy = files["index.html"]["Content-Security-Policy"];
  assert.doesNotMatch(policy, /'unsafe-inline'|'unsafe-eval'/);
  assert.match(policy, /connect-src 'self' \$\{CONNECT_SRC\}/);
  assert.match(policy, /frame-ancestors \$\{FRAME_ANCESTORS\}/);
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/, "the loader's hash is kept");
  assert.deepEqual(Object.keys(settings).sort(), ["CONNECT_SRC", "FRAME_ANCESTORS"]);
  assert.equal(files["callback.html"]["Cache-Control"], "no-store");
  assert.ok(!("Cross-Origin-Opener-Policy" in files["callback.html"]), "a COOP would cut the popup");
  assert.equal(files["config.json"]["Cache-Control"], "no-cache");

  // Azure Static Web Apps gets the same headers, a route a file, and nothing of the deployer's.
  const swa = JSON.parse(fs.readFileSync(path.join(dir, "staticwebapp.config.json.template"), "utf8"));
  for (const file of Object.keys(files)) {
    const route = swa.routes.find((r) => r.route === `/${file}`);
    const { "Content-Type": _type, ...rest } = files[file];
    assert.deepEqual(route?.headers, rest, file);
  }
  for (const file of NOT_SERVED) assert.equal(swa.routes.find((r) => r.route === `/${file}`)?.statusCode, 404, file);
  assert.equal(swa.mimeTypes[".wasm"], "application/wasm");
});
