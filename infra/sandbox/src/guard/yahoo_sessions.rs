//! Yahoo's cookie + crumb handshake (reference yahoo-api.md §1.3): the cookie host (served at
//! the prefix root, like `https://fc.yahoo.com/`) answers 404 but sets an `A3` cookie;
//! `/v1/test/getcrumb` with that cookie returns the crumb as plain text; crumb-protected
//! endpoints need both. The cookie has no `Domain` and no `Secure`, so HTTP clients with a
//! cookie store send it back to 127.0.0.1 over plain HTTP. The routes that use the sessions
//! are in `yahoo`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use axum::http::{HeaderMap, header};

use super::limiter::Window;
use crate::hash::{hash_bytes, mix};

const COOKIE_NAME: &str = "A3";
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Issued cookies and the deployment-wide rate window.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    cookies: Mutex<HashSet<String>>,
    issued: AtomicU64,
    pub(crate) window: Window,
}

fn letters(mut h: u64, n: usize) -> String {
    (0..n)
        .map(|i| {
            if i % 10 == 9 {
                h = mix(&[h, i as u64]);
            }
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize];
            h /= ALPHABET.len() as u64;
            char::from(c)
        })
        .collect()
}

impl Sessions {
    /// A new `A3` cookie value, remembered as valid.
    pub(crate) fn new_cookie(&self) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let value = format!(
            "d=AQABBP{}&S=AQAAA{}",
            letters(mix(&[n, nanos]), 40),
            letters(mix(&[nanos, n]), 20)
        );
        self.cookies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(value.clone());
        value
    }

    /// Invalidates every issued cookie, as Yahoo ends sessions: their crumbs stop working
    /// (401 "Invalid Crumb") until the client fetches a new cookie and crumb.
    pub(crate) fn expire_all(&self) {
        self.cookies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The `Set-Cookie` header value for a new cookie.
    pub(crate) fn set_cookie(&self) -> String {
        format!(
            "{COOKIE_NAME}={}; Max-Age=31557600; Path=/; SameSite=None; HttpOnly",
            self.new_cookie()
        )
    }

    /// The valid `A3` cookie a request carries.
    pub(crate) fn cookie(&self, headers: &HeaderMap) -> Option<String> {
        let cookies = self.cookies.lock().unwrap_or_else(PoisonError::into_inner);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| *name == COOKIE_NAME && cookies.contains(*value))
            .map(|(_, value)| value.to_owned())
    }

    /// Whether the request has a valid cookie and the crumb issued for it.
    pub(crate) fn crumb_matches(&self, headers: &HeaderMap, crumb: Option<&str>) -> bool {
        self.cookie(headers)
            .is_some_and(|cookie| crumb == Some(crumb_for(&cookie).as_str()))
    }
}

/// The crumb bound to a cookie: 11 letters and digits, like `Phb0wzVdPs6`.
pub(crate) fn crumb_for(cookie: &str) -> String {
    letters(hash_bytes(cookie.as_bytes()), 11)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn crumbs_belong_to_issued_cookies() {
        let sessions = Sessions::default();
        let cookie = sessions.new_cookie();
        let crumb = crumb_for(&cookie);
        assert_eq!(crumb.len(), 11);
        assert!(crumb.bytes().all(|b| b.is_ascii_alphanumeric()));
        let mut headers = HeaderMap::new();
        let header = HeaderValue::from_str(&format!("B=x; A3={cookie}")).expect("header");
        headers.insert(header::COOKIE, header);
        assert!(sessions.crumb_matches(&headers, Some(&crumb)));
        assert!(!sessions.crumb_matches(&headers, Some("wrong")));
        assert!(!sessions.crumb_matches(&HeaderMap::new(), Some(&crumb)));
        assert!(sessions.set_cookie().starts_with("A3=d="));
        sessions.expire_all();
        assert!(!sessions.crumb_matches(&headers, Some(&crumb)));
    }
}
