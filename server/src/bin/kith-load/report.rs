//! The summary: one table on stdout, optionally JSON.

use crate::server::Memory;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    pub rows: Vec<(String, String)>,
    pub server: Option<Memory>,
}

impl Report {
    pub fn new(scenario: &str) -> Self {
        Self { scenario: scenario.to_owned(), rows: Vec::new(), server: None }
    }

    pub fn row(mut self, name: &str, value: impl ToString) -> Self {
        self.rows.push((name.to_owned(), value.to_string()));
        self
    }

    pub fn with_server(mut self, memory: Option<Memory>) -> Self {
        self.server = memory;
        self
    }

    pub fn table(&self) -> String {
        let mut rows = self.rows.clone();
        if let Some(memory) = self.server {
            rows.push(("server RSS at end (MiB)".into(), format!("{:.1}", memory.rss_kib as f64 / 1024.0)));
            rows.push((
                "server peak RSS (MiB)".into(),
                format!("{:.1}", memory.peak_rss_kib as f64 / 1024.0),
            ));
        }
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = format!("scenario: {}\n", self.scenario);
        for (key, value) in rows {
            out.push_str(&format!("  {key:<width$}  {value}\n"));
        }
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Percentile `p` (0-100) of sorted samples.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
