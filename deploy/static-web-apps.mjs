// Azure Static Web Apps' staticwebapp.config.json for a release, made from its headers.json as the
// nginx server block is: every file with exactly its headers (a route each), the release's own
// files for the deployer answered 404, wasm's type named. The deployer's settings stay as ${NAME},
// for envsubst before upload (deploy/README.md).

/** The files of the release that are for the deployer, not for browsers. */
export const NOT_SERVED = ["SHA256SUMS", "headers.json", "nginx.conf.template", "staticwebapp.config.json.template"];

/** staticwebapp.config.json (as text) for `headers` (a release's headers.json, parsed). */
export function staticWebAppConfig(headers) {
  // The type comes from the host's own table (and mimeTypes below); the rest as listed.
  const own = (file) => Object.fromEntries(Object.entries(headers.files[file]).filter(([name]) => name !== "Content-Type"));
  const routes = [
    { route: "/", headers: own("index.html") },
    ...Object.keys(headers.files).sort().map((file) => ({ route: `/${file}`, headers: own(file) })),
    ...NOT_SERVED.map((file) => ({ route: `/${file}`, statusCode: 404 })),
  ];
  return `${JSON.stringify({ routes, mimeTypes: { ".wasm": "application/wasm" } }, null, 2)}\n`;
}
