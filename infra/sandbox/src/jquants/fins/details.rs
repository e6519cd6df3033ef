//! `GET /v2/fins/details`: the statement items of each disclosure (BS/PL/CF), under `FS` as
//! an object of label → string value; labels carry the accounting standard as the V1
//! `fs_details` ones do (e.g. `Goodwill (IFRS)`). `code` or `date` is required.

use serde_json::{Map, Value};

use crate::config::Plan;
use crate::corporate::{Accounting, Disclosure, figures};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day, text};

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/fins/details", Plan::Premium, list);

fn list(q: &Query) -> Result<Listing, ApiError> {
    let found = super::selected(q)?;
    Ok(Listing::new(found.len(), move |i| {
        found.get(i).map(details_row)
    }))
}

fn details_row(d: &Disclosure) -> Record {
    let f = figures(d);
    let (suffix, labels) = match d.issuer.accounting {
        Accounting::Ifrs => (" (IFRS)", IFRS),
        Accounting::Us => (" (US GAAP)", IFRS),
        Accounting::Jp => ("", JP),
    };
    let values = [
        f.sales,
        f.operating,
        f.profit,
        f.total_assets,
        f.equity,
        f.cash,
        (f.total_assets * 0.04).round(),
        (f.equity * 0.7).round(),
        f.cash_flows[0],
    ];
    let mut fs = Map::new();
    fs.insert(
        "EDINETCode".to_owned(),
        text(format!("E{:05}", d.issuer.seed % 100_000)),
    );
    for (label, value) in labels.iter().zip(values) {
        fs.insert(format!("{label}{suffix}"), text(format!("{value:.0}")));
    }
    let scope = if d.issuer.consolidated {
        "Consolidated"
    } else {
        "NonConsolidated"
    };
    let mut row = Record::with_capacity(6);
    row.push("DiscDate", day(d.date));
    row.push("DiscTime", d.time);
    row.push("Code", d.code.as_str());
    row.push("DiscNo", d.number.as_str());
    row.push(
        "DocType",
        format!(
            "{}FinancialStatements_{scope}_{}",
            d.period.label(),
            d.issuer.accounting.suffix()
        ),
    );
    row.push("FS", Value::Object(fs));
    row
}

const IFRS: [&str; 9] = [
    "Revenue",
    "Operating profit (loss)",
    "Profit (loss) attributable to owners of parent",
    "Total assets",
    "Equity attributable to owners of parent",
    "Cash and cash equivalents",
    "Goodwill",
    "Retained earnings",
    "Net cash provided by (used in) operating activities",
];

const JP: [&str; 9] = [
    "Net sales",
    "Operating income",
    "Profit attributable to owners of parent",
    "Total assets",
    "Net assets",
    "Cash and deposits",
    "Goodwill",
    "Retained earnings",
    "Net cash provided by (used in) operating activities",
];
