//! `/equities/*` beyond daily bars: master, morning bars (and 210), minute bars, investor
//! types, earnings calendar; and the split in daily bars.

use http::StatusCode;
use sandbox::{Plan, daily_bar, issue_codes, stock_split, trading_days};
use serde_json::Value;

use crate::{FREE, LIGHT, PREMIUM, app, assert_keys, day, get, get_all, n, pages, s, set_clock};

#[tokio::test]
async fn master_lists_every_issue_with_thirteen_fields() {
    let app = app(1000);
    let (rows, first) = pages(&app, "/v2/equities/master?date=20241202", FREE, 4).await;
    assert_eq!(rows.len(), issue_codes().len());
    assert_keys(
        &first,
        &[
            "Date", "Code", "CoName", "CoNameEn", "S17", "S17Nm", "S33", "S33Nm", "ScaleCat",
            "Mkt", "MktNm", "Mrgn", "MrgnNm",
        ],
    );
    let jpx = get(&app, "/v2/equities/master?code=8697&date=20241202", FREE)
        .await
        .data()[0]
        .clone();
    let expect = [
        ("Date", "2024-12-02"),
        ("Code", "86970"),
        ("CoName", "日本取引所グループ"),
        ("CoNameEn", "Japan Exchange Group,Inc."),
        ("S17", "16"),
        ("S17Nm", "金融（除く銀行）"),
        ("S33", "7200"),
        ("S33Nm", "その他金融業"),
        ("ScaleCat", "TOPIX Large70"),
        ("Mkt", "0111"),
        ("MktNm", "プライム"),
    ];
    for (key, value) in expect {
        assert_eq!(s(&jpx, key), value, "{key}");
    }
    let margin = [("1", "信用"), ("2", "貸借"), ("3", "その他")];
    assert!(
        margin.contains(&(s(&jpx, "Mrgn"), s(&jpx, "MrgnNm"))),
        "{jpx}"
    );
    let old = get(&app, "/v2/equities/master?code=8697&date=20220401", PREMIUM).await;
    assert_eq!(
        (s(&old.data()[0], "Mkt"), s(&old.data()[0], "MktNm")),
        ("0101", "東証一部")
    );
    let holiday = get(&app, "/v2/equities/master?code=8697&date=20241123", PREMIUM).await;
    assert_eq!(
        s(&holiday.data()[0], "Date"),
        "2024-11-25",
        "next trading day"
    );
}

#[tokio::test]
async fn morning_bars_answer_after_noon_and_210_outside_their_window() {
    let app = app(1000);
    set_clock(&app, "2026-11-20T12:30:00+09:00").await;
    let (rows, first) = pages(&app, "/v2/equities/bars/daily/am", PREMIUM, 4).await;
    assert_eq!(rows.len(), issue_codes().len());
    assert_keys(
        &first,
        &["Date", "Code", "MO", "MH", "ML", "MC", "MVo", "MVa"],
    );
    let toyota = get(&app, "/v2/equities/bars/daily/am?code=7203", PREMIUM)
        .await
        .data()[0]
        .clone();
    let bar = daily_bar("7203", day("2026-11-20"), Plan::Premium).expect("trading day");
    assert_eq!(
        (s(&toyota, "Date"), s(&toyota, "Code")),
        ("2026-11-20", "72030")
    );
    for key in ["MO", "MH", "ML", "MC", "MVo", "MVa"] {
        assert_eq!(toyota[key], bar[key], "{key}");
    }
    let reply = get(&app, "/v2/equities/bars/daily/am?code=0000", PREMIUM).await;
    assert_eq!(reply.status.as_u16(), 210);
    let no_content = "No content due to outside the target time or a stock code does not exist.";
    assert_eq!(reply.message(), no_content);
    set_clock(&app, "2026-11-21T09:00:00+09:00").await;
    let reply = get(&app, "/v2/equities/bars/daily/am", PREMIUM).await;
    assert_eq!((reply.status.as_u16(), reply.message()), (210, no_content));
    set_clock(&app, "2026-11-21T05:00:00+09:00").await;
    let reply = get(&app, "/v2/equities/bars/daily/am?code=7203", PREMIUM).await;
    assert_eq!(
        s(&reply.data()[0], "Date"),
        "2026-11-20",
        "until 06:00 the next day"
    );
    let light = get(&app, "/v2/equities/bars/daily/am", LIGHT).await;
    assert_eq!(light.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn minute_bars_rebuild_the_day() {
    let app = app(100);
    let uri = "/v2/equities/bars/minute?code=7203&date=20261120";
    let (rows, first) = pages(&app, uri, LIGHT, 4).await;
    assert_eq!(rows.len(), 151 + 181);
    assert_keys(
        &first,
        &["Date", "Time", "Code", "O", "H", "L", "C", "Vo", "Va"],
    );
    let bar =
        Value::Object(daily_bar("7203", day("2026-11-20"), Plan::Light).expect("trading day"));
    let (open, close) = (&rows[0], &rows[rows.len() - 1]);
    assert_eq!(
        (s(open, "Date"), s(open, "Time"), s(open, "Code")),
        ("2026-11-20", "09:00", "72030")
    );
    assert_eq!(
        (s(close, "Time"), n(open, "O"), n(close, "C")),
        ("15:30", n(&bar, "O"), n(&bar, "C"))
    );
    assert!(
        rows.iter().any(|r| s(r, "Time") == "11:30")
            && !rows.iter().any(|r| s(r, "Time") == "12:00")
    );
    let volume: f64 = rows.iter().map(|r| n(r, "Vo")).sum();
    assert_eq!(volume, n(&bar, "Vo"));
    let high = rows.iter().map(|r| n(r, "H")).fold(f64::MIN, f64::max);
    assert_eq!(high, n(&bar, "H"));
    assert!(
        rows.iter()
            .all(|r| n(r, "Va") >= 0.0 && n(r, "L") <= n(r, "H"))
    );
    let too_old = get(
        &app,
        "/v2/equities/bars/minute?code=7203&date=20241001",
        LIGHT,
    )
    .await;
    assert_eq!(too_old.status, StatusCode::BAD_REQUEST, "two years only");
    let free = get(&app, uri, FREE).await;
    assert_eq!(free.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn investor_types_are_weekly_per_section_and_add_up() {
    let app = app(5);
    let uri = "/v2/equities/investor-types?from=20241101&to=20241130";
    let (rows, first) = pages(&app, uri, LIGHT, 4).await;
    let published: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| s(r, "PubDate")).collect();
    assert_eq!(
        published.into_iter().collect::<Vec<_>>(),
        ["2024-11-08", "2024-11-14", "2024-11-21", "2024-11-28"]
    );
    assert_eq!(rows.len(), 16);
    let keys = first.first_keys();
    assert_eq!(
        (keys.len(), &keys[..5]),
        (
            56,
            &["PubDate", "StDate", "EnDate", "Section", "PropSell"].map(String::from)[..]
        )
    );
    assert_eq!(keys.last().map(String::as_str), Some("OthFinBal"));
    let row = &rows[0];
    assert_eq!(
        (s(row, "StDate"), s(row, "EnDate"), s(row, "Section")),
        ("2024-10-28", "2024-11-01", "TSEPrime")
    );
    assert_eq!(n(row, "TotSell"), n(row, "PropSell") + n(row, "BrkSell"));
    let brokerage: f64 = [
        "Ind", "Frgn", "SecCo", "InvTr", "BusCo", "OthCo", "InsCo", "Bank", "TrstBnk", "OthFin",
    ]
    .iter()
    .map(|t| n(row, &format!("{t}Buy")))
    .sum();
    assert_eq!(brokerage, n(row, "BrkBuy"));
    assert_eq!(n(row, "FrgnBal"), n(row, "FrgnBuy") - n(row, "FrgnSell"));
    assert_eq!(n(row, "IndTot"), n(row, "IndBuy") + n(row, "IndSell"));
    let growth = get(&app, &format!("{uri}&section=TSEGrowth"), LIGHT).await;
    assert!(growth.data().iter().all(|r| s(r, "Section") == "TSEGrowth"));
    let bad = get(&app, &format!("{uri}&section=NYSE"), LIGHT).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_earnings_calendar_matches_the_next_days_disclosures() {
    let app = app(10);
    set_clock(&app, "2026-11-09T18:00:00+09:00").await;
    let (rows, first) = pages(&app, "/v2/equities/earnings-calendar", FREE, 2).await;
    assert_keys(
        &first,
        &["Date", "Code", "CoName", "FY", "SectorNm", "FQ", "Section"],
    );
    set_clock(&app, "2026-11-10T18:00:00+09:00").await;
    let (disclosed, _) = get_all(&app, "/v2/fins/summary?date=20261110", PREMIUM).await;
    let march_or_september = disclosed
        .iter()
        .filter(|r| s(r, "CurFYEn").ends_with("-03-31") || s(r, "CurFYEn").ends_with("-09-30"))
        .count();
    assert_eq!(rows.len(), march_or_september);
    assert!(
        rows.iter()
            .all(|r| ["2026-11-10", ""].contains(&s(r, "Date")))
    );
    assert!(
        rows.iter().any(|r| s(r, "Date").is_empty()),
        "some dates are undecided"
    );
    let row = &rows[0];
    let master = get(
        &app,
        &format!("/v2/equities/master?code={}&date=20261110", s(row, "Code")),
        PREMIUM,
    )
    .await;
    let master = &master.data()[0];
    assert_eq!(s(row, "CoName"), s(master, "CoName"));
    assert_eq!(s(row, "SectorNm"), s(master, "S33Nm"));
    assert_eq!(s(row, "Section"), s(master, "MktNm"));
    assert!(["3月31日", "9月30日"].contains(&s(row, "FY")));
    assert!(["第１四半期", "第２四半期", "第３四半期", "本決算"].contains(&s(row, "FQ")));
}

#[tokio::test]
async fn a_split_halves_adjusted_prices_before_its_ex_date() {
    let split = stock_split("8697").expect("JPX splits 1:2");
    assert_eq!(
        (split.ex_date, split.from, split.to),
        (day("2023-09-28"), 1, 2)
    );
    let app = app(1000);
    let uri = "/v2/equities/bars/daily?code=8697&from=20230926&to=20230929";
    let rows = get(&app, uri, LIGHT).await.data().clone();
    let factors: Vec<f64> = rows.iter().map(|r| n(r, "AdjFactor")).collect();
    assert_eq!(factors, [1.0, 1.0, 0.5, 1.0]);
    let before = &rows[1];
    assert_eq!(n(before, "AdjC"), (n(before, "C") * 5.0).round() / 10.0);
    assert_eq!(n(before, "AdjVo"), n(before, "Vo") * 2.0);
    assert_eq!(n(&rows[2], "AdjC"), n(&rows[2], "C"));
    let expected: Vec<Value> = trading_days(day("2023-09-26"), day("2023-09-29"))
        .map(|d| Value::Object(daily_bar("86970", d, Plan::Light).expect("row")))
        .collect();
    assert_eq!(rows, expected);
    let splits = issue_codes()
        .iter()
        .filter(|c| stock_split(c).is_some())
        .count();
    assert!((10..=40).contains(&splits), "{splits}");
}
