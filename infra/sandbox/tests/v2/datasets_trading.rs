//! `/markets/margin-alert`, `/markets/breakdown` and `/indices/*`.

use http::StatusCode;
use sandbox::{Plan, daily_bar, issue_codes};

use crate::{LIGHT, PREMIUM, STANDARD, app, assert_keys, day, get, get_all, n, pages, s};

#[tokio::test]
async fn margin_alerts_carry_their_reasons_as_an_object() {
    let app = app(10);
    let (rows, first) = pages(&app, "/v2/markets/margin-alert?date=20241202", STANDARD, 3).await;
    assert_keys(
        &first,
        &[
            "PubDate",
            "Code",
            "AppDate",
            "PubReason",
            "ShrtOut",
            "ShrtOutChg",
            "ShrtOutRatio",
            "LongOut",
            "LongOutChg",
            "LongOutRatio",
            "SLRatio",
            "ShrtNegOut",
            "ShrtNegOutChg",
            "ShrtStdOut",
            "ShrtStdOutChg",
            "LongNegOut",
            "LongNegOutChg",
            "LongStdOut",
            "LongStdOutChg",
            "TSEMrgnRegCls",
        ],
    );
    let share = rows.len() as f64 / issue_codes().len() as f64;
    assert!((0.005..0.04).contains(&share), "{}", rows.len());
    for row in &rows {
        assert_eq!(
            (s(row, "PubDate"), s(row, "AppDate")),
            ("2024-12-02", "2024-11-29")
        );
        let reasons = row["PubReason"].as_object().expect("object");
        assert_eq!(reasons.len(), 6);
        assert_eq!(reasons.values().filter(|v| *v == "1").count(), 1);
        assert_eq!(
            n(row, "ShrtOut"),
            n(row, "ShrtNegOut") + n(row, "ShrtStdOut")
        );
        assert_eq!(
            n(row, "LongOut"),
            n(row, "LongNegOut") + n(row, "LongStdOut")
        );
        assert!(row["TSEMrgnRegCls"].is_string());
    }
}

#[tokio::test]
async fn breakdowns_split_the_days_volume() {
    let app = app(1000);
    let (rows, first) = pages(&app, "/v2/markets/breakdown?date=20241202", PREMIUM, 4).await;
    let traded = issue_codes()
        .iter()
        .filter(|c| {
            daily_bar(c, day("2024-12-02"), Plan::Premium).is_some_and(|b| !b["Vo"].is_null())
        })
        .count();
    assert_eq!(rows.len(), traded);
    let sells = [
        "LongSellVo",
        "ShrtNoMrgnVo",
        "MrgnSellNewVo",
        "MrgnSellCloseVo",
    ];
    let buys = ["LongBuyVo", "MrgnBuyNewVo", "MrgnBuyCloseVo"];
    let values = [
        "LongSellVa",
        "ShrtNoMrgnVa",
        "MrgnSellNewVa",
        "MrgnSellCloseVa",
        "LongBuyVa",
        "MrgnBuyNewVa",
        "MrgnBuyCloseVa",
    ];
    let mut keys = vec!["Date", "Code"];
    keys.extend(values);
    keys.extend(sells);
    keys.extend(buys);
    assert_keys(&first, &keys);
    let row = &rows[0];
    let bar = serde_json::Value::Object(
        daily_bar(s(row, "Code"), day("2024-12-02"), Plan::Premium).expect("traded"),
    );
    assert_eq!(sells.iter().map(|k| n(row, k)).sum::<f64>(), n(&bar, "Vo"));
    assert_eq!(buys.iter().map(|k| n(row, k)).sum::<f64>(), n(&bar, "Vo"));
    assert!(values.iter().all(|k| n(row, k) >= 0.0));
    let early = get(&app, "/v2/markets/breakdown?date=20150302", PREMIUM).await;
    assert!(early.data().is_empty(), "data start on 2015-04-01");
}

#[tokio::test]
async fn index_bars_and_topix_agree() {
    let app = app(10);
    let (rows, first) = pages(&app, "/v2/indices/bars/daily?date=20241202", STANDARD, 4).await;
    assert_eq!(rows.len(), 44);
    assert_keys(&first, &["Date", "Code", "O", "H", "L", "C"]);
    assert_eq!(
        (s(&rows[0], "Code"), s(&rows[0], "Date")),
        ("0000", "2024-12-02")
    );
    assert!(rows.iter().all(|r| n(r, "L") <= n(r, "O").min(n(r, "C")) && n(r, "H") >= n(r, "O").max(n(r, "C"))));
    let (topix, first_topix) = pages(
        &app,
        "/v2/indices/bars/daily/topix?from=20241101&to=20241130",
        LIGHT,
        2,
    )
    .await;
    assert_keys(&first_topix, &["Date", "O", "H", "L", "C"]);
    let (index, _) = get_all(
        &app,
        "/v2/indices/bars/daily?code=0000&from=20241101&to=20241130",
        STANDARD,
    )
    .await;
    assert_eq!(topix.len(), index.len());
    for (t, i) in topix.iter().zip(&index) {
        for key in ["Date", "O", "H", "L", "C"] {
            assert_eq!(t[key], i[key], "{key}");
        }
    }
    assert_eq!(
        get(&app, "/v2/indices/bars/daily?date=20241202", LIGHT)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
