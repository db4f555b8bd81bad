//! How the console is told what to open: `?server=…&connect=1` in its own URL for quick trials,
//! or a `config.json` served beside the app (the demo writes one). Both are parsed here; the page
//! fetches and reads them in `platform`.

use serde::Deserialize;

/// What to show and do when the page opens.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Launch {
    /// The MCP endpoint to put in the URL field.
    #[serde(default)]
    pub server_url: Option<String>,
    /// Connect right away instead of waiting for the button.
    #[serde(default)]
    pub auto_connect: bool,
}

impl Launch {
    /// Reads the page's query string (`?server=…&connect=1`). Unknown keys are ignored.
    pub fn from_query(search: &str) -> Launch {
        let mut launch = Launch::default();
        let query = search.strip_prefix('?').unwrap_or(search);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "server" if !value.trim().is_empty() => {
                    launch.server_url = Some(value.trim().to_owned())
                }
                "connect" => launch.auto_connect = matches!(value.as_ref(), "1" | "true" | "yes"),
                _ => {}
            }
        }
        launch
    }

    /// Reads a `config.json`; a broken file is reported, never half-applied.
    pub fn from_config_json(text: &str) -> Result<Launch, String> {
        serde_json::from_str(text).map_err(|e| {
            format!("config.json beside the console could not be read ({e}); fix or remove it.")
        })
    }

    /// The query string wins over the config file for anything it sets.
    pub fn overridden_by(self, query: Launch) -> Launch {
        if query.server_url.is_some() {
            query
        } else {
            Launch { auto_connect: self.auto_connect || query.auto_connect, ..self }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_sets_server_and_connect() {
        let l = Launch::from_query("?server=http%3A%2F%2F127.0.0.1%3A3001%2Fmcp&connect=1&x=y");
        assert_eq!(l.server_url.as_deref(), Some("http://127.0.0.1:3001/mcp"));
        assert!(l.auto_connect);
        assert_eq!(Launch::from_query(""), Launch::default());
        assert_eq!(Launch::from_query("?server=%20%20").server_url, None);
    }

    #[test]
    fn config_json_is_read_and_errors_are_sentences() {
        let l = Launch::from_config_json(
            r#"{"serverUrl":"http://a/mcp","autoConnect":true,"future":1}"#,
        );
        assert_eq!(l, Ok(Launch { server_url: Some("http://a/mcp".into()), auto_connect: true }));
        let e = Launch::from_config_json("{").err().unwrap_or_default();
        assert!(e.starts_with("config.json beside the console could not be read"), "{e}");
    }

    #[test]
    fn the_query_string_wins_over_the_config_file() {
        let file = Launch { server_url: Some("http://file/mcp".into()), auto_connect: true };
        let query = Launch::from_query("?server=http://query/mcp");
        assert_eq!(
            file.clone().overridden_by(query).server_url.as_deref(),
            Some("http://query/mcp")
        );
        assert_eq!(file.clone().overridden_by(Launch::default()), file);
    }
}
