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

#[cfg(test)]
mod tests {
    use super::*;

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
