//! What every end-to-end test needs: real peers started on free 127.0.0.1 ports and stopped even
//! when a test fails, the built console served from `dist/`, and a headless Chromium driven
//! through chromedriver.

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a peer may take to start answering.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long the page may take to show what a test waits for.
pub const UI_DEADLINE: Duration = Duration::from_secs(20);

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn peers_dir() -> PathBuf {
    root().join("tests/peers")
}

/// Screenshots and peer logs go here; it is not tracked.
pub fn artifacts() -> PathBuf {
    let dir = root().join("artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// Polls until something accepts connections on `port`, or panics at the deadline.
pub fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < START_DEADLINE,
            "{what} did not start listening on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process that is killed when the test ends, however it ends.
pub struct Peer {
    child: Child,
    pub url: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_file(name: &str) -> Stdio {
    std::fs::File::create(artifacts().join(format!("{name}.log")))
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

/// A node process with an empty environment (server-everything's `get-env` tool prints it).
fn node(name: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.current_dir(peers_dir());
    empty_environment(&mut cmd).stdin(Stdio::null()).stderr(log_file(name));
    cmd
}

/// Clears `cmd`'s environment but for `PATH` and the test command's run marker, which
/// `scripts/leftovers.py` looks for to prove that nothing a test started outlives the run.
fn empty_environment(cmd: &mut Command) -> &mut Command {
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    if let Ok(run) = std::env::var("MCP_CONSOLE_TEST_RUN") {
        cmd.env("MCP_CONSOLE_TEST_RUN", run);
    }
    cmd
}

/// Starts a peer that prints one JSON line with its `url` and `port` once it listens.
fn spawn_announcing(name: &str, cmd: Command) -> Peer {
    spawn_announcing_json(name, cmd).0
}

/// Like [`spawn_announcing`], also returning the whole announcement.
fn spawn_announcing_json(name: &str, mut cmd: Command) -> (Peer, Value) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("{name}: no stdout"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut announced = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !announced && let Ok(v) = serde_json::from_str::<Value>(&line) {
                announced = true;
                let _ = tx.send(v);
            }
        }
    });
    let announcement = match rx.recv_timeout(START_DEADLINE) {
        Ok(v) => v,
        Err(_) => {
            let _ = child.kill();
            panic!("{name} did not announce itself; see artifacts/{name}.log");
        }
    };
    let url = announcement["url"].as_str().unwrap_or_default().to_owned();
    (Peer { child, url }, announcement)
}

/// `@modelcontextprotocol/server-everything` in `streamableHttp` or `sse` mode, on 127.0.0.1.
pub fn everything(mode: &str) -> Peer {
    everything_on(mode, free_port())
}

/// The built console from `dist/`, with an optional `config.json` beside it.
pub fn console(config: Option<Value>) -> Peer {
    console_on(0, config)
}

/// [`console`] on a given port (0: any free one).
pub fn console_on(port: u16, config: Option<Value>) -> Peer {
    let dist = root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "dist/index.html is missing: build the console first (scripts/test.sh does)"
    );
    let mut cmd = node("console-static");
    cmd.arg("static.mjs").arg("--dir").arg(&dist).arg("--port").arg(port.to_string());
    if let Some(config) = config {
        let file = artifacts().join(format!("config-{}.json", free_port()));
        std::fs::write(&file, config.to_string()).unwrap_or_else(|e| panic!("write config: {e}"));
        cmd.arg("--config").arg(file);
    }
    spawn_announcing("console-static", cmd)
}

/// Serves the files of `dir` on `port` (a page of the test's own, such as a portal that frames the
/// console).
pub fn static_dir(dir: &Path, port: u16) -> Peer {
    let mut cmd = node("static-dir");
    cmd.arg("static.mjs").arg("--dir").arg(dir).arg("--port").arg(port.to_string());
    spawn_announcing("static-dir", cmd)
}

/// chromedriver plus a fresh headless Chromium session.
pub struct Browser {
    pub client: Client,
    driver: Peer,
    _profile: TempDir,
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log_file("chromedriver"))
            .stderr(log_file("chromedriver.err"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("could not start {chromedriver}: {e} (scripts/tools.sh installs it)")
            });
        let driver = Peer { child, url: format!("http://127.0.0.1:{port}") };
        wait_for_port(port, "chromedriver");

        let profile =
            std::env::temp_dir().join(format!("mcp-console-e2e-{}-{port}", std::process::id()));
        let _ = std::fs::create_dir_all(&profile);
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("could not open a Chromium session: {e}"));
        Browser { client, driver, _profile: TempDir(profile) }
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(UI_DEADLINE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// Waits until the text of `css` satisfies `ok`, and returns it.
    pub async fn wait_for_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < UI_DEADLINE {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if ok(&last) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed the expected text; last seen: {last:?}");
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await.unwrap_or_default() {
            out.push(el.text().await.unwrap_or_default());
        }
        out
    }

    /// Everything the pages wrote to the browser console so far (chromedriver's browser log).
    pub async fn console_log(&self) -> String {
        let id = self.client.session_id().await.ok().flatten().unwrap_or_default();
        let url = format!("{}/session/{id}/se/log", self.driver.url);
        // Node's fetch speaks the HTTP/1.1 chromedriver answers with.
        let out = Command::new("node")
            .args([
                "-e",
                "fetch(process.argv[1], {method: 'POST', headers: {'content-type': 'application/json'}, body: '{\"type\":\"browser\"}'}).then(r => r.text()).then(t => process.stdout.write(t))",
                &url,
            ])
            .output()
            .unwrap_or_else(|e| panic!("node: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Saves a PNG of the viewport into `artifacts/`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot: {e}"));
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for Browser {
    /// Chromium is chromedriver's child: ending chromedriver alone would leave it running after
    /// every test, so the whole process group chromedriver leads goes, passed or panicked.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    }
}

/// `@modelcontextprotocol/server-everything` on a given port (to restart it where it was).
pub fn everything_on(mode: &str, port: u16) -> Peer {
    let name = format!("everything-{mode}-{port}");
    let mut cmd = node(&name);
    cmd.env("PORT", port.to_string())
        .args([
            "--import",
            "./loopback.mjs",
            "node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            mode,
        ])
        .stdout(log_file(&format!("{name}.out")));
    let child = cmd.spawn().unwrap_or_else(|e| panic!("could not start {name}: {e}"));
    let path = if mode == "sse" { "sse" } else { "mcp" };
    let peer = Peer { child, url: format!("http://127.0.0.1:{port}/{path}") };
    wait_for_port(port, &name);
    peer
}

/// The MCP Apps example server of the `ext-apps` project (`@modelcontextprotocol/server-basic-vanillajs`):
/// one tool, `get-time`, whose result points at its `ui://` app.
pub fn app_peer() -> Peer {
    let port = free_port();
    let name = format!("apps-{port}");
    let mut cmd = node(&name);
    cmd.env("PORT", port.to_string())
        .args([
            "--import",
            "./loopback.mjs",
            "node_modules/@modelcontextprotocol/server-basic-vanillajs/dist/index.js",
        ])
        .stdout(log_file(&format!("{name}.out")));
    let child = cmd.spawn().unwrap_or_else(|e| panic!("could not start {name}: {e}"));
    let peer = Peer { child, url: format!("http://127.0.0.1:{port}/mcp") };
    wait_for_port(port, &name);
    peer
}

/// The server whose every string is hostile (`tests/peers/hostile-strings.mjs`), allowing `origin`.
pub fn hostile_strings_peer(origin: &str) -> Peer {
    let mut cmd = node("hostile-strings");
    cmd.args(["hostile-strings.mjs", "--port", "0", "--console-origin", origin]);
    spawn_announcing("hostile-strings", cmd)
}

/// The release (`scripts/release.mjs` from `dist/`) unpacked into a fresh directory, served by
/// Debian's nginx on `port` through the release's own `nginx.conf.template`, filled in with
/// envsubst as `deploy/README.md` says: `connect_src` and `frame_ancestors` are the deployer's
/// settings, `config` its `config.json`. One process (`master_process off`), stopped on drop.
pub fn nginx_release(port: u16, connect_src: &str, frame_ancestors: &str, config: &Value) -> Peer {
    let base = artifacts().join(format!("nginx-{port}"));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap_or_else(|e| panic!("{e}"));
    let packed = Command::new("node")
        .arg(root().join("scripts/release.mjs"))
        .arg("--out")
        .arg(&base)
        .output()
        .unwrap_or_else(|e| panic!("release: {e}"));
    assert!(packed.status.success(), "release: {}", String::from_utf8_lossy(&packed.stderr));
    let release = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("no release directory in {}", base.display()));
    std::fs::write(release.join("config.json"), config.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let template =
        std::fs::File::open(release.join("nginx.conf.template")).unwrap_or_else(|e| panic!("{e}"));
    let filled = Command::new("envsubst")
        .arg("$LISTEN $ROOT $CONNECT_SRC $FRAME_ANCESTORS")
        .env("LISTEN", format!("127.0.0.1:{port}"))
        .env("ROOT", &release)
        .env("CONNECT_SRC", connect_src)
        .env("FRAME_ANCESTORS", frame_ancestors)
        .stdin(template)
        .output()
        .unwrap_or_else(|e| panic!("envsubst: {e}"));
    std::fs::write(base.join("server.conf"), &filled.stdout).unwrap_or_else(|e| panic!("{e}"));
    let b = base.display();
    let conf = format!(
        "load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;
master_process off;
daemon off;
pid {b}/nginx.pid;
error_log {b}/error.log;
events {{}}
http {{
  access_log off;
  client_body_temp_path {b}/body; proxy_temp_path {b}/proxy; fastcgi_temp_path {b}/fastcgi;
  uwsgi_temp_path {b}/uwsgi; scgi_temp_path {b}/scgi;
  include {b}/server.conf;
}}
"
    );
    std::fs::write(base.join("nginx.conf"), conf).unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new("nginx");
    empty_environment(&mut cmd)
        .args(["-p"])
        .arg(&base)
        .arg("-c")
        .arg(base.join("nginx.conf"))
        .stdin(Stdio::null())
        .stdout(log_file(&format!("nginx-{port}.out")))
        .stderr(log_file(&format!("nginx-{port}")));
    let child = cmd.spawn().unwrap_or_else(|e| panic!("could not start nginx: {e}"));
    let peer = Peer { child, url: format!("http://127.0.0.1:{port}/") };
    wait_for_port(port, "nginx");
    peer
}

/// The protected TypeScript SDK server with authentication switched off, plus `extra` flags.
pub fn protected_without_auth(extra: &[&str]) -> Peer {
    let mut cmd = node("protected-no-auth");
    cmd.args(["protected-server.mjs", "--port", "0", "--no-auth"]).args(extra);
    spawn_announcing("protected-no-auth", cmd)
}

/// The server that speaks only 2026-07-28 (`tests/peers/modern`), allowing `origin`, with `extra`
/// flags (`--state-file F`, `--auth …`).
pub fn modern_peer(origin: &str, extra: &[&str]) -> Peer {
    let mut cmd = node("modern-peer");
    cmd.current_dir(peers_dir().join("modern"))
        .args(["server.mjs", "--port", "0", "--console-origin", origin])
        .args(extra);
    spawn_announcing("modern-peer", cmd)
}

/// [`modern_peer`] on a chosen port, so it can be stopped and started again at one address.
pub fn modern_peer_on(origin: &str, port: u16, extra: &[&str]) -> Peer {
    let port = port.to_string();
    let mut all = vec!["--port", port.as_str()];
    all.extend_from_slice(extra);
    let mut cmd = node("modern-peer");
    cmd.current_dir(peers_dir().join("modern"))
        .args(["server.mjs", "--console-origin", origin])
        .args(all);
    spawn_announcing("modern-peer", cmd)
}

/// The Python `mcp` server, allowing `origin`.
pub fn python_peer(origin: &str) -> Peer {
    python_peer_with(origin, &[])
}

/// The Python SDK peer with `extra` flags (`--cors-2026`).
pub fn python_peer_with(origin: &str, extra: &[&str]) -> Peer {
    let python = peers_dir().join("python/.venv/bin/python");
    assert!(python.is_file(), "the Python peer is not installed (tests/peers/python/install.sh)");
    let mut cmd = Command::new(python);
    cmd.current_dir(peers_dir().join("python"));
    empty_environment(&mut cmd)
        .args(["server.py", "--port", "0", "--console-origin", origin])
        .args(extra)
        .stdin(Stdio::null())
        .stderr(log_file("python-peer"));
    spawn_announcing("python-peer", cmd)
}

/// The Entra-shaped authorization server for a console at `origin` (its `callback.html` is the
/// registered redirect URI), with `extra` flags; returns it and its announcement (issuer, ids…).
pub fn authserver(origin: &str, extra: &[&str]) -> (Peer, Value) {
    let mut cmd = node("authserver");
    let redirect = format!("{origin}/callback.html");
    cmd.args(["authserver.mjs", "--port", "0", "--console-origin", origin, "--redirect-uri"])
        .arg(&redirect)
        .args(extra);
    let (mut peer, info) = spawn_announcing_json("authserver", cmd);
    peer.url = format!("http://127.0.0.1:{}", info["port"]);
    (peer, info)
}

/// The protected TypeScript SDK server accepting tokens of the authorization server `auth`
/// describes, for a console at `origin`.
pub fn protected(auth: &Value, origin: &str) -> Peer {
    let mut cmd = node("protected");
    let issuer = auth["issuer"].as_str().unwrap_or_default();
    let audience = auth["audience"].as_str().unwrap_or_default();
    cmd.args(["protected-server.mjs", "--port", "0", "--issuer", issuer, "--audience", audience])
        .args(["--console-origin", origin]);
    spawn_announcing("protected", cmd)
}

/// An attacker's authorization server for `tenant`: its metadata sends the person to
/// `real_authorize` and names itself as token endpoint (see `tests/peers/hostile-as.mjs`).
pub fn hostile_as(tenant: &str, real_authorize: &str) -> (Peer, Value) {
    let mut cmd = node("hostile-as");
    cmd.args([
        "hostile-as.mjs",
        "--port",
        "0",
        "--tenant",
        tenant,
        "--real-authorize",
        real_authorize,
    ]);
    spawn_announcing_json("hostile-as", cmd)
}

/// An attacker's authorization server consistent with itself that bounces the sign-in window to
/// `real_authorize` as `client_id`, to `redirect_uri`, for `scope` (`hostile-as.mjs --relay`).
pub fn hostile_relay(
    real_authorize: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> (Peer, Value) {
    let mut cmd = node("hostile-relay");
    cmd.args([
        "hostile-as.mjs",
        "--port",
        "0",
        "--tenant",
        "relay",
        "--real-authorize",
        real_authorize,
        "--relay",
    ])
    .args([
        "--relay-client-id",
        client_id,
        "--relay-redirect-uri",
        redirect_uri,
        "--relay-scope",
        scope,
    ]);
    spawn_announcing_json("hostile-relay", cmd)
}

/// A recording reverse proxy in front of `target`'s origin (see `tests/peers/recording-proxy.mjs`).
pub fn recording_proxy(target: &str) -> Peer {
    let mut cmd = node("recording-proxy");
    cmd.args(["recording-proxy.mjs", "--port", "0", "--target", target]);
    spawn_announcing("recording-proxy", cmd)
}

/// A peer's `/_test/stats` as JSON (`base` is its origin, or any URL on it).
pub fn stats_of(base: &str) -> Value {
    let origin = base.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    serde_json::from_str(&http_get(&format!("{origin}/_test/stats")))
        .unwrap_or_else(|e| panic!("stats of {origin}: {e}"))
}

/// `text` as a URL query value.
pub fn query_value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The seed-shaped settings for signing in at `auth` and connecting to `server`.
pub fn entra_config(auth: &Value, server: &str) -> Value {
    json!({
        "Instance": format!("http://127.0.0.1:{}/", auth["port"]),
        "TenantId": auth["tenant"],
        "ClientId": auth["clientId"],
        "Scopes": auth["scope"],
        "ServerUrl": server,
        "AutoConnect": true,
    })
}

/// A plain HTTP POST (empty body) on loopback, returning the body (for `/_test/*` hooks).
pub fn http_post(url: &str) -> String {
    http_request("POST", url, None)
}

/// A plain HTTP GET on loopback, returning the body (for the peers' `/_test/*` hooks).
pub fn http_get(url: &str) -> String {
    http_request("GET", url, None)
}

/// A form POST on loopback, returning the body.
pub fn http_form(url: &str, form: &str) -> String {
    http_request("POST", url, Some(form))
}

fn http_request(method: &str, url: &str, form: Option<&str>) -> String {
    let kind = "application/x-www-form-urlencoded";
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    let body = form.unwrap_or("");
    let _ = write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

impl Browser {
    /// Opens the console at `page` and connects to `server` with the given transport
    /// (`auto`, `streamable` or `sse`), waiting for the tool list.
    pub async fn connect(&self, page: &str, server: &str, transport: &str) {
        self.client.goto(page).await.unwrap_or_else(|e| panic!("goto: {e}"));
        self.wait_for("[data-testid=server-url]")
            .await
            .send_keys(server)
            .await
            .unwrap_or_else(|e| panic!("type: {e}"));
        self.client
            .execute(
                "const s = document.querySelector('[data-testid=transport]');
                 s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
                vec![json!(transport)],
            )
            .await
            .unwrap_or_else(|e| panic!("transport: {e}"));
        self.wait_for("[data-testid=connect]")
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click: {e}"));
        self.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
        self.wait_for("[data-testid=tool-name]").await;
    }

    /// Waits for `css` and clicks it.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Waits for `css` and types `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait_for(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Waits for the field `css` and replaces its value with `value`, as a paste would.
    pub async fn set_value(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                "const f = document.querySelector(arguments[0]);
                 f.value = arguments[1]; f.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![json!(css), json!(value)],
            )
            .await
            .unwrap_or_else(|e| panic!("set the value of {css}: {e}"));
    }

    /// Clicks the first `button_css` whose text (trimmed) is `name`; false when there is none.
    pub async fn click_named(&self, button_css: &str, name: &str) -> bool {
        let clicked = self
            .client
            .execute(
                "const b = Array.from(document.querySelectorAll(arguments[0]))
                   .find(b => b.textContent.trim() === arguments[1]);
                 if (!b) return false; b.click(); return true;",
                vec![json!(button_css), json!(name)],
            )
            .await
            .unwrap_or_else(|e| panic!("click {button_css} named {name}: {e}"));
        clicked == json!(true)
    }

    /// Opens `tool` in the call panel, types `arguments` (JSON) and presses Call.
    /// Shows `view` in the tab in front, as a person presses its tab: a pane below the work area
    /// (`pane-History`, `pane-Log`, `pane-Sign-in`, `pane-Server`) or a list beside it
    /// (`catalog-tools`, `catalog-resources`, `catalog-prompts`). One already shown stays so.
    pub async fn show(&self, view: &str) {
        let css = format!("[data-testid=tab-panel]:not([hidden]) [data-testid={view}]");
        let button = self.wait_for(&css).await;
        if button.attr("aria-selected").await.ok().flatten().as_deref() != Some("true") {
            button.click().await.unwrap_or_else(|e| panic!("show {view}: {e}"));
        }
    }

    pub async fn call_tool(&self, tool: &str, arguments: &str) {
        let found = self
            .client
            .execute(
                "const b = Array.from(document.querySelectorAll('[data-testid=tool-pick]'))
                   .find(b => b.querySelector('[data-testid=tool-name]').textContent === arguments[0]);
                 if (!b) return false; b.click(); return true;",
                vec![json!(tool)],
            )
            .await
            .unwrap_or_else(|e| panic!("pick {tool}: {e}"));
        assert_eq!(found, json!(true), "the console lists no tool {tool}");
        // Tools with a schema open as a form; these tests type JSON.
        self.wait_for("[data-testid=call-form]").await;
        self.client
            .execute(
                "const b = document.querySelector('[data-testid=view-json]'); if (b) b.click();",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("switch to JSON: {e}"));
        self.set_value("[data-testid=call-arguments]", arguments).await;
        self.wait_for("[data-testid=call]")
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("call: {e}"));
    }
}
