//! The holdings port's contract: a completed job's piece lands with its end (once, however
//! often the end is delivered), pieces of one symbol accumulate, corporate actions keep the
//! instant they were first seen, and a holding can be rewritten or removed. Run against the
//! in-memory jobs fake here and against the DynamoDB adapter on the emulator.

use chrono::Duration;

use super::HoldingStore;
use crate::clock::test_epoch as t0;
use crate::domain::{JobId, ResponseData};
use crate::holdings::{Held, HoldingKey, Piece};
use crate::store::jobs::contract::{LEASE, create_with_jobs, group};
use crate::store::{FinishOutcome, JobResult, JobStore};

/// The suite.
pub async fn holding_store<S: JobStore + HoldingStore>(store: &S) {
    let (g, jobs) = group(3);
    create_with_jobs(store, &g, &jobs).await;
    let now = t0() + Duration::seconds(1);
    store.start_jobs(&g, &jobs, now, LEASE).await.unwrap();
    let key = |symbol: &str| HoldingKey {
        user: g.user_id,
        data_source: g.data_source_id.clone(),
        series: "eq-bars-daily".into(),
        symbol: symbol.into(),
    };
    let held = |job: u32, symbol: &str, from: &str, to: &str, events: &[&str]| {
        let mut data = ResponseData::summary(10, 1);
        data.held = Some(Held {
            key: key(symbol),
            piece: Piece {
                from: from.parse().unwrap(),
                to: to.parse().unwrap(),
                group: g.id,
                job,
                pages: 1,
                rows: 10,
                bytes: 100,
                at: now,
            },
            events: events.iter().map(|d| d.parse().unwrap()).collect(),
        });
        (JobId::new(job), JobResult::Completed(data))
    };
    let finished = store
        .finish_jobs(
            g.id,
            &[
                held(0, "13000", "2024-01-01", "2024-01-31", &[]),
                held(1, "13010", "2024-01-01", "2024-01-31", &["2024-01-15"]),
            ],
            now,
        )
        .await
        .unwrap();
    assert_eq!(finished, vec![FinishOutcome::Recorded; 2]);
    // A duplicate end adds nothing; the third job adds a second piece to the first symbol.
    let again = store
        .finish_jobs(
            g.id,
            &[held(0, "13000", "2024-01-01", "2024-01-31", &[])],
            now,
        )
        .await
        .unwrap();
    assert_eq!(again, vec![FinishOutcome::AlreadyTerminal]);
    let later = now + Duration::seconds(5);
    let (id, mut result) = held(2, "13000", "2024-02-01", "2024-02-29", &["2024-01-15"]);
    if let JobResult::Completed(d) = &mut result {
        d.held.as_mut().unwrap().piece.at = later;
    }
    store
        .finish_jobs(g.id, &[(id, result)], later)
        .await
        .unwrap();

    let read = store
        .holdings(&[key("13000"), key("99990"), key("13010")])
        .await
        .unwrap();
    assert_eq!(read.len(), 3, "one per key, in order");
    assert_eq!(read[0].pieces.len(), 2);
    assert_eq!(read[0].pieces[0].to, "2024-01-31".parse().unwrap());
    assert_eq!(read[0].pieces[1].at, later);
    assert!(read[1].pieces.is_empty(), "never fetched: empty");
    assert_eq!(read[1].key, key("99990"));
    assert_eq!(read[2].pieces.len(), 1);
    assert_eq!(
        read[2].events.get(&"2024-01-15".parse().unwrap()),
        Some(&now),
        "an action keeps when it was first seen"
    );
    assert_eq!(
        read[0].events.get(&"2024-01-15".parse().unwrap()),
        Some(&later)
    );

    let mut all = store.user_holdings(g.user_id).await.unwrap();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(all.len(), 2);
    assert!(
        store
            .user_holdings(crate::domain::UserId::new())
            .await
            .unwrap()
            .is_empty()
    );

    let mut trimmed = read[0].clone();
    trimmed.pieces.remove(0);
    store.replace(&trimmed).await.unwrap();
    assert_eq!(store.holdings(&[key("13000")]).await.unwrap()[0], trimmed);
    trimmed.pieces.clear();
    store.replace(&trimmed).await.unwrap();
    assert_eq!(
        store.user_holdings(g.user_id).await.unwrap().len(),
        1,
        "removed"
    );
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_fake_keeps_the_contract() {
        super::holding_store(&crate::store::jobs::MemoryJobs::default()).await;
    }
}
