//! J-Quants V2 `/equities/investor-types`: weekly trading by investor type per market section
//! (jquants-api.md §2.2, V1 `trades_spec`). Keyed by section and `PubDate#StDate`: a correction
//! is published on a later date for the same week and is kept beside the original.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// One week of one section, by investor type. The reference lists no V2 fields; the names are
/// the sandbox's (sales, purchases, total, balance per type). Values in thousand yen.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct InvestorTypes {
    /// Publication date.
    #[serde(rename = "PubDate", with = "wire::date")]
    pub pub_date: NaiveDate,
    /// First day of the week covered.
    #[serde(rename = "StDate", with = "wire::date")]
    pub st_date: NaiveDate,
    /// Last day of the week covered.
    #[serde(rename = "EnDate", with = "wire::date")]
    pub en_date: NaiveDate,
    /// Market section (`TSEPrime`, `TSE1st`, `TokyoNagoya`, ...).
    #[serde(rename = "Section")]
    pub section: String,
    /// Proprietary trading: sales (thousand yen).
    #[serde(rename = "PropSell")]
    pub proprietary_sales: Option<f64>,
    /// Proprietary trading: purchases (thousand yen).
    #[serde(rename = "PropBuy")]
    pub proprietary_purchases: Option<f64>,
    /// Proprietary trading: sales plus purchases (thousand yen).
    #[serde(rename = "PropTot")]
    pub proprietary_total: Option<f64>,
    /// Proprietary trading: purchases minus sales (thousand yen).
    #[serde(rename = "PropBal")]
    pub proprietary_balance: Option<f64>,
    /// Brokerage (all clients): sales (thousand yen).
    #[serde(rename = "BrkSell")]
    pub brokerage_sales: Option<f64>,
    /// Brokerage (all clients): purchases (thousand yen).
    #[serde(rename = "BrkBuy")]
    pub brokerage_purchases: Option<f64>,
    /// Brokerage (all clients): sales plus purchases (thousand yen).
    #[serde(rename = "BrkTot")]
    pub brokerage_total: Option<f64>,
    /// Brokerage (all clients): purchases minus sales (thousand yen).
    #[serde(rename = "BrkBal")]
    pub brokerage_balance: Option<f64>,
    /// Total: sales (thousand yen).
    #[serde(rename = "TotSell")]
    pub total_sales: Option<f64>,
    /// Total: purchases (thousand yen).
    #[serde(rename = "TotBuy")]
    pub total_purchases: Option<f64>,
    /// Total: sales plus purchases (thousand yen).
    #[serde(rename = "TotTot")]
    pub total_total: Option<f64>,
    /// Total: purchases minus sales (thousand yen).
    #[serde(rename = "TotBal")]
    pub total_balance: Option<f64>,
    /// Individuals: sales (thousand yen).
    #[serde(rename = "IndSell")]
    pub individuals_sales: Option<f64>,
    /// Individuals: purchases (thousand yen).
    #[serde(rename = "IndBuy")]
    pub individuals_purchases: Option<f64>,
    /// Individuals: sales plus purchases (thousand yen).
    #[serde(rename = "IndTot")]
    pub individuals_total: Option<f64>,
    /// Individuals: purchases minus sales (thousand yen).
    #[serde(rename = "IndBal")]
    pub individuals_balance: Option<f64>,
    /// Foreigners: sales (thousand yen).
    #[serde(rename = "FrgnSell")]
    pub foreigners_sales: Option<f64>,
    /// Foreigners: purchases (thousand yen).
    #[serde(rename = "FrgnBuy")]
    pub foreigners_purchases: Option<f64>,
    /// Foreigners: sales plus purchases (thousand yen).
    #[serde(rename = "FrgnTot")]
    pub foreigners_total: Option<f64>,
    /// Foreigners: purchases minus sales (thousand yen).
    #[serde(rename = "FrgnBal")]
    pub foreigners_balance: Option<f64>,
    /// Securities companies: sales (thousand yen).
    #[serde(rename = "SecCoSell")]
    pub securities_cos_sales: Option<f64>,
    /// Securities companies: purchases (thousand yen).
    #[serde(rename = "SecCoBuy")]
    pub securities_cos_purchases: Option<f64>,
    /// Securities companies: sales plus purchases (thousand yen).
    #[serde(rename = "SecCoTot")]
    pub securities_cos_total: Option<f64>,
    /// Securities companies: purchases minus sales (thousand yen).
    #[serde(rename = "SecCoBal")]
    pub securities_cos_balance: Option<f64>,
    /// Investment trusts: sales (thousand yen).
    #[serde(rename = "InvTrSell")]
    pub investment_trusts_sales: Option<f64>,
    /// Investment trusts: purchases (thousand yen).
    #[serde(rename = "InvTrBuy")]
    pub investment_trusts_purchases: Option<f64>,
    /// Investment trusts: sales plus purchases (thousand yen).
    #[serde(rename = "InvTrTot")]
    pub investment_trusts_total: Option<f64>,
    /// Investment trusts: purchases minus sales (thousand yen).
    #[serde(rename = "InvTrBal")]
    pub investment_trusts_balance: Option<f64>,
    /// Business companies: sales (thousand yen).
    #[serde(rename = "BusCoSell")]
    pub business_cos_sales: Option<f64>,
    /// Business companies: purchases (thousand yen).
    #[serde(rename = "BusCoBuy")]
    pub business_cos_purchases: Option<f64>,
    /// Business companies: sales plus purchases (thousand yen).
    #[serde(rename = "BusCoTot")]
    pub business_cos_total: Option<f64>,
    /// Business companies: purchases minus sales (thousand yen).
    #[serde(rename = "BusCoBal")]
    pub business_cos_balance: Option<f64>,
    /// Other corporations: sales (thousand yen).
    #[serde(rename = "OthCoSell")]
    pub other_cos_sales: Option<f64>,
    /// Other corporations: purchases (thousand yen).
    #[serde(rename = "OthCoBuy")]
    pub other_cos_purchases: Option<f64>,
    /// Other corporations: sales plus purchases (thousand yen).
    #[serde(rename = "OthCoTot")]
    pub other_cos_total: Option<f64>,
    /// Other corporations: purchases minus sales (thousand yen).
    #[serde(rename = "OthCoBal")]
    pub other_cos_balance: Option<f64>,
    /// Insurance companies: sales (thousand yen).
    #[serde(rename = "InsCoSell")]
    pub insurance_cos_sales: Option<f64>,
    /// Insurance companies: purchases (thousand yen).
    #[serde(rename = "InsCoBuy")]
    pub insurance_cos_purchases: Option<f64>,
    /// Insurance companies: sales plus purchases (thousand yen).
    #[serde(rename = "InsCoTot")]
    pub insurance_cos_total: Option<f64>,
    /// Insurance companies: purchases minus sales (thousand yen).
    #[serde(rename = "InsCoBal")]
    pub insurance_cos_balance: Option<f64>,
    /// City and regional banks: sales (thousand yen).
    #[serde(rename = "BankSell")]
    pub banks_sales: Option<f64>,
    /// City and regional banks: purchases (thousand yen).
    #[serde(rename = "BankBuy")]
    pub banks_purchases: Option<f64>,
    /// City and regional banks: sales plus purchases (thousand yen).
    #[serde(rename = "BankTot")]
    pub banks_total: Option<f64>,
    /// City and regional banks: purchases minus sales (thousand yen).
    #[serde(rename = "BankBal")]
    pub banks_balance: Option<f64>,
    /// Trust banks: sales (thousand yen).
    #[serde(rename = "TrstBnkSell")]
    pub trust_banks_sales: Option<f64>,
    /// Trust banks: purchases (thousand yen).
    #[serde(rename = "TrstBnkBuy")]
    pub trust_banks_purchases: Option<f64>,
    /// Trust banks: sales plus purchases (thousand yen).
    #[serde(rename = "TrstBnkTot")]
    pub trust_banks_total: Option<f64>,
    /// Trust banks: purchases minus sales (thousand yen).
    #[serde(rename = "TrstBnkBal")]
    pub trust_banks_balance: Option<f64>,
    /// Other financial institutions: sales (thousand yen).
    #[serde(rename = "OthFinSell")]
    pub other_financial_sales: Option<f64>,
    /// Other financial institutions: purchases (thousand yen).
    #[serde(rename = "OthFinBuy")]
    pub other_financial_purchases: Option<f64>,
    /// Other financial institutions: sales plus purchases (thousand yen).
    #[serde(rename = "OthFinTot")]
    pub other_financial_total: Option<f64>,
    /// Other financial institutions: purchases minus sales (thousand yen).
    #[serde(rename = "OthFinBal")]
    pub other_financial_balance: Option<f64>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for InvestorTypes {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (
            self.section.clone(),
            format!("{}#{}", wire::day(self.pub_date), wire::day(self.st_date)),
        )
    }
}
