//! Contract suites of the accounts ports: users created with their first key and never
//! overwritten, keys added, revoked and rotated within the ring's bounds, data sources,
//! credentials stored, replaced, deleted and listed per user.

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::domain::Envelope;
use crate::domain::{ApiKeyId, DataSource, DataSourceCredential, DataSourceId, Plan, User, UserId};
use crate::store::{
    ApiKeyRecord, CredentialStore, DataSourceStore, KeyRefused, MAX_ACTIVE_KEYS, StoreError,
    UserStore,
};

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).expect("system RNG");
    u64::from_le_bytes(b)
}

/// Users are created with their first key, found by key hash, and never overwritten.
pub async fn user_store(store: &dyn UserStore) {
    let user = User {
        id: UserId::new(),
        name: "alice".into(),
        is_admin: false,
        created_at: t0(),
        disabled: false,
    };
    let key = api_key(user.id, None);
    store.create_user(&user, &key).await.unwrap();
    assert_eq!(store.get_user(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(
        store.find_api_key(&key.hash).await.unwrap(),
        Some((key.clone(), user.clone())),
        "one read finds the key and its owner"
    );
    assert_eq!(store.find_api_key("0000").await.unwrap(), None);
    assert_eq!(store.get_user(UserId::new()).await.unwrap(), None);
    let again = store.create_user(&user, &key).await;
    assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");
}

fn api_key(user: UserId, name: Option<&str>) -> ApiKeyRecord {
    ApiKeyRecord {
        id: ApiKeyId::new(),
        user_id: user,
        hash: format!("{:032x}{:032x}", rand_u64(), rand_u64()),
        display_prefix: "mmk_abcdef".into(),
        name: name.map(str::to_owned),
        created_at: t0(),
        revoked_at: None,
    }
}

async fn new_user(store: &dyn UserStore) -> (User, ApiKeyRecord) {
    let user = User {
        id: UserId::new(),
        name: "bob".into(),
        is_admin: false,
        created_at: t0(),
        disabled: false,
    };
    let key = api_key(user.id, None);
    store.create_user(&user, &key).await.unwrap();
    (user, key)
}

/// A user's keys: listed oldest first with revoked ones; an added key authenticates at once, a
/// revoked one never again; rotation swaps one for the other; at most [`MAX_ACTIVE_KEYS`]
/// active keys, never fewer than one; another user's key ids are not found; two racing
/// revocations of the last two keys leave one.
pub async fn api_keys(store: &dyn UserStore) {
    let (user, first) = new_user(store).await;
    let (other, theirs) = new_user(store).await;
    assert_eq!(
        store.list_api_keys(user.id).await.unwrap(),
        vec![first.clone()]
    );
    let laptop = api_key(user.id, Some("laptop"));
    assert_eq!(store.add_api_key(&laptop).await.unwrap(), Ok(()));
    assert_eq!(
        store.find_api_key(&laptop.hash).await.unwrap(),
        Some((laptop.clone(), user.clone())),
        "an added key authenticates at once"
    );

    let later = t0() + Duration::minutes(5);
    let revoked = store
        .revoke_api_key(user.id, first.id, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(later));
    assert_eq!(store.find_api_key(&first.hash).await.unwrap(), None);
    assert_eq!(
        store.list_api_keys(user.id).await.unwrap(),
        vec![revoked.clone(), laptop.clone()],
        "revoked keys stay listed"
    );
    assert_eq!(
        store
            .revoke_api_key(user.id, first.id, later)
            .await
            .unwrap(),
        Err(KeyRefused::AlreadyRevoked)
    );
    assert_eq!(
        store
            .revoke_api_key(user.id, laptop.id, later)
            .await
            .unwrap(),
        Err(KeyRefused::LastActiveKey),
        "nobody locks themselves out"
    );
    for id in [theirs.id, ApiKeyId::new()] {
        assert_eq!(
            store.revoke_api_key(user.id, id, later).await.unwrap(),
            Err(KeyRefused::NotFound)
        );
        assert_eq!(
            store
                .rotate_api_key(user.id, id, &api_key(user.id, None), later)
                .await
                .unwrap(),
            Err(KeyRefused::NotFound)
        );
    }
    assert!(store.find_api_key(&theirs.hash).await.unwrap().is_some());
    assert_eq!(
        store.list_api_keys(other.id).await.unwrap(),
        vec![theirs.clone()]
    );

    let fresh = api_key(user.id, None);
    let old = store
        .rotate_api_key(user.id, laptop.id, &fresh, later)
        .await
        .unwrap()
        .unwrap();
    let rotated = ApiKeyRecord {
        name: laptop.name.clone(),
        ..fresh
    };
    assert_eq!((old.id, old.revoked_at), (laptop.id, Some(later)));
    assert_eq!(
        store.list_api_keys(user.id).await.unwrap().last(),
        Some(&rotated),
        "the new key keeps the old one's name"
    );
    assert_eq!(store.find_api_key(&laptop.hash).await.unwrap(), None);
    assert_eq!(
        store.find_api_key(&rotated.hash).await.unwrap(),
        Some((rotated.clone(), user.clone()))
    );
    assert_eq!(
        store
            .rotate_api_key(user.id, laptop.id, &api_key(user.id, None), later)
            .await
            .unwrap(),
        Err(KeyRefused::AlreadyRevoked)
    );

    let mut active = vec![rotated.clone()];
    while active.len() < MAX_ACTIVE_KEYS {
        let k = api_key(user.id, None);
        assert_eq!(store.add_api_key(&k).await.unwrap(), Ok(()));
        active.push(k);
    }
    let extra = api_key(user.id, None);
    assert_eq!(
        store.add_api_key(&extra).await.unwrap(),
        Err(KeyRefused::TooManyKeys)
    );
    assert_eq!(store.find_api_key(&extra.hash).await.unwrap(), None);
    assert_eq!(
        store
            .add_api_key(&api_key(UserId::new(), None))
            .await
            .unwrap(),
        Err(KeyRefused::NotFound),
        "keys of unknown users are refused"
    );

    for k in &active[2..] {
        store
            .revoke_api_key(user.id, k.id, later)
            .await
            .unwrap()
            .unwrap();
    }
    let (a, b) = futures::join!(
        store.revoke_api_key(user.id, active[0].id, later),
        store.revoke_api_key(user.id, active[1].id, later),
    );
    let mut outcomes = [a.unwrap().map(|k| k.id), b.unwrap().map(|k| k.id)];
    outcomes.sort_by_key(Result::is_ok);
    assert!(
        matches!(outcomes, [Err(KeyRefused::LastActiveKey), Ok(_)]),
        "one of two racing revocations of the last two keys wins: {outcomes:?}"
    );
    let listed = store.list_api_keys(user.id).await.unwrap();
    assert_eq!(
        listed.iter().filter(|k| k.revoked_at.is_none()).count(),
        1,
        "{listed:?}"
    );
    let authenticating =
        futures::future::join_all(active[..2].iter().map(|k| store.find_api_key(&k.hash))).await;
    assert_eq!(
        authenticating
            .into_iter()
            .filter(|f| f.as_ref().unwrap().is_some())
            .count(),
        1
    );
}

/// The kill switches and the bootstrap (run on a store where no administrator was
/// bootstrapped): the first administrator is created once; a disabled user reads disabled at
/// once, through every key of theirs (a key added meanwhile too), until re-enabled; revoking
/// all of a user's keys revokes the last one too and leaves none authenticating; a key
/// re-hashed authenticates under its new hash only.
pub async fn kill_switches(store: &dyn UserStore) {
    let first = User {
        id: UserId::new(),
        name: "ops".into(),
        is_admin: true,
        created_at: t0(),
        disabled: false,
    };
    let key = api_key(first.id, None);
    assert!(store.create_first_admin(&first, &key).await.unwrap());
    assert_eq!(store.get_user(first.id).await.unwrap(), Some(first.clone()));
    let second = User {
        id: UserId::new(),
        ..first.clone()
    };
    assert!(
        !store
            .create_first_admin(&second, &api_key(second.id, None))
            .await
            .unwrap(),
        "bootstrap works once"
    );
    assert_eq!(store.get_user(second.id).await.unwrap(), None);

    let (user, k1) = new_user(store).await;
    let k2 = api_key(user.id, None);
    store.add_api_key(&k2).await.unwrap().unwrap();
    assert!(store.user_is_active(user.id).await.unwrap());
    let disabled = store.set_disabled(user.id, true).await.unwrap().unwrap();
    assert!(disabled.disabled);
    assert!(!store.user_is_active(user.id).await.unwrap());
    assert!(!store.user_is_active(UserId::new()).await.unwrap());
    for k in [&k1, &k2] {
        let (_, owner) = store.find_api_key(&k.hash).await.unwrap().unwrap();
        assert!(owner.disabled, "every key sees the flag at once");
    }
    let k3 = api_key(user.id, None);
    store.add_api_key(&k3).await.unwrap().unwrap();
    assert!(
        store
            .find_api_key(&k3.hash)
            .await
            .unwrap()
            .unwrap()
            .1
            .disabled
    );
    assert_eq!(store.set_disabled(UserId::new(), true).await.unwrap(), None);
    let enabled = store.set_disabled(user.id, false).await.unwrap().unwrap();
    assert_eq!(enabled, user);
    for k in [&k1, &k2, &k3] {
        assert!(
            !store
                .find_api_key(&k.hash)
                .await
                .unwrap()
                .unwrap()
                .1
                .disabled
        );
    }

    let fresh = "f".repeat(64);
    assert_eq!(
        store.rehash_api_key(user.id, k1.id, &fresh).await.unwrap(),
        Ok(())
    );
    assert_eq!(store.find_api_key(&k1.hash).await.unwrap(), None);
    let (found, _) = store.find_api_key(&fresh).await.unwrap().unwrap();
    assert_eq!((found.id, found.hash.as_str()), (k1.id, fresh.as_str()));

    let later = t0() + Duration::minutes(9);
    assert_eq!(
        store.revoke_all_api_keys(user.id, later).await.unwrap(),
        Ok(3)
    );
    for hash in [fresh.as_str(), &k2.hash, &k3.hash] {
        assert_eq!(store.find_api_key(hash).await.unwrap(), None);
    }
    assert!(
        store
            .list_api_keys(user.id)
            .await
            .unwrap()
            .iter()
            .all(|k| k.revoked_at == Some(later))
    );
    assert_eq!(
        store.revoke_all_api_keys(user.id, later).await.unwrap(),
        Ok(0)
    );
    assert_eq!(
        store
            .revoke_all_api_keys(UserId::new(), later)
            .await
            .unwrap(),
        Err(KeyRefused::NotFound)
    );
    let reissued = api_key(user.id, None);
    store.add_api_key(&reissued).await.unwrap().unwrap();
    assert!(store.find_api_key(&reissued.hash).await.unwrap().is_some());
}

/// Users are listed in id order, a page at a time, each once.
pub async fn user_listing(store: &dyn UserStore) {
    let mut made = Vec::new();
    for _ in 0..7 {
        made.push(new_user(store).await.0.id);
    }
    let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
    loop {
        let (page, next) = store.list_users(after, 3).await.unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.into_iter().map(|u| u.id));
        pages += 1;
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "in id order, once each"
    );
    assert!(
        made.iter().all(|id| seen.contains(id)),
        "{made:?} in {seen:?}"
    );
    assert!(pages >= 3, "paged: {pages}");
}

/// Data sources are upserted and listed in id order.
pub async fn data_source_store(store: &dyn DataSourceStore) {
    let mut a = DataSource::jquants_v2("http://localhost:1/v2");
    store.put_data_source(&a).await.unwrap();
    a.base_url = "http://localhost:2/v2".into();
    a.is_enabled = false;
    store.put_data_source(&a).await.unwrap();
    let mut b = DataSource::jquants_v2("x");
    b.id = DataSourceId::parse("a-first").unwrap();
    store.put_data_source(&b).await.unwrap();
    assert_eq!(store.get_data_source(&a.id).await.unwrap(), Some(a.clone()));
    let ids: Vec<_> = store
        .list_data_sources()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, vec![b.id, a.id]);
    assert_eq!(
        store
            .get_data_source(&DataSourceId::parse("nope").unwrap())
            .await
            .unwrap(),
        None
    );
}

fn envelope(tag: u8) -> Envelope {
    Envelope {
        version: 1,
        key_arn: format!("arn:aws:kms:us-east-1:123456789012:key/k{tag}"),
        encrypted_data_key: vec![tag, 0, 255],
        nonce: [tag; 12],
        ciphertext: vec![9, tag, 8, 7],
    }
}

fn credential(user: UserId, ds: &DataSourceId) -> DataSourceCredential {
    DataSourceCredential {
        user_id: user,
        data_source_id: ds.clone(),
        plan: Plan::Light,
        encrypted_credentials: envelope(1),
        refresh_token: None,
        refresh_token_expired_at: None,
        id_token: None,
        id_token_expired_at: None,
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

/// One credential per (user, data source): put replaces, replace honours the version lock,
/// delete removes, and listing pages through every credential once.
pub async fn credential_store(store: &dyn CredentialStore) {
    let ds = DataSourceId::parse("jquants-v2").unwrap();
    let mut c = credential(UserId::new(), &ds);
    store.put_credential(&c).await.unwrap();
    assert_eq!(
        store.get_credential(c.user_id, &ds).await.unwrap(),
        Some(c.clone())
    );
    c.plan = Plan::Premium;
    c.updated_at = t0() + Duration::minutes(1);
    c.refresh_token = Some(envelope(2));
    c.refresh_token_expired_at = Some(t0() + Duration::days(7));
    c.id_token = Some(envelope(3));
    c.id_token_expired_at = Some(t0() + Duration::hours(24));
    c.version = 2;
    store.put_credential(&c).await.unwrap();
    assert_eq!(
        store.get_credential(c.user_id, &ds).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        store.get_credential(UserId::new(), &ds).await.unwrap(),
        None
    );

    let mut next = c.clone();
    next.encrypted_credentials = envelope(4);
    next.version = 3;
    assert!(
        !store.replace_credential(&next, 1).await.unwrap(),
        "a stale version is refused"
    );
    assert!(store.replace_credential(&next, 2).await.unwrap());
    assert_eq!(
        store.get_credential(c.user_id, &ds).await.unwrap(),
        Some(next.clone())
    );

    assert!(store.delete_credential(c.user_id, &ds).await.unwrap());
    assert!(!store.delete_credential(c.user_id, &ds).await.unwrap());
    assert_eq!(store.get_credential(c.user_id, &ds).await.unwrap(), None);
    assert!(
        !store.replace_credential(&next, 3).await.unwrap(),
        "a deleted record is not resurrected"
    );
}

/// Listing pages through every credential exactly once (run on a store holding no others).
pub async fn credential_listing(store: &dyn CredentialStore) {
    let ds = DataSourceId::parse("jquants-v2").unwrap();
    let mut want: Vec<UserId> = Vec::new();
    for _ in 0..23 {
        let c = credential(UserId::new(), &ds);
        store.put_credential(&c).await.unwrap();
        want.push(c.user_id);
    }
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let (page, next) = store.list_credentials(cursor.as_deref(), 5).await.unwrap();
        assert!(page.len() <= 5);
        seen.extend(page.into_iter().map(|c| c.user_id));
        pages += 1;
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    seen.sort();
    want.sort();
    assert_eq!(seen, want, "every credential once, none twice");
    assert!(pages >= 5, "paged: {pages}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::accounts::MemoryAccounts;

    #[tokio::test]
    async fn the_memory_fake_keeps_the_contracts() {
        let accounts = MemoryAccounts::default();
        user_store(&accounts).await;
        api_keys(&accounts).await;
        kill_switches(&accounts).await;
        user_listing(&accounts).await;
        data_source_store(&accounts).await;
        credential_store(&accounts).await;
        credential_listing(&MemoryAccounts::default()).await;
    }
}
