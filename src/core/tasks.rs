//! The Tasks extension (`io.modelcontextprotocol/tasks`, 2026-07-28): a tool call the server
//! turns into a task answers `resultType: "task"` with the task's id; the client then polls
//! `tasks/get` at the server's interval, answers the task's questions with `tasks/update`, may
//! cancel it with `tasks/cancel`, and takes the call's result (or error) from the finished task.
//! The experimental tasks of 2025-11-25 differ on the wire: the call asks for a task
//! (`params.task`), the task comes wrapped (`{task: …}`) with `pollInterval`, and a finished task's
//! result — or its question, which the server then sends as a request on that stream — is had from
//! `tasks/result`, which waits. This module reads the server's reports and decides when to poll;
//! the session sends.

use crate::core::session::Millis;
use serde_json::{Map, Value, json};

/// The extension's name, declared in the client capabilities of the requests that accept it.
pub const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Poll interval when the server names none, and the bounds put on one it names.
const DEFAULT_POLL: Millis = 1_000;
const MIN_POLL: Millis = 250;
const MAX_POLL: Millis = 60_000;

/// Where a task stands, from a `CreateTaskResult` or a `tasks/get` answer.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskReport {
    Working {
        message: Option<String>,
    },
    /// The task asks the person: `requests` are its `inputRequests` (keyed), as received.
    InputRequired {
        message: Option<String>,
        requests: Map<String, Value>,
    },
    Completed {
        result: Value,
    },
    Failed {
        code: i64,
        message: String,
    },
    Cancelled,
    /// (2025-11-25) The task finished or has a question: `tasks/result` brings either.
    Ready {
        message: Option<String>,
    },
}

/// One report with what it says about the task's id and the next poll.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub task_id: String,
    pub poll_every: Option<Millis>,
    pub state: TaskReport,
}

/// Reads a task report; `Err` names what is wrong with it.
pub fn read(value: &Value) -> Result<Report, String> {
    let task_id = value
        .get("taskId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or("the task has no taskId")?
        .to_owned();
    let message = value.get("statusMessage").and_then(Value::as_str).map(str::to_owned);
    let poll_every = value.get("pollIntervalMs").and_then(Value::as_u64);
    let state = match value.get("status").and_then(Value::as_str) {
        Some("working") => TaskReport::Working { message },
        Some("input_required") => TaskReport::InputRequired {
            message,
            requests: value
                .get("inputRequests")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        },
        Some("completed") => TaskReport::Completed {
            result: value.get("result").cloned().ok_or("a completed task has no result")?,
        },
        Some("failed") => {
            let error = value.get("error");
            TaskReport::Failed {
                code: error.and_then(|e| e.get("code")).and_then(Value::as_i64).unwrap_or(0),
                message: error
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("the task failed without saying why")
                    .to_owned(),
            }
        }
        Some("cancelled") => TaskReport::Cancelled,
        other => return Err(format!("unknown task status {}", other.unwrap_or("(none)"))),
    };
    Ok(Report { task_id, poll_every, state })
}

/// Reads a 2025-11-25 task (`tasks/get`'s answer, or the `task` of the call's answer).
pub fn read_2025(value: &Value) -> Result<Report, String> {
    let task_id = value
        .get("taskId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or("the task has no taskId")?
        .to_owned();
    let message = value.get("statusMessage").and_then(Value::as_str).map(str::to_owned);
    let poll_every = value.get("pollInterval").and_then(Value::as_u64);
    let state = match value.get("status").and_then(Value::as_str) {
        Some("working") => TaskReport::Working { message },
        Some("completed" | "failed" | "input_required") => TaskReport::Ready { message },
        Some("cancelled") => TaskReport::Cancelled,
        other => return Err(format!("unknown task status {}", other.unwrap_or("(none)"))),
    };
    Ok(Report { task_id, poll_every, state })
}

/// How long to wait before the next `tasks/get`: the server's interval, within bounds.
pub fn poll_delay(asked: Option<Millis>) -> Millis {
    asked.unwrap_or(DEFAULT_POLL).clamp(MIN_POLL, MAX_POLL)
}

/// The client capabilities of a request that accepts (or asks about) a task: `base` plus the
/// extension.
pub fn with_extension(base: &Map<String, Value>) -> Map<String, Value> {
    let mut capabilities = base.clone();
    let extensions = capabilities.entry("extensions").or_insert_with(|| json!({}));
    if let Value::Object(extensions) = extensions {
        extensions.insert(EXTENSION.into(), json!({}));
    }
    capabilities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_read_with_what_it_carries() {
        let working = json!({"resultType": "task", "taskId": "t1", "status": "working", "statusMessage": "1 of 5", "pollIntervalMs": 500});
        assert_eq!(
            read(&working),
            Ok(Report {
                task_id: "t1".into(),
                poll_every: Some(500),
                state: TaskReport::Working { message: Some("1 of 5".into()) }
            })
        );
        let asking = json!({"taskId": "t1", "status": "input_required", "inputRequests": {"go": {"method": "elicitation/create"}}});
        assert!(
            matches!(read(&asking), Ok(Report { state: TaskReport::InputRequired { requests, .. }, .. }) if requests.contains_key("go"))
        );
        let done = json!({"taskId": "t1", "status": "completed", "result": {"content": []}});
        assert!(matches!(read(&done), Ok(Report { state: TaskReport::Completed { .. }, .. })));
        let failed = json!({"taskId": "t1", "status": "failed", "error": {"code": -32603, "message": "boom"}});
        assert!(
            matches!(read(&failed), Ok(Report { state: TaskReport::Failed { code: -32603, message }, .. }) if message == "boom")
        );
        assert!(matches!(
            read(&json!({"taskId": "t", "status": "cancelled"})),
            Ok(Report { state: TaskReport::Cancelled, .. })
        ));
    }

    #[test]
    fn malformed_reports_are_sentences() {
        for bad in [
            json!({"status": "working"}),
            json!({"taskId": "", "status": "working"}),
            json!({"taskId": 5, "status": "working"}),
            json!({"taskId": "t", "status": "sleeping"}),
            json!({"taskId": "t"}),
            json!({"taskId": "t", "status": "completed"}),
            json!("task"),
        ] {
            assert!(read(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_2025_task_is_polled_until_tasks_result_has_something() {
        let task = json!({"taskId": "t", "status": "working", "statusMessage": "Gathering sources...", "pollInterval": 1000, "ttl": 300000});
        assert_eq!(
            read_2025(&task),
            Ok(Report {
                task_id: "t".into(),
                poll_every: Some(1000),
                state: TaskReport::Working { message: Some("Gathering sources...".into()) }
            })
        );
        for status in ["completed", "failed", "input_required"] {
            let task = json!({"taskId": "t", "status": status});
            assert!(
                matches!(read_2025(&task), Ok(Report { state: TaskReport::Ready { .. }, .. })),
                "{status}"
            );
        }
        assert!(
            read_2025(&json!({"taskId": "t", "status": "cancelled"}))
                .is_ok_and(|r| r.state == TaskReport::Cancelled)
        );
        assert!(read_2025(&json!({"status": "working"})).is_err());
        assert!(read_2025(&json!({"taskId": "t", "status": "paused"})).is_err());
    }

    #[test]
    fn polls_follow_the_server_within_bounds() {
        assert_eq!(poll_delay(None), 1_000);
        assert_eq!(poll_delay(Some(500)), 500);
        assert_eq!(poll_delay(Some(0)), 250, "a server cannot make the console spin");
        assert_eq!(poll_delay(Some(10_000_000)), 60_000);
    }

    #[test]
    fn the_extension_is_added_to_the_declared_capabilities() {
        let base = json!({"elicitation": {}, "extensions": {"other/x": {}}});
        let with = with_extension(base.as_object().unwrap_or(&Map::new()));
        assert_eq!(with["extensions"], json!({"other/x": {}, "io.modelcontextprotocol/tasks": {}}));
        assert_eq!(with["elicitation"], json!({}));
    }
}
