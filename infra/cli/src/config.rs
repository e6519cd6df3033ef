//! Where the API is and which key to send: `MOOMOO_API_URL` and `MOOMOO_API_KEY` from the
//! environment, over `api_url` and `api_key` in a TOML file (`$MOOMOO_CONFIG`, else
//! `$XDG_CONFIG_HOME/moomoo/config.toml`, else `~/.config/moomoo/config.toml`).
//!
//! The environment is passed in as a lookup function; `main` is the only caller that reads the
//! real one.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::error::CliError;

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of the API, without a trailing slash.
    pub api_url: String,
    /// The user's API key.
    pub api_key: SecretString,
}

/// The config file's fields; every field is optional, the environment may supply it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    api_url: Option<String>,
    api_key: Option<SecretString>,
}

impl Config {
    /// A configuration from explicit values (the demo and tests use this).
    pub fn new(api_url: &str, api_key: &str) -> Self {
        Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
            api_key: api_key.into(),
        }
    }

    /// Reads the config file (when there is one) and the environment through `env`.
    ///
    /// # Errors
    /// [`CliError::Usage`] when `$MOOMOO_CONFIG` names a missing file, the file is not valid,
    /// or the URL or the key is found nowhere.
    pub fn load(env: impl Fn(&str) -> Option<String>) -> Result<Self, CliError> {
        let (path, explicit) = match env("MOOMOO_CONFIG").filter(|p| !p.is_empty()) {
            Some(p) => (Some(PathBuf::from(p)), true),
            None => (default_path(&env), false),
        };
        let text = match &path {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
                Err(e) => {
                    return Err(CliError::Usage(format!(
                        "cannot read the config file {} (named by MOOMOO_CONFIG): {e}",
                        p.display()
                    )));
                }
            },
            None => None,
        };
        Self::from_parts(text.as_deref(), path.as_deref(), env)
    }

    /// [`Config::load`] for `moomoo admin bootstrap`: the bearer is the admin bootstrap
    /// secret from `MOOMOO_ADMIN_SECRET` (the environment only: a deployment's secret does not
    /// belong in a user's config file).
    ///
    /// # Errors
    /// As [`Config::load`], and [`CliError::Usage`] when `MOOMOO_ADMIN_SECRET` is not set.
    pub fn load_bootstrap(env: impl Fn(&str) -> Option<String>) -> Result<Self, CliError> {
        let secret = env("MOOMOO_ADMIN_SECRET")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                CliError::Usage(
                    "no admin secret: set MOOMOO_ADMIN_SECRET to the admin bootstrap secret (Secrets Manager)".into(),
                )
            })?;
        Self::load(|k| match k {
            "MOOMOO_API_KEY" => Some(secret.clone()),
            _ => env(k),
        })
    }

    /// Resolves the file's text (if any) with the environment over it.
    fn from_parts(
        file: Option<&str>,
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        let shown = path.map_or_else(|| "the config file".into(), |p| p.display().to_string());
        let file: FileConfig = match file {
            Some(text) => toml::from_str(text)
                .map_err(|e| CliError::Usage(format!("{shown} is not valid: {e}")))?,
            None => FileConfig::default(),
        };
        let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let api_url = set(env("MOOMOO_API_URL"))
            .or(set(file.api_url))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "no API URL: set MOOMOO_API_URL, or api_url in {shown}"
                ))
            })?;
        if !(api_url.starts_with("https://")
            || (api_url.starts_with("http://") && loopback(&api_url)))
        {
            return Err(CliError::Usage(format!(
                "the API URL `{api_url}` must start with https:// (http:// only for an API on this machine: localhost, 127.0.0.1, ::1), or the key would cross the network in clear"
            )));
        }
        let api_key = match set(env("MOOMOO_API_KEY")) {
            Some(k) => SecretString::from(k),
            None => file.api_key.ok_or_else(|| {
                CliError::Usage(format!(
                    "no API key: set MOOMOO_API_KEY, or api_key in {shown}"
                ))
            })?,
        };
        Ok(Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
            api_key,
        })
    }
}

/// Whether `url`'s host is this machine (a loopback address, or `localhost`).
fn loopback(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

fn default_path(env: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = match env("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env("HOME")?).join(".config"),
    };
    Some(base.join("moomoo").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const FILE: &str = "api_url = \"https://file.example/\"\napi_key = \"file-key\"\n";

    #[test]
    fn the_environment_overrides_the_file() {
        let c =
            Config::from_parts(Some(FILE), None, env(&[("MOOMOO_API_KEY", "env-key")])).unwrap();
        assert_eq!(c.api_url, "https://file.example");
        assert_eq!(c.api_key.expose_secret(), "env-key");
    }

    #[test]
    fn the_file_alone_is_enough() {
        let c = Config::from_parts(Some(FILE), None, env(&[])).unwrap();
        assert_eq!(c.api_key.expose_secret(), "file-key");
    }

    #[test]
    fn a_missing_value_names_both_places_to_set_it() {
        let e = Config::from_parts(
            None,
            Some(Path::new("/h/.config/moomoo/config.toml")),
            env(&[("MOOMOO_API_URL", "http://127.0.0.1:1")]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no API key: set MOOMOO_API_KEY, or api_key in /h/.config/moomoo/config.toml"
        );
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn unknown_fields_and_bad_urls_are_refused() {
        assert!(Config::from_parts(Some("api_ur = \"x\""), None, env(&[])).is_err());
        let e = Config::from_parts(
            None,
            None,
            env(&[("MOOMOO_API_URL", "example.com"), ("MOOMOO_API_KEY", "k")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("must start with https://"), "{e}");
    }

    #[test]
    fn plain_http_is_for_this_machine_only() {
        let with = |url: &str| {
            Config::from_parts(
                None,
                None,
                env(&[("MOOMOO_API_URL", url), ("MOOMOO_API_KEY", "k")]),
            )
        };
        for ok in [
            "https://api.example.com",
            "http://127.0.0.1:3000",
            "http://localhost:8080/",
            "http://[::1]:9",
            "http://127.0.0.2",
        ] {
            assert!(with(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.example.com",
            "http://10.0.0.5",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
        ] {
            let e = with(bad).unwrap_err();
            assert!(e.to_string().contains("in clear"), "{bad}: {e}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn bootstrap_sends_the_admin_secret_from_the_environment_only() {
        let vars = [("MOOMOO_API_URL", "https://x"), ("MOOMOO_CONFIG", "")];
        let e = Config::load_bootstrap(env(&vars)).unwrap_err();
        assert!(e.to_string().contains("MOOMOO_ADMIN_SECRET"), "{e}");
        let c = Config::load_bootstrap(env(&[
            ("MOOMOO_API_URL", "https://x"),
            ("MOOMOO_API_KEY", "a user's key"),
            ("MOOMOO_ADMIN_SECRET", "s3cret"),
            ("HOME", "/nonexistent"),
        ]))
        .unwrap();
        assert_eq!(c.api_key.expose_secret(), "s3cret");
    }

    #[test]
    fn the_file_is_looked_up_where_the_variables_say() {
        let home = env(&[("HOME", "/home/u")]);
        assert_eq!(
            default_path(&home),
            Some(PathBuf::from("/home/u/.config/moomoo/config.toml"))
        );
        let xdg = env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/cfg")]);
        assert_eq!(
            default_path(&xdg),
            Some(PathBuf::from("/cfg/moomoo/config.toml"))
        );
        let missing_explicit = Config::load(env(&[("MOOMOO_CONFIG", "/nonexistent/moomoo.toml")]));
        assert!(
            missing_explicit
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/moomoo.toml")
        );
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let c = Config::new("http://x", "super-secret");
        assert!(!format!("{c:?}").contains("super-secret"));
    }
}
