//! `GET /v2/derivatives/bars/daily/futures`: index futures (Nikkei 225 large and mini, TOPIX
//! large and mini) for one `date` (required), optionally one `category` (`ProdCat`) and
//! `contract_flag=1` for the central contract month only. Rows are ordered by code.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::contracts::{Contract, contracts, sessions};
use crate::calendar::is_trading_day;
use crate::config::Plan;
use crate::hash::{hash_bytes, mix};
use crate::indices::{IndexBar, index_bar, nikkei};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day, text};

pub(crate) const ENDPOINT: Endpoint =
    Endpoint::new("/derivatives/bars/daily/futures", Plan::Premium, list);

/// One futures product.
#[derive(Debug, Clone, Copy)]
struct Product {
    category: &'static str,
    /// Its digits in the contract code.
    digits: &'static str,
    /// On the Nikkei 225 (else on TOPIX).
    nikkei: bool,
    tick: f64,
    quarterly: bool,
}

const PRODUCTS: [Product; 4] = [
    Product {
        category: "NK225F",
        digits: "01",
        nikkei: true,
        tick: 10.0,
        quarterly: true,
    },
    Product {
        category: "NK225MF",
        digits: "03",
        nikkei: true,
        tick: 5.0,
        quarterly: false,
    },
    Product {
        category: "TOPIXF",
        digits: "02",
        nikkei: false,
        tick: 0.5,
        quarterly: true,
    },
    Product {
        category: "TOPIXMF",
        digits: "04",
        nikkei: false,
        tick: 0.25,
        quarterly: true,
    },
];

/// The date the morning/afternoon session split ended for derivatives (fields `M*` are
/// `""` from then on).
pub(crate) fn sessions_merged(date: NaiveDate) -> bool {
    NaiveDate::from_ymd_opt(2016, 7, 19).is_some_and(|d| date >= d)
}

/// Parses `contract_flag`: `Some(true)` for central contract months only.
pub(crate) fn central_only(q: &Query) -> Result<bool, ApiError> {
    match q.get("contract_flag") {
        None | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(_) => Err(ApiError::invalid("contract_flag")),
    }
}

/// The required `date`, inside the plan window.
pub(crate) fn trading_date(q: &Query) -> Result<NaiveDate, ApiError> {
    q.require_one_of(&["date"])?;
    let (date, _) = q.range(q.window())?;
    Ok(date)
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    let date = trading_date(q)?;
    let central = central_only(q)?;
    let category = q.get("category").map(str::to_owned);
    let mut rows = Vec::new();
    if is_trading_day(date) {
        for product in PRODUCTS {
            if category.as_deref().is_some_and(|c| c != product.category) {
                continue;
            }
            let under = if product.nikkei {
                nikkei(date)
            } else {
                index_bar("0000", date)
            };
            for (i, c) in contracts(date, 3, product.quarterly).iter().enumerate() {
                if !central || i == 0 {
                    rows.push(row(product, c, i == 0, date, &under));
                }
            }
        }
    }
    rows.sort_by(|a, b| {
        a.get("Code")
            .map(Value::to_string)
            .cmp(&b.get("Code").map(Value::to_string))
    });
    Ok(Listing::rows(rows))
}

fn row(
    product: Product,
    contract: &Contract,
    central: bool,
    date: NaiveDate,
    under: &IndexBar,
) -> Record {
    let code = format!("1{}{}18", product.digits, contract.yymm());
    let seed = mix(&[
        hash_bytes(code.as_bytes()),
        u64::from(date.num_days_from_ce().unsigned_abs()),
    ]);
    let months_out = f64::from((contract.month.year() - date.year()) * 12)
        + f64::from(contract.month.month())
        - f64::from(date.month());
    let [night, day_session, whole] =
        sessions(under, 1.0 - 0.0008 * months_out, product.tick, seed);
    let volume =
        ((if central { 40_000.0 } else { 800.0 }) * (0.5 + (seed % 1000) as f64 / 1000.0)).round();
    let number = |x: f64| Value::from(x);
    let morning: [Value; 4] = if sessions_merged(date) {
        std::array::from_fn(|_| text(""))
    } else {
        day_session.map(number)
    };
    let mut row = Record::with_capacity(29);
    row.push("Code", code.as_str());
    row.push("ProdCat", product.category);
    row.push("Date", day(date));
    row.extend(["O", "H", "L", "C"], whole.map(number));
    row.extend(["MO", "MH", "ML", "MC"], morning);
    row.extend(["EO", "EH", "EL", "EC"], night.map(number));
    row.extend(["AO", "AH", "AL", "AC"], day_session.map(number));
    row.push("Vo", volume);
    row.push("OI", (volume * 6.0).round());
    row.push("Va", (volume * whole[3] * 1000.0).round());
    row.push("CM", contract.label());
    row.push("VoOA", (volume * 0.02).round());
    row.push("EmMrgnTrgDiv", "002");
    row.push("LTD", day(contract.last_trading));
    row.push("SQD", day(contract.sq));
    row.push("Settle", whole[3]);
    row.push("CCMFlag", if central { "1" } else { "0" });
    row
}
