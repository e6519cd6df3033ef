//! J-Quants V1 `/fins/statements` (rows under `statements`): the results summary of each
//! disclosure, 107 fields (jquants-api.md §8.6; names from the official client's
//! `FINS_STATEMENTS_COLUMNS`), V2's `/fins/summary` under V1's long names. Keyed by code and
//! `DisclosedDate#DisclosureNumber`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire;
use super::{NumText, Row};

/// A results summary. Every value is text on the wire, `""` when the statement does not report
/// it: figures are [`NumText`] (text kept, number parsed), booleans `"true"`/`"false"`, dates
/// `Option<NaiveDate>`. P&L figures are cumulative from the fiscal year start. The fields have
/// the Rust names of [`FinSummary`](super::FinSummary)'s, position for position.
///
/// Only the key (`DisclosedDate`, `LocalCode`, `DisclosureNumber`) is required: the outer
/// `Option` of the others is `None` when a row omits the key, and such a field is not written
/// back, so a stored row has exactly the received keys.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Statement {
    /// Disclosure date.
    #[serde(rename = "DisclosedDate", with = "wire::date")]
    pub disc_date: NaiveDate,
    /// Disclosure time (`HH:MM:SS`).
    #[serde(
        rename = "DisclosedTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disc_time: Option<String>,
    /// 5-character issue code.
    #[serde(rename = "LocalCode")]
    pub code: String,
    /// Disclosure number (rows come in its order).
    #[serde(rename = "DisclosureNumber")]
    pub disc_no: String,
    /// Document type (e.g. `3QFinancialStatements_Consolidated_IFRS`).
    #[serde(
        rename = "TypeOfDocument",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub doc_type: Option<String>,
    /// Period type (`1Q`, `2Q`, `3Q`, `FY`, ...).
    #[serde(
        rename = "TypeOfCurrentPeriod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_per_type: Option<String>,
    /// Current period start.
    #[serde(
        rename = "CurrentPeriodStartDate",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_per_st: Option<Option<NaiveDate>>,
    /// Current period end.
    #[serde(
        rename = "CurrentPeriodEndDate",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_per_en: Option<Option<NaiveDate>>,
    /// Current fiscal year start.
    #[serde(
        rename = "CurrentFiscalYearStartDate",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_fy_st: Option<Option<NaiveDate>>,
    /// Current fiscal year end.
    #[serde(
        rename = "CurrentFiscalYearEndDate",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub cur_fy_en: Option<Option<NaiveDate>>,
    /// Next fiscal year start (full-year results only).
    #[serde(
        rename = "NextFiscalYearStartDate",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nxt_fy_st: Option<Option<NaiveDate>>,
    /// Next fiscal year end (full-year results only).
    #[serde(
        rename = "NextFiscalYearEndDate",
        default,
        with = "wire::present_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nxt_fy_en: Option<Option<NaiveDate>>,
    /// Net sales.
    #[serde(rename = "NetSales", default, skip_serializing_if = "Option::is_none")]
    pub sales: Option<NumText>,
    /// Operating profit.
    #[serde(
        rename = "OperatingProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub op: Option<NumText>,
    /// Ordinary profit (blank under IFRS and US GAAP).
    #[serde(
        rename = "OrdinaryProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odp: Option<NumText>,
    /// Profit attributable to owners of the parent.
    #[serde(rename = "Profit", default, skip_serializing_if = "Option::is_none")]
    pub np: Option<NumText>,
    /// Earnings per share.
    #[serde(
        rename = "EarningsPerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub eps: Option<NumText>,
    /// Diluted earnings per share.
    #[serde(
        rename = "DilutedEarningsPerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub deps: Option<NumText>,
    /// Total assets.
    #[serde(
        rename = "TotalAssets",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ta: Option<NumText>,
    /// Equity.
    #[serde(rename = "Equity", default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<NumText>,
    /// Equity-to-asset ratio.
    #[serde(
        rename = "EquityToAssetRatio",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub eq_ar: Option<NumText>,
    /// Book value per share.
    #[serde(
        rename = "BookValuePerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub bps: Option<NumText>,
    /// Cash flows from operating activities.
    #[serde(
        rename = "CashFlowsFromOperatingActivities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cfo: Option<NumText>,
    /// Cash flows from investing activities.
    #[serde(
        rename = "CashFlowsFromInvestingActivities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cfi: Option<NumText>,
    /// Cash flows from financing activities.
    #[serde(
        rename = "CashFlowsFromFinancingActivities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cff: Option<NumText>,
    /// Cash and equivalents at the end of the period.
    #[serde(
        rename = "CashAndEquivalents",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cash_eq: Option<NumText>,
    /// Dividend per share, first quarter end (result).
    #[serde(
        rename = "ResultDividendPerShare1stQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_1q: Option<NumText>,
    /// Dividend per share, second quarter end (result).
    #[serde(
        rename = "ResultDividendPerShare2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_2q: Option<NumText>,
    /// Dividend per share, third quarter end (result).
    #[serde(
        rename = "ResultDividendPerShare3rdQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_3q: Option<NumText>,
    /// Dividend per share, fiscal year end (result).
    #[serde(
        rename = "ResultDividendPerShareFiscalYearEnd",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_fy: Option<NumText>,
    /// Dividend per share, annual (result).
    #[serde(
        rename = "ResultDividendPerShareAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_ann: Option<NumText>,
    /// Distribution per unit (REIT, result).
    #[serde(
        rename = "DistributionsPerUnit(REIT)",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_unit: Option<NumText>,
    /// Total dividends, annual (result).
    #[serde(
        rename = "ResultTotalDividendPaidAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub div_total_ann: Option<NumText>,
    /// Payout ratio, annual (result).
    #[serde(
        rename = "ResultPayoutRatioAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub payout_ratio_ann: Option<NumText>,
    /// Forecast dividend per share, first quarter end.
    #[serde(
        rename = "ForecastDividendPerShare1stQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_1q: Option<NumText>,
    /// Forecast dividend per share, second quarter end.
    #[serde(
        rename = "ForecastDividendPerShare2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_2q: Option<NumText>,
    /// Forecast dividend per share, third quarter end.
    #[serde(
        rename = "ForecastDividendPerShare3rdQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_3q: Option<NumText>,
    /// Forecast dividend per share, fiscal year end.
    #[serde(
        rename = "ForecastDividendPerShareFiscalYearEnd",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_fy: Option<NumText>,
    /// Forecast dividend per share, annual.
    #[serde(
        rename = "ForecastDividendPerShareAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_ann: Option<NumText>,
    /// Forecast distribution per unit (REIT).
    #[serde(
        rename = "ForecastDistributionsPerUnit(REIT)",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_unit: Option<NumText>,
    /// Forecast total dividends, annual.
    #[serde(
        rename = "ForecastTotalDividendPaidAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_div_total_ann: Option<NumText>,
    /// Forecast payout ratio, annual.
    #[serde(
        rename = "ForecastPayoutRatioAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_payout_ratio_ann: Option<NumText>,
    /// Next year forecast dividend per share, first quarter end.
    #[serde(
        rename = "NextYearForecastDividendPerShare1stQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_div_1q: Option<NumText>,
    /// Next year forecast dividend per share, second quarter end.
    #[serde(
        rename = "NextYearForecastDividendPerShare2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_div_2q: Option<NumText>,
    /// Next year forecast dividend per share, third quarter end.
    #[serde(
        rename = "NextYearForecastDividendPerShare3rdQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_div_3q: Option<NumText>,
    /// Next year forecast dividend per share, fiscal year end.
    #[serde(
        rename = "NextYearForecastDividendPerShareFiscalYearEnd",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_div_fy: Option<NumText>,
    /// Next year forecast dividend per share, annual.
    #[serde(
        rename = "NextYearForecastDividendPerShareAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_div_ann: Option<NumText>,
    /// Next year forecast distribution per unit (REIT).
    #[serde(
        rename = "NextYearForecastDistributionsPerUnit(REIT)",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_div_unit: Option<NumText>,
    /// Next year forecast payout ratio, annual.
    #[serde(
        rename = "NextYearForecastPayoutRatioAnnual",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_payout_ratio_ann: Option<NumText>,
    /// Forecast net sales, second quarter (cumulative).
    #[serde(
        rename = "ForecastNetSales2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_sales_2q: Option<NumText>,
    /// Forecast operating profit, second quarter.
    #[serde(
        rename = "ForecastOperatingProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_op_2q: Option<NumText>,
    /// Forecast ordinary profit, second quarter.
    #[serde(
        rename = "ForecastOrdinaryProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_odp_2q: Option<NumText>,
    /// Forecast profit, second quarter.
    #[serde(
        rename = "ForecastProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_np_2q: Option<NumText>,
    /// Forecast EPS, second quarter.
    #[serde(
        rename = "ForecastEarningsPerShare2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_eps_2q: Option<NumText>,
    /// Next year forecast net sales, second quarter.
    #[serde(
        rename = "NextYearForecastNetSales2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_sales_2q: Option<NumText>,
    /// Next year forecast operating profit, second quarter.
    #[serde(
        rename = "NextYearForecastOperatingProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_op_2q: Option<NumText>,
    /// Next year forecast ordinary profit, second quarter.
    #[serde(
        rename = "NextYearForecastOrdinaryProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_odp_2q: Option<NumText>,
    /// Next year forecast profit, second quarter.
    #[serde(
        rename = "NextYearForecastProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_np_2q: Option<NumText>,
    /// Next year forecast EPS, second quarter.
    #[serde(
        rename = "NextYearForecastEarningsPerShare2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_eps_2q: Option<NumText>,
    /// Forecast net sales, fiscal year.
    #[serde(
        rename = "ForecastNetSales",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_sales: Option<NumText>,
    /// Forecast operating profit, fiscal year.
    #[serde(
        rename = "ForecastOperatingProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_op: Option<NumText>,
    /// Forecast ordinary profit, fiscal year.
    #[serde(
        rename = "ForecastOrdinaryProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_odp: Option<NumText>,
    /// Forecast profit, fiscal year.
    #[serde(
        rename = "ForecastProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_np: Option<NumText>,
    /// Forecast EPS, fiscal year.
    #[serde(
        rename = "ForecastEarningsPerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_eps: Option<NumText>,
    /// Next year forecast net sales.
    #[serde(
        rename = "NextYearForecastNetSales",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_sales: Option<NumText>,
    /// Next year forecast operating profit.
    #[serde(
        rename = "NextYearForecastOperatingProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_op: Option<NumText>,
    /// Next year forecast ordinary profit.
    #[serde(
        rename = "NextYearForecastOrdinaryProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_odp: Option<NumText>,
    /// Next year forecast profit.
    #[serde(
        rename = "NextYearForecastProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_np: Option<NumText>,
    /// Next year forecast EPS.
    #[serde(
        rename = "NextYearForecastEarningsPerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_eps: Option<NumText>,
    /// Material changes in subsidiaries.
    #[serde(
        rename = "MaterialChangesInSubsidiaries",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub mat_chg_sub: Option<Option<bool>>,
    /// Significant changes in the scope of consolidation.
    #[serde(
        rename = "SignificantChangesInTheScopeOfConsolidation",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub sig_chg_in_c: Option<Option<bool>>,
    /// Changes based on revisions of accounting standards.
    #[serde(
        rename = "ChangesBasedOnRevisionsOfAccountingStandard",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub chg_by_as_rev: Option<Option<bool>>,
    /// Changes other than those based on revisions of accounting standards.
    #[serde(
        rename = "ChangesOtherThanOnesBasedOnRevisionsOfAccountingStandard",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub chg_no_as_rev: Option<Option<bool>>,
    /// Changes in accounting estimates.
    #[serde(
        rename = "ChangesInAccountingEstimates",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub chg_ac_est: Option<Option<bool>>,
    /// Retrospective restatement.
    #[serde(
        rename = "RetrospectiveRestatement",
        default,
        with = "wire::present_bool_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub retro_rst: Option<Option<bool>>,
    /// Shares issued at fiscal year end, treasury stock included.
    #[serde(
        rename = "NumberOfIssuedAndOutstandingSharesAtTheEndOfFiscalYearIncludingTreasuryStock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sh_out_fy: Option<NumText>,
    /// Treasury shares at fiscal year end.
    #[serde(
        rename = "NumberOfTreasuryStockAtTheEndOfFiscalYear",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tr_sh_fy: Option<NumText>,
    /// Average number of shares.
    #[serde(
        rename = "AverageNumberOfShares",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub avg_sh: Option<NumText>,
    /// Non-consolidated net sales.
    #[serde(
        rename = "NonConsolidatedNetSales",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_sales: Option<NumText>,
    /// Non-consolidated operating profit.
    #[serde(
        rename = "NonConsolidatedOperatingProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_op: Option<NumText>,
    /// Non-consolidated ordinary profit.
    #[serde(
        rename = "NonConsolidatedOrdinaryProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_odp: Option<NumText>,
    /// Non-consolidated profit.
    #[serde(
        rename = "NonConsolidatedProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_np: Option<NumText>,
    /// Non-consolidated EPS.
    #[serde(
        rename = "NonConsolidatedEarningsPerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_eps: Option<NumText>,
    /// Non-consolidated total assets.
    #[serde(
        rename = "NonConsolidatedTotalAssets",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_ta: Option<NumText>,
    /// Non-consolidated equity.
    #[serde(
        rename = "NonConsolidatedEquity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_eq: Option<NumText>,
    /// Non-consolidated equity-to-asset ratio.
    #[serde(
        rename = "NonConsolidatedEquityToAssetRatio",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_eq_ar: Option<NumText>,
    /// Non-consolidated book value per share.
    #[serde(
        rename = "NonConsolidatedBookValuePerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nc_bps: Option<NumText>,
    /// Forecast non-consolidated net sales, second quarter.
    #[serde(
        rename = "ForecastNonConsolidatedNetSales2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_sales_2q: Option<NumText>,
    /// Forecast non-consolidated operating profit, second quarter.
    #[serde(
        rename = "ForecastNonConsolidatedOperatingProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_op_2q: Option<NumText>,
    /// Forecast non-consolidated ordinary profit, second quarter.
    #[serde(
        rename = "ForecastNonConsolidatedOrdinaryProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_odp_2q: Option<NumText>,
    /// Forecast non-consolidated profit, second quarter.
    #[serde(
        rename = "ForecastNonConsolidatedProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_np_2q: Option<NumText>,
    /// Forecast non-consolidated EPS, second quarter.
    #[serde(
        rename = "ForecastNonConsolidatedEarningsPerShare2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_eps_2q: Option<NumText>,
    /// Next year forecast non-consolidated net sales, second quarter.
    #[serde(
        rename = "NextYearForecastNonConsolidatedNetSales2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_sales_2q: Option<NumText>,
    /// Next year forecast non-consolidated operating profit, second quarter.
    #[serde(
        rename = "NextYearForecastNonConsolidatedOperatingProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_op_2q: Option<NumText>,
    /// Next year forecast non-consolidated ordinary profit, second quarter.
    #[serde(
        rename = "NextYearForecastNonConsolidatedOrdinaryProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_odp_2q: Option<NumText>,
    /// Next year forecast non-consolidated profit, second quarter.
    #[serde(
        rename = "NextYearForecastNonConsolidatedProfit2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_np_2q: Option<NumText>,
    /// Next year forecast non-consolidated EPS, second quarter.
    #[serde(
        rename = "NextYearForecastNonConsolidatedEarningsPerShare2ndQuarter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_eps_2q: Option<NumText>,
    /// Forecast non-consolidated net sales, fiscal year.
    #[serde(
        rename = "ForecastNonConsolidatedNetSales",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_sales: Option<NumText>,
    /// Forecast non-consolidated operating profit, fiscal year.
    #[serde(
        rename = "ForecastNonConsolidatedOperatingProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_op: Option<NumText>,
    /// Forecast non-consolidated ordinary profit, fiscal year.
    #[serde(
        rename = "ForecastNonConsolidatedOrdinaryProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_odp: Option<NumText>,
    /// Forecast non-consolidated profit, fiscal year.
    #[serde(
        rename = "ForecastNonConsolidatedProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_np: Option<NumText>,
    /// Forecast non-consolidated EPS, fiscal year.
    #[serde(
        rename = "ForecastNonConsolidatedEarningsPerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub f_nc_eps: Option<NumText>,
    /// Next year forecast non-consolidated net sales, fiscal year.
    #[serde(
        rename = "NextYearForecastNonConsolidatedNetSales",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_sales: Option<NumText>,
    /// Next year forecast non-consolidated operating profit, fiscal year.
    #[serde(
        rename = "NextYearForecastNonConsolidatedOperatingProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_op: Option<NumText>,
    /// Next year forecast non-consolidated ordinary profit, fiscal year.
    #[serde(
        rename = "NextYearForecastNonConsolidatedOrdinaryProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_odp: Option<NumText>,
    /// Next year forecast non-consolidated profit, fiscal year.
    #[serde(
        rename = "NextYearForecastNonConsolidatedProfit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_np: Option<NumText>,
    /// Next year forecast non-consolidated EPS, fiscal year.
    #[serde(
        rename = "NextYearForecastNonConsolidatedEarningsPerShare",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nx_f_nc_eps: Option<NumText>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for Statement {
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

    /// jquants-api.md §8.6, the V1 sample (abbreviated by the reference), whole.
    const SAMPLE: &str = r#"[{"DisclosedDate": "2023-01-30", "DisclosedTime": "12:00:00",
      "LocalCode": "86970", "DisclosureNumber": "20230127594871",
      "TypeOfDocument": "3QFinancialStatements_Consolidated_IFRS", "TypeOfCurrentPeriod": "3Q",
      "CurrentPeriodStartDate": "2022-04-01", "CurrentPeriodEndDate": "2022-12-31",
      "CurrentFiscalYearStartDate": "2022-04-01", "CurrentFiscalYearEndDate": "2023-03-31",
      "NextFiscalYearStartDate": "", "NextFiscalYearEndDate": "",
      "NetSales": "100529000000", "OperatingProfit": "51765000000", "OrdinaryProfit": "",
      "Profit": "35175000000", "EarningsPerShare": "66.76", "DilutedEarningsPerShare": "",
      "TotalAssets": "79205861000000", "Equity": "320021000000", "EquityToAssetRatio": "0.004",
      "BookValuePerShare": "", "CashAndEquivalents": "91135000000",
      "ResultDividendPerShare2ndQuarter": "26.0",
      "ForecastDividendPerShareFiscalYearEnd": "36.0", "ForecastDividendPerShareAnnual": "62.0",
      "ForecastNetSales": "132500000000", "ForecastOperatingProfit": "65500000000",
      "ForecastProfit": "45000000000", "ForecastEarningsPerShare": "85.42",
      "MaterialChangesInSubsidiaries": "false", "SignificantChangesInTheScopeOfConsolidation": "",
      "ChangesBasedOnRevisionsOfAccountingStandard": "false",
      "ChangesOtherThanOnesBasedOnRevisionsOfAccountingStandard": "false",
      "ChangesInAccountingEstimates": "true", "RetrospectiveRestatement": "",
      "NumberOfIssuedAndOutstandingSharesAtTheEndOfFiscalYearIncludingTreasuryStock": "528578441",
      "NumberOfTreasuryStockAtTheEndOfFiscalYear": "1861043",
      "AverageNumberOfShares": "526874759"}]"#;

    #[test]
    fn the_reference_sample_keeps_every_field() {
        let recs = round_trips(DatasetKind::V1Statements, SAMPLE, &[]);
        assert_eq!(recs[0].fields.len(), 39);
        assert_eq!(recs[0].partition, "86970");
        assert_eq!(recs[0].sort, "2023-01-30#20230127594871");
        let json = recs[0].to_json();
        assert_eq!(json["ChangesInAccountingEstimates"], "true");
        assert_eq!(json["OrdinaryProfit"], "");
    }
}
