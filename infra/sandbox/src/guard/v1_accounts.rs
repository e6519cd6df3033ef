//! V1 users and their tokens: a refresh token from mail address and password, valid 7 days;
//! id tokens from a refresh token, valid 24 hours; both measured on the sandbox clock.
//! Tokens are opaque strings (their real format is unverified, reference §8.2). The
//! `/v1/token/*` routes and the bearer check that use the table are in `v1`.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};

use crate::config::Plan;
use crate::hash::{hash_bytes, mix};

/// How long a refresh token lives.
pub(crate) const REFRESH_LIFETIME: TimeDelta = TimeDelta::days(7);
/// How long an id token lives.
pub(crate) const ID_LIFETIME: TimeDelta = TimeDelta::hours(24);

struct User {
    password: String,
    plan: Plan,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
struct Issued {
    mail: String,
    at: DateTime<Utc>,
}

/// The V1 account table. `Debug` shows no password or token.
#[derive(Default)]
pub(crate) struct Accounts {
    users: RwLock<HashMap<String, User>>,
    refresh_tokens: Mutex<HashMap<String, Issued>>,
    id_tokens: Mutex<HashMap<String, Issued>>,
    issued: AtomicU64,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// Registers (or replaces) a user.
    pub(crate) fn add_user(&self, mail: &str, password: &str, plan: Plan) {
        let user = User {
            password: password.to_owned(),
            plan,
        };
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(mail.to_owned(), user);
    }

    /// Every refresh and id token issued.
    pub(crate) fn issued_tokens(&self) -> Vec<String> {
        [&self.refresh_tokens, &self.id_tokens]
            .iter()
            .flat_map(|t| {
                t.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    pub(crate) fn is_user(&self, mail: &str) -> bool {
        self.users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(mail)
    }

    fn token(&self, mail: &str, kind: u64) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let words = [kind, n, nanos, hash_bytes(mail.as_bytes())];
        let bytes: Vec<u8> = (0..4_u64)
            .flat_map(|i| mix(&[words[0], words[1], words[2], words[3], i]).to_be_bytes())
            .collect();
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A new refresh token, if the credentials match.
    pub(crate) fn login(&self, mail: &str, password: &str, now: DateTime<Utc>) -> Option<String> {
        let matches = {
            let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
            users.get(mail)?.password == password
        };
        if !matches {
            return None;
        }
        let token = self.token(mail, 1);
        let issued = Issued {
            mail: mail.to_owned(),
            at: now,
        };
        self.refresh_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone(), issued);
        Some(token)
    }

    /// The mail address a live refresh token belongs to.
    pub(crate) fn refresh_owner(&self, token: &str, now: DateTime<Utc>) -> Option<String> {
        let mail = {
            let tokens = self
                .refresh_tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let issued = tokens
                .get(token)
                .filter(|t| now - t.at < REFRESH_LIFETIME)?;
            issued.mail.clone()
        };
        self.is_user(&mail).then_some(mail)
    }

    /// A new id token for a live refresh token.
    pub(crate) fn refresh(&self, token: &str, now: DateTime<Utc>) -> Option<String> {
        let mail = self.refresh_owner(token, now)?;
        let id = self.token(&mail, 2);
        self.id_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), Issued { mail, at: now });
        Some(id)
    }

    /// Who holds a live id token, with their plan.
    pub(crate) fn identify(&self, id_token: &str, now: DateTime<Utc>) -> Option<(String, Plan)> {
        let mail = {
            let tokens = self
                .id_tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let issued = tokens.get(id_token).filter(|t| now - t.at < ID_LIFETIME)?;
            issued.mail.clone()
        };
        let plan = self
            .users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&mail)?
            .plan;
        Some((mail, plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_on_schedule() {
        let accounts = Accounts::default();
        accounts.add_user("a@example.com", "pw", Plan::Light);
        let t0 = Utc::now();
        assert_eq!(accounts.login("a@example.com", "nope", t0), None);
        let refresh = accounts
            .login("a@example.com", "pw", t0)
            .expect("logged in");
        let id = accounts.refresh(&refresh, t0).expect("id token");
        assert_ne!(refresh, id);
        let later = t0 + TimeDelta::hours(23);
        assert_eq!(
            accounts.identify(&id, later).map(|u| u.1),
            Some(Plan::Light)
        );
        assert_eq!(accounts.identify(&id, t0 + ID_LIFETIME), None);
        assert!(
            accounts
                .refresh(&refresh, t0 + TimeDelta::days(6))
                .is_some()
        );
        assert_eq!(accounts.refresh(&refresh, t0 + REFRESH_LIFETIME), None);
        assert!(!format!("{accounts:?}").contains("pw"));
    }
}
