//! What a user holds, as pure values: for a data source, series and symbol, the pieces (ranges
//! fetched whole by completed jobs) and the corporate actions seen; which days are fresh,
//! missing or stale. The store keeps them ([`crate::store::HoldingStore`]); [`crate::holdings`]
//! records and reads them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::{DataSourceId, JobGroupId, UserId};

/// The symbol of a series that takes none (an index, the calendar).
pub const NO_SYMBOL: &str = "*";

/// Parameters that say which days, not which series.
const RANGE_PARAMS: [&str; 3] = ["date", "from", "to"];

/// One holding: whose, which provider, which series, which symbol.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HoldingKey {
    /// The owner.
    pub user: UserId,
    /// The data source.
    pub data_source: DataSourceId,
    /// The endpoint id and its other parameters (`chart?interval=1d`).
    pub series: String,
    /// The issue code or symbol ([`NO_SYMBOL`] for a series that takes none).
    pub symbol: String,
}

impl HoldingKey {
    /// The series text of `endpoint` with `params` (the date parameters left out).
    pub fn series_of<'a>(
        endpoint_id: &str,
        params: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> String {
        let rest: BTreeMap<&str, &str> = params
            .into_iter()
            .filter(|(k, _)| !RANGE_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if rest.is_empty() {
            return endpoint_id.to_owned();
        }
        let query: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{endpoint_id}?{}", query.join("&"))
    }

    /// The endpoint id of the series.
    pub fn endpoint_id(&self) -> &str {
        self.series.split('?').next().unwrap_or_default()
    }
}

/// A completed job's contribution: its range, fetched whole at `at`, in its archived pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// First day covered.
    pub from: NaiveDate,
    /// Last day covered.
    pub to: NaiveDate,
    /// The job that fetched it (its pages are under the job's archive prefix).
    pub group: JobGroupId,
    /// The job's index in its group.
    pub job: u32,
    /// Pages archived.
    pub pages: u32,
    /// Rows fetched.
    pub rows: u64,
    /// Compressed bytes archived.
    pub bytes: u64,
    /// When the job completed.
    pub at: DateTime<Utc>,
}

/// What a completed job adds to its holding, recorded with the job's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// Where.
    pub key: HoldingKey,
    /// The piece.
    pub piece: Piece,
    /// Days of corporate actions the job's rows show (a split's `AdjFactor`, a dividend).
    pub events: Vec<NaiveDate>,
}

/// The exchange's (Tokyo's) date at `at`; both providers publish a day's rows after it ends
/// there or later.
pub fn exchange_date(at: DateTime<Utc>) -> NaiveDate {
    (at + TimeDelta::hours(9)).date_naive()
}

/// An inclusive span of days.
pub type Span = (NaiveDate, NaiveDate);

/// A holding as stored: its pieces, oldest first, and the corporate actions seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Whose and what.
    pub key: HoldingKey,
    /// The pieces, in the order they were recorded.
    pub pieces: Vec<Piece>,
    /// Each corporate action's day, with when it was first seen.
    pub events: BTreeMap<NaiveDate, DateTime<Utc>>,
}

impl Coverage {
    /// A holding without pieces.
    pub fn empty(key: HoldingKey) -> Self {
        Self {
            key,
            pieces: Vec::new(),
            events: BTreeMap::new(),
        }
    }

    /// The days of `piece` still fresh at `now`: none once older than `retention`; from the
    /// latest corporate action seen after it was fetched on (the days before were adjusted
    /// again by the provider since).
    pub fn fresh_part(
        &self,
        piece: &Piece,
        now: DateTime<Utc>,
        retention: Option<TimeDelta>,
    ) -> Option<Span> {
        if retention.is_some_and(|r| piece.at + r <= now) {
            return None;
        }
        let stale_before = self
            .events
            .iter()
            .filter(|(_, seen)| **seen > piece.at)
            .map(|(day, _)| *day)
            .max();
        let from = match stale_before {
            Some(day) if day > piece.to => return None,
            Some(day) => piece.from.max(day),
            None => piece.from,
        };
        Some((from, piece.to))
    }

    /// The fresh days held, merged into disjoint spans in order.
    pub fn fresh(&self, now: DateTime<Utc>, retention: Option<TimeDelta>) -> Vec<Span> {
        merge(
            self.pieces
                .iter()
                .filter_map(|p| self.fresh_part(p, now, retention))
                .collect(),
        )
    }

    /// The days of `want` no fresh piece covers, in order.
    pub fn missing(
        &self,
        want: Span,
        now: DateTime<Utc>,
        retention: Option<TimeDelta>,
    ) -> Vec<Span> {
        subtract(want, &self.fresh(now, retention))
    }

    /// The pieces to read for `want`, oldest fetch first (so a later fetch of a row wins), each
    /// with the fresh days of it that `want` asks for.
    pub fn to_read(
        &self,
        want: Span,
        now: DateTime<Utc>,
        retention: Option<TimeDelta>,
    ) -> Vec<(&Piece, Span)> {
        let mut out: Vec<(&Piece, Span)> = self
            .pieces
            .iter()
            .filter_map(|p| {
                let (from, to) = self.fresh_part(p, now, retention)?;
                let span = (from.max(want.0), to.min(want.1));
                (span.0 <= span.1).then_some((p, span))
            })
            .collect();
        out.sort_by_key(|(p, _)| p.at);
        out
    }

    /// Pieces that a later piece covers entirely and no older data is needed from: dropped
    /// when the holding is rewritten, so a holding fetched again and again stays small.
    pub fn compacted(&self, now: DateTime<Utc>, retention: Option<TimeDelta>) -> Vec<Piece> {
        let mut kept: Vec<Piece> = Vec::new();
        for (i, p) in self.pieces.iter().enumerate() {
            let Some(span) = self.fresh_part(p, now, retention) else {
                continue;
            };
            let later: Vec<Span> = self.pieces[i + 1..]
                .iter()
                .filter(|q| q.at >= p.at)
                .filter_map(|q| self.fresh_part(q, now, retention))
                .collect();
            if !subtract(span, &merge(later)).is_empty() {
                kept.push(p.clone());
            }
        }
        kept
    }
}

/// Spans merged: overlapping or adjacent ones joined, in order.
pub fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (from, to) in spans {
        match out.last_mut() {
            Some(last) if last.1.succ_opt().is_some_and(|next| from <= next) => {
                last.1 = last.1.max(to);
            }
            _ => out.push((from, to)),
        }
    }
    out
}

/// The days of `want` outside `held` (disjoint and in order, as [`merge`] gives them).
pub fn subtract(want: Span, held: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut from = want.0;
    for &(a, b) in held {
        if b < from || a > want.1 {
            continue;
        }
        if a > from {
            out.push((from, a.pred_opt().unwrap_or(a)));
        }
        match b.succ_opt() {
            Some(next) => from = from.max(next),
            None => return out,
        }
        if from > want.1 {
            return out;
        }
    }
    if from <= want.1 {
        out.push((from, want.1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DataSourceId, JobGroupId, UserId};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        format!("{s}T12:00:00Z").parse().unwrap()
    }

    fn piece(from: &str, to: &str, fetched: &str) -> Piece {
        Piece {
            from: d(from),
            to: d(to),
            group: JobGroupId::new(),
            job: 0,
            pages: 1,
            rows: 1,
            bytes: 1,
            at: at(fetched),
        }
    }

    fn coverage(pieces: Vec<Piece>) -> Coverage {
        Coverage {
            pieces,
            ..Coverage::empty(HoldingKey {
                user: UserId::new(),
                data_source: DataSourceId::parse("jquants-v2").unwrap(),
                series: "eq-bars-daily".into(),
                symbol: "72030".into(),
            })
        }
    }

    #[test]
    fn missing_is_what_no_fresh_piece_covers() {
        let c = coverage(vec![
            piece("2024-01-01", "2024-03-31", "2025-01-01"),
            piece("2024-05-01", "2024-06-30", "2025-01-02"),
        ]);
        let now = at("2025-02-01");
        assert_eq!(
            c.missing((d("2023-12-01"), d("2024-12-31")), now, None),
            vec![
                (d("2023-12-01"), d("2023-12-31")),
                (d("2024-04-01"), d("2024-04-30")),
                (d("2024-07-01"), d("2024-12-31")),
            ]
        );
        assert!(
            c.missing((d("2024-02-01"), d("2024-03-31")), now, None)
                .is_empty()
        );
        assert!(
            c.missing((d("2024-05-01"), d("2024-05-01")), now, None)
                .is_empty()
        );
    }

    #[test]
    fn adjacent_pieces_join() {
        let c = coverage(vec![
            piece("2024-01-01", "2024-01-31", "2025-01-01"),
            piece("2024-02-01", "2024-02-29", "2025-01-01"),
        ]);
        assert_eq!(
            c.fresh(at("2025-01-02"), None),
            vec![(d("2024-01-01"), d("2024-02-29"))]
        );
    }

    #[test]
    fn an_action_seen_later_makes_older_pieces_stale_before_its_day() {
        let mut c = coverage(vec![
            piece("2023-06-01", "2023-09-19", "2025-01-01"),
            piece("2023-09-20", "2023-10-06", "2025-01-05"),
        ]);
        c.events.insert(d("2023-09-28"), at("2025-01-05"));
        let now = at("2025-01-06");
        // The old piece's days are all before the split: stale, so missing again.
        assert_eq!(
            c.missing((d("2023-06-01"), d("2023-10-06")), now, None),
            vec![(d("2023-06-01"), d("2023-09-19"))]
        );
        // The piece that showed the split is fresh; refetching the old range heals it.
        c.pieces
            .push(piece("2023-06-01", "2023-09-19", "2025-01-06"));
        assert!(
            c.missing((d("2023-06-01"), d("2023-10-06")), at("2025-01-07"), None)
                .is_empty()
        );
        let read = c.to_read((d("2023-06-01"), d("2023-10-06")), at("2025-01-07"), None);
        assert_eq!(read.len(), 2, "the stale piece is never read");
        assert!(read.iter().all(|(p, _)| p.at >= at("2025-01-05")));
    }

    #[test]
    fn a_piece_straddling_the_action_keeps_its_days_from_it_on() {
        let mut c = coverage(vec![piece("2023-09-01", "2023-10-31", "2025-01-01")]);
        c.events.insert(d("2023-09-28"), at("2025-01-03"));
        assert_eq!(
            c.fresh(at("2025-01-04"), None),
            vec![(d("2023-09-28"), d("2023-10-31"))]
        );
        // Seen by the piece itself (not later): nothing is stale.
        c.events.insert(d("2023-09-28"), at("2025-01-01"));
        assert_eq!(
            c.fresh(at("2025-01-04"), None),
            vec![(d("2023-09-01"), d("2023-10-31"))]
        );
    }

    #[test]
    fn retention_expires_pieces() {
        let c = coverage(vec![piece("2024-01-01", "2024-01-31", "2025-01-01")]);
        let keep = Some(TimeDelta::days(30));
        assert_eq!(c.fresh(at("2025-01-20"), keep).len(), 1);
        assert!(c.fresh(at("2025-02-01"), keep).is_empty());
    }

    #[test]
    fn later_reads_win_and_shadowed_pieces_compact_away() {
        let c = coverage(vec![
            piece("2024-01-01", "2024-01-31", "2025-01-01"),
            piece("2024-01-10", "2024-01-20", "2025-01-02"),
            piece("2023-12-01", "2024-02-29", "2025-01-03"),
        ]);
        let now = at("2025-01-04");
        let read = c.to_read((d("2024-01-15"), d("2024-01-16")), now, None);
        let order: Vec<_> = read.iter().map(|(p, _)| p.at).collect();
        assert_eq!(
            order,
            vec![at("2025-01-01"), at("2025-01-02"), at("2025-01-03")]
        );
        let kept = c.compacted(now, None);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].at, at("2025-01-03"));
    }

    #[test]
    fn subtract_edges() {
        let want = (d("2024-01-01"), d("2024-01-10"));
        assert!(subtract(want, &[(d("2023-01-01"), d("2025-01-01"))]).is_empty());
        assert_eq!(
            subtract(want, &[(d("2024-01-01"), d("2024-01-01"))]),
            vec![(d("2024-01-02"), d("2024-01-10"))]
        );
        assert_eq!(
            subtract(want, &[(d("2024-01-10"), d("2024-01-12"))]),
            vec![(d("2024-01-01"), d("2024-01-09"))]
        );
        assert_eq!(subtract(want, &[]), vec![want]);
    }
}
