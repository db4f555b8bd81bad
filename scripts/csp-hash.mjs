// Trunk post-build hook: Trunk injects an inline <script type="module"> that loads the wasm.
// The page's CSP forbids 'unsafe-inline', so this replaces the placeholder in the CSP meta tag
// with the SHA-256 hash of every inline script in the staged index.html. Fails the build if the
// placeholder is missing, so a page without a working CSP never ships.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("csp-hash: TRUNK_STAGING_DIR is not set (run through trunk)");
  process.exit(1);
}
const file = join(dir, "index.html");
const html = readFileSync(file, "utf8");
const placeholder = "__TRUNK_LOADER_HASHES__";
if (!html.includes(placeholder)) {
  console.error(`csp-hash: ${placeholder} not found in ${file}`);
  process.exit(1);
}
const hashes = [];
for (const match of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
  hashes.push(`'sha256-${createHash("sha256").update(match[1], "utf8").digest("base64")}'`);
}
writeFileSync(file, html.replace(placeholder, hashes.join(" ")));
console.log(`csp-hash: ${hashes.length} inline script(s) allowed by hash`);
