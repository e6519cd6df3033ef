//! The Yahoo client against the sandbox: charts without a crumb, typed on Tokyo dates with
//! events; quotes sharing one lazily fetched cookie + crumb, renewed once on 401 "Invalid
//! Crumb" and on expiry by the injected clock; the plain-text 429 recognised as a rate limit.
//! Counts are read off the sandbox's request log.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime, TimeDelta};
use futures::future::join_all;
use sandbox::{FaultSpec, Plan, Sandbox, SandboxConfig, YAHOO};
use shared::clock::ManualClock;
use shared::domain::IssueCode;
use shared::provider::{Disposition, ProviderError};
use shared::yahoo::{COOL_DOWN, ChartRequest, Interval, YahooClient, YahooConfig};

const CRUMB: &str = "/v1/test/getcrumb";
const QUOTE: &str = "/v7/finance/quote";

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn code(s: &str) -> IssueCode {
    IssueCode::parse(s).unwrap()
}

struct Env {
    sb: Sandbox,
    clock: Arc<ManualClock>,
    client: YahooClient,
}

/// A sandbox whose clock reads Friday 2025-05-09, 18:00 JST, and a client on a clock set
/// to the same instant.
async fn env() -> Env {
    let sb = Sandbox::start(SandboxConfig {
        today: Some(day("2025-05-09")),
        ..SandboxConfig::default()
    })
    .await;
    let clock = Arc::new(ManualClock::new(sb.now()));
    let config = YahooConfig::at(&sb.yahoo_base_url(), &sb.yahoo_cookie_url());
    let client = YahooClient::new(&config, clock.clone());
    Env { sb, clock, client }
}

impl Env {
    /// Yahoo requests to `path`.
    fn count(&self, path: &str) -> u64 {
        let stats = self.sb.stats();
        stats
            .keys
            .get(YAHOO)
            .and_then(|k| k.by_path.get(path))
            .copied()
            .unwrap_or(0)
    }

    /// Requests to the cookie host.
    fn cookies(&self) -> u64 {
        self.count("/yahoo/") + self.count("/")
    }

    fn charts(&self) -> u64 {
        let stats = self.sb.stats();
        stats.keys.get(YAHOO).map_or(0, |k| {
            k.by_path
                .iter()
                .filter(|(p, _)| p.starts_with("/v8/finance/chart/"))
                .map(|(_, n)| n)
                .sum()
        })
    }
}

fn codes() -> Vec<IssueCode> {
    ["72030", "86970", "67580"].map(code).to_vec()
}

#[tokio::test]
async fn daily_charts_need_no_crumb_and_land_on_tokyo_trading_dates() {
    let env = env().await;
    let request = ChartRequest {
        interval: Interval::Day,
        from: day("2025-04-01"),
        to: day("2025-05-09"),
    };
    let chart = env.client.chart(&code("72030"), &request).await.unwrap();
    assert_eq!(chart.symbol, "7203.T");
    let dates: Vec<NaiveDate> = chart.bars.iter().map(|b| b.date).collect();
    // Days without a trade come back all-null and are dropped.
    let traded: Vec<_> = sandbox::trading_days(request.from, request.to)
        .filter_map(|d| Some((d, sandbox::daily_bar("72030", d, Plan::Premium)?)))
        .filter(|(_, row)| row["C"].is_number())
        .collect();
    assert_eq!(dates, traded.iter().map(|(d, _)| *d).collect::<Vec<_>>());
    for (bar, (_, row)) in chart.bars.iter().zip(&traded) {
        assert_eq!(bar.close, row["AdjC"].as_f64(), "{}", bar.date);
        assert_eq!(
            bar.volume,
            row["AdjVo"].as_f64().map(|v| v as u64),
            "{}",
            bar.date
        );
    }
    for bar in &chart.bars {
        assert_eq!(bar.code.as_str(), "72030");
        assert_eq!(bar.start.time(), NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert!(bar.close.is_some() && bar.volume.is_some() && bar.adj_close.is_some());
        assert!(bar.low <= bar.close && bar.close <= bar.high);
    }
    assert_eq!((env.charts(), env.count(CRUMB), env.cookies()), (1, 0, 0));
}

#[tokio::test]
async fn splits_and_dividends_come_with_the_chart() {
    let env = env().await;
    let (split_code, split) = sandbox::issue_codes()
        .iter()
        .find_map(|c| {
            sandbox::stock_split(c)
                .filter(|s| (day("2020-01-06")..=day("2025-04-30")).contains(&s.ex_date))
                .map(|s| (c.clone(), s))
        })
        .expect("the synthetic market has a recent split");
    let request = ChartRequest {
        interval: Interval::Day,
        from: split.ex_date - TimeDelta::days(7),
        to: split.ex_date + TimeDelta::days(7),
    };
    let chart = env
        .client
        .chart(&code(&split_code), &request)
        .await
        .unwrap();
    assert_eq!(chart.splits.len(), 1, "{chart:?}");
    let s = &chart.splits[0];
    assert_eq!(s.ex_date, split.ex_date);
    assert_eq!(
        (s.numerator, s.denominator),
        (f64::from(split.to), f64::from(split.from))
    );

    let year = ChartRequest {
        interval: Interval::Day,
        from: day("2024-05-01"),
        to: day("2025-04-30"),
    };
    let chart = env.client.chart(&code("72030"), &year).await.unwrap();
    assert!(
        !chart.dividends.is_empty(),
        "a year of Toyota pays dividends"
    );
    for d in &chart.dividends {
        assert!((year.from..=year.to).contains(&d.ex_date), "{d:?}");
        assert!(
            sandbox::is_trading_day(d.ex_date) && d.amount > 0.0,
            "{d:?}"
        );
    }
}

#[tokio::test]
async fn intraday_bars_keep_tokyo_session_times_and_their_lookback() {
    let env = env().await;
    let request = ChartRequest {
        interval: Interval::Minute5,
        from: day("2025-05-08"),
        to: day("2025-05-09"),
    };
    let chart = env.client.chart(&code("72030"), &request).await.unwrap();
    assert!(!chart.bars.is_empty());
    let (open, lunch, resume, close) = [(9, 0), (11, 30), (12, 30), (15, 30)]
        .map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap())
        .into();
    for bar in &chart.bars {
        let t = bar.start.time();
        assert!((open..=close).contains(&t), "{t}");
        // 11:30 itself holds the morning session's closing auction.
        assert!(!(t > lunch && t < resume), "lunch-break bar at {t}");
        assert!(bar.date == day("2025-05-08") || bar.date == day("2025-05-09"));
        assert_eq!(bar.adj_close, None);
    }
    assert_eq!(chart.bars.first().unwrap().start.time(), open);

    let too_old = ChartRequest {
        interval: Interval::Minute1,
        from: day("2025-03-03"),
        to: day("2025-03-04"),
    };
    let e = env
        .client
        .chart(&code("72030"), &too_old)
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::BadRequest(_)), "{e:?}");
    assert_eq!(env.charts(), 1, "refused before sending");
}

#[tokio::test]
async fn an_unknown_symbol_is_no_content() {
    let env = env().await;
    let unlisted = (1000..10000)
        .map(|n| format!("{n}0"))
        .find(|c| !sandbox::is_listed(c))
        .unwrap();
    let request = ChartRequest {
        interval: Interval::Day,
        from: day("2025-05-01"),
        to: day("2025-05-09"),
    };
    let e = env
        .client
        .chart(&code(&unlisted), &request)
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::NoContent(_)), "{e:?}");
    assert_eq!(e.disposition(), Disposition::Fail);
}

#[tokio::test]
async fn many_quotes_share_one_crumb() {
    let env = env().await;
    for _ in 0..10 {
        let quotes = env.client.quote(&codes()).await.unwrap();
        let got: Vec<&str> = quotes.iter().map(|q| q.code.as_str()).collect();
        assert_eq!(got, ["72030", "86970", "67580"]);
        assert!(quotes.iter().all(|q| q.price.is_some()));
        assert!(
            quotes
                .iter()
                .all(|q| q.trading_date == Some(day("2025-05-09")))
        );
    }
    let codes = codes();
    let concurrent = join_all((0..20).map(|_| env.client.quote(&codes))).await;
    assert!(concurrent.iter().all(Result::is_ok));
    assert_eq!(
        (env.cookies(), env.count(CRUMB), env.count(QUOTE)),
        (1, 1, 30)
    );
}

#[tokio::test]
async fn an_invalid_crumb_is_renewed_once() {
    let env = env().await;
    env.client.quote(&codes()).await.unwrap();
    env.sb.expire_yahoo_sessions();
    let quotes = env.client.quote(&codes()).await.unwrap();
    assert_eq!(quotes.len(), 3);
    assert_eq!(
        (env.cookies(), env.count(CRUMB), env.count(QUOTE)),
        (2, 2, 3),
        "one refused quote, one new session, one retry"
    );

    // Twenty callers hit by the same expiry renew the session once between them.
    env.sb.expire_yahoo_sessions();
    let codes = codes();
    let concurrent = join_all((0..20).map(|_| env.client.quote(&codes))).await;
    assert!(concurrent.iter().all(Result::is_ok));
    assert_eq!((env.cookies(), env.count(CRUMB)), (3, 3));
}

#[tokio::test]
async fn a_crumb_is_renewed_when_it_expires_on_the_clock() {
    let env = env().await;
    env.client.quote(&codes()).await.unwrap();
    env.clock.advance(TimeDelta::hours(5));
    env.client.quote(&codes()).await.unwrap();
    assert_eq!(env.count(CRUMB), 1, "still fresh after 5 h");
    env.clock.advance(TimeDelta::hours(2));
    env.client.quote(&codes()).await.unwrap();
    assert_eq!(
        (env.count(CRUMB), env.count(QUOTE)),
        (2, 3),
        "renewed without a 401"
    );
}

#[tokio::test]
async fn the_plain_text_429_is_a_rate_limit() {
    let env = env().await;
    let request = ChartRequest {
        interval: Interval::Day,
        from: day("2025-05-01"),
        to: day("2025-05-09"),
    };
    let burst = FaultSpec {
        burst_429: 1,
        ..FaultSpec::default()
    };
    env.sb.set_faults(YAHOO, burst.clone());
    let e = env
        .client
        .chart(&code("72030"), &request)
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ProviderError::RateLimited {
            retry_after: Some(COOL_DOWN)
        }
    );
    assert_eq!(e.disposition(), Disposition::RetryAfter(COOL_DOWN));
    env.client.chart(&code("72030"), &request).await.unwrap();

    // The first request of a quote is the cookie host's: its 429 counts the same.
    env.sb.set_faults(YAHOO, burst);
    let e = env.client.quote(&codes()).await.unwrap_err();
    assert!(matches!(e, ProviderError::RateLimited { .. }), "{e:?}");
    assert_eq!(env.count(CRUMB), 0);
    env.client.quote(&codes()).await.unwrap();
    assert_eq!((env.cookies(), env.count(CRUMB)), (2, 1));
}

/// The catalog's Yahoo endpoints as pages of records: every bar and event of the chart and
/// the quote, under the datasets' natural keys; the permits asked for match the requests sent
/// (two for the first quote's cookie and crumb, none after, none for a chart); a URL given as
/// the data source's `base_url` finds the cookie host.
#[tokio::test]
async fn catalog_pages_are_records_of_the_yahoo_datasets() {
    use shared::catalog;
    use shared::domain::DataSourceId;
    let env = env().await;
    let client = YahooClient::new(
        &YahooConfig::for_base_url(&env.sb.yahoo_base_url()),
        env.clock.clone(),
    );
    let yahoo = DataSourceId::parse("yahoo").unwrap();
    let endpoint = |id| catalog::find(&yahoo, id).unwrap();
    let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let toyota = code("72030");
    let span = q(&[("from", "2025-04-01"), ("to", "2025-05-09")]);

    assert_eq!(client.renewal_requests(endpoint("chart")).await, 0);
    let page = client
        .page(endpoint("chart"), &span, Some(&toyota))
        .await
        .unwrap();
    let chart = env
        .client
        .chart(
            &toyota,
            &ChartRequest {
                interval: Interval::Day,
                from: day("2025-04-01"),
                to: day("2025-05-09"),
            },
        )
        .await
        .unwrap();
    assert!(page.next.is_none() && !page.raw.is_empty());
    assert_eq!(page.records.len(), chart.bars.len());
    for (r, bar) in page.records.iter().zip(&chart.bars) {
        assert_eq!(r.partition, "72030");
        assert_eq!(r.sort, format!("{} 09:00 1d", bar.date));
        let j = r.to_json();
        assert_eq!(j["open"].as_f64(), bar.open);
        assert_eq!(j["adjclose"].as_f64(), bar.adj_close);
        assert_eq!(j["symbol"], "7203.T");
    }

    // Events of an issue with a split.
    let (split_code, split) = sandbox::issue_codes()
        .iter()
        .find_map(|c| {
            sandbox::stock_split(c)
                .filter(|s| s.ex_date < day("2025-01-01"))
                .map(|s| (code(c), s))
        })
        .unwrap();
    let around = q(&[
        ("from", &(split.ex_date - TimeDelta::days(200)).to_string()),
        ("to", &(split.ex_date + TimeDelta::days(200)).to_string()),
    ]);
    let events = client
        .page(endpoint("chart-events"), &around, Some(&split_code))
        .await
        .unwrap();
    let splits: Vec<_> = events
        .records
        .iter()
        .map(|r| r.to_json())
        .filter(|j| j["type"] == "split")
        .collect();
    assert_eq!(splits.len(), 1, "{:?}", events.records);
    assert_eq!(splits[0]["date"], split.ex_date.to_string());
    assert_eq!(splits[0]["numerator"].as_f64(), Some(f64::from(split.to)));
    assert!(
        events
            .records
            .iter()
            .any(|r| r.to_json()["type"] == "dividend"),
        "a dividend in 400 days"
    );

    assert_eq!(client.renewal_requests(endpoint("quote")).await, 2);
    let before = (env.cookies(), env.count(CRUMB));
    let quote = client
        .page(endpoint("quote"), &[], Some(&toyota))
        .await
        .unwrap();
    assert_eq!(
        (env.cookies(), env.count(CRUMB)),
        (before.0 + 1, before.1 + 1)
    );
    assert_eq!(client.renewal_requests(endpoint("quote")).await, 0);
    assert_eq!(quote.records.len(), 1);
    assert_eq!(quote.records[0].sort, "2025-05-09");
    assert!(quote.records[0].to_json()["regularMarketPrice"].is_number());

    let none = client.page(endpoint("quote"), &[], None).await.unwrap_err();
    assert_eq!(none.disposition(), Disposition::Fail);
}
