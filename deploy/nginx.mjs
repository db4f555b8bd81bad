// The nginx server block that serves a release with exactly the headers its headers.json gives
// each file (scripts/release.mjs writes it into the release as nginx.conf.template). What the
// deployer decides stays as ${NAME}, for `envsubst` (deploy/README.md): where nginx listens, the
// release's directory, and the settings headers.json names (CONNECT_SRC, FRAME_ANCESTORS).
// Debian's nginx-light and libnginx-mod-http-brotli-static serve it.

/** The names the template leaves to the deployer, each with what it means. */
export const PLACES = {
  LISTEN: "what nginx listens on, e.g. `443 ssl` (with your certificate lines) or `127.0.0.1:8080`",
  ROOT: "the directory the release archive was unpacked into",
};

// A header value inside nginx's double quotes.
const quoted = (value) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

function location(match, headers, extra = []) {
  const lines = [];
  for (const [name, value] of Object.entries(headers)) {
    // Content-Type is nginx's own, set by the type of the location.
    if (name === "Content-Type") lines.push(`default_type ${quoted(value)};`);
    else lines.push(`add_header ${name} ${quoted(value)} always;`);
  }
  return [`    location ${match} {`, ...[...lines, ...extra].map((l) => `        ${l}`), "    }"].join("\n");
}

/** The server block for `headers` (a release's headers.json, parsed). */
export function nginxTemplate(headers) {
  const files = Object.keys(headers.files).sort();
  const blocks = [
    // The page itself, at the directory's address too.
    location("= /", headers.files["index.html"], ["try_files /index.html =404;"]),
    ...files.map((file) => location(`= /${file}`, headers.files[file])),
    // Nothing else: not headers.json, the checksums or this template.
    location("/", {}, ["return 404;"]),
  ];
  return `# mcp-console ${headers.version} for Debian's nginx (nginx-light, libnginx-mod-http-brotli-static),
# made from headers.json by scripts/release.mjs: every file with exactly the headers it lists. Fill in
# the \${NAME}s with envsubst (deploy/README.md); the settings are ${Object.keys(headers.settings).join(", ")}, ${Object.keys(PLACES).join(", ")}.
server {
    listen \${LISTEN};
    root \${ROOT};
    # The types come from each location; files are served as they were packed, precompressed.
    types { }
    gzip_static on;
    brotli_static on;
    gzip_vary on;
    server_tokens off;
    etag on;

${blocks.join("\n\n")}
}
`;
}
