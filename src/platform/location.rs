//! The page's own address, its query string, and the deployer's `config.json` beside it, read
//! through `window.location` and fetch.

/// The raw query string including its leading `?`, or an empty string.
pub fn search() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// The page's whole address.
pub fn href() -> String {
    web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

/// The text of `config.json` served beside the app: `Ok(None)` when there is none (404; a
/// config file is optional), `Err` with the reason when there is one that cannot be read.
pub async fn config_json() -> Result<Option<String>, String> {
    let unreadable = |_| "it could not be fetched".to_owned();
    let response = gloo_net::http::Request::get("config.json").send().await.map_err(unreadable)?;
    match response.status() {
        200 => response.text().await.map(Some).map_err(unreadable),
        404 => Ok(None),
        status => Err(format!("HTTP {status}")),
    }
}
