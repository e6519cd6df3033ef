//! The OpenAPI document is valid 3.1 and names every route the router serves.

use utoipa::OpenApi;

#[test]
fn the_document_lists_every_route_and_is_3_1() {
    let doc = serde_json::to_value(api::openapi::ApiDoc::openapi()).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let router = include_str!("../src/lib.rs");
    for line in router.lines().filter(|l| l.contains("\"/v1/")) {
        let path = line.split('"').nth(1).unwrap();
        assert!(paths.contains(&path), "{path} is served but not documented");
    }
    // A developer's switch for this test, not the function's configuration.
    #[allow(clippy::disallowed_methods)]
    let dump = std::env::var_os("DUMP_OPENAPI").is_some();
    if dump {
        println!("{}", serde_json::to_string_pretty(&doc).unwrap());
    }
}
