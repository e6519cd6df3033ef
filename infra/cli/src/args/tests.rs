//! The command line's parsing, its value parsers and its help.

use clap::{CommandFactory, Parser};

use super::schedules::window;
use super::*;

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn fetch_parses_symbols_dates_and_params() {
    let cli = Cli::try_parse_from([
        "moomoo",
        "fetch",
        "eq-bars-daily",
        "--symbols",
        "7203,6758",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-30",
        "--param",
        "x=1",
        "--out",
        "a.parquet",
    ])
    .unwrap();
    let Command::Fetch(f) = cli.command else {
        panic!("not fetch")
    };
    assert_eq!(f.symbols, ["7203", "6758"]);
    assert_eq!(f.data_source, "jquants-v2");
    assert_eq!(
        f.params().into_iter().collect::<Vec<_>>(),
        [
            ("from".to_owned(), "2026-01-05".to_owned()),
            ("to".to_owned(), "2026-01-30".to_owned()),
            ("x".to_owned(), "1".to_owned()),
        ]
    );
}

#[test]
fn bad_dates_are_usage_errors() {
    let e = Cli::try_parse_from(["moomoo", "fetch", "eq-bars-daily", "--from", "2026-13-01"])
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn windows_are_written_compactly() {
    assert_eq!(
        window("previous-trading-day").unwrap().0,
        serde_json::json!({"kind": "previous-trading-day"})
    );
    assert_eq!(
        window("last-trading-days:5").unwrap().0,
        serde_json::json!({"kind": "last-trading-days", "days": 5})
    );
    assert_eq!(
        window("since-last-success:2026-01-05").unwrap().0,
        serde_json::json!({"kind": "since-last-success", "start": "2026-01-05"})
    );
    for bad in [
        "yesterday",
        "previous-trading-day:1",
        "last-trading-days",
        "last-trading-days:0",
        "last-trading-days:251",
        "since-last-success:2026-13-01",
    ] {
        assert!(window(bad).is_err(), "{bad}");
    }
}

#[test]
fn data_get_parses_its_dataset_and_refuses_reserved_params() {
    let cli = Cli::try_parse_from([
        "moomoo",
        "data",
        "get",
        "jquants-v2/eq-bars-daily",
        "--symbols",
        "72030,67580",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-31",
        "--refresh",
        "--param",
        "x=1",
    ])
    .unwrap();
    let Command::Data(DataCommand::Get(g)) = cli.command else {
        panic!("not data get")
    };
    assert_eq!(g.dataset.to_string(), "jquants-v2/eq-bars-daily");
    assert_eq!(g.symbols, ["72030", "67580"]);
    assert!(g.refresh);
    assert_eq!(g.params, [("x".to_owned(), "1".to_owned())]);
    let range = ["--from", "2024-01-01", "--to", "2024-01-31"];
    for bad in ["eq-bars-daily", "/eq", "a/b/c", "a/b?c=1", "jquants-v2/"] {
        let e = Cli::try_parse_from(["moomoo", "data", "get", bad].into_iter().chain(range))
            .unwrap_err();
        assert_eq!(e.exit_code(), 2, "{bad}");
    }
    let e =
        Cli::try_parse_from(["moomoo", "data", "get", "a/b", "--from", "2024-01-01"]).unwrap_err();
    assert_eq!(e.exit_code(), 2, "--to is required");
    let e =
        Cli::try_parse_from(["moomoo", "data", "rm", "a/b", "--from", "2024-01-01"]).unwrap_err();
    assert_eq!(e.exit_code(), 2, "a range has both ends");
    let e = Cli::try_parse_from([
        "moomoo", "data", "sync", "a/b", "--dir", "d", "--param", "held=all",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("has its own option"), "{e}");
}

#[test]
fn the_help_lists_the_exit_codes() {
    let help = Cli::command().render_long_help().to_string();
    assert!(help.contains("130  interrupted by Ctrl-C"), "{help}");
    assert!(help.contains("MOOMOO_API_KEY"), "{help}");
}
