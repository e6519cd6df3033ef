//! The local stack: everything `template.yaml` deploys, on one machine, without an AWS account.
//!
//! # Layout
//! - [`template`]: reads `template.yaml` (SAM) and resolves the intrinsic functions we use.
//! - [`provision`]: creates the template's tables, queues, key, alias, secrets and bucket in the
//!   emulator (moto) under a unique prefix, and resolves each function's environment from it, so
//!   local configuration cannot drift from the template.
//! - [`esm`]: what Lambda's SQS event-source mapping does, emulated: receive, invoke the
//!   fetcher's handler, delete what succeeded, leave failures to the visibility timeout.
//! - [`stack`]: provisioning + the API served on loopback + pollers, as one handle.
//! - [`demo`]: the README's main job.
//! - [`lambda`]: the functions under `cargo lambda watch`, wired to a provisioned stack.
//! - [`runtime`]: the Lambda-shaped runtime: the real binaries behind a Runtime API, with the
//!   template's timeouts, memory and payload limits, fed by API Gateway, SQS and EventBridge
//!   event sources.
//! - [`workspace`]: where things are in the checkout (the workspace root).

pub mod client;
pub mod demo;
pub mod esm;
pub mod lambda;
pub mod provision;
pub mod runtime;
pub mod stack;
pub mod template;
pub mod workspace;
