//! A user's API keys as one value, and the rules for changing them, as pure functions that both
//! adapters apply (the DynamoDB one under an optimistic version, the fake under its lock): at
//! most [`MAX_ACTIVE_KEYS`] active keys, never revoking the last one, rotation swapping one
//! active key for another in one change.

use chrono::{DateTime, Utc};

use super::ApiKeyRecord;
use crate::domain::ApiKeyId;

/// Active keys one user may hold.
pub const MAX_ACTIVE_KEYS: usize = 10;

/// Revoked keys a listing keeps, the most recently revoked; older ones are forgotten.
pub const REVOKED_KEPT: usize = 20;

/// Why a change of a user's keys was refused; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefused {
    /// No such key among the user's (or no such user).
    NotFound,
    /// The key is revoked already.
    AlreadyRevoked,
    /// The user holds [`MAX_ACTIVE_KEYS`] active keys already.
    TooManyKeys,
    /// It is the user's only active key: revoking it would lock them out.
    LastActiveKey,
}

/// A user's keys, oldest first, revoked ones included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    keys: Vec<ApiKeyRecord>,
}

impl KeyRing {
    /// The ring holding `keys`, oldest first.
    pub fn new(keys: Vec<ApiKeyRecord>) -> Self {
        Self { keys }
    }

    /// The keys, oldest first.
    pub fn keys(&self) -> &[ApiKeyRecord] {
        &self.keys
    }

    /// The keys, oldest first.
    pub fn into_keys(self) -> Vec<ApiKeyRecord> {
        self.keys
    }

    fn active(&self) -> usize {
        self.keys.iter().filter(|k| k.revoked_at.is_none()).count()
    }

    fn position(&self, id: ApiKeyId) -> Result<usize, KeyRefused> {
        let i = self
            .keys
            .iter()
            .position(|k| k.id == id)
            .ok_or(KeyRefused::NotFound)?;
        if self.keys[i].revoked_at.is_some() {
            return Err(KeyRefused::AlreadyRevoked);
        }
        Ok(i)
    }

    /// Adds an active key.
    ///
    /// # Errors
    /// [`KeyRefused::TooManyKeys`].
    pub fn add(&mut self, key: ApiKeyRecord) -> Result<(), KeyRefused> {
        if self.active() >= MAX_ACTIVE_KEYS {
            return Err(KeyRefused::TooManyKeys);
        }
        self.keys.push(key);
        Ok(())
    }

    /// Revokes key `id` at `now`; returns it as revoked.
    ///
    /// # Errors
    /// [`KeyRefused::NotFound`], [`KeyRefused::AlreadyRevoked`], [`KeyRefused::LastActiveKey`].
    pub fn revoke(&mut self, id: ApiKeyId, now: DateTime<Utc>) -> Result<ApiKeyRecord, KeyRefused> {
        let i = self.position(id)?;
        if self.active() == 1 {
            return Err(KeyRefused::LastActiveKey);
        }
        self.keys[i].revoked_at = Some(now);
        let revoked = self.keys[i].clone();
        self.forget_old_revoked();
        Ok(revoked)
    }

    /// Revokes key `id` at `now` and adds `new` in its place (the number of active keys stays;
    /// a nameless `new` takes the old key's name); returns the old key as revoked.
    ///
    /// # Errors
    /// [`KeyRefused::NotFound`], [`KeyRefused::AlreadyRevoked`].
    pub fn rotate(
        &mut self,
        id: ApiKeyId,
        mut new: ApiKeyRecord,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyRecord, KeyRefused> {
        let i = self.position(id)?;
        self.keys[i].revoked_at = Some(now);
        let revoked = self.keys[i].clone();
        if new.name.is_none() {
            new.name.clone_from(&revoked.name);
        }
        self.keys.push(new);
        self.forget_old_revoked();
        Ok(revoked)
    }

    /// Revokes every active key at `now` (an administrator's kill switch: the last one too);
    /// returns how many.
    pub fn revoke_all(&mut self, now: DateTime<Utc>) -> usize {
        let mut revoked = 0;
        for k in self.keys.iter_mut().filter(|k| k.revoked_at.is_none()) {
            k.revoked_at = Some(now);
            revoked += 1;
        }
        self.forget_old_revoked();
        revoked
    }

    /// Stores active key `id` under `hash` instead (the same key hashed with the current
    /// pepper after it matched under the previous one).
    ///
    /// # Errors
    /// [`KeyRefused::NotFound`], [`KeyRefused::AlreadyRevoked`].
    pub fn rehash(&mut self, id: ApiKeyId, hash: &str) -> Result<(), KeyRefused> {
        let i = self.position(id)?;
        hash.clone_into(&mut self.keys[i].hash);
        Ok(())
    }

    /// Keeps the listing (and the stored item) bounded: only the [`REVOKED_KEPT`] most
    /// recently revoked keys stay.
    fn forget_old_revoked(&mut self) {
        while self.keys.iter().filter(|k| k.revoked_at.is_some()).count() > REVOKED_KEPT {
            let oldest = self
                .keys
                .iter()
                .enumerate()
                .filter_map(|(i, k)| k.revoked_at.map(|t| (t, i)))
                .min()
                .map(|(_, i)| i)
                .expect("revoked keys exist");
            self.keys.remove(oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::domain::UserId;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn key(user: UserId) -> ApiKeyRecord {
        ApiKeyRecord {
            id: ApiKeyId::new(),
            user_id: user,
            hash: format!("{:064x}", rand_u128()),
            display_prefix: "mmk_abcdef".into(),
            name: None,
            created_at: t(0),
            revoked_at: None,
        }
    }

    fn rand_u128() -> u128 {
        u128::from_le_bytes(*uuid::Uuid::new_v4().as_bytes())
    }

    #[test]
    fn the_cap_counts_active_keys_only() {
        let user = UserId::new();
        let mut ring = KeyRing::default();
        for _ in 0..MAX_ACTIVE_KEYS {
            ring.add(key(user)).unwrap();
        }
        assert_eq!(ring.add(key(user)), Err(KeyRefused::TooManyKeys));
        let first = ring.keys()[0].id;
        ring.revoke(first, t(1)).unwrap();
        ring.add(key(user)).unwrap();
        assert_eq!(ring.keys().len(), MAX_ACTIVE_KEYS + 1);
    }

    #[test]
    fn the_last_active_key_cannot_be_revoked_but_can_be_rotated() {
        let user = UserId::new();
        let only = key(user);
        let mut ring = KeyRing::new(vec![only.clone()]);
        assert_eq!(ring.revoke(only.id, t(1)), Err(KeyRefused::LastActiveKey));
        let next = key(user);
        let old = ring.rotate(only.id, next.clone(), t(2)).unwrap();
        assert_eq!(old.revoked_at, Some(t(2)));
        assert_eq!(ring.keys(), [old, next.clone()]);
        assert_eq!(
            ring.rotate(only.id, key(user), t(3)),
            Err(KeyRefused::AlreadyRevoked)
        );
        assert_eq!(ring.revoke(only.id, t(3)), Err(KeyRefused::AlreadyRevoked));
        assert_eq!(
            ring.revoke(ApiKeyId::new(), t(3)),
            Err(KeyRefused::NotFound)
        );
        assert_eq!(ring.revoke(next.id, t(3)), Err(KeyRefused::LastActiveKey));
    }

    #[test]
    fn revoking_all_keys_leaves_none_active_and_rehash_keeps_the_key() {
        let user = UserId::new();
        let (a, b) = (key(user), key(user));
        let mut ring = KeyRing::new(vec![a.clone(), b.clone()]);
        ring.rehash(a.id, "beef").unwrap();
        assert_eq!(
            (ring.keys()[0].id, ring.keys()[0].hash.as_str()),
            (a.id, "beef")
        );
        assert_eq!(ring.revoke_all(t(1)), 2);
        assert!(ring.keys().iter().all(|k| k.revoked_at == Some(t(1))));
        assert_eq!(ring.revoke_all(t(2)), 0);
        assert_eq!(ring.rehash(a.id, "cafe"), Err(KeyRefused::AlreadyRevoked));
    }

    #[test]
    fn only_the_most_recently_revoked_keys_are_kept() {
        let user = UserId::new();
        let mut ring = KeyRing::new(vec![key(user)]);
        for i in 0..(REVOKED_KEPT as i64 + 5) {
            let current = ring.keys().last().unwrap().id;
            ring.rotate(current, key(user), t(i)).unwrap();
        }
        let revoked: Vec<_> = ring.keys().iter().filter_map(|k| k.revoked_at).collect();
        assert_eq!(revoked.len(), REVOKED_KEPT);
        assert_eq!(revoked[0], t(5), "the oldest revocations are forgotten");
        assert_eq!(ring.keys().len(), REVOKED_KEPT + 1);
    }
}
