//! The library every moomoo-markets function links: the domain model, the endpoint catalog,
//! the provider clients, and the ports through which the functions reach AWS.
//!
//! # Layout
//! - [`domain`]: the five entities (User, DataSource, DataSourceCredential, JobGroup, Job), their
//!   newtypes and their state transitions as pure functions.
//! - [`catalog`]: the provider endpoints defined in code, with parameter validation.
//! - [`dataset`]: one file per dataset: the typed row and its natural key.
//! - [`provider`]: what the provider clients share: the failure table and its retry
//!   dispositions, the [`Auth`](provider::Auth) strategy trait, a [`Page`](provider::Page).
//! - [`jquants`]: the J-Quants HTTP client, pagination and its authentications (V2 `x-api-key`,
//!   V1 refresh/id tokens).
//! - [`yahoo`]: the Yahoo Finance client (chart, quote with cookie + crumb).
//! - Ports, each a small trait with an in-memory fake (feature `test-util`) and an AWS adapter,
//!   held to one contract suite in [`contract`]: [`store`] (DynamoDB), [`queue`] (SQS),
//!   [`crypto`] (KMS), [`secrets`] (Secrets Manager), [`archive`] (S3: raw pages).
//! - [`export`]: exports written to S3 part by part and handed out as presigned links.
//! - [`limiter`]: the distributed rate limiter (a pure decision over shared state).
//! - [`metrics`]: CloudWatch metrics as EMF log lines.
//! - [`vault`]: credentials sealed by envelope encryption, opened through a cache, re-wrapped
//!   by the rotation sweep.
//! - [`fanout`]: a group's jobs and messages written after the create call, resumably.
//! - [`auth`]: API keys for our own API (random, shown once, stored as a keyed hash).
//! - [`config`]: the only place that reads the environment; [`clock`]: injected time.
//! - [`aws`]: SDK configuration shared by every client, with a call counter for benchmarks.
//!
//! Ports are `async_trait` objects (`Arc<dyn Port>`): the API keeps them in axum state and the
//! fetcher in its dependencies, and trait objects let tests swap fakes in without generics
//! spreading through every handler.

#![warn(missing_docs)]

pub mod archive;
pub mod auth;
pub mod aws;
pub mod catalog;
pub mod clock;
pub mod config;
#[cfg(feature = "test-util")]
pub mod contract;
pub mod crypto;
pub mod dataset;
pub mod domain;
pub mod export;
pub mod fanout;
pub mod holdings;
pub mod jquants;
pub mod limiter;
pub mod metrics;
pub mod provider;
pub mod queue;
pub mod schedule;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod vault;
pub mod yahoo;
