//! `GET /v2/equities/earnings-calendar`: results announcements scheduled for the next trading
//! day, for issuers whose fiscal year ends in March or September (reference §2.1), taken from
//! the same results calendar `/fins/summary` serves. About 1 in 20 dates is still undecided
//! (`""`). Only `pagination_key` is accepted; rows are ordered by code.

use chrono::NaiveDate;

use crate::calendar::is_trading_day;
use crate::config::Plan;
use crate::corporate::{Disclosure, Period, disclosures_on, market};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day, text};

pub(crate) const ENDPOINT: Endpoint =
    Endpoint::new("/equities/earnings-calendar", Plan::Free, list);

const KEYS: [&str; 7] = ["Date", "Code", "CoName", "FY", "SectorNm", "FQ", "Section"];

fn next_trading_day(after: NaiveDate) -> NaiveDate {
    let mut day = after.succ_opt().unwrap_or(after);
    while !is_trading_day(day) {
        day = day.succ_opt().unwrap_or(day);
    }
    day
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    let date = next_trading_day(q.today);
    let mut scheduled: Vec<Disclosure> = disclosures_on(date)
        .into_iter()
        .filter(|d| matches!(d.issuer.fy_end_month, 3 | 9))
        .collect();
    scheduled.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Listing::rows(scheduled.iter().map(row).collect()))
}

fn row(d: &Disclosure) -> Record {
    let undecided = d.issuer.seed.is_multiple_of(20);
    let fy = if d.issuer.fy_end_month == 3 {
        "3月31日"
    } else {
        "9月30日"
    };
    let quarter = match d.period {
        Period::Q1 => "第１四半期",
        Period::Q2 => "第２四半期",
        Period::Q3 => "第３四半期",
        Period::Fy => "本決算",
    };
    let mut row = Record::with_capacity(KEYS.len());
    row.extend(
        KEYS,
        [
            if undecided { text("") } else { day(d.date) },
            d.code.as_str().into(),
            d.issuer.name_ja.as_str().into(),
            fy.into(),
            d.issuer.sector.name.into(),
            quarter.into(),
            market(&d.issuer, d.date).1.into(),
        ],
    );
    row
}
