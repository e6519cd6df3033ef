//! `/derivatives/bars/daily/*`: futures, options and Nikkei 225 options.

use http::StatusCode;

use crate::{LIGHT, PREMIUM, STANDARD, app, assert_keys, get, get_all, n, pages, s};

const SESSIONS: [&str; 16] = [
    "O", "H", "L", "C", "MO", "MH", "ML", "MC", "EO", "EH", "EL", "EC", "AO", "AH", "AL", "AC",
];

#[tokio::test]
async fn futures_list_three_contracts_per_product() {
    let app = app(5);
    let (rows, first) = pages(
        &app,
        "/v2/derivatives/bars/daily/futures?date=20241202",
        PREMIUM,
        3,
    )
    .await;
    assert_eq!(rows.len(), 12);
    let mut keys = vec!["Code", "ProdCat", "Date"];
    keys.extend(SESSIONS);
    keys.extend([
        "Vo",
        "OI",
        "Va",
        "CM",
        "VoOA",
        "EmMrgnTrgDiv",
        "LTD",
        "SQD",
        "Settle",
        "CCMFlag",
    ]);
    assert_keys(&first, &keys);
    let codes: Vec<&str> = rows.iter().map(|r| s(r, "Code")).collect();
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "{codes:?}");
    let large: Vec<_> = rows
        .iter()
        .filter(|r| s(r, "ProdCat") == "NK225F")
        .collect();
    let months: Vec<&str> = large.iter().map(|r| s(r, "CM")).collect();
    assert_eq!(months, ["2024-12", "2025-03", "2025-06"]);
    let front = large[0];
    assert_eq!(
        (s(front, "SQD"), s(front, "LTD"), s(front, "CCMFlag")),
        ("2024-12-13", "2024-12-12", "1")
    );
    assert_eq!(
        (s(front, "Date"), s(front, "EmMrgnTrgDiv")),
        ("2024-12-02", "002")
    );
    assert_eq!(
        (s(front, "MO"), s(front, "MC")),
        ("", ""),
        "no morning session since 2016-07-19"
    );
    assert_eq!(
        n(front, "O"),
        n(front, "EO"),
        "the day opens with the night session"
    );
    assert_eq!(
        (n(front, "C"), n(front, "Settle")),
        (n(front, "AC"), n(front, "AC"))
    );
    assert!(
        n(front, "H") >= n(front, "EH").max(n(front, "AH")) && n(front, "Vo") > n(front, "VoOA")
    );
    assert_eq!(rows.iter().filter(|r| s(r, "CCMFlag") == "1").count(), 4);
    let central = get(
        &app,
        "/v2/derivatives/bars/daily/futures?date=20241202&contract_flag=1",
        PREMIUM,
    )
    .await;
    assert_eq!(central.data().len(), 4);
    let topix = get(
        &app,
        "/v2/derivatives/bars/daily/futures?date=20241202&category=TOPIXF",
        PREMIUM,
    )
    .await;
    assert!(topix.data().len() == 3 && topix.data().iter().all(|r| s(r, "ProdCat") == "TOPIXF"));
    let old = get(
        &app,
        "/v2/derivatives/bars/daily/futures?date=20150601&category=NK225F",
        PREMIUM,
    )
    .await;
    assert!(
        old.data()[0]["MO"].is_number(),
        "morning sessions before 2016-07-19"
    );
    let missing = get(&app, "/v2/derivatives/bars/daily/futures", PREMIUM).await;
    assert_eq!(
        missing.message(),
        "This API requires at least 1 parameter as follows; date"
    );
    let standard = get(
        &app,
        "/v2/derivatives/bars/daily/futures?date=20241202",
        STANDARD,
    )
    .await;
    assert_eq!(standard.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn options_cover_index_and_securities_series() {
    let app = app(50);
    let (rows, first) = pages(
        &app,
        "/v2/derivatives/bars/daily/options?date=20241202",
        PREMIUM,
        4,
    )
    .await;
    assert_eq!(rows.len(), 84 + 22 + 50);
    let mut keys = vec!["Code", "ProdCat", "UndSSO", "Date"];
    keys.extend(SESSIONS);
    keys.extend([
        "Vo",
        "OI",
        "Va",
        "CM",
        "Strike",
        "VoOA",
        "EmMrgnTrgDiv",
        "PCDiv",
        "LTD",
        "SQD",
        "Settle",
        "Theo",
        "BaseVol",
        "UnderPx",
        "IV",
        "IR",
        "CCMFlag",
    ]);
    assert_keys(&first, &keys);
    let toyota = get(
        &app,
        "/v2/derivatives/bars/daily/options?date=20241202&code=7203",
        PREMIUM,
    )
    .await;
    assert_eq!(toyota.data().len(), 10);
    assert!(
        toyota
            .data()
            .iter()
            .all(|r| s(r, "UndSSO") == "72030" && s(r, "ProdCat") == "EQOP")
    );
    let row = &rows[0];
    assert!(
        ["1", "2"].contains(&s(row, "PCDiv")) && n(row, "Strike") > 0.0 && n(row, "Theo") > 0.0
    );
    assert!(n(row, "IV") > 10.0 && n(row, "IV") < 30.0 && n(row, "IR") == 0.1);
    let puts_in_the_money = rows
        .iter()
        .filter(|r| s(r, "PCDiv") == "1" && n(r, "Strike") > n(r, "UnderPx") * 1.05)
        .all(|r| n(r, "Theo") >= n(r, "Strike") - n(r, "UnderPx") - 1e-6);
    assert!(
        puts_in_the_money,
        "a put is worth at least its intrinsic value"
    );
    let uri = "/v2/derivatives/bars/daily/options?date=20241202&contract_flag=1";
    let (central, _) = get_all(&app, uri, PREMIUM).await;
    assert_eq!(central.len(), 42 + 22 + 50);
    assert!(central.iter().all(|r| s(r, "CCMFlag") == "1"));
}

#[tokio::test]
async fn nikkei_options_use_the_index_option_columns() {
    let app = app(30);
    let (rows, first) = pages(
        &app,
        "/v2/derivatives/bars/daily/options/225?date=20241202",
        STANDARD,
        3,
    )
    .await;
    assert_eq!(rows.len(), 84);
    assert_keys(
        &first,
        &[
            "Date",
            "Code",
            "O",
            "H",
            "L",
            "C",
            "EO",
            "EH",
            "EL",
            "EC",
            "AO",
            "AH",
            "AL",
            "AC",
            "Vo",
            "OI",
            "Va",
            "CM",
            "Strike",
            "VoOA",
            "EmMrgnTrgDiv",
            "PCDiv",
            "LTD",
            "SQD",
            "Settle",
            "Theo",
            "BaseVol",
            "UnderPx",
            "IV",
            "IR",
        ],
    );
    let months: std::collections::BTreeSet<&str> = rows.iter().map(|r| s(r, "CM")).collect();
    assert_eq!(
        months.into_iter().collect::<Vec<_>>(),
        ["2024-12", "2025-01"]
    );
    let underlying: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r["UnderPx"].to_string()).collect();
    assert_eq!(underlying.len(), 1, "one Nikkei close for all series");
    assert_eq!(
        get(
            &app,
            "/v2/derivatives/bars/daily/options/225?date=20241202",
            LIGHT
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}
