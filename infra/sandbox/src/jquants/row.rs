//! The `/equities/bars/daily` row exactly as J-Quants V2 serves it: 16 keys, or 42 on Premium.
//!
//! `serde_json::Map` sorts its keys unless the `preserve_order` feature is on, so rows keep
//! their own ordered list of entries and serialize it in the reference order.

use chrono::NaiveDate;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::calendar::is_trading_day;
use crate::config::Plan;
use crate::market::{Ohlcv, trades};
use crate::params::IssueCode;
use crate::universe::is_listed_code;

const DAY_KEYS: [&str; 8] = ["O", "H", "L", "C", "UL", "LL", "Vo", "Va"];
const DAY_ADJ_KEYS: [&str; 5] = ["AdjO", "AdjH", "AdjL", "AdjC", "AdjVo"];
const MORNING_KEYS: [&str; 8] = ["MO", "MH", "ML", "MC", "MUL", "MLL", "MVo", "MVa"];
const MORNING_ADJ_KEYS: [&str; 5] = ["MAdjO", "MAdjH", "MAdjL", "MAdjC", "MAdjVo"];
const AFTERNOON_KEYS: [&str; 8] = ["AO", "AH", "AL", "AC", "AUL", "ALL", "AVo", "AVa"];
const AFTERNOON_ADJ_KEYS: [&str; 5] = ["AAdjO", "AAdjH", "AAdjL", "AAdjC", "AAdjVo"];

/// One row, its entries in wire order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(Vec<(&'static str, Value)>);

impl Row {
    /// The row for a listed issue on a trading day; `None` otherwise.
    pub(crate) fn build(code: &IssueCode, date: NaiveDate, plan: Plan) -> Option<Self> {
        if !is_trading_day(date) || !is_listed_code(code) {
            return None;
        }
        let traded = trades(code, date);
        let flag = |on: bool| Value::from(if on { "1" } else { "0" });
        let (ul, ll) = traded.map_or((false, false), |t| (t.upper_limit, t.lower_limit));
        let mut entries = Vec::with_capacity(42);
        entries.push(("Date", Value::from(date.format("%Y-%m-%d").to_string())));
        entries.push(("Code", Value::from(code.as_str())));
        let day = traded.map(|t| t.day);
        push_session(&mut entries, DAY_KEYS, day.as_ref(), [flag(ul), flag(ll)]);
        entries.push(("AdjFactor", Value::from(1.0)));
        // AdjFactor is 1.0 everywhere, so adjusted values equal the raw ones.
        push_adjusted(&mut entries, DAY_ADJ_KEYS, day.as_ref());
        if plan == Plan::Premium {
            let morning = traded.map(|t| t.morning);
            push_session(
                &mut entries,
                MORNING_KEYS,
                morning.as_ref(),
                [flag(false), flag(false)],
            );
            push_adjusted(&mut entries, MORNING_ADJ_KEYS, morning.as_ref());
            let afternoon = traded.map(|t| t.afternoon);
            push_session(
                &mut entries,
                AFTERNOON_KEYS,
                afternoon.as_ref(),
                [flag(ul), flag(ll)],
            );
            push_adjusted(&mut entries, AFTERNOON_ADJ_KEYS, afternoon.as_ref());
        }
        Some(Self(entries))
    }

    /// The row as a JSON object (key order is whatever `serde_json::Map` keeps).
    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.0.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn number(bar: Option<&Ohlcv>, pick: fn(&Ohlcv) -> f64) -> Value {
    bar.map_or(Value::Null, |b| Value::from(pick(b)))
}

fn push_session(
    entries: &mut Vec<(&'static str, Value)>,
    keys: [&'static str; 8],
    bar: Option<&Ohlcv>,
    [upper, lower]: [Value; 2],
) {
    let values = [
        number(bar, |b| b.o),
        number(bar, |b| b.h),
        number(bar, |b| b.l),
        number(bar, |b| b.c),
        upper,
        lower,
        number(bar, |b| b.vo),
        number(bar, |b| b.va),
    ];
    entries.extend(keys.into_iter().zip(values));
}

fn push_adjusted(
    entries: &mut Vec<(&'static str, Value)>,
    keys: [&'static str; 5],
    bar: Option<&Ohlcv>,
) {
    let values = [
        number(bar, |b| b.o),
        number(bar, |b| b.h),
        number(bar, |b| b.l),
        number(bar, |b| b.c),
        number(bar, |b| b.vo),
    ];
    entries.extend(keys.into_iter().zip(values));
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE_ORDER: [&str; 16] = [
        "Date",
        "Code",
        "O",
        "H",
        "L",
        "C",
        "UL",
        "LL",
        "Vo",
        "Va",
        "AdjFactor",
        "AdjO",
        "AdjH",
        "AdjL",
        "AdjC",
        "AdjVo",
    ];

    fn row(code: &str, date: (i32, u32, u32), plan: Plan) -> Option<Row> {
        let date = NaiveDate::from_ymd_opt(date.0, date.1, date.2).expect("date");
        Row::build(&IssueCode::parse(code).expect("code"), date, plan)
    }

    #[test]
    fn free_rows_have_the_sixteen_keys_in_order() {
        let row = row("86970", (2023, 3, 24), Plan::Free).expect("trading day");
        let keys: Vec<&str> = row.0.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, FREE_ORDER);
        let text = serde_json::to_string(&row).expect("serializes");
        assert!(
            text.starts_with(r#"{"Date":"2023-03-24","Code":"86970","O":"#),
            "{text}"
        );
        assert!(text.contains(r#""AdjFactor":1.0"#), "{text}");
    }

    #[test]
    fn premium_rows_have_forty_two_keys() {
        let row = row("86970", (2023, 3, 24), Plan::Premium).expect("trading day");
        let keys: Vec<&str> = row.0.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys.len(), 42);
        assert_eq!(&keys[..16], FREE_ORDER);
        assert_eq!(
            keys[16..].concat(),
            [
                MORNING_KEYS.concat(),
                MORNING_ADJ_KEYS.concat(),
                AFTERNOON_KEYS.concat(),
                AFTERNOON_ADJ_KEYS.concat()
            ]
            .concat()
        );
    }

    #[test]
    fn no_rows_on_closed_days_or_for_unknown_issues() {
        assert_eq!(row("86970", (2024, 1, 8), Plan::Free), None);
        assert_eq!(row("86970", (2024, 1, 6), Plan::Free), None);
        assert_eq!(row("00010", (2024, 1, 9), Plan::Free), None);
    }

    #[test]
    fn no_trade_rows_are_null_but_keep_flags_and_factor() {
        let map = row("72030", (2020, 10, 1), Plan::Premium)
            .expect("a trading day")
            .into_map();
        for key in [
            "O", "C", "Vo", "Va", "AdjC", "AdjVo", "MO", "MVa", "AC", "AAdjVo",
        ] {
            assert_eq!(map[key], Value::Null, "{key}");
        }
        assert_eq!(
            (&map["UL"], &map["AUL"]),
            (&Value::from("0"), &Value::from("0"))
        );
        assert_eq!(map["AdjFactor"], Value::from(1.0));
    }
}
