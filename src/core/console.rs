//! The console's view of one connection, as plain data: what the status line says, which server
//! answered, and the tools it offers. The UI keeps one of these in a signal and folds session
//! events into it with [`ConsoleState::apply`]; the folding is tested here without a browser.

use crate::core::protocol::Tool;
use crate::core::session::{ServerSummary, SessionEvent};

/// Where the connection stands, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Disconnected,
    Connecting,
    Connected,
    /// The session ended; the sentence says what happened and what to do.
    Failed(String),
}

/// Everything the UI renders about one connection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsoleState {
    pub status: Status,
    pub server: Option<ServerSummary>,
    pub tools: Option<Vec<Tool>>,
    /// The last non-fatal problem (a failed request), shown until the next success.
    pub notice: Option<String>,
}

impl ConsoleState {
    /// A fresh connection attempt.
    pub fn connecting() -> Self {
        ConsoleState { status: Status::Connecting, ..ConsoleState::default() }
    }

    /// Folds one session event into the view.
    pub fn apply(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Ready(summary) => {
                self.status = Status::Connected;
                self.server = Some(summary);
                self.notice = None;
            }
            SessionEvent::ToolsListed(tools) => {
                self.tools = Some(tools);
                self.notice = None;
            }
            SessionEvent::Failed(error) => self.status = Status::Failed(error.to_string()),
            SessionEvent::RequestFailed { error, .. } => self.notice = Some(error.to_string()),
            _ => {}
        }
    }

    /// A failure before any session existed (bad URL, unreachable server).
    pub fn fail(&mut self, sentence: String) {
        self.status = Status::Failed(sentence);
    }

    /// The status line's text.
    pub fn status_line(&self) -> String {
        match &self.status {
            Status::Disconnected => "Not connected.".into(),
            Status::Connecting => "Connecting…".into(),
            Status::Connected => match &self.server {
                Some(s) => format!(
                    "Connected to {} {} (MCP {}).",
                    display_or(&s.server_info.name, "an unnamed server"),
                    s.server_info.version,
                    s.protocol_version
                ),
                None => "Connected.".into(),
            },
            Status::Failed(sentence) => sentence.clone(),
        }
    }
}

fn display_or<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    if s.trim().is_empty() { fallback } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::Implementation;
    use crate::core::session::SessionError;
    use serde_json::{Map, json};

    fn summary(name: &str) -> ServerSummary {
        ServerSummary {
            protocol_version: "2025-06-18".into(),
            server_info: Implementation {
                name: name.into(),
                version: "1.2".into(),
                ..Default::default()
            },
            capabilities: Map::new(),
            instructions: None,
        }
    }

    #[test]
    fn status_line_follows_the_session() {
        let mut s = ConsoleState::connecting();
        assert_eq!(s.status_line(), "Connecting…");
        s.apply(SessionEvent::Ready(summary("everything")));
        assert_eq!(s.status_line(), "Connected to everything 1.2 (MCP 2025-06-18).");
        s.apply(SessionEvent::Failed(SessionError::NotReady));
        assert_eq!(s.status_line(), SessionError::NotReady.to_string());
    }

    #[test]
    fn unnamed_servers_are_still_described() {
        let mut s = ConsoleState::connecting();
        s.apply(SessionEvent::Ready(summary(" ")));
        assert!(s.status_line().starts_with("Connected to an unnamed server"));
    }

    #[test]
    fn tools_replace_the_list_and_clear_the_notice() {
        let mut s = ConsoleState::connecting();
        s.apply(SessionEvent::RequestFailed {
            id: None,
            method: "tools/list".into(),
            error: SessionError::NotReady,
        });
        assert!(s.notice.is_some());
        let tool =
            serde_json::from_value(json!({"name": "echo"})).unwrap_or_else(|e| panic!("{e}"));
        s.apply(SessionEvent::ToolsListed(vec![tool]));
        assert_eq!(s.tools.as_ref().map(Vec::len), Some(1));
        assert_eq!(s.notice, None);
    }
}
