//! `GET /v2/derivatives/bars/daily/options` (Nikkei 225, TOPIX and securities options,
//! Premium) and `GET /v2/derivatives/bars/daily/options/225` (Nikkei 225 options only, with
//! the index-option column set, Standard). `date` is required; `category`, `code` (the
//! underlying issue of securities options) and `contract_flag` filter the first.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::contracts::{Contract, contracts, sessions};
use super::futures::{central_only, sessions_merged, trading_date};
use crate::calendar::is_trading_day;
use crate::config::Plan;
use crate::hash::{hash_bytes, mix, unit};
use crate::indices::{IndexBar, index_bar, nikkei};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day, text};
use crate::market::trades;
use crate::params::IssueCode;

pub(crate) const ALL: Endpoint =
    Endpoint::new("/derivatives/bars/daily/options", Plan::Premium, all);
pub(crate) const NIKKEI: Endpoint = Endpoint::new(
    "/derivatives/bars/daily/options/225",
    Plan::Standard,
    nikkei_only,
);

/// Underlyings of the securities options.
const STOCK_UNDERLYINGS: [&str; 5] = ["72030", "67580", "99840", "83060", "86970"];

/// One option series on `date`.
#[derive(Debug, Clone)]
struct Series {
    category: &'static str,
    underlying: Option<&'static str>,
    contract: Contract,
    central: bool,
    strike: f64,
    put: bool,
    under: IndexBar,
}

fn series(date: NaiveDate) -> Vec<Series> {
    let mut out = Vec::new();
    let mut chain =
        |category, underlying, under: IndexBar, step: f64, width: i32, months, quarterly| {
            let atm = (under.c / step).round() * step;
            for (i, contract) in contracts(date, months, quarterly).into_iter().enumerate() {
                for k in -width..=width {
                    for put in [true, false] {
                        out.push(Series {
                            category,
                            underlying,
                            contract,
                            central: i == 0,
                            strike: atm + f64::from(k) * step,
                            put,
                            under,
                        });
                    }
                }
            }
        };
    chain("NK225E", None, nikkei(date), 250.0, 10, 2, false);
    chain("TOPIXE", None, index_bar("0000", date), 25.0, 5, 1, true);
    for code in STOCK_UNDERLYINGS {
        let parsed = IssueCode::parse(code).ok();
        if let Some(day) = parsed.as_ref().and_then(|c| trades(c, date)).map(|t| t.day) {
            let bar = IndexBar {
                o: day.o,
                h: day.h,
                l: day.l,
                c: day.c,
            };
            let step = 10_f64.powf(day.c.log10().floor() - 1.0).max(1.0);
            chain("EQOP", Some(code), bar, step, 2, 1, false);
        }
    }
    out
}

impl Series {
    fn code(&self) -> String {
        let product = match (self.category, self.underlying) {
            ("NK225E", _) => "1",
            (_, Some(code)) => &code[..4],
            _ => "2",
        };
        let pc = if self.put { 3 } else { 4 };
        format!(
            "1{pc}{product}{}{:05}",
            self.contract.yymm(),
            self.strike as u64 % 100_000
        )
    }
}

fn sorted(mut found: Vec<Series>) -> Vec<Series> {
    found.sort_by_cached_key(Series::code);
    found
}

fn all(q: &Query) -> Result<Listing, ApiError> {
    let date = trading_date(q)?;
    let central = central_only(q)?;
    let category = q.get("category").map(str::to_owned);
    let underlying = q.code()?;
    let found: Vec<Series> = series(date)
        .into_iter()
        .filter(|_| is_trading_day(date))
        .filter(|s| !central || s.central)
        .filter(|s| category.as_deref().is_none_or(|c| c == s.category))
        .filter(|s| {
            underlying
                .as_ref()
                .is_none_or(|u| s.underlying == Some(u.as_str()))
        })
        .collect();
    let found = sorted(found);
    Ok(Listing::new(found.len(), move |i| {
        found.get(i).map(|s| row(s, date, false))
    }))
}

fn nikkei_only(q: &Query) -> Result<Listing, ApiError> {
    let date = trading_date(q)?;
    let found: Vec<Series> = series(date)
        .into_iter()
        .filter(|s| is_trading_day(date) && s.category == "NK225E")
        .collect();
    let found = sorted(found);
    Ok(Listing::new(found.len(), move |i| {
        found.get(i).map(|s| row(s, date, true))
    }))
}

/// A rough option value: intrinsic value plus a bell-shaped time value.
fn value(s: &Series, spot: f64, iv: f64, date: NaiveDate) -> f64 {
    let years = ((s.contract.sq - date).num_days().max(1) as f64) / 365.0;
    let sd = spot * iv * years.sqrt();
    let intrinsic = if s.put {
        s.strike - spot
    } else {
        spot - s.strike
    }
    .max(0.0);
    intrinsic + 0.4 * sd * (-(s.strike - spot).powi(2) / (2.0 * sd * sd)).exp()
}

fn row(s: &Series, date: NaiveDate, index_option: bool) -> Record {
    let pc = if s.put { "1" } else { "2" };
    let code = s.code();
    let seed = mix(&[
        hash_bytes(code.as_bytes()),
        u64::from(date.num_days_from_ce().unsigned_abs()),
    ]);
    let iv = 0.15 + 0.1 * unit(mix(&[seed, 1]));
    let theo = value(s, s.under.c, iv, date);
    let scale = theo / s.under.c;
    let tick = if theo < 100.0 { 1.0 } else { 5.0 };
    let [night, day_session, whole] = sessions(&s.under, scale.max(1e-6), tick, seed);
    let moneyness = ((s.strike - s.under.c) / s.under.c).abs();
    let volume = (2_000.0 * (-moneyness * 20.0).exp() * (0.5 + unit(mix(&[seed, 2])))).round();
    let number = |x: f64| Value::from(x);
    let mut row = Record::with_capacity(37);
    if index_option {
        row.push("Date", day(date));
        row.push("Code", code.as_str());
    } else {
        row.push("Code", code.as_str());
        row.push("ProdCat", s.category);
        row.push("UndSSO", s.underlying.unwrap_or("-"));
        row.push("Date", day(date));
    }
    row.extend(["O", "H", "L", "C"], whole.map(number));
    if !index_option {
        let morning: [Value; 4] = if sessions_merged(date) {
            std::array::from_fn(|_| text(""))
        } else {
            day_session.map(number)
        };
        row.extend(["MO", "MH", "ML", "MC"], morning);
    }
    row.extend(["EO", "EH", "EL", "EC"], night.map(number));
    row.extend(["AO", "AH", "AL", "AC"], day_session.map(number));
    row.push("Vo", volume);
    row.push("OI", (volume * 8.0).round());
    row.push("Va", (volume * whole[3] * 1000.0).round());
    row.push("CM", s.contract.label());
    row.push("Strike", s.strike);
    row.push("VoOA", (volume * 0.01).round());
    row.push("EmMrgnTrgDiv", "002");
    row.push("PCDiv", pc);
    row.push("LTD", day(s.contract.last_trading));
    row.push("SQD", day(s.contract.sq));
    row.push("Settle", whole[3]);
    row.push("Theo", (theo * 1.0e4).round() / 1.0e4);
    row.push("BaseVol", (iv * 1.0e4).round() / 100.0);
    row.push("UnderPx", s.under.c);
    row.push("IV", ((iv * 1.02) * 1.0e4).round() / 100.0);
    row.push("IR", 0.1);
    if !index_option {
        row.push("CCMFlag", if s.central { "1" } else { "0" });
    }
    row
}
