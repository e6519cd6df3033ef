//! Plan gating and required parameters across every dataset.

use http::StatusCode;

use crate::{FREE, LIGHT, PREMIUM, STANDARD, app, get};

/// (path with valid parameters, lowest plan that may call it).
const ENDPOINTS: [(&str, &str); 20] = [
    ("/v2/equities/master?date=20250602", FREE),
    ("/v2/equities/bars/daily?date=20250602", FREE),
    ("/v2/equities/bars/daily/am", PREMIUM),
    ("/v2/equities/bars/minute?code=7203&date=20261120", LIGHT),
    (
        "/v2/equities/investor-types?from=20250601&to=20250630",
        LIGHT,
    ),
    ("/v2/equities/earnings-calendar", FREE),
    ("/v2/fins/summary?date=20250602", FREE),
    ("/v2/fins/details?date=20250602", PREMIUM),
    ("/v2/fins/dividend?date=20250602", PREMIUM),
    ("/v2/markets/calendar?from=20250601&to=20250630", FREE),
    ("/v2/markets/margin-interest?date=20250606", STANDARD),
    ("/v2/markets/short-ratio?date=20250602", STANDARD),
    ("/v2/markets/short-sale-report?disc_date=20250602", STANDARD),
    ("/v2/markets/margin-alert?date=20250602", STANDARD),
    ("/v2/markets/breakdown?date=20250602", PREMIUM),
    ("/v2/indices/bars/daily?date=20250602", STANDARD),
    (
        "/v2/indices/bars/daily/topix?from=20250601&to=20250630",
        LIGHT,
    ),
    ("/v2/derivatives/bars/daily/futures?date=20250602", PREMIUM),
    ("/v2/derivatives/bars/daily/options?date=20250602", PREMIUM),
    (
        "/v2/derivatives/bars/daily/options/225?date=20250602",
        STANDARD,
    ),
];

const PLANS: [&str; 4] = [FREE, LIGHT, STANDARD, PREMIUM];

#[tokio::test]
async fn endpoints_above_the_plan_get_403_and_the_rest_answer() {
    let app = app(1000);
    for (uri, lowest) in ENDPOINTS {
        let rank = PLANS.iter().position(|p| *p == lowest).expect("a plan");
        for (i, key) in PLANS.iter().enumerate() {
            let reply = get(&app, uri, key).await;
            if i < rank {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri} with {key}");
                assert!(reply.message().contains("plan"), "{uri}: {}", reply.text);
            } else {
                // The clock starts at 18:00 JST on TODAY, inside the morning bars' window.
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{uri} with {key}: {}",
                    reply.text
                );
                assert!(
                    reply.json.get("data").is_some_and(|d| d.is_array()),
                    "{uri}"
                );
            }
        }
    }
}

#[tokio::test]
async fn missing_required_parameters_get_400_naming_them() {
    let app = app(1000);
    let cases = [
        ("/v2/equities/bars/minute", "date, code"),
        ("/v2/fins/details", "date, code"),
        ("/v2/fins/dividend", "date, code"),
        ("/v2/markets/margin-interest", "date, code"),
        ("/v2/markets/margin-alert", "date, code"),
        ("/v2/markets/breakdown", "date, code"),
        ("/v2/indices/bars/daily", "date, code"),
        ("/v2/derivatives/bars/daily/options", "date"),
        ("/v2/derivatives/bars/daily/options/225", "date"),
    ];
    for (uri, names) in cases {
        let reply = get(&app, uri, PREMIUM).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        let expected = format!("This API requires at least 1 parameter as follows; {names}");
        assert_eq!(reply.message(), expected, "{uri}");
    }
    for uri in [
        "/v2/equities/master",
        "/v2/equities/investor-types",
        "/v2/indices/bars/daily/topix",
        "/v2/markets/calendar",
    ] {
        assert_eq!(
            get(&app, uri, PREMIUM).await.status,
            StatusCode::OK,
            "{uri} needs no parameter"
        );
    }
}
