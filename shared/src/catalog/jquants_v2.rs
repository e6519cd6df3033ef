//! The J-Quants V2 catalog: every endpoint of jquants-api.md §2.2 that returns JSON rows
//! (bulk, tick and TDnet endpoints return files or links and are not here).
//!
//! Ids follow the official V2 client's method names (`get_eq_bars_daily` → `eq-bars-daily`)
//! and the spec's page names (`mkt-cal`). Where the reference marks no parameter as required
//! but the sandbox answers 400 without one, the entry requires it too and says so.
//!
//! `cursor` (incremental fetch of `/fins/summary` and `/fins/details`) is not offered: it may
//! not be sent with `pagination_key` (jquants-api.md §3), and a job always pages.

use super::{Endpoint, ParamKind, ParamSpec, RateBucket, Rule, SymbolUse};
use crate::dataset::DatasetKind;
use crate::domain::Plan;

pub(super) const DATE: ParamSpec = ParamSpec {
    name: "date",
    kind: ParamKind::Date,
    conflicts_with: &["from", "to"],
};
pub(super) const FROM: ParamSpec = ParamSpec {
    name: "from",
    kind: ParamKind::Date,
    conflicts_with: &["date"],
};
pub(super) const TO: ParamSpec = ParamSpec {
    name: "to",
    kind: ParamKind::Date,
    conflicts_with: &["date"],
};
/// `date` of an endpoint without `from`/`to`.
pub(super) const DATE_ALONE: ParamSpec = ParamSpec {
    conflicts_with: &[],
    ..DATE
};
/// `from`/`to` of an endpoint without `date`.
pub(super) const FROM_ALONE: ParamSpec = ParamSpec {
    conflicts_with: &[],
    ..FROM
};
pub(super) const TO_ALONE: ParamSpec = ParamSpec {
    conflicts_with: &[],
    ..TO
};
pub(super) const FROM_TO: Rule = Rule::Range("from", "to");
pub(super) const CODE_OR_DATE: Rule = Rule::AtLeastOne(&["code", "date"]);
const DATE_REQUIRED: Rule = Rule::AtLeastOne(&["date"]);
const CONTRACT_FLAG: ParamSpec = ParamSpec {
    name: "contract_flag",
    kind: ParamKind::OneOf(&["0", "1"]),
    conflicts_with: &[],
};
const CATEGORY: ParamSpec = ParamSpec {
    name: "category",
    kind: ParamKind::Category,
    conflicts_with: &[],
};

/// Defaults every V2 entry starts from.
const V2: Endpoint = Endpoint {
    id: "",
    name: "",
    data_source: "jquants-v2",
    path: "",
    method: "GET",
    params: &[],
    rules: &[],
    symbol_param: Some("code"),
    symbols: SymbolUse::Optional,
    dataset: DatasetKind::EqBarsDaily,
    natural_key: &["Code", "Date"],
    min_plan: Plan::Free,
    rate_limit_per_minute: None,
    bucket: RateBucket::Plan,
    max_attempts: None,
    coalesce: None,
    max_body_bytes: None,
};

/// Every V2 endpoint.
pub(super) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        id: "eq-master",
        name: "Listed issues (names, sectors, segment, margin type)",
        path: "/equities/master",
        params: &[DATE_ALONE],
        dataset: DatasetKind::EqMaster,
        ..V2
    },
    Endpoint {
        id: "eq-bars-daily",
        name: "Equities daily bars (OHLCV, adjusted)",
        path: "/equities/bars/daily",
        params: &[DATE, FROM, TO],
        rules: &[FROM_TO],
        symbols: SymbolUse::PerSymbolOrTradingDay,
        dataset: DatasetKind::EqBarsDaily,
        ..V2
    },
    Endpoint {
        id: "eq-bars-daily-am",
        name: "Equities morning session bars (today)",
        path: "/equities/bars/daily/am",
        dataset: DatasetKind::EqBarsDailyAm,
        min_plan: Plan::Premium,
        ..V2
    },
    // The reference marks no parameter as required; `code` or `date` is required here as in
    // the sandbox, since a range over every issue's minute bars is rarely meant.
    Endpoint {
        id: "eq-bars-minute",
        name: "Equities minute bars (add-on)",
        path: "/equities/bars/minute",
        params: &[DATE, FROM, TO],
        rules: &[CODE_OR_DATE, FROM_TO],
        dataset: DatasetKind::EqBarsMinute,
        natural_key: &["Code", "Date", "Time"],
        min_plan: Plan::Light,
        bucket: RateBucket::AddOn,
        // Large responses time out more often than the rest: a few more attempts.
        max_attempts: Some(7),
        ..V2
    },
    Endpoint {
        id: "eq-investor-types",
        name: "Trading by investor type (weekly, per section)",
        path: "/equities/investor-types",
        params: &[
            ParamSpec {
                name: "section",
                kind: ParamKind::OneOf(&[
                    "TSE1st",
                    "TSE2nd",
                    "TSEMothers",
                    "TSEJASDAQ",
                    "TSEPrime",
                    "TSEStandard",
                    "TSEGrowth",
                    "TokyoNagoya",
                ]),
                conflicts_with: &[],
            },
            FROM_ALONE,
            TO_ALONE,
        ],
        rules: &[FROM_TO],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::EqInvestorTypes,
        natural_key: &["Section", "PubDate", "StDate"],
        min_plan: Plan::Light,
        ..V2
    },
    Endpoint {
        id: "eq-earnings-cal",
        name: "Earnings calendar (next business day)",
        path: "/equities/earnings-calendar",
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::EqEarningsCal,
        ..V2
    },
    Endpoint {
        id: "fin-summary",
        name: "Financial results summary",
        path: "/fins/summary",
        params: &[DATE_ALONE],
        rules: &[CODE_OR_DATE],
        dataset: DatasetKind::FinSummary,
        natural_key: &["Code", "DiscDate", "DiscNo"],
        rate_limit_per_minute: Some(60),
        ..V2
    },
    Endpoint {
        id: "fin-details",
        name: "Financial statement details (BS/PL/CF)",
        path: "/fins/details",
        params: &[DATE_ALONE],
        rules: &[CODE_OR_DATE],
        dataset: DatasetKind::FinDetails,
        natural_key: &["Code", "DiscDate", "DiscNo"],
        min_plan: Plan::Premium,
        rate_limit_per_minute: Some(60),
        // Large responses time out more often than the rest: a few more attempts.
        max_attempts: Some(7),
        ..V2
    },
    // `code` or `date` required as in the sandbox (V1 `dividend` had the same rule); the
    // reference's V2 table marks none, so this is UNVERIFIED.
    Endpoint {
        id: "fin-dividend",
        name: "Dividends (announced)",
        path: "/fins/dividend",
        params: &[DATE, FROM, TO],
        rules: &[CODE_OR_DATE, FROM_TO],
        dataset: DatasetKind::FinDividend,
        natural_key: &["Code", "PubDate", "RefNo"],
        min_plan: Plan::Premium,
        ..V2
    },
    Endpoint {
        id: "mkt-cal",
        name: "Trading calendar",
        path: "/markets/calendar",
        params: &[
            ParamSpec {
                name: "hol_div",
                kind: ParamKind::OneOf(&["0", "1", "2", "3"]),
                conflicts_with: &[],
            },
            FROM_ALONE,
            TO_ALONE,
        ],
        rules: &[FROM_TO],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::MktCal,
        natural_key: &["Date"],
        ..V2
    },
    Endpoint {
        id: "mkt-margin-interest",
        name: "Margin balances (weekly)",
        path: "/markets/margin-interest",
        params: &[DATE, FROM, TO],
        rules: &[CODE_OR_DATE, FROM_TO],
        dataset: DatasetKind::MktMarginInterest,
        min_plan: Plan::Standard,
        ..V2
    },
    Endpoint {
        id: "mkt-short-ratio",
        name: "Short selling by sector (daily)",
        path: "/markets/short-ratio",
        params: &[
            ParamSpec {
                name: "s33",
                kind: ParamKind::Sector33,
                conflicts_with: &[],
            },
            DATE,
            FROM,
            TO,
        ],
        rules: &[Rule::AtLeastOne(&["s33", "date"]), FROM_TO],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::MktShortRatio,
        natural_key: &["S33", "Date"],
        min_plan: Plan::Standard,
        ..V2
    },
    Endpoint {
        id: "mkt-short-sale-report",
        name: "Short position reports",
        path: "/markets/short-sale-report",
        params: &[
            ParamSpec {
                name: "disc_date",
                kind: ParamKind::Date,
                conflicts_with: &["disc_date_from", "disc_date_to"],
            },
            ParamSpec {
                name: "disc_date_from",
                kind: ParamKind::Date,
                conflicts_with: &["disc_date"],
            },
            ParamSpec {
                name: "disc_date_to",
                kind: ParamKind::Date,
                conflicts_with: &["disc_date"],
            },
            ParamSpec {
                name: "calc_date",
                kind: ParamKind::Date,
                conflicts_with: &[],
            },
        ],
        rules: &[
            Rule::AtLeastOne(&["code", "disc_date", "calc_date"]),
            Rule::Range("disc_date_from", "disc_date_to"),
        ],
        dataset: DatasetKind::MktShortSaleReport,
        natural_key: &[
            "Code", "DiscDate", "CalcDate", "SSName", "DICName", "FundName",
        ],
        min_plan: Plan::Standard,
        ..V2
    },
    Endpoint {
        id: "mkt-margin-alert",
        name: "Margin balances of daily-published issues",
        path: "/markets/margin-alert",
        params: &[DATE, FROM, TO],
        rules: &[CODE_OR_DATE, FROM_TO],
        dataset: DatasetKind::MktMarginAlert,
        natural_key: &["Code", "PubDate"],
        min_plan: Plan::Standard,
        ..V2
    },
    Endpoint {
        id: "mkt-breakdown",
        name: "Trading breakdown (long/short/margin)",
        path: "/markets/breakdown",
        params: &[DATE, FROM, TO],
        rules: &[CODE_OR_DATE, FROM_TO],
        dataset: DatasetKind::MktBreakdown,
        min_plan: Plan::Premium,
        ..V2
    },
    // Index codes are not issue codes, so `code` is a parameter here, not a symbol.
    Endpoint {
        id: "idx-bars-daily",
        name: "Index daily bars",
        path: "/indices/bars/daily",
        params: &[
            ParamSpec {
                name: "code",
                kind: ParamKind::IndexCode,
                conflicts_with: &[],
            },
            DATE,
            FROM,
            TO,
        ],
        rules: &[CODE_OR_DATE, FROM_TO],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::IdxBarsDaily,
        min_plan: Plan::Standard,
        ..V2
    },
    Endpoint {
        id: "idx-bars-daily-topix",
        name: "TOPIX daily bars",
        path: "/indices/bars/daily/topix",
        params: &[FROM_ALONE, TO_ALONE],
        rules: &[FROM_TO],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::IdxBarsDailyTopix,
        natural_key: &["Date"],
        min_plan: Plan::Light,
        ..V2
    },
    // `contract_flag` is sent in snake case as the official Python client and the spec do;
    // the official CLI's `contractFlag` is taken for a CLI bug (jquants-api.md §2.2,
    // UNVERIFIED whether the server accepts both).
    Endpoint {
        id: "drv-bars-daily-fut",
        name: "Futures daily bars",
        path: "/derivatives/bars/daily/futures",
        params: &[CATEGORY, DATE_ALONE, CONTRACT_FLAG],
        rules: &[DATE_REQUIRED],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::DrvBarsDailyFut,
        min_plan: Plan::Premium,
        ..V2
    },
    // `code` is the underlying issue of securities options: a filter, not one job per symbol.
    Endpoint {
        id: "drv-bars-daily-opt",
        name: "Options daily bars",
        path: "/derivatives/bars/daily/options",
        params: &[
            CATEGORY,
            ParamSpec {
                name: "code",
                kind: ParamKind::IssueCode,
                conflicts_with: &[],
            },
            DATE_ALONE,
            CONTRACT_FLAG,
        ],
        rules: &[DATE_REQUIRED],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::DrvBarsDailyOpt,
        min_plan: Plan::Premium,
        ..V2
    },
    Endpoint {
        id: "drv-bars-daily-opt-225",
        name: "Nikkei 225 options daily bars",
        path: "/derivatives/bars/daily/options/225",
        params: &[DATE_ALONE],
        rules: &[DATE_REQUIRED],
        symbol_param: None,
        symbols: SymbolUse::None,
        dataset: DatasetKind::DrvBarsDailyOpt225,
        min_plan: Plan::Standard,
        ..V2
    },
];

#[cfg(test)]
mod tests {
    use crate::domain::Split;
    use std::collections::{BTreeMap, HashSet};

    use super::*;
    use crate::domain::DataSourceId;

    fn endpoint(id: &str) -> &'static Endpoint {
        super::super::find(&DataSourceId::parse("jquants-v2").unwrap(), id).unwrap()
    }

    fn p(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The error for `symbols` and `params` sent to `id`.
    fn refused(id: &str, symbols: &[&str], params: &[(&str, &str)]) -> String {
        let symbols: Vec<String> = symbols.iter().map(|s| (*s).to_owned()).collect();
        endpoint(id).validate(&symbols, &p(params)).unwrap_err().0
    }

    fn accepted(id: &str, symbols: &[&str], params: &[(&str, &str)]) -> BTreeMap<String, String> {
        let symbols: Vec<String> = symbols.iter().map(|s| (*s).to_owned()).collect();
        endpoint(id).validate(&symbols, &p(params)).unwrap().params
    }

    #[test]
    fn attempts_stay_below_the_queues_receive_limit() {
        // template.yaml: JobsQueue maxReceiveCount 8.
        assert!(
            ENDPOINTS
                .iter()
                .all(|e| e.max_attempts.is_none_or(|m| (2..8).contains(&m)))
        );
        assert_eq!(endpoint("eq-bars-minute").max_attempts, Some(7));
        assert_eq!(endpoint("eq-bars-daily").max_attempts, None);
    }

    #[test]
    fn entries_are_consistent() {
        let mut ids = HashSet::new();
        for e in ENDPOINTS {
            assert!(ids.insert(e.id), "duplicate id {}", e.id);
            assert_eq!(e.dataset.as_str(), e.id, "dataset named after its endpoint");
            assert!(e.path.starts_with('/') && !e.name.is_empty(), "{}", e.id);
            assert!(!e.natural_key.is_empty(), "{}", e.id);
            let known = |n: &str| e.params.iter().any(|s| s.name == n) || e.symbol_param == Some(n);
            for spec in e.params {
                assert_ne!(Some(spec.name), e.symbol_param, "{}", e.id);
                assert!(spec.conflicts_with.iter().all(|c| known(c)), "{}", e.id);
            }
            for rule in e.rules {
                let names: Vec<&str> = match *rule {
                    Rule::AtLeastOne(n) | Rule::Together(n) => n.to_vec(),
                    Rule::Range(a, b) => vec![a, b],
                };
                assert!(names.iter().all(|n| known(n)), "{}: {rule:?}", e.id);
            }
            assert_eq!(
                e.symbols == SymbolUse::None,
                e.symbol_param.is_none(),
                "{}",
                e.id
            );
        }
        assert_eq!(ids.len(), 20, "every JSON endpoint of reference §2.2");
    }

    #[test]
    fn rate_information_follows_the_reference() {
        for e in ENDPOINTS {
            let cap = matches!(e.id, "fin-summary" | "fin-details").then_some(60);
            assert_eq!(e.rate_limit_per_minute, cap, "{}", e.id);
            let bucket = if e.id == "eq-bars-minute" {
                RateBucket::AddOn
            } else {
                RateBucket::Plan
            };
            assert_eq!(e.bucket, bucket, "{}", e.id);
        }
        assert_eq!(endpoint("fin-details").min_plan, Plan::Premium);
        assert_eq!(endpoint("idx-bars-daily").min_plan, Plan::Standard);
        assert_eq!(endpoint("drv-bars-daily-opt-225").min_plan, Plan::Standard);
    }

    #[test]
    fn at_least_one_counts_symbols() {
        assert!(
            refused("fin-summary", &[], &[]).contains("at least one of `symbols` (`code`), `date`")
        );
        assert_eq!(
            accepted("fin-summary", &[], &[("date", "20250508")]),
            p(&[("date", "2025-05-08")])
        );
        let v = endpoint("fin-summary")
            .validate(&[], &p(&[("date", "20250508")]))
            .unwrap();
        assert_eq!(v.symbols, vec![None], "no symbols: one job for all issues");
        let v = endpoint("fin-summary")
            .validate(&["8697".into()], &BTreeMap::new())
            .unwrap();
        assert_eq!(v.symbols.len(), 1);
        assert!(v.symbols[0].is_some());
        assert!(
            refused(
                "mkt-short-sale-report",
                &[],
                &[("disc_date_from", "2025-01-01")]
            )
            .contains("at least one of")
        );
        assert!(!accepted("mkt-short-sale-report", &[], &[("calc_date", "20250507")]).is_empty());
        assert!(
            refused("mkt-short-ratio", &[], &[("from", "2025-01-01")]).contains("`s33`, `date`")
        );
    }

    #[test]
    fn required_parameters_are_named() {
        for id in [
            "drv-bars-daily-fut",
            "drv-bars-daily-opt",
            "drv-bars-daily-opt-225",
        ] {
            assert!(refused(id, &[], &[]).contains("needs `date`"), "{id}");
        }
        assert!(!accepted("drv-bars-daily-fut", &[], &[("date", "2025-05-08")]).is_empty());
    }

    #[test]
    fn exclusive_parameters_and_ranges_are_refused() {
        let e = refused(
            "mkt-short-sale-report",
            &["7203"],
            &[("disc_date", "2025-05-08"), ("disc_date_to", "2025-05-09")],
        );
        assert!(e.contains("cannot be used together"), "{e}");
        let e = refused(
            "mkt-short-sale-report",
            &["7203"],
            &[
                ("disc_date_from", "2025-05-09"),
                ("disc_date_to", "2025-05-08"),
            ],
        );
        assert!(
            e.contains("`disc_date_from` (2025-05-09) is after `disc_date_to`"),
            "{e}"
        );
        let e = refused(
            "mkt-margin-alert",
            &["7203"],
            &[("date", "2025-05-08"), ("from", "2025-05-01")],
        );
        assert!(e.contains("together"), "{e}");
        let e = refused(
            "idx-bars-daily-topix",
            &[],
            &[("from", "2025-05-09"), ("to", "2025-05-08")],
        );
        assert!(e.contains("after"), "{e}");
    }

    #[test]
    fn formats_are_checked_and_canonicalised() {
        assert_eq!(
            accepted(
                "mkt-short-sale-report",
                &["7203"],
                &[("calc_date", "20250507"), ("disc_date_from", "2025-05-01")]
            ),
            p(&[
                ("calc_date", "2025-05-07"),
                ("disc_date_from", "2025-05-01")
            ])
        );
        assert!(
            refused(
                "mkt-short-sale-report",
                &["7203"],
                &[("calc_date", "2025-02-30")]
            )
            .contains("not a date")
        );
        assert!(refused("mkt-short-ratio", &[], &[("s33", "50")]).contains("33-sector"));
        assert!(refused("mkt-short-ratio", &[], &[("s33", "005A")]).contains("33-sector"));
        assert_eq!(
            accepted("mkt-short-ratio", &[], &[("s33", "0050")]),
            p(&[("s33", "0050")])
        );
        assert!(refused("idx-bars-daily", &[], &[("code", "00a8")]).contains("index code"));
        assert!(refused("idx-bars-daily", &[], &[("code", "00028")]).contains("index code"));
        assert_eq!(
            accepted("idx-bars-daily", &[], &[("code", "002D")]),
            p(&[("code", "002D")])
        );
        assert!(refused("mkt-cal", &[], &[("hol_div", "4")]).contains("one of 0, 1, 2, 3"));
        assert!(refused("eq-investor-types", &[], &[("section", "TSEprime")]).contains("one of"));
        assert!(
            refused(
                "drv-bars-daily-fut",
                &[],
                &[("date", "20250508"), ("contract_flag", "2")]
            )
            .contains("one of 0, 1")
        );
        assert!(
            refused(
                "drv-bars-daily-fut",
                &[],
                &[("date", "20250508"), ("category", "nk225f")]
            )
            .contains("product category")
        );
        assert_eq!(
            accepted(
                "drv-bars-daily-opt",
                &[],
                &[("date", "20250508"), ("code", "7203")]
            )["code"],
            "72030",
            "underlying issue codes take the 5-character form"
        );
        assert!(
            refused(
                "drv-bars-daily-opt",
                &[],
                &[("date", "20250508"), ("code", "72x")]
            )
            .contains("not an issue code")
        );
    }

    #[test]
    fn symbols_only_where_the_endpoint_takes_them() {
        assert!(refused("mkt-cal", &["7203"], &[]).contains("takes no symbols"));
        assert!(
            refused("eq-earnings-cal", &[], &[("date", "2025-05-08")]).contains("it takes none")
        );
        assert!(
            refused("fin-summary", &[], &[("code", "7203")]).contains("unknown parameter `code`")
        );
        assert!(
            refused("eq-bars-daily", &[], &[("from", "2025-05-08")])
                .contains("give `from` and `to`")
        );
        let all = endpoint("eq-bars-daily")
            .validate(&[], &p(&[("from", "2025-05-01"), ("to", "20250531")]))
            .unwrap();
        assert_eq!(
            (all.split, all.symbols.len()),
            (Split::PerTradingDay, 0),
            "no symbols: every issue, one job per trading day"
        );
        let some = endpoint("eq-bars-daily")
            .validate(&["7203".to_owned()], &p(&[("date", "2025-05-08")]))
            .unwrap();
        assert_eq!((some.split, some.symbols.len()), (Split::PerSymbol, 1));
    }

    #[test]
    fn together_means_all_or_none() {
        static PAIR: Endpoint = Endpoint {
            id: "test-pair",
            params: &[
                ParamSpec {
                    name: "a",
                    kind: ParamKind::Date,
                    conflicts_with: &[],
                },
                ParamSpec {
                    name: "b",
                    kind: ParamKind::Date,
                    conflicts_with: &[],
                },
            ],
            rules: &[Rule::Together(&["a", "b"])],
            symbol_param: None,
            symbols: SymbolUse::None,
            ..V2
        };
        let check = |ps: &[(&str, &str)]| PAIR.validate(&[], &p(ps));
        assert!(check(&[]).is_ok());
        assert!(check(&[("a", "2025-01-01"), ("b", "2025-01-02")]).is_ok());
        let e = check(&[("a", "2025-01-01")]).unwrap_err().0;
        assert!(e.contains("`a`, `b` must be given together"), "{e}");
    }
}
