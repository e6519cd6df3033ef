//! `/markets/calendar`, `/markets/margin-interest`, `/markets/short-ratio`,
//! `/markets/short-sale-report`.

use http::StatusCode;
use sandbox::trading_days;

use crate::{FREE, LIGHT, STANDARD, app, assert_keys, day, get, get_all, n, pages, s};

#[tokio::test]
async fn the_calendar_is_unpaged_with_holiday_divisions() {
    let app = app(3);
    let reply = get(
        &app,
        "/v2/markets/calendar?from=20240101&to=20241231",
        LIGHT,
    )
    .await;
    assert_eq!((reply.status, reply.page_key()), (StatusCode::OK, None));
    assert_keys(&reply, &["Date", "HolDiv"]);
    let rows = reply.data();
    assert_eq!(rows.len(), 366);
    let count = |div: &str| rows.iter().filter(|r| s(r, "HolDiv") == div).count();
    assert_eq!((count("1"), count("2")), (245, 0));
    let division = |date: &str| {
        rows.iter()
            .find(|r| s(r, "Date") == date)
            .map(|r| s(r, "HolDiv"))
    };
    assert_eq!(division("2024-12-02"), Some("1"));
    assert_eq!(division("2024-12-31"), Some("0"));
    assert_eq!(
        division("2024-01-01"),
        Some("0"),
        "no holiday trading over New Year"
    );
    assert_eq!(
        division("2024-02-12"),
        Some("3"),
        "OSE holiday trading on a weekday holiday"
    );
    assert_eq!(division("2024-07-13"), Some("0"));
    let ones = get(
        &app,
        "/v2/markets/calendar?hol_div=1&from=20240101&to=20241231",
        LIGHT,
    )
    .await;
    assert_eq!(ones.data().len(), 245);
    let next_year = get(
        &app,
        "/v2/markets/calendar?from=20271201&to=20271231",
        LIGHT,
    )
    .await;
    assert_eq!(
        next_year.status,
        StatusCode::OK,
        "paid plans see to the end of next year"
    );
    let free = get(&app, "/v2/markets/calendar?from=20240101&to=20240131", FREE).await;
    assert_eq!(free.status, StatusCode::BAD_REQUEST);
    let bad = get(&app, "/v2/markets/calendar?hol_div=9", LIGHT).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn weekly_margin_interest_covers_margin_issues_on_week_ends() {
    let app = app(1000);
    let (rows, first) = pages(
        &app,
        "/v2/markets/margin-interest?date=20241129",
        STANDARD,
        2,
    )
    .await;
    assert_keys(
        &first,
        &[
            "Date",
            "Code",
            "ShrtVol",
            "LongVol",
            "ShrtNegVol",
            "LongNegVol",
            "ShrtStdVol",
            "LongStdVol",
            "IssType",
        ],
    );
    let (master, _) = get_all(&app, "/v2/equities/master?date=20241129", STANDARD).await;
    let eligible: Vec<&str> = master
        .iter()
        .filter(|r| s(r, "Mrgn") != "3")
        .map(|r| s(r, "Code"))
        .collect();
    let codes: Vec<&str> = rows.iter().map(|r| s(r, "Code")).collect();
    assert_eq!(codes, eligible);
    let row = &rows[0];
    let issuer = master
        .iter()
        .find(|r| s(r, "Code") == s(row, "Code"))
        .expect("listed");
    assert_eq!(
        (s(row, "Date"), s(row, "IssType")),
        ("2024-11-29", s(issuer, "Mrgn"))
    );
    assert_eq!(
        n(row, "ShrtVol"),
        n(row, "ShrtNegVol") + n(row, "ShrtStdVol")
    );
    assert_eq!(
        n(row, "LongVol"),
        n(row, "LongNegVol") + n(row, "LongStdVol")
    );
    let thursday = get(&app, "/v2/markets/margin-interest?date=20241128", STANDARD).await;
    assert!(thursday.data().is_empty());
    assert_eq!(
        get(&app, "/v2/markets/margin-interest?date=20241129", LIGHT)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn short_ratio_has_one_row_per_sector_and_day() {
    let app = app(10);
    let (rows, first) = pages(&app, "/v2/markets/short-ratio?date=20241202", STANDARD, 4).await;
    assert_eq!(rows.len(), 33);
    assert_keys(
        &first,
        &[
            "Date",
            "S33",
            "SellExShortVa",
            "ShrtWithResVa",
            "ShrtNoResVa",
        ],
    );
    let row = &rows[0];
    assert_eq!((s(row, "Date"), s(row, "S33")), ("2024-12-02", "0050"));
    assert!(n(row, "SellExShortVa") > 0.0 && n(row, "ShrtWithResVa") > n(row, "ShrtNoResVa"));
    let (month, _) = get_all(
        &app,
        "/v2/markets/short-ratio?s33=3700&from=20241101&to=20241130",
        STANDARD,
    )
    .await;
    assert_eq!(
        month.len(),
        trading_days(day("2024-11-01"), day("2024-11-30")).count()
    );
    let missing = get(&app, "/v2/markets/short-ratio", STANDARD).await;
    assert_eq!(
        missing.message(),
        "This API requires at least 1 parameter as follows; date, s33"
    );
}

#[tokio::test]
async fn short_sale_reports_are_disclosed_the_day_after_calculation() {
    let app = app(5);
    let (rows, first) = pages(
        &app,
        "/v2/markets/short-sale-report?disc_date=20241202",
        STANDARD,
        2,
    )
    .await;
    assert!(rows.len() >= 6, "{}", rows.len());
    assert_keys(
        &first,
        &[
            "DiscDate",
            "CalcDate",
            "Code",
            "SSName",
            "SSAddr",
            "DICName",
            "DICAddr",
            "FundName",
            "ShrtPosToSO",
            "ShrtPosShares",
            "ShrtPosUnits",
            "PrevRptDate",
            "PrevRptRatio",
            "Notes",
        ],
    );
    assert!(
        rows.iter()
            .all(|r| s(r, "DiscDate") == "2024-12-02" && s(r, "CalcDate") == "2024-11-29")
    );
    let row = &rows[0];
    assert!(!s(row, "SSName").is_empty() && !s(row, "SSAddr").is_empty());
    assert_eq!(
        (
            s(row, "DICName"),
            s(row, "DICAddr"),
            s(row, "FundName"),
            s(row, "Notes")
        ),
        ("", "", "", "")
    );
    assert!((0.005..0.031).contains(&n(row, "ShrtPosToSO")));
    assert_eq!(
        n(row, "ShrtPosUnits"),
        (n(row, "ShrtPosShares") / 100.0).round()
    );
    assert!(
        rows.iter()
            .any(|r| s(r, "PrevRptDate").is_empty() && s(r, "PrevRptRatio").is_empty())
    );
    assert!(
        rows.iter()
            .any(|r| s(r, "PrevRptDate") < "2024-11-29" && r["PrevRptRatio"].is_number())
    );
    let (by_calc, _) = get_all(
        &app,
        "/v2/markets/short-sale-report?calc_date=20241129",
        STANDARD,
    )
    .await;
    assert_eq!(by_calc, rows);
    let missing = get(
        &app,
        "/v2/markets/short-sale-report?disc_date_from=20241201",
        STANDARD,
    )
    .await;
    assert_eq!(
        missing.message(),
        "This API requires at least 1 parameter as follows; code, disc_date, calc_date"
    );
}
