//! Calendar dates as requests and providers write them.

use chrono::NaiveDate;

/// Parses `YYYY-MM-DD` or `YYYYMMDD`, the two forms J-Quants accepts.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let fmt = if s.len() == 8 { "%Y%m%d" } else { "%Y-%m-%d" };
    if s.len() != 8 && s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, fmt).ok()
}

/// An inclusive span of days, `from` no later than `to`: what a request's `from`/`to` (or one
/// `date`) mean once parsed. Cannot be built out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DateRange {
    /// `from..=to`; `None` when `to` is before `from`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Self> {
        (from <= to).then_some(Self { from, to })
    }

    /// One day.
    pub fn day(day: NaiveDate) -> Self {
        Self { from: day, to: day }
    }

    /// A request's range: its `date`, or its `from` and `to` (either form of
    /// [`parse_date`]); `None` without both bounds, or with bounds out of order.
    pub fn from_params<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Self> {
        let date = |k: &str| get(k).and_then(parse_date);
        match (date("date"), date("from"), date("to")) {
            (Some(d), _, _) => Some(Self::day(d)),
            (None, Some(from), Some(to)) => Self::new(from, to),
            _ => None,
        }
    }

    /// The first day.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The last day.
    pub fn to(&self) -> NaiveDate {
        self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_a_date_or_both_bounds_in_order() {
        let d = |s| parse_date(s).unwrap();
        let params = |pairs: &'static [(&'static str, &'static str)]| {
            DateRange::from_params(|k| pairs.iter().find(|(p, _)| *p == k).map(|(_, v)| *v))
        };
        assert_eq!(
            params(&[("from", "20260105"), ("to", "2026-01-09")]),
            DateRange::new(d("2026-01-05"), d("2026-01-09"))
        );
        assert_eq!(
            params(&[("date", "2026-01-07"), ("from", "2026-01-01")]),
            Some(DateRange::day(d("2026-01-07")))
        );
        assert_eq!(
            params(&[("from", "2026-01-09"), ("to", "2026-01-05")]),
            None
        );
        assert_eq!(params(&[("from", "2026-01-09")]), None);
        assert_eq!(params(&[("from", "2026-01-09"), ("to", "soon")]), None);
    }

    #[test]
    fn both_forms_and_nothing_else() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 5);
        assert_eq!(parse_date("2026-01-05"), d);
        assert_eq!(parse_date("20260105"), d);
        for bad in ["2026-1-5", "2026/01/05", "202601050", "", "2026-02-30"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
