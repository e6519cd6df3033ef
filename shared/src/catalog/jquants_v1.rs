//! The legacy J-Quants V1 catalog (token auth, discontinued upstream on 2026-06-01, for accounts
//! that still speak it): listed info, daily quotes, statements and the trading calendar
//! (jquants-api.md §2.1). Rows keep V1's long field names and come under each route's own
//! array key, not `data`.
//!
//! Ids follow the official V1 client's method names (`get_prices_daily_quotes` →
//! `prices-daily-quotes`); each dataset is the id prefixed `v1-`, so V1 rows are stored apart
//! from their V2 counterparts.

use super::jquants_v2::{CODE_OR_DATE, DATE, DATE_ALONE, FROM, FROM_ALONE, FROM_TO, TO, TO_ALONE};
use super::{Endpoint, ParamKind, ParamSpec, RateBucket, SymbolUse};
use crate::dataset::DatasetKind;
use crate::domain::Plan;

/// Defaults every V1 entry starts from.
const V1: Endpoint = Endpoint {
    id: "",
    name: "",
    data_source: "jquants-v1",
    path: "",
    method: "GET",
    params: &[],
    rules: &[],
    symbol_param: Some("code"),
    symbols: SymbolUse::Optional,
    dataset: DatasetKind::V1DailyQuotes,
    natural_key: &["Code", "Date"],
    min_plan: Plan::Free,
    rate_limit_per_minute: None,
    bucket: RateBucket::Plan,
    max_attempts: None,
    coalesce: None,
    max_body_bytes: None,
};

/// Every V1 endpoint.
pub(super) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        id: "listed-info",
        name: "Listed issues, V1 (names, sectors, segment; margin type on Standard+)",
        path: "/listed/info",
        params: &[DATE_ALONE],
        dataset: DatasetKind::V1ListedInfo,
        ..V1
    },
    // V1 wants `code` or `date`; a range without a code is refused rather than split per
    // trading day as V2 daily bars are.
    Endpoint {
        id: "prices-daily-quotes",
        name: "Daily quotes, V1 (OHLCV, adjusted; sessions on Premium)",
        path: "/prices/daily_quotes",
        params: &[DATE, FROM, TO],
        rules: &[CODE_OR_DATE, FROM_TO],
        dataset: DatasetKind::V1DailyQuotes,
        ..V1
    },
    Endpoint {
        id: "fins-statements",
        name: "Financial statements, V1 (results summaries)",
        path: "/fins/statements",
        params: &[DATE_ALONE],
        rules: &[CODE_OR_DATE],
        dataset: DatasetKind::V1Statements,
        natural_key: &["LocalCode", "DisclosedDate", "DisclosureNumber"],
        ..V1
    },
    // Plan UNVERIFIED for V1 (the V1 client's README omits it); V2's calendar is Free.
    Endpoint {
        id: "markets-trading-calendar",
        name: "Trading calendar, V1",
        path: "/markets/trading_calendar",
        params: &[
            ParamSpec {
                name: "holidaydivision",
                kind: ParamKind::OneOf(&["0", "1", "2", "3"]),
                conflicts_with: &[],
            },
            FROM_ALONE,
            TO_ALONE,
        ],
        rules: &[FROM_TO],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::V1TradingCalendar,
        natural_key: &["Date"],
        ..V1
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;
    use crate::catalog::window_tests::params;
    use crate::domain::DataSourceId;

    fn endpoint(id: &str) -> &'static Endpoint {
        find(&DataSourceId::parse("jquants-v1").unwrap(), id).unwrap()
    }

    #[test]
    fn entries_are_found_under_v1_and_name_their_v1_dataset() {
        for e in ENDPOINTS {
            assert_eq!(endpoint(e.id).path, e.path);
            assert_eq!(e.dataset.as_str(), format!("v1-{}", e.id));
        }
        assert!(find(&DataSourceId::parse("jquants-v2").unwrap(), "listed-info").is_none());
        assert_eq!(ENDPOINTS.len(), 4);
    }

    #[test]
    fn daily_quotes_want_a_code_or_a_date() {
        let quotes = endpoint("prices-daily-quotes");
        let range = params(&[("from", "20250101"), ("to", "20250131")]);
        assert!(quotes.validate(&[], &range).is_err());
        let valid = quotes.validate(&["7203".into()], &range).unwrap();
        assert_eq!(valid.params["from"], "2025-01-01");
        assert!(
            quotes
                .validate(&[], &params(&[("date", "2025-01-06")]))
                .is_ok()
        );
    }

    #[test]
    fn the_calendar_takes_v1_parameter_names() {
        let calendar = endpoint("markets-trading-calendar");
        assert!(
            calendar
                .validate(&[], &params(&[("holidaydivision", "1")]))
                .is_ok()
        );
        assert!(
            calendar
                .validate(&[], &params(&[("hol_div", "1")]))
                .is_err()
        );
    }
}
