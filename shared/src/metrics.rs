//! CloudWatch metrics as Embedded Metric Format (EMF) log lines: a Lambda writes one JSON line
//! to stdout and CloudWatch turns it into metrics, with no API call and no agent. The fetcher
//! emits one line per batch: jobs completed, failed, retried and deferred, rows stored, and
//! every provider request's latency.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The namespace every metric is published under.
pub const NAMESPACE: &str = "moomoo-markets";

/// Counts and latencies gathered during one batch.
#[derive(Debug, Default)]
pub struct BatchMetrics(Mutex<Counts>);

#[derive(Debug, Default, Clone, PartialEq)]
struct Counts {
    completed: u64,
    failed: u64,
    retried: u64,
    deferred: u64,
    rows: u64,
    latencies_ms: Vec<f64>,
}

impl BatchMetrics {
    fn with(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// A job completed with `rows` rows.
    pub fn completed(&self, rows: u64) {
        self.with(|c| {
            c.completed += 1;
            c.rows += rows;
        });
    }

    /// A job failed for good.
    pub fn failed(&self) {
        self.with(|c| c.failed += 1);
    }

    /// A job will be tried again after a transient failure.
    pub fn retried(&self) {
        self.with(|c| c.retried += 1);
    }

    /// A job waits for the rate limiter.
    pub fn deferred(&self) {
        self.with(|c| c.deferred += 1);
    }

    /// A provider request took `ms` milliseconds.
    pub fn provider_latency(&self, ms: f64) {
        self.with(|c| c.latencies_ms.push(ms));
    }

    /// The EMF line for the batch (`function` becomes the `Function` dimension); `None` when
    /// the batch did nothing worth a metric.
    pub fn emf(&self, function: &str, at: DateTime<Utc>) -> Option<String> {
        let c = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if c == Counts::default() {
            return None;
        }
        let metric = |name: &str, unit: &str| json!({"Name": name, "Unit": unit});
        let mut declared = vec![
            metric("JobsCompleted", "Count"),
            metric("JobsFailed", "Count"),
            metric("JobsRetried", "Count"),
            metric("JobsDeferred", "Count"),
            metric("RowsStored", "Count"),
        ];
        if !c.latencies_ms.is_empty() {
            declared.push(metric("ProviderLatency", "Milliseconds"));
        }
        let mut line = json!({
            "_aws": {
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function"]],
                    "Metrics": declared,
                }],
            },
            "Function": function,
            "JobsCompleted": c.completed,
            "JobsFailed": c.failed,
            "JobsRetried": c.retried,
            "JobsDeferred": c.deferred,
            "RowsStored": c.rows,
        });
        if !c.latencies_ms.is_empty() {
            line["ProviderLatency"] = Value::from(c.latencies_ms);
        }
        Some(line.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_becomes_one_emf_line_cloudwatch_can_read() {
        let m = BatchMetrics::default();
        assert_eq!(m.emf("fetcher", Utc::now()), None, "nothing to report");
        m.completed(21);
        m.completed(4);
        m.failed();
        m.deferred();
        m.provider_latency(12.5);
        m.provider_latency(30.0);
        let at = Utc::now();
        let line: Value = serde_json::from_str(&m.emf("fetcher", at).unwrap()).unwrap();
        assert_eq!(line["_aws"]["Timestamp"], at.timestamp_millis());
        let declared: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        // Every declared metric has its value at the top level, as EMF requires.
        for name in &declared {
            assert!(!line[*name].is_null(), "{name} has no value");
        }
        assert_eq!(
            (
                &line["JobsCompleted"],
                &line["JobsFailed"],
                &line["JobsRetried"],
                &line["JobsDeferred"],
                &line["RowsStored"],
                &line["Function"]
            ),
            (
                &json!(2),
                &json!(1),
                &json!(0),
                &json!(1),
                &json!(25),
                &json!("fetcher")
            )
        );
        assert_eq!(line["ProviderLatency"], json!([12.5, 30.0]));
    }
}
