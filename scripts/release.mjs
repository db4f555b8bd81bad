#!/usr/bin/env node
// Packs the release build (dist/, from `trunk build --release`) into a versioned archive of static
// files: every file of dist/ (each text and wasm file also as .gz and .br), an example config.json, `headers.json` — the HTTP headers each file
// needs, the one source the deploy recipes are made from — nginx.conf.template and
// staticwebapp.config.json.template (made from it by deploy/) — and `SHA256SUMS`.
// The archive is byte-for-byte the same for the same dist/ (sorted, dated 1970, owned by 0).
//
// Usage: node scripts/release.mjs [--dist DIR] [--out DIR]
//   writes OUT/mcp-console-VERSION/ and OUT/mcp-console-VERSION.tar.gz (OUT: release/), VERSION
//   being Cargo.toml's.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import zlib from "node:zlib";
import { nginxTemplate } from "../deploy/nginx.mjs";
import { NOT_SERVED, staticWebAppConfig } from "../deploy/static-web-apps.mjs";

const root = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: { dist: { type: "string", default: path.join(root, "dist") }, out: { type: "string", default: path.join(root, "release") } },
  strict: true,
});

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}

const version = /^version = "([^"]+)"/m.exec(fs.readFileSync(path.join(root, "Cargo.toml"), "utf8"))?.[1];
if (!version) fail("no version in Cargo.toml");
if (!fs.existsSync(path.join(values.dist, "index.html"))) fail(`${values.dist} has no index.html; build first (trunk build --release)`);

// What the deployer decides, filled into the headers by the recipe (deploy/): where the console
// may connect (its MCP servers and sign-in services) and which pages may frame it (portals).
const SETTINGS = {
  CONNECT_SRC: {
    about: "origins of the MCP servers and sign-in services the console may reach, space separated",
    example: "https://mcp.contoso.example https://login.microsoftonline.com",
  },
  FRAME_ANCESTORS: {
    about: "who may frame the console: 'self' and the portals listed in config.json's EmbedOrigins ('none' for nobody)",
    example: "'self' https://portal.contoso.example",
  },
};

// A page's own policy, as its <meta> says it (built, with the loader's hash, by csp-hash.mjs).
function metaPolicy(file) {
  const html = fs.readFileSync(path.join(values.dist, file), "utf8");
  const policy = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
  if (!policy) fail(`${file} has no Content-Security-Policy <meta>`);
  return policy;
}

// The console page's policy as an HTTP header: its <meta> policy (which stays, and is enforced too)
// with connect-src narrowed to the deployer's origins and frame-ancestors, which a <meta> cannot say.
function consolePolicy() {
  const directives = metaPolicy("index.html").split(";").map((d) => d.trim()).filter(Boolean);
  const out = directives.map((d) => (d.startsWith("connect-src ") ? "connect-src 'self' ${CONNECT_SRC}" : d));
  if (!out.some((d) => d.startsWith("connect-src "))) fail("index.html's policy has no connect-src");
  return [...out, "frame-ancestors ${FRAME_ANCESTORS}"].join("; ");
}

const COMMON = { "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" };
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".css": "text/css; charset=utf-8", ".json": "application/json" };
// Trunk names the loader, module and stylesheet after their content: they never change, so they
// may be kept for a year. Everything else is asked for again each time.
const HASHED = /-[0-9a-f]{15,16}(_bg)?\.(js|wasm|css)$/;

function headersFor(file) {
  const type = TYPES[path.extname(file)];
  if (!type) fail(`no content type for ${file}`);
  const headers = { "Content-Type": type, ...COMMON };
  headers["Cache-Control"] = HASHED.test(file) ? "public, max-age=31536000, immutable" : "no-cache";
  if (file === "index.html") headers["Content-Security-Policy"] = consolePolicy();
  // The sign-in answer: never cached, and without a Cross-Origin-Opener-Policy, which would cut it
  // from the console (it reaches the console over a BroadcastChannel, as a popup or the whole page).
  if (file === "callback.html") {
    headers["Cache-Control"] = "no-store";
    headers["Content-Security-Policy"] = `${metaPolicy(file)}; frame-ancestors 'none'`;
  }
  // An MCP App's frame: its own policy is the outer bound of every app's (static/sandbox.html).
  if (file === "sandbox.html") headers["Content-Security-Policy"] = metaPolicy(file);
  return headers;
}

const name = `mcp-console-${version}`;
const dir = path.join(values.out, name);
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
for (const file of fs.readdirSync(values.dist)) {
  if (!fs.statSync(path.join(values.dist, file)).isFile()) fail(`dist/${file} is not a file`);
  fs.copyFileSync(path.join(values.dist, file), path.join(dir, file));
}
// What a deployer starts config.json from (docs/): the seed's Entra settings and one server.
const example = {
  Instance: "https://login.microsoftonline.com/",
  TenantId: "contoso.onmicrosoft.com",
  ClientId: "00000000-0000-0000-0000-000000000000",
  Scopes: "api://00000000-0000-0000-0000-000000000000/mcp:tools",
  ServerUrl: "https://mcp.contoso.example/mcp",
  AllowedServers: ["https://mcp.contoso.example/"],
  EmbedOrigins: [],
};
fs.writeFileSync(path.join(dir, "config.example.json"), `${JSON.stringify(example, null, 2)}\n`);

// Served precompressed (nginx gzip_static and brotli_static): each text or wasm file also as .gz
// (gzip -9) and .br (brotli 11), so no server compresses on the fly.
for (const file of fs.readdirSync(dir)) {
  if (!/\.(html|js|css|wasm|json)$/.test(file)) continue;
  const bytes = fs.readFileSync(path.join(dir, file));
  fs.writeFileSync(path.join(dir, `${file}.gz`), execFileSync("gzip", ["-9n"], { input: bytes, maxBuffer: 1 << 30 }));
  const brotli = { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length };
  fs.writeFileSync(path.join(dir, `${file}.br`), zlib.brotliCompressSync(bytes, { params: brotli }));
}

// The headers are the file's own: a .gz or .br is served in its place, with Content-Encoding set
// by the server.
const files = fs.readdirSync(dir).sort();
const served = files.filter((f) => !/\.(gz|br)$/.test(f));
const headers = { version, settings: SETTINGS, files: {} };
for (const file of served) headers.files[file] = headersFor(file);
// config.json is the deployer's, beside the files: read on every start, never cached.
headers.files["config.json"] = { "Content-Type": "application/json", ...COMMON, "Cache-Control": "no-cache" };
fs.writeFileSync(path.join(dir, "headers.json"), `${JSON.stringify(headers, null, 2)}\n`);
fs.writeFileSync(path.join(dir, "nginx.conf.template"), nginxTemplate(headers));
fs.writeFileSync(path.join(dir, "staticwebapp.config.json.template"), staticWebAppConfig(headers));

const sums = [...files, ...NOT_SERVED.filter((f) => f !== "SHA256SUMS")]
  .sort()
  .map((file) => `${createHash("sha256").update(fs.readFileSync(path.join(dir, file))).digest("hex")}  ${file}`);
fs.writeFileSync(path.join(dir, "SHA256SUMS"), `${sums.join("\n")}\n`);

const archive = path.join(values.out, `${name}.tar.gz`);
const tar = execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--mode=u=rwX,go=rX", "-cf", "-", "-C", values.out, name], { maxBuffer: 1 << 30 });
fs.writeFileSync(archive, execFileSync("gzip", ["-9n"], { input: tar, maxBuffer: 1 << 30 }));
console.log(`release: ${path.relative(process.cwd(), archive)} (${fs.statSync(archive).size} B, ${files.length + 2} files)`);
