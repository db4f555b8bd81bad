//! The page's own address: its query string, whole address and origin, read from
//! `window.location`, and the deployer's `config.json` beside it.

/// The raw query string including its leading `?`, or an empty string.
pub fn search() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// The page's whole address.
pub fn href() -> String {
    web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

/// The page's origin, e.g. `http://127.0.0.1:8080`.
pub fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// The text of `config.json` served beside the app, or `None` when there is none (404 or no
/// server answer). A config file is optional, so its absence is not an error.
pub async fn config_json() -> Option<String> {
    let response = gloo_net::http::Request::get("config.json").send().await.ok()?;
    if response.status() != 200 {
        return None;
    }
    response.text().await.ok()
}
