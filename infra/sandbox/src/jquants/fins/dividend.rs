//! `GET /v2/fins/dividend`: cash dividends as announced (interim and year-end), values as
//! strings. `code` or `date` (the announcement date) is required, `from`/`to` narrow a code's
//! history; rows are ordered by announcement.

use crate::config::Plan;
use crate::corporate::{Dividend, dividend_of};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, text};

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/fins/dividend", Plan::Premium, list);

/// The V2 names, in wire order (the official client's `FINS_DIVIDEND_COLUMNS_V2`).
const KEYS: [&str; 23] = [
    "PubDate",
    "PubTime",
    "Code",
    "RefNo",
    "StatCode",
    "BoardDate",
    "IFCode",
    "FRCode",
    "IFTerm",
    "DivRate",
    "RecDate",
    "ExDate",
    "ActRecDate",
    "PayDate",
    "CARefNo",
    "DistAmt",
    "RetEarn",
    "DeemDiv",
    "DeemCapGains",
    "NetAssetDecRatio",
    "CommSpecCode",
    "CommDivRate",
    "SpecDivRate",
];

fn list(q: &Query) -> Result<Listing, ApiError> {
    let found: Vec<Dividend> = super::selected(q)?.iter().filter_map(dividend_of).collect();
    Ok(Listing::new(found.len(), move |i| found.get(i).map(row)))
}

fn row(d: &Dividend) -> Record {
    let day = |date: chrono::NaiveDate| date.format("%Y-%m-%d").to_string();
    let a = &d.announcement;
    let reference = format!(
        "{}{:06}",
        a.date.format("%Y%m%d"),
        (a.issuer.seed >> 24) % 1_000_000
    );
    let values = [
        day(a.date),
        a.time[..5].to_owned(),
        a.code.to_string(),
        reference.clone(),
        "1".to_owned(),
        day(a.date),
        if d.interim { "1" } else { "2" }.to_owned(),
        "1".to_owned(),
        d.record_date.format("%Y-%m").to_string(),
        format!("{:.1}", d.amount),
        day(d.record_date),
        day(d.ex_date),
        day(d.record_date),
        day(d.pay_date),
        reference,
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        "0".to_owned(),
        String::new(),
        String::new(),
    ];
    let mut record = Record::with_capacity(KEYS.len());
    for (key, value) in KEYS.iter().zip(values) {
        record.push(key, text(value));
    }
    record
}
