//! Provider endpoints defined in code: what each takes, how its parameters are validated, what
//! rows it returns and which plan it needs. A job group names an endpoint of this catalog and
//! is validated against it before anything is stored.

mod endpoint_ref;
mod jquants_v1;
mod jquants_v2;
mod params;
pub mod yahoo;

use std::collections::BTreeMap;

pub use endpoint_ref::UnknownEndpoint;
pub use params::{ParamKind, ParamSpec, Rule};
pub use yahoo::check_limits as check_yahoo_limits;

use crate::dataset::DatasetKind;
use crate::domain::{DataSourceId, EndpointRef, IssueCode, Plan, Split, parse_date};

/// Whether an endpoint takes an issue code, and so whether a group has one job per symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolUse {
    /// One job per symbol; symbols are required.
    PerSymbol,
    /// Symbols are optional: one job per symbol, or one job for all issues when none are given.
    Optional,
    /// The endpoint takes no symbol: one job for the whole request.
    None,
    /// One job per symbol when symbols are given; without symbols, every issue over a date
    /// range, one job per trading day (J-Quants' advice: a request per day, not per issue).
    PerSymbolOrTradingDay,
}

/// Which of the provider's rate buckets a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateBucket {
    /// The plan's requests per minute (5/60/120/500).
    Plan,
    /// The add-on's own 60 requests per minute (minute bars); such requests do not count
    /// against the plan's limit (jquants-api.md §4.1).
    AddOn,
}

/// One endpoint of a provider.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Stable id used in requests, e.g. `eq-bars-daily`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The data source that serves it.
    pub data_source: &'static str,
    /// Path under the data source's base URL.
    pub path: &'static str,
    /// HTTP method (every J-Quants data endpoint is GET).
    pub method: &'static str,
    /// Query parameters a request may set (the symbol parameter excluded).
    pub params: &'static [ParamSpec],
    /// Rules over several parameters (required, at least one of, together, date ranges).
    pub rules: &'static [Rule],
    /// Name of the query parameter that carries the symbol.
    pub symbol_param: Option<&'static str>,
    /// One job per symbol, or one job.
    pub symbols: SymbolUse,
    /// The rows it returns.
    pub dataset: DatasetKind,
    /// The provider fields that identify a row; the dataset's record key is built from them.
    pub natural_key: &'static [&'static str],
    /// The lowest plan that may call it.
    pub min_plan: Plan,
    /// A cap of its own, on top of the bucket's (requests per minute).
    pub rate_limit_per_minute: Option<u32>,
    /// The rate bucket its requests count against.
    pub bucket: RateBucket,
    /// Attempts before a transient failure fails a job of this endpoint; `None`: the
    /// deployment's `MAX_ATTEMPTS`. Always below the queue's `maxReceiveCount` (8), so the
    /// fetcher, not the dead-letter queue, ends a job that keeps failing.
    pub max_attempts: Option<u32>,
    /// Jobs of this endpoint that one fetcher batch holds share requests of up to this many
    /// symbols (the endpoint takes a list); `None`: a request per job.
    pub coalesce: Option<u16>,
    /// The most one answer may weigh, decompressed, when lower than the client's cap
    /// (`crate::provider::DEFAULT_MAX_BODY` by default); `None`: the client's.
    pub max_body_bytes: Option<u64>,
}

/// Every endpoint the system can fetch: J-Quants V2, the legacy V1 ones, then Yahoo's.
pub static ENDPOINTS: &[Endpoint] = &ALL;

const JQUANTS: usize = jquants_v2::ENDPOINTS.len() + jquants_v1::ENDPOINTS.len();

static ALL: [Endpoint; JQUANTS + yahoo::ENDPOINTS.len()] = concat(
    &concat::<JQUANTS>(jquants_v2::ENDPOINTS, jquants_v1::ENDPOINTS),
    yahoo::ENDPOINTS,
);

/// `a` then `b`, so each provider keeps its own file and [`ENDPOINTS`] stays one list.
const fn concat<const N: usize>(a: &[Endpoint], b: &[Endpoint]) -> [Endpoint; N] {
    assert!(a.len() + b.len() == N);
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// Looks an endpoint up by data source and id.
pub fn find(data_source: &DataSourceId, endpoint_id: &str) -> Option<&'static Endpoint> {
    EndpointRef::parse(data_source, endpoint_id)
        .ok()
        .map(EndpointRef::get)
}

/// A request that does not fit its endpoint. The message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

/// A request checked against its endpoint: canonical parameters and parsed symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    /// Parameters in canonical form (dates as `YYYY-MM-DD`).
    pub params: BTreeMap<String, String>,
    /// One entry per job: the symbol, or `None` for an endpoint without symbols. Empty for a
    /// request split per trading day (its jobs are planned from the calendar).
    pub symbols: Vec<Option<IssueCode>>,
    /// How the request is split into jobs.
    pub split: Split,
}

impl ValidRequest {
    /// The new, pending group this request becomes, with the symbols of its future jobs (a
    /// group split per trading day counts its jobs once the calendar has planned them).
    pub fn into_group(
        self,
        id: crate::domain::JobGroupId,
        user_id: crate::domain::UserId,
        data_source_id: crate::domain::DataSourceId,
        endpoint: EndpointRef,
        now: chrono::DateTime<chrono::Utc>,
    ) -> (crate::domain::JobGroup, Vec<Option<IssueCode>>) {
        let group = crate::domain::JobGroup {
            id,
            user_id,
            data_source_id,
            endpoint,
            params: self.params,
            status: crate::domain::JobGroupStatus::Pending,
            created_at: now,
            started_at: None,
            completed_at: None,
            error_message: None,
            total_jobs: u32::try_from(self.symbols.len()).expect("at most MAX_SYMBOLS"),
            completed_jobs: 0,
            failed_jobs: 0,
            cancel_requested_at: None,
            split: self.split,
        };
        (group, self.symbols)
    }
}

impl Endpoint {
    /// Refuses canonical `params` (as [`Endpoint::validate`] returns them) whose dates a
    /// `plan` account cannot read on `today` (the exchange's date), as the provider would,
    /// before any job is made. A day of slack at each end: the provider's clock decides, and
    /// refusing a request it would take is worse than letting one through that it refuses.
    ///
    /// # Errors
    /// A date outside the plan's window, with the window in the message.
    pub fn check_window(
        &self,
        plan: Plan,
        params: &BTreeMap<String, String>,
        today: chrono::NaiveDate,
    ) -> Result<(), ValidationError> {
        let w = plan.data_window(today, self.dataset == DatasetKind::MktCal);
        let slack = chrono::Days::new(1);
        let (from, to) = (
            w.from.checked_sub_days(slack).unwrap_or(w.from),
            w.to.checked_add_days(slack).unwrap_or(w.to),
        );
        for k in ["date", "from", "to"] {
            if let Some(d) = params.get(k).and_then(|v| parse_date(v))
                && !(from..=to).contains(&d)
            {
                return Err(ValidationError(format!(
                    "`{k}` {d} is outside what a {plan} account can read on `{}`: {} to {}; ask for dates inside it, or use a credential on a higher plan",
                    self.id, w.from, w.to
                )));
            }
        }
        Ok(())
    }
}

/// Most symbols one request may name.
pub const MAX_SYMBOLS: usize = 10_000;

impl Endpoint {
    /// Validates symbols and parameters, so a bad request is refused before any job exists.
    pub fn validate(
        &self,
        symbols: &[String],
        params: &BTreeMap<String, String>,
    ) -> Result<ValidRequest, ValidationError> {
        let has_symbol = match self.symbols {
            SymbolUse::PerSymbol => true,
            SymbolUse::Optional | SymbolUse::PerSymbolOrTradingDay => !symbols.is_empty(),
            SymbolUse::None => false,
        };
        let params = params::validate(self, params, has_symbol)?;
        let symbols = match self.symbols {
            SymbolUse::None if !symbols.is_empty() => {
                return Err(ValidationError(format!(
                    "endpoint `{}` takes no symbols: remove `symbols`",
                    self.id
                )));
            }
            SymbolUse::None => vec![None],
            SymbolUse::Optional if symbols.is_empty() => vec![None],
            SymbolUse::PerSymbolOrTradingDay if symbols.is_empty() => {
                let range = params.contains_key("date")
                    || (params.contains_key("from") && params.contains_key("to"));
                if !range {
                    return Err(ValidationError(format!(
                        "endpoint `{}` without `symbols` fetches every issue by trading day: give `from` and `to` (or `date`), or list `symbols`",
                        self.id
                    )));
                }
                return Ok(ValidRequest {
                    params,
                    symbols: Vec::new(),
                    split: Split::PerTradingDay,
                });
            }
            SymbolUse::PerSymbol | SymbolUse::Optional | SymbolUse::PerSymbolOrTradingDay => {
                parse_symbols(self, symbols)?
            }
        };
        Ok(ValidRequest {
            params,
            symbols,
            split: Split::PerSymbol,
        })
    }
}

impl Endpoint {
    /// Validates a request for every listed issue. Daily bars over a date range are split per
    /// trading day (every issue in one request a day); other per-issue endpoints get one job
    /// per issue listed on the range's last day, planned from the equities master.
    pub fn validate_all_listed(
        &self,
        params: &BTreeMap<String, String>,
    ) -> Result<ValidRequest, ValidationError> {
        if self.symbols == SymbolUse::None {
            return Err(ValidationError(format!(
                "endpoint `{}` takes no symbols: remove `all_listed_issues`",
                self.id
            )));
        }
        if self.symbols == SymbolUse::PerSymbolOrTradingDay {
            let by_day = self.validate(&[], params)?;
            if by_day.split == Split::PerTradingDay {
                return Ok(by_day);
            }
        }
        Ok(ValidRequest {
            params: params::validate(self, params, true)?,
            symbols: Vec::new(),
            split: Split::PerListedIssue,
        })
    }
}

fn parse_symbols(
    endpoint: &Endpoint,
    symbols: &[String],
) -> Result<Vec<Option<IssueCode>>, ValidationError> {
    if symbols.is_empty() {
        return Err(ValidationError(format!(
            "endpoint `{}` needs at least one symbol in `symbols`",
            endpoint.id
        )));
    }
    if symbols.len() > MAX_SYMBOLS {
        return Err(ValidationError(format!(
            "{} symbols requested; at most {MAX_SYMBOLS} per request",
            symbols.len()
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(symbols.len());
    symbols
        .iter()
        .map(|s| {
            let code = IssueCode::parse(s).map_err(ValidationError)?;
            if !seen.insert(code.clone()) {
                return Err(ValidationError(format!(
                    "symbol `{s}` appears more than once: list each symbol once"
                )));
            }
            Ok(Some(code))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> &'static Endpoint {
        find(&DataSourceId::parse("jquants-v2").unwrap(), "eq-bars-daily").unwrap()
    }

    fn p(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_valid_request_is_canonicalised() {
        let v = bars()
            .validate(
                &["7203".into(), "130A0".into()],
                &p(&[("from", "20240104"), ("to", "2024-01-31")]),
            )
            .unwrap();
        assert_eq!(v.params, p(&[("from", "2024-01-04"), ("to", "2024-01-31")]));
        assert_eq!(v.symbols.len(), 2);
        assert_eq!(v.symbols[0].as_ref().unwrap().as_str(), "72030");
    }

    #[test]
    fn bad_requests_say_what_to_change() {
        let e = |s: &[&str], ps: &[(&str, &str)]| {
            let s: Vec<String> = s.iter().map(|x| x.to_string()).collect();
            bars().validate(&s, &p(ps)).unwrap_err().0
        };
        assert!(e(&[], &[]).contains("give `from` and `to` (or `date`), or list `symbols`"));
        assert!(e(&["72x"], &[]).contains("not an issue code"));
        assert!(e(&["7203", "72030"], &[]).contains("more than once"));
        assert!(e(&["7203"], &[("from", "2024-02-30")]).contains("`from`"));
        assert!(e(&["7203"], &[("from", "2024-02-01"), ("to", "2024-01-01")]).contains("after"));
        assert!(e(&["7203"], &[("date", "2024-02-01"), ("to", "2024-03-01")]).contains("together"));
        assert!(e(&["7203"], &[("pagination_key", "x")]).contains("unknown parameter"));
    }

    #[test]
    fn unknown_endpoints_are_not_found() {
        assert!(find(&DataSourceId::parse("jquants-v2").unwrap(), "nope").is_none());
        assert!(find(&DataSourceId::parse("yahoo").unwrap(), "eq-bars-daily").is_none());
    }
}

#[cfg(test)]
mod window_tests {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Query parameters from pairs (the catalog's tests all build them).
    pub(super) fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn dates_outside_the_plan_window_are_refused_before_any_job() {
        let ds = DataSourceId::parse("jquants-v2").unwrap();
        let bars = find(&ds, "eq-bars-daily").unwrap();
        let cal = find(&ds, "mkt-cal").unwrap();
        let today = d("2026-11-26");
        // Free: two years ending 12 weeks ago (2026-09-03).
        let w = Plan::Free.data_window(today, false);
        assert_eq!((w.from, w.to), (d("2024-09-03"), d("2026-09-03")));
        let last_week = params(&[("from", "2026-11-16"), ("to", "2026-11-20")]);
        let e = bars
            .check_window(Plan::Free, &last_week, today)
            .unwrap_err();
        assert!(e.0.contains("2024-09-03 to 2026-09-03"), "{e}");
        assert!(bars.check_window(Plan::Light, &last_week, today).is_ok());
        let old = params(&[("date", "2019-05-07")]);
        assert!(
            bars.check_window(Plan::Light, &old, today).is_err(),
            "5 years"
        );
        assert!(
            bars.check_window(Plan::Standard, &old, today).is_ok(),
            "10 years"
        );
        assert!(
            bars.check_window(
                Plan::Free,
                &params(&[("from", "2025-01-06"), ("to", "2025-01-31")]),
                today
            )
            .is_ok()
        );
        // The calendar reaches to the end of next year on paid plans, not on Free.
        let next_year = params(&[("from", "2027-01-04"), ("to", "2027-12-30")]);
        assert!(cal.check_window(Plan::Light, &next_year, today).is_ok());
        assert!(cal.check_window(Plan::Free, &next_year, today).is_err());
        assert!(bars.check_window(Plan::Premium, &next_year, today).is_err());
    }
}
