//! `GET /v2/fins/summary`: the results summary of each disclosure, 107 fields, every value a
//! string and `""` when the statement does not report it (e.g. `OdP` under IFRS and US GAAP,
//! next-year fields before the full-year results). `code` or `date` (the disclosure date) is
//! required; rows are ordered by `DiscNo`.

use crate::config::Plan;
use crate::corporate::{Accounting, Disclosure, Period, dividend, figures, month_end};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, text};

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/fins/summary", Plan::Free, list);

/// The V2 names, in wire order (the official client's `FIN_SUMMARY_COLUMNS_V2`).
pub(crate) const KEYS: [&str; 107] = [
    "DiscDate",
    "DiscTime",
    "Code",
    "DiscNo",
    "DocType",
    "CurPerType",
    "CurPerSt",
    "CurPerEn",
    "CurFYSt",
    "CurFYEn",
    "NxtFYSt",
    "NxtFYEn",
    "Sales",
    "OP",
    "OdP",
    "NP",
    "EPS",
    "DEPS",
    "TA",
    "Eq",
    "EqAR",
    "BPS",
    "CFO",
    "CFI",
    "CFF",
    "CashEq",
    "Div1Q",
    "Div2Q",
    "Div3Q",
    "DivFY",
    "DivAnn",
    "DivUnit",
    "DivTotalAnn",
    "PayoutRatioAnn",
    "FDiv1Q",
    "FDiv2Q",
    "FDiv3Q",
    "FDivFY",
    "FDivAnn",
    "FDivUnit",
    "FDivTotalAnn",
    "FPayoutRatioAnn",
    "NxFDiv1Q",
    "NxFDiv2Q",
    "NxFDiv3Q",
    "NxFDivFY",
    "NxFDivAnn",
    "NxFDivUnit",
    "NxFPayoutRatioAnn",
    "FSales2Q",
    "FOP2Q",
    "FOdP2Q",
    "FNP2Q",
    "FEPS2Q",
    "NxFSales2Q",
    "NxFOP2Q",
    "NxFOdP2Q",
    "NxFNp2Q",
    "NxFEPS2Q",
    "FSales",
    "FOP",
    "FOdP",
    "FNP",
    "FEPS",
    "NxFSales",
    "NxFOP",
    "NxFOdP",
    "NxFNp",
    "NxFEPS",
    "MatChgSub",
    "SigChgInC",
    "ChgByASRev",
    "ChgNoASRev",
    "ChgAcEst",
    "RetroRst",
    "ShOutFY",
    "TrShFY",
    "AvgSh",
    "NCSales",
    "NCOP",
    "NCOdP",
    "NCNP",
    "NCEPS",
    "NCTA",
    "NCEq",
    "NCEqAR",
    "NCBPS",
    "FNCSales2Q",
    "FNCOP2Q",
    "FNCOdP2Q",
    "FNCNP2Q",
    "FNCEPS2Q",
    "NxFNCSales2Q",
    "NxFNCOP2Q",
    "NxFNCOdP2Q",
    "NxFNCNP2Q",
    "NxFNCEPS2Q",
    "FNCSales",
    "FNCOP",
    "FNCOdP",
    "FNCNP",
    "FNCEPS",
    "NxFNCSales",
    "NxFNCOP",
    "NxFNCOdP",
    "NxFNCNP",
    "NxFNCEPS",
];

fn list(q: &Query) -> Result<Listing, ApiError> {
    let found = super::selected(q)?;
    Ok(Listing::new(found.len(), move |i| {
        found.get(i).map(summary_row)
    }))
}

fn yen(x: f64) -> String {
    format!("{x:.0}")
}

/// The row of one disclosure.
pub(crate) fn summary_row(d: &Disclosure) -> Record {
    let mut values: Vec<String> = vec![String::new(); KEYS.len()];
    let mut set = |key: &str, value: String| {
        if let Some(i) = KEYS.iter().position(|k| *k == key) {
            values[i] = value;
        }
    };
    let who = &d.issuer;
    let f = figures(d);
    let fy = d.period == Period::Fy;
    let ifrs_or_us = who.accounting != Accounting::Jp;
    let scope = if who.consolidated {
        "Consolidated"
    } else {
        "NonConsolidated"
    };
    let day = |date: chrono::NaiveDate| date.format("%Y-%m-%d").to_string();
    set("DiscDate", day(d.date));
    set("DiscTime", d.time.to_owned());
    set("Code", d.code.to_string());
    set("DiscNo", d.number.clone());
    let kind = d.period.label();
    set(
        "DocType",
        format!(
            "{kind}FinancialStatements_{scope}_{}",
            who.accounting.suffix()
        ),
    );
    set("CurPerType", kind.to_owned());
    set("CurPerSt", day(d.fy_start));
    set("CurPerEn", day(d.period_end));
    set("CurFYSt", day(d.fy_start));
    set("CurFYEn", day(d.fy_end));
    set("Sales", yen(f.sales));
    set("OP", yen(f.operating));
    if !ifrs_or_us {
        set("OdP", yen(f.ordinary));
    }
    set("NP", yen(f.profit));
    set("EPS", format!("{:.2}", f.eps()));
    set("TA", yen(f.total_assets));
    set("Eq", yen(f.equity));
    set("EqAR", format!("{:.3}", f.equity / f.total_assets));
    set("CashEq", yen(f.cash));
    if matches!(d.period, Period::Q2 | Period::Fy) {
        for (key, value) in ["CFO", "CFI", "CFF"].into_iter().zip(f.cash_flows) {
            set(key, yen(value));
        }
    }
    set("ShOutFY", yen(f.shares_issued));
    set("TrShFY", yen(f.treasury));
    set("AvgSh", yen(f.average_shares()));
    for key in ["MatChgSub", "ChgByASRev", "ChgNoASRev", "ChgAcEst"] {
        set(key, "false".to_owned());
    }
    let interim_end = month_end(d.fy_start + chrono::Months::new(5));
    let interim = dividend(&d.code, interim_end, Period::Q2).map_or(0.0, |x| x.amount);
    let final_ = dividend(&d.code, d.fy_end, Period::Fy).map_or(0.0, |x| x.amount);
    let dps = |x: f64| format!("{x:.1}");
    if d.period != Period::Q1 {
        set("Div2Q", dps(interim));
    }
    if fy {
        let annual = interim + final_;
        set("BPS", format!("{:.2}", f.equity / f.average_shares()));
        set("DivFY", dps(final_));
        set("DivAnn", dps(annual));
        set(
            "DivTotalAnn",
            yen((annual * f.average_shares() / 1.0e6).round() * 1.0e6),
        );
        set(
            "PayoutRatioAnn",
            format!("{:.1}", 100.0 * annual / f.eps().max(0.01)),
        );
        let next_start = d.fy_end.succ_opt().unwrap_or(d.fy_end);
        set("NxtFYSt", day(next_start));
        set(
            "NxtFYEn",
            day(month_end(d.fy_end + chrono::Months::new(12))),
        );
        set("NxFDiv2Q", dps(interim));
        set("NxFDivFY", dps(final_));
        set("NxFDivAnn", dps(annual));
        let growth = 1.04;
        set("NxFSales", yen(f.sales * growth));
        set("NxFOP", yen(f.operating * growth));
        if !ifrs_or_us {
            set("NxFOdP", yen(f.ordinary * growth));
            if who.consolidated {
                set("NCSales", yen((f.sales * 0.6).round()));
                set("NCOP", yen((f.operating * 0.5).round()));
                set("NCOdP", yen((f.ordinary * 0.55).round()));
                set("NCNP", yen((f.profit * 0.5).round()));
                set("NCEPS", format!("{:.2}", f.eps() * 0.5));
                set("NCTA", yen((f.total_assets * 0.5).round()));
                set("NCEq", yen((f.equity * 0.6).round()));
                set(
                    "NCEqAR",
                    format!("{:.3}", f.equity * 0.6 / (f.total_assets * 0.5)),
                );
                set(
                    "NCBPS",
                    format!("{:.2}", f.equity * 0.6 / f.average_shares()),
                );
            }
        }
        set("NxFNp", yen(f.profit * growth));
        set("NxFEPS", format!("{:.2}", f.eps() * growth));
    } else {
        set("FDivFY", dps(final_));
        set("FDivAnn", dps(interim + final_));
        set("FSales", yen(f.forecast_sales));
        set("FOP", yen(f.forecast_profit / 0.68));
        if !ifrs_or_us {
            set("FOdP", yen(f.forecast_profit / 0.68 * 1.04));
        }
        set("FNP", yen(f.forecast_profit));
        set(
            "FEPS",
            format!("{:.2}", f.forecast_profit / f.average_shares()),
        );
    }
    if d.period == Period::Q1 {
        set("FDiv2Q", dps(interim));
        set("FSales2Q", yen(f.forecast_sales / 2.0));
        set("FOP2Q", yen(f.forecast_profit / 0.68 / 2.0));
        set("FNP2Q", yen(f.forecast_profit / 2.0));
        set(
            "FEPS2Q",
            format!("{:.2}", f.forecast_profit / 2.0 / f.average_shares()),
        );
    }
    let mut row = Record::with_capacity(KEYS.len());
    for (key, value) in KEYS.iter().zip(values) {
        row.push(key, text(value));
    }
    row
}
