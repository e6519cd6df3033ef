//! EventBridge's `Schedule` event source: the function invoked asynchronously with a
//! `Scheduled Event` at each period (`rate(1 minute)` in the template; tests may shorten it).

use std::time::Duration;

use serde_json::json;

use super::{InvocationType, Target};

/// A running schedule; stopped when dropped.
#[derive(Debug)]
pub struct Schedule {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The event EventBridge sends for a scheduled rule named `rule` at `time`.
pub fn scheduled_event(rule: &str, time: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:123456789012:rule/{rule}")],
        "detail": {}
    })
}

impl Schedule {
    /// Invokes `function` every `period` (the first after one period).
    pub fn start(function: Target, rule: &str, period: Duration) -> Self {
        let rule = rule.to_owned();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tick.tick().await;
                let event = scheduled_event(&rule, chrono::Utc::now());
                // Asynchronous: EventBridge does not wait for the answer.
                let f = function.clone();
                tokio::spawn(async move {
                    if let Err(e) = f
                        .invoke(event.to_string().into(), InvocationType::Async)
                        .await
                    {
                        tracing::warn!(error = %e, "scheduled invocation failed");
                    }
                });
            }
        });
        Self { task }
    }
}
