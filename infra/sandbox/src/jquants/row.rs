//! The `/equities/bars/daily` row exactly as J-Quants V2 serves it: 16 keys, or 42 on Premium.
//!
//! `serde_json::Map` sorts its keys unless the `preserve_order` feature is on, so rows keep
//! their own ordered list of entries and serialize it in the reference order.

//! The `/equities/bars/daily` row exactly as J-Quants V2 serves it: 16 keys, or 42 on Premium.
//!
//! Adjusted values are the raw ones times the cumulative split factor known on `as_of` (the
//! exchange's date), rounded to one decimal; `AdjFactor` is the split's factor on its ex-date.

use chrono::NaiveDate;
use serde_json::Value;

use super::record::{Record, day};
use crate::calendar::is_trading_day;
use crate::config::Plan;
use crate::corporate::{cumulative_factor, day_factor};
use crate::market::{Ohlcv, round1, trades};
use crate::params::IssueCode;
use crate::universe::is_listed_code;

const DAY_KEYS: [&str; 8] = ["O", "H", "L", "C", "UL", "LL", "Vo", "Va"];
const DAY_ADJ_KEYS: [&str; 5] = ["AdjO", "AdjH", "AdjL", "AdjC", "AdjVo"];
const MORNING_KEYS: [&str; 8] = ["MO", "MH", "ML", "MC", "MUL", "MLL", "MVo", "MVa"];
const MORNING_ADJ_KEYS: [&str; 5] = ["MAdjO", "MAdjH", "MAdjL", "MAdjC", "MAdjVo"];
const AFTERNOON_KEYS: [&str; 8] = ["AO", "AH", "AL", "AC", "AUL", "ALL", "AVo", "AVa"];
const AFTERNOON_ADJ_KEYS: [&str; 5] = ["AAdjO", "AAdjH", "AAdjL", "AAdjC", "AAdjVo"];

/// The row for a listed issue on a trading day, adjusted for splits known on `as_of`.
pub(crate) fn bar(
    code: &IssueCode,
    date: NaiveDate,
    plan: Plan,
    as_of: NaiveDate,
) -> Option<Record> {
    if !is_trading_day(date) || !is_listed_code(code) {
        return None;
    }
    let traded = trades(code, date);
    let factor = cumulative_factor(code, date, as_of);
    let flag = |on: bool| Value::from(if on { "1" } else { "0" });
    let (ul, ll) = traded.map_or((false, false), |t| (t.upper_limit, t.lower_limit));
    let mut row = Record::with_capacity(42);
    row.push("Date", day(date));
    row.push("Code", code.as_str());
    let whole = traded.map(|t| t.day);
    push_session(&mut row, DAY_KEYS, whole.as_ref(), [flag(ul), flag(ll)]);
    row.push("AdjFactor", day_factor(code, date));
    push_adjusted(&mut row, DAY_ADJ_KEYS, whole.as_ref(), factor);
    if plan == Plan::Premium {
        let morning = traded.map(|t| t.morning);
        push_session(
            &mut row,
            MORNING_KEYS,
            morning.as_ref(),
            [flag(false), flag(false)],
        );
        push_adjusted(&mut row, MORNING_ADJ_KEYS, morning.as_ref(), factor);
        let afternoon = traded.map(|t| t.afternoon);
        push_session(
            &mut row,
            AFTERNOON_KEYS,
            afternoon.as_ref(),
            [flag(ul), flag(ll)],
        );
        push_adjusted(&mut row, AFTERNOON_ADJ_KEYS, afternoon.as_ref(), factor);
    }
    Some(row)
}

fn number(bar: Option<&Ohlcv>, pick: impl Fn(&Ohlcv) -> f64) -> Value {
    bar.map_or(Value::Null, |b| Value::from(pick(b)))
}

fn push_session(
    row: &mut Record,
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
    row.extend(keys, values);
}

fn push_adjusted(row: &mut Record, keys: [&'static str; 5], bar: Option<&Ohlcv>, factor: f64) {
    let price = |pick: fn(&Ohlcv) -> f64| number(bar, move |b| round1(pick(b) * factor));
    let values = [
        price(|b| b.o),
        price(|b| b.h),
        price(|b| b.l),
        price(|b| b.c),
        number(bar, |b| (b.vo / factor).round()),
    ];
    row.extend(keys, values);
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

    fn row(code: &str, date: (i32, u32, u32), plan: Plan) -> Option<Record> {
        let date = NaiveDate::from_ymd_opt(date.0, date.1, date.2).expect("date");
        bar(
            &IssueCode::parse(code).expect("code"),
            date,
            plan,
            NaiveDate::MAX,
        )
    }

    #[test]
    fn free_rows_have_the_sixteen_keys_in_order() {
        let row = row("86970", (2023, 3, 24), Plan::Free).expect("trading day");
        let keys: Vec<&str> = row.keys().collect();
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
        let keys: Vec<&str> = row.keys().collect();
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

    #[test]
    fn a_split_halves_earlier_adjusted_prices_once_known() {
        let before = row("86970", (2023, 9, 27), Plan::Free)
            .expect("trading day")
            .into_map();
        let ex = row("86970", (2023, 9, 28), Plan::Free)
            .expect("trading day")
            .into_map();
        let num = |m: &serde_json::Map<String, Value>, k: &str| m[k].as_f64().expect(k);
        assert_eq!(num(&ex, "AdjFactor"), 0.5);
        assert_eq!(num(&before, "AdjFactor"), 1.0);
        assert_eq!(num(&before, "AdjC"), round1(num(&before, "C") * 0.5));
        assert_eq!(num(&before, "AdjVo"), num(&before, "Vo") * 2.0);
        assert_eq!(num(&ex, "AdjC"), num(&ex, "C"));
        let ratio = num(&before, "C") / num(&ex, "C");
        assert!((1.6..2.5).contains(&ratio), "raw prices halve: {ratio}");
        let date = NaiveDate::from_ymd_opt(2023, 9, 27).expect("date");
        let code = IssueCode::parse("86970").expect("code");
        let unknown_yet = bar(&code, date, Plan::Free, date).expect("row").into_map();
        assert_eq!(num(&unknown_yet, "AdjC"), num(&unknown_yet, "C"));
    }
}
