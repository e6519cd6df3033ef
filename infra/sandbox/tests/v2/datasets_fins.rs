//! `/fins/summary`, `/fins/details`, `/fins/dividend`: string values, `""` fields, paging.

use http::StatusCode;

use crate::{FREE, PREMIUM, STANDARD, app, assert_keys, get, pages, s};

const SUMMARY_KEYS: [&str; 107] = [
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

fn is_amount(text: &str) -> bool {
    !text.is_empty()
        && text
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
}

#[tokio::test]
async fn summary_rows_are_strings_with_blanks_where_not_reported() {
    let app = app(50);
    let (rows, first) = pages(&app, "/v2/fins/summary?date=20240510", PREMIUM, 3).await;
    assert!(rows.len() > 100, "{}", rows.len());
    assert_keys(&first, &SUMMARY_KEYS);
    assert!(rows.iter().all(|r| {
        r.as_object()
            .is_some_and(|o| o.values().all(serde_json::Value::is_string))
    }));
    let numbers: Vec<&str> = rows.iter().map(|r| s(r, "DiscNo")).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] <= w[1]),
        "ordered by DiscNo"
    );
    assert!(
        rows.iter()
            .all(|r| s(r, "DiscDate") == "2024-05-10" && s(r, "DiscNo").starts_with("20240510"))
    );
    let ifrs = rows
        .iter()
        .find(|r| s(r, "DocType").ends_with("_IFRS"))
        .expect("an IFRS issuer");
    let jp = rows
        .iter()
        .find(|r| s(r, "DocType").ends_with("_JP") && s(r, "CurPerType") == "FY")
        .expect("a JP GAAP year end");
    assert_eq!(s(ifrs, "OdP"), "", "no ordinary profit under IFRS");
    assert!(is_amount(s(jp, "OdP")));
    // A full-year JP GAAP row: every field has its meaning.
    assert!(
        s(jp, "DocType").starts_with("FYFinancialStatements_"),
        "{jp}"
    );
    assert_eq!(s(jp, "CurPerSt"), s(jp, "CurFYSt"));
    assert_eq!(s(jp, "CurPerEn"), s(jp, "CurFYEn"));
    assert!(s(jp, "NxtFYSt") > s(jp, "CurFYEn") && !s(jp, "NxtFYEn").is_empty());
    for key in [
        "Sales", "OP", "NP", "EPS", "TA", "Eq", "EqAR", "BPS", "CFO", "CFI", "CFF", "CashEq",
        "DivAnn", "NxFSales", "NxFNp", "ShOutFY", "TrShFY", "AvgSh",
    ] {
        assert!(is_amount(s(jp, key)), "{key} = {:?}", s(jp, key));
    }
    for key in [
        "DEPS",
        "Div1Q",
        "Div3Q",
        "DivUnit",
        "FSales",
        "FOP",
        "FNP",
        "FDiv2Q",
        "FNCSales",
        "NxFNCNP",
        "SigChgInC",
        "RetroRst",
    ] {
        assert_eq!(s(jp, key), "", "{key}");
    }
    assert_eq!((s(jp, "MatChgSub"), s(jp, "ChgAcEst")), ("false", "false"));
    let sales: f64 = s(jp, "Sales").parse().expect("number");
    let op: f64 = s(jp, "OP").parse().expect("number");
    assert!(op < sales && op > 0.0);
    let avg: f64 = s(jp, "AvgSh").parse().expect("number");
    let issued: f64 = s(jp, "ShOutFY").parse().expect("number");
    let treasury: f64 = s(jp, "TrShFY").parse().expect("number");
    assert_eq!(avg, issued - treasury);
}

#[tokio::test]
async fn summary_by_code_follows_the_plan_window_and_quarters() {
    let app = app(3);
    let (rows, _) = pages(&app, "/v2/fins/summary?code=8697", FREE, 3).await;
    assert!(
        (7..=10).contains(&rows.len()),
        "two years of quarters: {}",
        rows.len()
    );
    assert!(
        rows.iter()
            .all(|r| s(r, "Code") == "86970" && s(r, "OdP").is_empty())
    );
    let kinds: Vec<&str> = rows.iter().map(|r| s(r, "CurPerType")).collect();
    assert!(
        kinds.windows(4).all(|w| {
            let mut sorted = w.to_vec();
            sorted.sort_unstable();
            sorted == ["1Q", "2Q", "3Q", "FY"]
        }),
        "{kinds:?}"
    );
    let missing = get(&app, "/v2/fins/summary", FREE).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.message(),
        "This API requires at least 1 parameter as follows; date, code"
    );
}

#[tokio::test]
async fn details_carry_the_statement_items_for_the_same_disclosures() {
    let app = app(50);
    let (rows, first) = pages(&app, "/v2/fins/details?date=20240510", PREMIUM, 3).await;
    let (summary, _) = pages(&app, "/v2/fins/summary?date=20240510", PREMIUM, 3).await;
    assert_eq!(rows.len(), summary.len());
    assert_keys(
        &first,
        &["DiscDate", "DiscTime", "Code", "DiscNo", "DocType", "FS"],
    );
    let row = &rows[0];
    for key in ["DiscDate", "DiscTime", "Code", "DiscNo", "DocType"] {
        assert_eq!(row[key], summary[0][key], "{key}");
    }
    let fs = row["FS"].as_object().expect("FS is an object");
    assert!(fs.len() >= 9 && fs.values().all(serde_json::Value::is_string));
    assert!(fs.keys().any(|k| k.starts_with("Total assets")));
    let ifrs = rows
        .iter()
        .find(|r| s(r, "DocType").ends_with("_IFRS"))
        .expect("IFRS");
    assert!(
        ifrs["FS"]
            .as_object()
            .expect("object")
            .contains_key("Goodwill (IFRS)")
    );
    assert_eq!(
        get(&app, "/v2/fins/details?date=20240510", STANDARD)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn dividends_are_announced_twice_a_year_with_their_dates() {
    let app = app(5);
    let uri = "/v2/fins/dividend?code=7203&from=20200101&to=20241231";
    let (rows, first) = pages(&app, uri, PREMIUM, 2).await;
    assert_eq!(rows.len(), 10, "interim and year-end, five years");
    assert_keys(
        &first,
        &[
            "PubDate",
            "PubTime",
            "Code",
            "RefNo",
            "StatCode",
            "BoardDate",
            "IFCode",
            "FRCode",
            "IFTerm",
            "DivRate",
            "RecDate",
            "ExDate",
            "ActRecDate",
            "PayDate",
            "CARefNo",
            "DistAmt",
            "RetEarn",
            "DeemDiv",
            "DeemCapGains",
            "NetAssetDecRatio",
            "CommSpecCode",
            "CommDivRate",
            "SpecDivRate",
        ],
    );
    for row in &rows {
        assert!(
            row.as_object()
                .is_some_and(|o| o.values().all(serde_json::Value::is_string))
        );
        assert!(s(row, "RecDate").ends_with("-03-31") || s(row, "RecDate").ends_with("-09-30"));
        assert!(s(row, "ExDate") < s(row, "RecDate") && s(row, "PayDate") > s(row, "RecDate"));
        assert!(s(row, "PubDate") > s(row, "RecDate") && s(row, "BoardDate") == s(row, "PubDate"));
        assert_eq!(
            s(row, "IFCode"),
            if s(row, "RecDate").ends_with("-09-30") {
                "1"
            } else {
                "2"
            }
        );
        assert_eq!(s(row, "IFTerm"), &s(row, "RecDate")[..7]);
        assert!(is_amount(s(row, "DivRate")) && s(row, "RefNo") == s(row, "CARefNo"));
        assert_eq!(
            (s(row, "Code"), s(row, "StatCode"), s(row, "DistAmt")),
            ("72030", "1", "")
        );
    }
}
