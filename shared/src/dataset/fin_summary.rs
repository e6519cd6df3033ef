//! J-Quants V2 `/fins/summary`: the results summary of each disclosure, 107 fields
//! (jquants-api.md §8.6; names from the official client's `FIN_SUMMARY_COLUMNS_V2`). Keyed by
//! code and `DiscDate#DiscNo`: a disclosure number is unique, the date keeps ranges selectable.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire;
use super::{NumText, Row};

/// A results summary. Every value is text on the wire, `""` when the statement does not report
/// it: figures are [`NumText`] (text kept, number parsed), booleans `"true"`/`"false"`, dates
/// `Option<NaiveDate>`. P&L figures are cumulative from the fiscal year start.
///
/// Real rows carry all 107 fields, but only the key (`DiscDate`, `Code`, `DiscNo`) is required:
/// the outer `Option` of the others is `None` when a row omits the key (the reference's own sample
/// has 33), and such a field is not written back, so a stored row has exactly the received keys.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FinSummary {
    /// Disclosure date.
    #[serde(rename = "DiscDate", with = "wire::date")]
    pub disc_date: NaiveDate,
    /// Disclosure time (`HH:MM:SS`).
    #[serde(rename = "DiscTime", default, skip_serializing_if = "Option::is_none")]
    pub disc_time: Option<String>,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Disclosure number (rows come in its order).
    #[serde(rename = "DiscNo")]
    pub disc_no: String,
    /// Document type (e.g. `3QFinancialStatements_Consolidated_IFRS`).
    #[serde(rename = "DocType", default, skip_serializing_if = "Option::is_none")]
    pub doc_type: Option<String>,
    /// Period type (`1Q`, `2Q`, `3Q`, `FY`, ...).
    #[serde(
        rename = "CurPerType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_per_type: Option<String>,
    /// Current period start.
    #[serde(
        rename = "CurPerSt",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_per_st: Option<Option<NaiveDate>>,
    /// Current period end.
    #[serde(
        rename = "CurPerEn",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_per_en: Option<Option<NaiveDate>>,
    /// Current fiscal year start.
    #[serde(
        rename = "CurFYSt",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_fy_st: Option<Option<NaiveDate>>,
    /// Current fiscal year end.
    #[serde(
        rename = "CurFYEn",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_fy_en: Option<Option<NaiveDate>>,
    /// Next fiscal year start (full-year results only).
    #[serde(
        rename = "NxtFYSt",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nxt_fy_st: Option<Option<NaiveDate>>,
    /// Next fiscal year end (full-year results only).
    #[serde(
        rename = "NxtFYEn",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nxt_fy_en: Option<Option<NaiveDate>>,
    /// Net sales.
    #[serde(rename = "Sales", default, skip_serializing_if = "Option::is_none")]
    pub sales: Option<NumText>,
    /// Operating profit.
    #[serde(rename = "OP", default, skip_serializing_if = "Option::is_none")]
    pub op: Option<NumText>,
    /// Ordinary profit (blank under IFRS and US GAAP).
    #[serde(rename = "OdP", default, skip_serializing_if = "Option::is_none")]
    pub odp: Option<NumText>,
    /// Profit attributable to owners of the parent.
    #[serde(rename = "NP", default, skip_serializing_if = "Option::is_none")]
    pub np: Option<NumText>,
    /// Earnings per share.
    #[serde(rename = "EPS", default, skip_serializing_if = "Option::is_none")]
    pub eps: Option<NumText>,
    /// Diluted earnings per share.
    #[serde(rename = "DEPS", default, skip_serializing_if = "Option::is_none")]
    pub deps: Option<NumText>,
    /// Total assets.
    #[serde(rename = "TA", default, skip_serializing_if = "Option::is_none")]
    pub ta: Option<NumText>,
    /// Equity.
    #[serde(rename = "Eq", default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<NumText>,
    /// Equity-to-asset ratio.
    #[serde(rename = "EqAR", default, skip_serializing_if = "Option::is_none")]
    pub eq_ar: Option<NumText>,
    /// Book value per share.
    #[serde(rename = "BPS", default, skip_serializing_if = "Option::is_none")]
    pub bps: Option<NumText>,
    /// Cash flows from operating activities.
    #[serde(rename = "CFO", default, skip_serializing_if = "Option::is_none")]
    pub cfo: Option<NumText>,
    /// Cash flows from investing activities.
    #[serde(rename = "CFI", default, skip_serializing_if = "Option::is_none")]
    pub cfi: Option<NumText>,
    /// Cash flows from financing activities.
    #[serde(rename = "CFF", default, skip_serializing_if = "Option::is_none")]
    pub cff: Option<NumText>,
    /// Cash and equivalents at the end of the period.
    #[serde(rename = "CashEq", default, skip_serializing_if = "Option::is_none")]
    pub cash_eq: Option<NumText>,
    /// Dividend per share, first quarter end (result).
    #[serde(rename = "Div1Q", default, skip_serializing_if = "Option::is_none")]
    pub div_1q: Option<NumText>,
    /// Dividend per share, second quarter end (result).
    #[serde(rename = "Div2Q", default, skip_serializing_if = "Option::is_none")]
    pub div_2q: Option<NumText>,
    /// Dividend per share, third quarter end (result).
    #[serde(rename = "Div3Q", default, skip_serializing_if = "Option::is_none")]
    pub div_3q: Option<NumText>,
    /// Dividend per share, fiscal year end (result).
    #[serde(rename = "DivFY", default, skip_serializing_if = "Option::is_none")]
    pub div_fy: Option<NumText>,
    /// Dividend per share, annual (result).
    #[serde(rename = "DivAnn", default, skip_serializing_if = "Option::is_none")]
    pub div_ann: Option<NumText>,
    /// Distribution per unit (REIT, result).
    #[serde(rename = "DivUnit", default, skip_serializing_if = "Option::is_none")]
    pub div_unit: Option<NumText>,
    /// Total dividends, annual (result).
    #[serde(
        rename = "DivTotalAnn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_total_ann: Option<NumText>,
    /// Payout ratio, annual (result).
    #[serde(
        rename = "PayoutRatioAnn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub payout_ratio_ann: Option<NumText>,
    /// Forecast dividend per share, first quarter end.
    #[serde(rename = "FDiv1Q", default, skip_serializing_if = "Option::is_none")]
    pub f_div_1q: Option<NumText>,
    /// Forecast dividend per share, second quarter end.
    #[serde(rename = "FDiv2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_div_2q: Option<NumText>,
    /// Forecast dividend per share, third quarter end.
    #[serde(rename = "FDiv3Q", default, skip_serializing_if = "Option::is_none")]
    pub f_div_3q: Option<NumText>,
    /// Forecast dividend per share, fiscal year end.
    #[serde(rename = "FDivFY", default, skip_serializing_if = "Option::is_none")]
    pub f_div_fy: Option<NumText>,
    /// Forecast dividend per share, annual.
    #[serde(rename = "FDivAnn", default, skip_serializing_if = "Option::is_none")]
    pub f_div_ann: Option<NumText>,
    /// Forecast distribution per unit (REIT).
    #[serde(rename = "FDivUnit", default, skip_serializing_if = "Option::is_none")]
    pub f_div_unit: Option<NumText>,
    /// Forecast total dividends, annual.
    #[serde(
        rename = "FDivTotalAnn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_total_ann: Option<NumText>,
    /// Forecast payout ratio, annual.
    #[serde(
        rename = "FPayoutRatioAnn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_payout_ratio_ann: Option<NumText>,
    /// Next year forecast dividend per share, first quarter end.
    #[serde(rename = "NxFDiv1Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_div_1q: Option<NumText>,
    /// Next year forecast dividend per share, second quarter end.
    #[serde(rename = "NxFDiv2Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_div_2q: Option<NumText>,
    /// Next year forecast dividend per share, third quarter end.
    #[serde(rename = "NxFDiv3Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_div_3q: Option<NumText>,
    /// Next year forecast dividend per share, fiscal year end.
    #[serde(rename = "NxFDivFY", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_div_fy: Option<NumText>,
    /// Next year forecast dividend per share, annual.
    #[serde(rename = "NxFDivAnn", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_div_ann: Option<NumText>,
    /// Next year forecast distribution per unit (REIT).
    #[serde(
        rename = "NxFDivUnit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_div_unit: Option<NumText>,
    /// Next year forecast payout ratio, annual.
    #[serde(
        rename = "NxFPayoutRatioAnn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_payout_ratio_ann: Option<NumText>,
    /// Forecast net sales, second quarter (cumulative).
    #[serde(rename = "FSales2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_sales_2q: Option<NumText>,
    /// Forecast operating profit, second quarter.
    #[serde(rename = "FOP2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_op_2q: Option<NumText>,
    /// Forecast ordinary profit, second quarter.
    #[serde(rename = "FOdP2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_odp_2q: Option<NumText>,
    /// Forecast profit, second quarter.
    #[serde(rename = "FNP2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_np_2q: Option<NumText>,
    /// Forecast EPS, second quarter.
    #[serde(rename = "FEPS2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_eps_2q: Option<NumText>,
    /// Next year forecast net sales, second quarter.
    #[serde(
        rename = "NxFSales2Q",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_sales_2q: Option<NumText>,
    /// Next year forecast operating profit, second quarter.
    #[serde(rename = "NxFOP2Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_op_2q: Option<NumText>,
    /// Next year forecast ordinary profit, second quarter.
    #[serde(rename = "NxFOdP2Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_odp_2q: Option<NumText>,
    /// Next year forecast profit, second quarter.
    #[serde(rename = "NxFNp2Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_np_2q: Option<NumText>,
    /// Next year forecast EPS, second quarter.
    #[serde(rename = "NxFEPS2Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_eps_2q: Option<NumText>,
    /// Forecast net sales, fiscal year.
    #[serde(rename = "FSales", default, skip_serializing_if = "Option::is_none")]
    pub f_sales: Option<NumText>,
    /// Forecast operating profit, fiscal year.
    #[serde(rename = "FOP", default, skip_serializing_if = "Option::is_none")]
    pub f_op: Option<NumText>,
    /// Forecast ordinary profit, fiscal year.
    #[serde(rename = "FOdP", default, skip_serializing_if = "Option::is_none")]
    pub f_odp: Option<NumText>,
    /// Forecast profit, fiscal year.
    #[serde(rename = "FNP", default, skip_serializing_if = "Option::is_none")]
    pub f_np: Option<NumText>,
    /// Forecast EPS, fiscal year.
    #[serde(rename = "FEPS", default, skip_serializing_if = "Option::is_none")]
    pub f_eps: Option<NumText>,
    /// Next year forecast net sales.
    #[serde(rename = "NxFSales", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_sales: Option<NumText>,
    /// Next year forecast operating profit.
    #[serde(rename = "NxFOP", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_op: Option<NumText>,
    /// Next year forecast ordinary profit.
    #[serde(rename = "NxFOdP", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_odp: Option<NumText>,
    /// Next year forecast profit.
    #[serde(rename = "NxFNp", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_np: Option<NumText>,
    /// Next year forecast EPS.
    #[serde(rename = "NxFEPS", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_eps: Option<NumText>,
    /// Material changes in subsidiaries.
    #[serde(
        rename = "MatChgSub",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub mat_chg_sub: Option<Option<bool>>,
    /// Significant changes in the scope of consolidation.
    #[serde(
        rename = "SigChgInC",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sig_chg_in_c: Option<Option<bool>>,
    /// Changes based on revisions of accounting standards.
    #[serde(
        rename = "ChgByASRev",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub chg_by_as_rev: Option<Option<bool>>,
    /// Changes other than those based on revisions of accounting standards.
    #[serde(
        rename = "ChgNoASRev",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub chg_no_as_rev: Option<Option<bool>>,
    /// Changes in accounting estimates.
    #[serde(
        rename = "ChgAcEst",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub chg_ac_est: Option<Option<bool>>,
    /// Retrospective restatement.
    #[serde(
        rename = "RetroRst",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub retro_rst: Option<Option<bool>>,
    /// Shares issued at fiscal year end, treasury stock included.
    #[serde(rename = "ShOutFY", default, skip_serializing_if = "Option::is_none")]
    pub sh_out_fy: Option<NumText>,
    /// Treasury shares at fiscal year end.
    #[serde(rename = "TrShFY", default, skip_serializing_if = "Option::is_none")]
    pub tr_sh_fy: Option<NumText>,
    /// Average number of shares.
    #[serde(rename = "AvgSh", default, skip_serializing_if = "Option::is_none")]
    pub avg_sh: Option<NumText>,
    /// Non-consolidated net sales.
    #[serde(rename = "NCSales", default, skip_serializing_if = "Option::is_none")]
    pub nc_sales: Option<NumText>,
    /// Non-consolidated operating profit.
    #[serde(rename = "NCOP", default, skip_serializing_if = "Option::is_none")]
    pub nc_op: Option<NumText>,
    /// Non-consolidated ordinary profit.
    #[serde(rename = "NCOdP", default, skip_serializing_if = "Option::is_none")]
    pub nc_odp: Option<NumText>,
    /// Non-consolidated profit.
    #[serde(rename = "NCNP", default, skip_serializing_if = "Option::is_none")]
    pub nc_np: Option<NumText>,
    /// Non-consolidated EPS.
    #[serde(rename = "NCEPS", default, skip_serializing_if = "Option::is_none")]
    pub nc_eps: Option<NumText>,
    /// Non-consolidated total assets.
    #[serde(rename = "NCTA", default, skip_serializing_if = "Option::is_none")]
    pub nc_ta: Option<NumText>,
    /// Non-consolidated equity.
    #[serde(rename = "NCEq", default, skip_serializing_if = "Option::is_none")]
    pub nc_eq: Option<NumText>,
    /// Non-consolidated equity-to-asset ratio.
    #[serde(rename = "NCEqAR", default, skip_serializing_if = "Option::is_none")]
    pub nc_eq_ar: Option<NumText>,
    /// Non-consolidated book value per share.
    #[serde(rename = "NCBPS", default, skip_serializing_if = "Option::is_none")]
    pub nc_bps: Option<NumText>,
    /// Forecast non-consolidated net sales, second quarter.
    #[serde(
        rename = "FNCSales2Q",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_sales_2q: Option<NumText>,
    /// Forecast non-consolidated operating profit, second quarter.
    #[serde(rename = "FNCOP2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_op_2q: Option<NumText>,
    /// Forecast non-consolidated ordinary profit, second quarter.
    #[serde(rename = "FNCOdP2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_odp_2q: Option<NumText>,
    /// Forecast non-consolidated profit, second quarter.
    #[serde(rename = "FNCNP2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_np_2q: Option<NumText>,
    /// Forecast non-consolidated EPS, second quarter.
    #[serde(rename = "FNCEPS2Q", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_eps_2q: Option<NumText>,
    /// Next year forecast non-consolidated net sales, second quarter.
    #[serde(
        rename = "NxFNCSales2Q",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_sales_2q: Option<NumText>,
    /// Next year forecast non-consolidated operating profit, second quarter.
    #[serde(rename = "NxFNCOP2Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_nc_op_2q: Option<NumText>,
    /// Next year forecast non-consolidated ordinary profit, second quarter.
    #[serde(
        rename = "NxFNCOdP2Q",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_odp_2q: Option<NumText>,
    /// Next year forecast non-consolidated profit, second quarter.
    #[serde(rename = "NxFNCNP2Q", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_nc_np_2q: Option<NumText>,
    /// Next year forecast non-consolidated EPS, second quarter.
    #[serde(
        rename = "NxFNCEPS2Q",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_eps_2q: Option<NumText>,
    /// Forecast non-consolidated net sales, fiscal year.
    #[serde(rename = "FNCSales", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_sales: Option<NumText>,
    /// Forecast non-consolidated operating profit, fiscal year.
    #[serde(rename = "FNCOP", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_op: Option<NumText>,
    /// Forecast non-consolidated ordinary profit, fiscal year.
    #[serde(rename = "FNCOdP", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_odp: Option<NumText>,
    /// Forecast non-consolidated profit, fiscal year.
    #[serde(rename = "FNCNP", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_np: Option<NumText>,
    /// Forecast non-consolidated EPS, fiscal year.
    #[serde(rename = "FNCEPS", default, skip_serializing_if = "Option::is_none")]
    pub f_nc_eps: Option<NumText>,
    /// Next year forecast non-consolidated net sales, fiscal year.
    #[serde(
        rename = "NxFNCSales",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_sales: Option<NumText>,
    /// Next year forecast non-consolidated operating profit, fiscal year.
    #[serde(rename = "NxFNCOP", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_nc_op: Option<NumText>,
    /// Next year forecast non-consolidated ordinary profit, fiscal year.
    #[serde(rename = "NxFNCOdP", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_nc_odp: Option<NumText>,
    /// Next year forecast non-consolidated profit, fiscal year.
    #[serde(rename = "NxFNCNP", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_nc_np: Option<NumText>,
    /// Next year forecast non-consolidated EPS, fiscal year.
    #[serde(rename = "NxFNCEPS", default, skip_serializing_if = "Option::is_none")]
    pub nx_f_nc_eps: Option<NumText>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for FinSummary {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (
            self.code.clone(),
            format!("{}#{}", wire::day(self.disc_date), self.disc_no),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::dataset::DatasetKind;
    use crate::dataset::tests::round_trips;

    /// jquants-api.md §8.6, the V2 sample (constructed by the official 1:1 rename), whole.
    const SAMPLE: &str = r#"[{"DiscDate": "2023-01-30", "DiscTime": "12:00:00", "Code": "86970",
      "DiscNo": "20230127594871", "DocType": "3QFinancialStatements_Consolidated_IFRS",
      "CurPerType": "3Q", "CurPerSt": "2022-04-01", "CurPerEn": "2022-12-31",
      "CurFYSt": "2022-04-01", "CurFYEn": "2023-03-31", "NxtFYSt": "", "NxtFYEn": "",
      "Sales": "100529000000", "OP": "51765000000", "OdP": "", "NP": "35175000000",
      "EPS": "66.76", "DEPS": "", "TA": "79205861000000", "Eq": "320021000000",
      "EqAR": "0.004", "BPS": "", "CashEq": "91135000000", "Div2Q": "26.0",
      "FDivFY": "36.0", "FDivAnn": "62.0", "FSales": "132500000000", "FOP": "65500000000",
      "FNP": "45000000000", "FEPS": "85.42", "ShOutFY": "528578441", "TrShFY": "1861043",
      "AvgSh": "526874759"}]"#;

    #[test]
    fn the_reference_sample_keeps_every_field() {
        let recs = round_trips(DatasetKind::FinSummary, SAMPLE, &[]);
        assert_eq!(recs[0].fields.len(), 33);
        assert_eq!(recs[0].sort, "2023-01-30#20230127594871");
        let json = recs[0].to_json();
        assert_eq!((&json["Div2Q"], &json["OdP"]), (&"26.0".into(), &"".into()));
    }

    #[test]
    fn booleans_blanks_and_compact_dates_survive() {
        let text = SAMPLE
            .replace(r#""CurPerSt": "2022-04-01""#, r#""CurPerSt": "20220401""#)
            .replace(
                r#""AvgSh": "526874759""#,
                r#""AvgSh": "", "MatChgSub": "false", "ChgAcEst": "true", "RetroRst": """#,
            );
        let recs = round_trips(DatasetKind::FinSummary, &text, &["CurPerSt"]);
        let json = recs[0].to_json();
        assert_eq!(
            (&json["MatChgSub"], &json["ChgAcEst"]),
            (&"false".into(), &"true".into())
        );
        assert_eq!(
            (&json["AvgSh"], &json["RetroRst"]),
            (&"".into(), &"".into())
        );
    }

    #[test]
    fn a_figure_that_is_not_a_number_is_an_error() {
        let text = SAMPLE.replace(r#""EPS": "66.76""#, r#""EPS": "66,76""#);
        let raw = serde_json::value::RawValue::from_string(text).unwrap();
        assert!(DatasetKind::FinSummary.parse_rows(&raw).is_err());
    }
}
