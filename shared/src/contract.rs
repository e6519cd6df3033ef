//! Contract suites: one behaviour per port, run against the in-memory fake (unit tests) and the
//! AWS adapter on the emulator (`tests/`), so the fakes other tests rely on cannot drift.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::clock::{Clock, ManualClock};
use crate::crypto::{self, CryptoError, EncryptionContext, KeyService};
use crate::dataset::{FieldValue, Record};
use crate::domain::Envelope;
use crate::domain::{
    ApiKeyId, Checkpoint, DataSource, DataSourceCredential, DataSourceId, IssueCode, Job, JobGroup,
    JobGroupId, JobGroupStatus, JobId, JobStatus, Plan, Release, ResponseData, User, UserId,
};
use crate::limiter::{
    Decision, Demand, Limiter, LimiterStore, Limits, Scope, ScopeState, WaitReason,
};
use crate::store::{
    ApiKeyRecord, CredentialStore, DataSourceStore, FanOutCursor, FinishOutcome, GroupCursor,
    JobResult, JobStore, KeyRefused, MAX_ACTIVE_KEYS, ParkedJobs, RowScope, RowStore,
    ScheduleStore, StartOutcome, StoreError, UserStore,
};

const LEASE: Duration = Duration::seconds(90);

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

/// Users are created with their first key, found by key hash, and never overwritten.
pub async fn user_store(store: &dyn UserStore) {
    let user = User {
        id: UserId::new(),
        name: "alice".into(),
        is_admin: false,
        created_at: t0(),
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

fn group(total: u32) -> (JobGroup, Vec<Job>) {
    let g = JobGroup {
        id: JobGroupId::new(),
        user_id: UserId::new(),
        data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
        endpoint_id: "eq-bars-daily".into(),
        params: BTreeMap::from([("from".into(), "2024-01-04".into())]),
        status: JobGroupStatus::Pending,
        created_at: t0(),
        started_at: None,
        completed_at: None,
        error_message: None,
        total_jobs: total,
        completed_jobs: 0,
        failed_jobs: 0,
        cancel_requested_at: None,
        split: Default::default(),
    };
    let jobs = (0..total)
        .map(|i| {
            Job::new(
                g.id,
                JobId::new(i),
                Some(IssueCode::parse(&format!("{}", 1300 + i)).unwrap()),
            )
        })
        .collect();
    (g, jobs)
}

/// A user's groups list newest first (creation time, then id), page by page with no group
/// twice or missing; another user's groups never show.
pub async fn group_listing(store: &dyn JobStore) {
    let (user, other) = (UserId::new(), UserId::new());
    let mut mine = Vec::new();
    for i in 0..11 {
        let (mut g, _) = group(0);
        g.user_id = user;
        // Some share a creation time: the id orders them.
        g.created_at = t0() + Duration::milliseconds(i / 3 * 1_500);
        store.create_group(&g, &[]).await.unwrap();
        mine.push(g);
    }
    let (mut theirs, _) = group(0);
    theirs.user_id = other;
    store.create_group(&theirs, &[]).await.unwrap();
    mine.sort_by_key(|g| std::cmp::Reverse(GroupCursor::after(g).sort_key()));

    let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
    loop {
        let (page, next) = store.list_groups(user, after, 4).await.unwrap();
        assert!(page.len() <= 4);
        seen.extend(page);
        pages += 1;
        match next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, mine, "every group once, newest first");
    assert!(pages >= 3, "paged: {pages}");
    assert_eq!(
        store.list_groups(other, None, 10).await.unwrap(),
        (vec![theirs], None)
    );
    assert_eq!(
        store.list_groups(UserId::new(), None, 10).await.unwrap(),
        (vec![], None)
    );
}

/// A group's jobs page by page in id order, each once; filtered by status, each job of that
/// status once; a cursor past the end or another group's id lists nothing.
pub async fn group_job_listing(store: &dyn JobStore) {
    let (g, mut jobs) = group(23);
    let cycle = [JobStatus::Pending, JobStatus::Completed, JobStatus::Running];
    for (i, j) in jobs.iter_mut().enumerate() {
        // Failed jobs are rare: a filtered page skips most of what it looks at.
        j.status = match i {
            3 | 18 => JobStatus::Failed,
            _ => cycle[i % 3],
        };
    }
    create_with_jobs(store, &g, &jobs).await;
    let (other, other_jobs) = group(4);
    create_with_jobs(store, &other, &other_jobs).await;

    for status in [
        None,
        Some(JobStatus::Pending),
        Some(JobStatus::Running),
        Some(JobStatus::Completed),
        Some(JobStatus::Failed),
    ] {
        let want: Vec<(JobId, JobStatus)> = jobs
            .iter()
            .filter(|j| status.is_none_or(|s| j.status == s))
            .map(|j| (j.id, j.status))
            .collect();
        let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
        loop {
            let (page, next) = store.list_group_jobs(g.id, status, after, 4).await.unwrap();
            assert!(page.len() <= 4, "{status:?}: {}", page.len());
            seen.extend(page.iter().map(|j| (j.id, j.status)));
            pages += 1;
            assert!(pages < 30, "the walk ends");
            match next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, want, "{status:?}: every job once, in id order");
        if want.len() > 4 {
            assert!(pages >= 2, "{status:?}: paged");
        }
    }
    let (page, _) = store
        .list_group_jobs(g.id, None, Some(JobId::new(2)), 3)
        .await
        .unwrap();
    let ids: Vec<u32> = page.iter().map(|j| j.id.index()).collect();
    assert_eq!(ids, [3, 4, 5], "a page resumes after its cursor");
    assert_eq!(page[0], jobs[3]);
    assert_eq!(
        store
            .list_group_jobs(g.id, None, Some(JobId::new(22)), 5)
            .await
            .unwrap(),
        (vec![], None)
    );
    assert_eq!(
        store
            .list_group_jobs(g.id, None, Some(JobId::new(99_999_999)), 5)
            .await
            .unwrap(),
        (vec![], None)
    );
    assert_eq!(
        store
            .list_group_jobs(JobGroupId::new(), None, None, 5)
            .await
            .unwrap(),
        (vec![], None)
    );
    let (theirs, next) = store
        .list_group_jobs(other.id, None, None, 10)
        .await
        .unwrap();
    assert_eq!((theirs, next), (other_jobs, None));
}

/// Creates a group and writes its jobs as a finished fan-out would.
async fn create_with_jobs(store: &dyn JobStore, g: &JobGroup, jobs: &[Job]) {
    let symbols: Vec<_> = jobs.iter().map(|j| j.symbol.clone()).collect();
    store.create_group(g, &symbols).await.unwrap();
    store.write_jobs(jobs).await.unwrap();
    let n = jobs.len() as u32;
    assert!(
        store
            .advance_fan_out(g.id, FanOutCursor::Written, 0, n)
            .await
            .unwrap()
    );
    assert!(
        store
            .advance_fan_out(g.id, FanOutCursor::Enqueued, 0, n)
            .await
            .unwrap()
    );
}

/// Fan-out writes every job once and enqueues every job once, in chunks, resuming from its
/// cursors; a step repeated after an interruption neither skips nor adds jobs.
pub async fn fan_out(store: &dyn JobStore) {
    let (g, jobs) = group(0);
    let symbols: Vec<Option<IssueCode>> = (0..1203)
        .map(|i| Some(IssueCode::parse(&format!("{}", 1000 + i)).unwrap()))
        .collect();
    let g = JobGroup {
        total_jobs: 1203,
        ..g
    };
    assert!(jobs.is_empty());
    store.create_group(&g, &symbols).await.unwrap();
    let f = store.fan_out(g.id).await.unwrap().unwrap();
    assert_eq!((f.symbols.len(), f.written, f.enqueued), (1203, 0, 0));
    assert_eq!(f.symbols, symbols);
    assert!(
        !store
            .advance_fan_out(g.id, FanOutCursor::Written, 7, 9)
            .await
            .unwrap(),
        "a stale cursor is refused"
    );

    let queue = crate::queue::MemoryJobQueue::default();
    let clock = ManualClock::new(t0());
    let first = crate::fanout::step(store, &queue, &clock, g.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.written, first.enqueued),
        (500, 0),
        "jobs are written before any message"
    );
    assert!(queue.drain().is_empty());
    // An interrupted step: the cursor moved, the messages were never sent. The next step sends them.
    let second = crate::fanout::step(store, &queue, &clock, g.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.written, second.enqueued), (500, 500));
    let mut sent: Vec<u32> = queue.drain().iter().map(|m| m.job_id.index()).collect();
    let done = crate::fanout::run(
        store,
        &queue,
        &clock,
        g.id,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(done.done());
    sent.extend(queue.drain().iter().map(|m| m.job_id.index()));
    assert_eq!(
        sent,
        (0..1203).collect::<Vec<_>>(),
        "every job enqueued once, in order"
    );
    let again = crate::fanout::step(store, &queue, &clock, g.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        again.done() && queue.drain().is_empty(),
        "a finished fan-out does nothing"
    );
    let listed = store.list_jobs(g.id).await.unwrap();
    assert_eq!(listed.len(), 1203, "no gaps, no duplicates");
    assert!(
        listed
            .iter()
            .enumerate()
            .all(|(i, j)| j.id.index() == i as u32
                && j.symbol == symbols[i]
                && j.status == JobStatus::Pending)
    );

    // The race that once lost a job: a second fan-out step (a duplicate delivery of the
    // fan-out message, a retry's) read the written cursor before the first moved it; by the
    // time it writes, the first has sent the chunk's messages and a fetcher runs one of them.
    // Its claim is refused, so it never resets that job to pending (whose finishing write would
    // then be dropped as a duplicate, its one message consumed: pending for ever).
    let (g2, _) = group(0);
    let symbols2: Vec<Option<IssueCode>> = (0..3)
        .map(|i| Some(IssueCode::parse(&format!("{}", 2000 + i)).unwrap()))
        .collect();
    let g2 = JobGroup {
        total_jobs: 3,
        ..g2
    };
    store.create_group(&g2, &symbols2).await.unwrap();
    let now = clock.now();
    let until = now + crate::fanout::CLAIM;
    assert!(store.claim_fan_out(g2.id, 0, now, until).await.unwrap());
    assert!(
        !store.claim_fan_out(g2.id, 0, now, until).await.unwrap(),
        "a live claim excludes a second writer"
    );
    // The first writer's claim lapsed (it was stopped): the chunk can be claimed again.
    let later = until + Duration::seconds(1);
    assert!(
        store
            .claim_fan_out(g2.id, 0, later, later + crate::fanout::CLAIM)
            .await
            .unwrap()
    );
    let p = crate::fanout::run(
        store,
        &queue,
        &clock,
        g2.id,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await;
    assert!(
        matches!(p, Err(crate::fanout::FanOutError::Busy)),
        "a step finding the chunk claimed is refused: {p:?}"
    );
    clock.advance(Duration::seconds(400));
    let done = crate::fanout::run(
        store,
        &queue,
        &clock,
        g2.id,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(done.done());
    queue.drain();
    let StartOutcome::Started(_) = store
        .start_job(&g2, JobId::new(1), clock.now(), LEASE)
        .await
        .unwrap()
    else {
        panic!("a pending job starts");
    };
    // The late step: it read `written = 0` before the cursor moved.
    assert!(
        !store
            .claim_fan_out(g2.id, 0, clock.now(), clock.now() + crate::fanout::CLAIM)
            .await
            .unwrap(),
        "once the cursor moved, the chunk cannot be claimed again"
    );
    let again = crate::fanout::step(store, &queue, &clock, g2.id)
        .await
        .unwrap()
        .unwrap();
    assert!(again.done() && queue.drain().is_empty());
    let (_, j1) = store.get_job(g2.id, JobId::new(1)).await.unwrap().unwrap();
    assert_eq!(
        j1.status,
        JobStatus::Running,
        "the running job was not reset"
    );

    // A running job's checkpoint is saved with its lease kept; a pending job's is ignored.
    let at = Checkpoint {
        next_page: "k2".into(),
        pages: 2,
        rows: 16,
    };
    store
        .save_checkpoint(g2.id, JobId::new(1), &at)
        .await
        .unwrap();
    store
        .save_checkpoint(g2.id, JobId::new(2), &at)
        .await
        .unwrap();
    let (_, j1) = store.get_job(g2.id, JobId::new(1)).await.unwrap().unwrap();
    let (_, j2) = store.get_job(g2.id, JobId::new(2)).await.unwrap().unwrap();
    assert_eq!(
        (j1.checkpoint, j1.lease_until, j2.checkpoint),
        (Some(at), Some(clock.now() + LEASE), None),
        "the running job keeps its checkpoint and lease"
    );
}

/// The job life cycle: start, retry, finish exactly once, counters exact, the group ends once.
pub async fn job_store(store: &dyn JobStore) {
    let (g, jobs) = group(30);
    create_with_jobs(store, &g, &jobs).await;
    assert!(matches!(
        store.create_group(&g, &[]).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(store.get_group(g.id).await.unwrap(), Some(g.clone()));
    assert_eq!(
        store.list_jobs(g.id).await.unwrap(),
        jobs,
        "listing returns every job in order"
    );
    let (rg, rj) = store.get_job(g.id, JobId::new(7)).await.unwrap().unwrap();
    assert_eq!((rg, rj), (g.clone(), jobs[7].clone()));
    assert_eq!(store.get_job(g.id, JobId::new(99)).await.unwrap(), None);

    let now = t0() + Duration::seconds(5);
    let StartOutcome::Started(j0) = store
        .start_job(&g, JobId::new(0), now, LEASE)
        .await
        .unwrap()
    else {
        panic!("a pending job starts");
    };
    assert_eq!(
        (j0.status, j0.started_at, j0.retry_count),
        (JobStatus::Running, Some(now), 0)
    );
    let running = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (running.status, running.started_at),
        (JobGroupStatus::Running, Some(now))
    );

    assert_eq!(j0.lease_until, Some(now + LEASE));
    let during = now + Duration::seconds(2);
    assert_eq!(
        store
            .start_job(&running, JobId::new(0), during, LEASE)
            .await
            .unwrap(),
        StartOutcome::Leased(now + LEASE),
        "a second delivery while the first runs waits for the lease"
    );
    let later = now + LEASE + Duration::seconds(1);
    let StartOutcome::Started(again) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a running job whose lease lapsed starts again as a retry");
    };
    assert_eq!(
        (again.retry_count, again.last_retry_at, again.started_at),
        (1, Some(later), Some(now))
    );
    store
        .release_job(g.id, JobId::new(0), &Release::Failed(None))
        .await
        .unwrap();
    let StartOutcome::Started(third) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a released job starts again at once");
    };
    assert_eq!(
        (third.retry_count, third.lease_until),
        (2, Some(later + LEASE))
    );
    let cp = Checkpoint {
        next_page: "page-3".into(),
        pages: 2,
        rows: 2000,
    };
    store
        .release_job(g.id, JobId::new(0), &Release::Paused(Some(cp.clone())))
        .await
        .unwrap();
    let StartOutcome::Started(resumed) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a paused job starts again at once");
    };
    assert_eq!(
        (resumed.retry_count, resumed.paused, resumed.checkpoint),
        (2, false, Some(cp.clone())),
        "going on after a pause is not a retry, and starts from the checkpoint"
    );
    store
        .release_job(g.id, JobId::new(0), &Release::Failed(Some(cp.clone())))
        .await
        .unwrap();
    let StartOutcome::Started(after_failure) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a released job starts again at once");
    };
    assert_eq!(
        (after_failure.retry_count, after_failure.checkpoint),
        (3, Some(cp))
    );
    assert_eq!(
        store
            .start_job(&g, JobId::new(99), now, LEASE)
            .await
            .unwrap(),
        StartOutcome::NotFound
    );

    let done = JobResult::Completed(ResponseData::summary(20, 2));
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(0), &done, later)
            .await
            .unwrap(),
        FinishOutcome::Recorded
    );
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(0), &done, later)
            .await
            .unwrap(),
        FinishOutcome::AlreadyTerminal,
        "a duplicate is not counted"
    );
    let none = Release::Failed(None);
    store.release_job(g.id, JobId::new(0), &none).await.unwrap();
    store
        .release_job(g.id, JobId::new(99), &none)
        .await
        .unwrap();
    let (_, finished) = store.get_job(g.id, JobId::new(0)).await.unwrap().unwrap();
    assert_eq!(
        (finished.status, finished.lease_until, finished.checkpoint),
        (JobStatus::Completed, None, None),
        "releasing a finished job changes nothing"
    );
    assert!(matches!(
        store
            .start_job(&g, JobId::new(0), later, LEASE)
            .await
            .unwrap(),
        StartOutcome::AlreadyTerminal(_)
    ));
    let c = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!((c.completed_jobs, c.failed_jobs), (1, 0));

    // A pending job can fail without starting (e.g. its credential is gone); a job that never
    // ran cannot complete.
    let failed = JobResult::Failed("credential rejected".into());
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(1), &failed, later)
            .await
            .unwrap(),
        FinishOutcome::Recorded
    );
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(2), &done, later)
            .await
            .unwrap(),
        FinishOutcome::AlreadyTerminal
    );
    assert_eq!(
        store.finalize_group(g.id, later).await.unwrap(),
        None,
        "jobs remain"
    );

    for i in 2..30 {
        store
            .start_job(&running, JobId::new(i), later, LEASE)
            .await
            .unwrap();
        assert_eq!(
            store
                .finish_job(g.id, JobId::new(i), &done, later)
                .await
                .unwrap(),
            FinishOutcome::Recorded
        );
    }
    let end = later + Duration::seconds(1);
    assert_eq!(
        store.finalize_group(g.id, end).await.unwrap(),
        Some(JobGroupStatus::Failed)
    );
    assert_eq!(
        store.finalize_group(g.id, end).await.unwrap(),
        None,
        "a group ends once"
    );
    let fin = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (fin.completed_jobs, fin.failed_jobs, fin.total_jobs),
        (29, 1, 30)
    );
    assert_eq!(fin.completed_at, Some(end));
    assert_eq!(
        fin.error_message.as_deref(),
        Some("1 of 30 jobs failed; first error: credential rejected")
    );
    let jobs = store.list_jobs(g.id).await.unwrap();
    assert_eq!(jobs[0].response_data, Some(ResponseData::summary(20, 2)));
    assert_eq!(
        jobs[1].error_message.as_deref(),
        Some("credential rejected")
    );
    let by_status = |s| jobs.iter().filter(|j| j.status == s).count() as u32;
    assert_eq!(
        (
            by_status(JobStatus::Completed),
            by_status(JobStatus::Failed)
        ),
        (fin.completed_jobs, fin.failed_jobs)
    );

    let (ok, _) = group(1);
    create_with_jobs(store, &ok, &[Job::new(ok.id, JobId::new(0), None)]).await;
    store
        .start_job(&ok, JobId::new(0), now, LEASE)
        .await
        .unwrap();
    store
        .finish_job(ok.id, JobId::new(0), &done, now)
        .await
        .unwrap();
    assert_eq!(
        store.finalize_group(ok.id, now).await.unwrap(),
        Some(JobGroupStatus::Completed)
    );
    assert_eq!(
        store.get_group(ok.id).await.unwrap().unwrap().error_message,
        None
    );
}

/// Cancel skips what has not run; a retry runs only the failed jobs again, counters exact,
/// and may be repeated.
pub async fn job_cancel_and_retry(store: &dyn JobStore) {
    let (g, jobs) = group(5);
    create_with_jobs(store, &g, &jobs).await;
    let t1 = t0() + Duration::seconds(1);
    let done = JobResult::Completed(ResponseData::summary(1, 1));
    store.start_job(&g, JobId::new(0), t1, LEASE).await.unwrap();
    store
        .finish_job(g.id, JobId::new(0), &done, t1)
        .await
        .unwrap();
    store
        .finish_job(
            g.id,
            JobId::new(1),
            &JobResult::Failed("HTTP 500".into()),
            t1,
        )
        .await
        .unwrap();

    let c = store
        .request_cancel(g.id, t1)
        .await
        .unwrap()
        .expect("a running group can be cancelled");
    assert_eq!(c.cancel_requested_at, Some(t1));
    assert_eq!(
        store
            .request_cancel(g.id, t1 + Duration::seconds(5))
            .await
            .unwrap()
            .unwrap()
            .cancel_requested_at,
        Some(t1)
    );
    for i in 2..5 {
        let r = JobResult::Failed("cancelled before it ran".into());
        assert_eq!(
            store.finish_job(g.id, JobId::new(i), &r, t1).await.unwrap(),
            FinishOutcome::Recorded
        );
    }
    assert_eq!(
        store.finalize_group(g.id, t1).await.unwrap(),
        Some(JobGroupStatus::Failed)
    );
    let ended = store.get_group(g.id).await.unwrap().unwrap();
    assert!(
        ended
            .error_message
            .as_deref()
            .unwrap()
            .starts_with("cancelled by the user; 4 of 5"),
        "{:?}",
        ended.error_message
    );
    assert_eq!(
        store.request_cancel(g.id, t1).await.unwrap(),
        None,
        "an ended group cannot be cancelled"
    );

    let t2 = t1 + Duration::minutes(1);
    let ids: Vec<u32> = store
        .retry_failed(g.id, t2)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|j| j.index())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4], "only the failed jobs run again");
    let reopened = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (
            reopened.status,
            reopened.completed_jobs,
            reopened.failed_jobs,
            reopened.completed_at,
            reopened.error_message.clone(),
            reopened.cancel_requested_at
        ),
        (JobGroupStatus::Running, 1, 0, None, None, None)
    );
    let jobs = store.list_jobs(g.id).await.unwrap();
    assert_eq!(
        jobs[0].status,
        JobStatus::Completed,
        "completed jobs stay completed"
    );
    assert!(jobs[1..].iter().all(|j| j.status == JobStatus::Pending
        && j.retry_count == 1
        && j.error_message.is_none()
        && j.last_retry_at == Some(t2)));
    let again: Vec<u32> = store
        .retry_failed(g.id, t2)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|j| j.index())
        .collect();
    assert_eq!(
        again, ids,
        "a repeated retry lists the same jobs and changes no counter"
    );
    assert_eq!(store.get_group(g.id).await.unwrap().unwrap().failed_jobs, 0);
    for i in 1..5 {
        store
            .start_job(&reopened, JobId::new(i), t2, LEASE)
            .await
            .unwrap();
        store
            .finish_job(g.id, JobId::new(i), &done, t2)
            .await
            .unwrap();
    }
    assert_eq!(
        store.finalize_group(g.id, t2).await.unwrap(),
        Some(JobGroupStatus::Completed)
    );
    let fin = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (fin.completed_jobs, fin.failed_jobs, fin.error_message),
        (5, 0, None)
    );
    assert_eq!(
        store.retry_failed(g.id, t2).await.unwrap(),
        None,
        "a completed group has nothing to retry"
    );
}

fn bar(code: &str, date: &str, close: Option<f64>) -> Record {
    Record {
        partition: code.into(),
        sort: date.into(),
        fields: vec![
            ("Code".into(), FieldValue::Text(code.into())),
            ("Date".into(), FieldValue::Text(date.into())),
            (
                "C".into(),
                close.map_or(FieldValue::Null, FieldValue::Number),
            ),
            ("UL".into(), FieldValue::Text("0".into())),
        ],
    }
}

/// Rows are keyed by owner, dataset and natural key; storing again overwrites.
pub async fn row_store(store: &dyn RowStore) {
    let scope = RowScope {
        user_id: UserId::new(),
        dataset: crate::dataset::DatasetKind::EqBarsDaily,
    };
    let other = RowScope {
        user_id: UserId::new(),
        ..scope
    };
    let rows: Vec<Record> = (1..=30)
        .map(|d| {
            bar(
                "72030",
                &format!("2024-01-{d:02}"),
                if d == 5 {
                    None
                } else {
                    Some(2000.5 + d as f64)
                },
            )
        })
        .collect();
    store.put_rows(scope, &rows).await.unwrap();
    store
        .put_rows(
            scope,
            &[
                bar("72030", "2024-01-02", Some(1.25)),
                bar("86970", "2024-01-02", Some(3.0)),
            ],
        )
        .await
        .unwrap();
    let got = store
        .query_rows(scope, "72030", Some("2024-01-02"), Some("2024-01-05"))
        .await
        .unwrap();
    let json: Vec<_> = got.iter().map(Record::to_json).collect();
    let want: Vec<_> = [
        bar("72030", "2024-01-02", Some(1.25)),
        bar("72030", "2024-01-03", Some(2003.5)),
        bar("72030", "2024-01-04", Some(2004.5)),
        bar("72030", "2024-01-05", None),
    ]
    .iter()
    .map(Record::to_json)
    .collect();
    assert_eq!(json, want);
    assert_eq!(
        store
            .query_rows(scope, "72030", None, None)
            .await
            .unwrap()
            .len(),
        30,
        "no duplicates"
    );
    assert!(
        store
            .query_rows(other, "72030", None, None)
            .await
            .unwrap()
            .is_empty(),
        "rows are per user"
    );
    assert_eq!(
        store
            .query_rows(scope, "86970", None, None)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Envelopes open only under the context they were sealed with, and re-wrapped data keys
/// still open them.
pub async fn key_service(keys: &dyn KeyService) {
    let ctx = |user| EncryptionContext {
        user_id: user,
        data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
        purpose: "credentials",
    };
    let (a, b) = (ctx(UserId::new()), ctx(UserId::new()));
    let secret = SecretString::from(r#"{"api_key":"sentinel-Zq9"}"#);
    let env = crypto::seal(keys, &secret, &a).await.unwrap();
    assert!(!String::from_utf8_lossy(&env.ciphertext).contains("sentinel-Zq9"));
    assert_eq!(env.key_arn, keys.current_key_arn().await.unwrap());
    assert_eq!(
        crypto::open(keys, &env, &a).await.unwrap().expose_secret(),
        secret.expose_secret()
    );
    assert!(
        matches!(
            crypto::open(keys, &env, &b).await,
            Err(CryptoError::Invalid)
        ),
        "moved to another user"
    );
    let other_purpose = EncryptionContext {
        purpose: "id_token",
        ..a.clone()
    };
    assert!(matches!(
        crypto::open(keys, &env, &other_purpose).await,
        Err(CryptoError::Invalid)
    ));
    let mut tampered = env.clone();
    tampered.ciphertext[0] ^= 1;
    assert!(matches!(
        crypto::open(keys, &tampered, &a).await,
        Err(CryptoError::Invalid)
    ));
    let (edk, arn) = keys.re_encrypt(&env.encrypted_data_key, &a).await.unwrap();
    let rewrapped = Envelope {
        encrypted_data_key: edk,
        key_arn: arn,
        ..env.clone()
    };
    assert_eq!(
        crypto::open(keys, &rewrapped, &a)
            .await
            .unwrap()
            .expose_secret(),
        secret.expose_secret()
    );
    assert!(
        keys.re_encrypt(&env.encrypted_data_key, &b).await.is_err(),
        "re-wrap checks the context"
    );
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).expect("system RNG");
    u64::from_le_bytes(b)
}

/// Versioned writes: a write based on a stale read loses, so no permit is spent twice.
pub async fn limiter_store(store: &dyn LimiterStore) {
    let scope = format!("jquants-v2#{}", UserId::new());
    let (empty, v0) = store.load_scope(&scope).await.unwrap();
    assert_eq!((empty, v0), (ScopeState::default(), 0));
    let mut state = ScopeState::default();
    let plan = [Demand {
        bucket: "plan".into(),
        limits: Limits {
            per_minute: 5,
            per_hour: Some(100),
            per_day: Some(1000),
        },
    }];
    assert_eq!(state.decide(&plan, t0(), 2), Decision::Granted(2));
    assert!(store.save_scope(&scope, &state, 0).await.unwrap());
    assert!(
        !store.save_scope(&scope, &state, 0).await.unwrap(),
        "a second first write loses"
    );
    let (read, v1) = store.load_scope(&scope).await.unwrap();
    assert_eq!((&read, v1), (&state, 1));
    state.throttled(t0(), None);
    assert!(store.save_scope(&scope, &state, 1).await.unwrap());
    assert!(
        !store.save_scope(&scope, &read, 1).await.unwrap(),
        "a write based on a stale read loses"
    );
    assert_eq!(store.load_scope(&scope).await.unwrap(), (state, 2));
}

/// Many processes, many tasks each, one account: exactly the limit is granted, never more.
pub async fn limiter_under_contention(store: Arc<dyn LimiterStore>) {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(t0()));
    let source = DataSource::jquants_v2("http://127.0.0.1:9");
    let scope = Scope::for_request(&source, UserId::new());
    let plan = [Demand {
        bucket: "plan".into(),
        limits: Limits {
            per_minute: 37,
            per_hour: None,
            per_day: None,
        },
    }];
    let processes: Vec<_> = (0..6)
        .map(|_| Arc::new(Limiter::new(store.clone(), clock.clone())))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for p in &processes {
        for _ in 0..10 {
            let (p, scope, plan) = (p.clone(), scope.clone(), plan.clone());
            tasks.spawn(async move {
                let mut granted = 0;
                // Retry through lost races until refused for the minute.
                loop {
                    match p.acquire(&scope, &plan, 1).await.unwrap() {
                        Decision::Granted(k) => granted += k,
                        Decision::Wait {
                            reason: WaitReason::Contention,
                            ..
                        } => {}
                        Decision::Wait { reason, .. } => {
                            assert_eq!(reason, WaitReason::Minute);
                            return granted;
                        }
                    }
                }
            });
        }
    }
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        total += r.unwrap();
    }
    assert_eq!(total, 37, "every permit granted exactly once");
}

/// A fetcher's batch: its jobs read together, and finished together with exact counters even
/// when one of them is a duplicate.
pub async fn job_batches(store: &dyn JobStore) {
    let (g, jobs) = group(5);
    create_with_jobs(store, &g, &jobs).await;
    let (other, other_jobs) = group(1);
    create_with_jobs(store, &other, &other_jobs).await;
    let read = store
        .get_jobs(&[
            (g.id, JobId::new(3)),
            (other.id, JobId::new(0)),
            (g.id, JobId::new(99)),
            (g.id, JobId::new(0)),
        ])
        .await
        .unwrap();
    assert_eq!(
        read.iter().map(|(rg, j)| (rg.id, j.id)).collect::<Vec<_>>(),
        vec![
            (g.id, JobId::new(3)),
            (other.id, JobId::new(0)),
            (g.id, JobId::new(0))
        ],
        "in the order asked, a missing job left out"
    );
    assert_eq!(read[0], (g.clone(), jobs[3].clone()));

    let now = t0() + Duration::seconds(5);
    let started = store.start_jobs(&g, &jobs, now, LEASE).await.unwrap();
    assert!(started.iter().zip(&jobs).all(|(o, j)| matches!(
        o,
        StartOutcome::Started(s) if s.id == j.id && s.status == JobStatus::Running && s.lease_until == Some(now + LEASE)
    )));
    let (_, stored) = store.get_job(g.id, JobId::new(4)).await.unwrap().unwrap();
    assert_eq!(stored.lease_until, Some(now + LEASE));
    assert_eq!(
        store.get_group(g.id).await.unwrap().unwrap().status,
        JobGroupStatus::Running,
        "the group starts with its first jobs"
    );
    let again = store
        .start_jobs(&g, &jobs[..2], now + Duration::seconds(1), LEASE)
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![StartOutcome::Leased(now + LEASE); 2],
        "a duplicate batch waits for the leases"
    );
    let done = JobResult::Completed(ResponseData::summary(3, 1));
    let outcomes = store
        .finish_jobs(
            g.id,
            &[
                (JobId::new(0), done.clone()),
                (JobId::new(1), JobResult::Failed("HTTP 400".into())),
                (JobId::new(2), done.clone()),
            ],
            now,
        )
        .await
        .unwrap();
    assert_eq!(outcomes, vec![FinishOutcome::Recorded; 3]);
    let c = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!((c.completed_jobs, c.failed_jobs), (2, 1));

    let outcomes = store
        .finish_jobs(
            g.id,
            &[(JobId::new(2), done.clone()), (JobId::new(3), done.clone())],
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![FinishOutcome::AlreadyTerminal, FinishOutcome::Recorded],
        "a duplicate in the batch is not counted, the rest are"
    );
    let c = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!((c.completed_jobs, c.failed_jobs), (3, 1));
    let (_, j1) = store.get_job(g.id, JobId::new(1)).await.unwrap().unwrap();
    assert_eq!(
        (j1.status, j1.error_message.as_deref()),
        (JobStatus::Failed, Some("HTTP 400"))
    );
}

/// Parked jobs come back when due, earliest first; a re-park for a later time survives the
/// unpark of the earlier one; finished jobs are never parked.
pub async fn parked_jobs<S: JobStore + ParkedJobs>(store: &S) {
    let (g, jobs) = group(4);
    create_with_jobs(store, &g, &jobs).await;
    let at = |s: i64| t0() + Duration::seconds(s);
    store.park(g.id, JobId::new(2), at(3_600)).await.unwrap();
    store.park(g.id, JobId::new(1), at(60)).await.unwrap();
    assert_eq!(store.due(at(59), 10).await.unwrap(), vec![]);
    let due = store.due(at(3_600), 10).await.unwrap();
    assert_eq!(
        due.iter().map(|p| (p.job, p.until)).collect::<Vec<_>>(),
        vec![(JobId::new(1), at(60)), (JobId::new(2), at(3_600))],
        "earliest first, both due"
    );
    assert_eq!(store.due(at(3_600), 1).await.unwrap().len(), 1, "limit");
    let (_, j1) = store.get_job(g.id, JobId::new(1)).await.unwrap().unwrap();
    assert_eq!(j1.parked_until, Some(at(60)));

    // Parked again for later while the scheduler was sending it: the unpark leaves it.
    store.park(g.id, JobId::new(1), at(7_200)).await.unwrap();
    store.unpark(&due[0]).await.unwrap();
    store.unpark(&due[1]).await.unwrap();
    let left = store.due(at(10_000), 10).await.unwrap();
    assert_eq!(
        left.iter().map(|p| (p.job, p.until)).collect::<Vec<_>>(),
        vec![(JobId::new(1), at(7_200))]
    );

    let done = JobResult::Completed(ResponseData::summary(1, 1));
    store
        .start_job(&g, JobId::new(3), at(0), LEASE)
        .await
        .unwrap();
    store
        .finish_job(g.id, JobId::new(3), &done, at(1))
        .await
        .unwrap();
    store.park(g.id, JobId::new(3), at(60)).await.unwrap();
    store.park(g.id, JobId::new(99), at(60)).await.unwrap();
    assert_eq!(
        store.due(at(10_000), 10).await.unwrap().len(),
        1,
        "a finished or missing job is not parked"
    );
    // Finishing a parked job takes it off the list.
    store
        .start_job(&g, JobId::new(1), at(7_200), LEASE)
        .await
        .unwrap();
    store
        .finish_job(g.id, JobId::new(1), &done, at(7_201))
        .await
        .unwrap();
    assert_eq!(store.due(at(10_000), 10).await.unwrap(), vec![]);
}

/// Schedules are written over the version read, found when due (and only then), listed and
/// deleted per user; the calendar merges; watermarks only move forward.
pub async fn schedule_store(store: &dyn ScheduleStore) {
    use crate::schedule::{CronSpec, Schedule, Template, TradingCalendar, Window};

    let user = UserId::new();
    // 18:00 Tokyo is 09:00 UTC; t0 is 09:00 UTC, so the first fire after t0 is tomorrow's.
    let mut s = Schedule::new(
        user,
        "daily bars".into(),
        CronSpec::parse("0 18 * * *", None).unwrap(),
        Template {
            data_source: DataSourceId::parse("jquants-v2").unwrap(),
            endpoint: "eq-bars-daily".into(),
            symbols: Vec::new(),
            all_listed_issues: false,
            params: BTreeMap::new(),
            window: Window::PreviousTradingDay,
        },
        t0(),
    );
    assert!(store.save_schedule(&s).await.unwrap());
    assert!(
        !store.save_schedule(&s).await.unwrap(),
        "a new id is created once"
    );
    let stored = store.get_schedule(user, s.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        Schedule {
            version: 0,
            ..stored.clone()
        },
        s
    );
    assert!(
        store
            .get_schedule(UserId::new(), s.id)
            .await
            .unwrap()
            .is_none(),
        "owner's only"
    );

    let fire = t0() + Duration::days(1);
    assert!(
        store
            .due_schedules(fire - Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.due_schedules(fire, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), vec![s.id]);

    // Two writers over version 1: one wins.
    let mut a = stored.clone();
    a.handled_until = fire;
    let mut b = stored.clone();
    b.name = "renamed".into();
    assert!(store.save_schedule(&a).await.unwrap());
    assert!(
        !store.save_schedule(&b).await.unwrap(),
        "written over a stale version"
    );
    assert!(
        store.due_schedules(fire, 10).await.unwrap().is_empty(),
        "handled: not due"
    );
    let stored = store.get_schedule(user, s.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.handled_until), (2, fire));

    // Disabled: never due.
    s = stored;
    s.enabled = false;
    assert!(store.save_schedule(&s).await.unwrap());
    assert!(
        store
            .due_schedules(fire + Duration::days(30), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let other = Schedule {
        id: crate::domain::ScheduleId::new(),
        version: 0,
        ..s.clone()
    };
    assert!(store.save_schedule(&other).await.unwrap());
    assert_eq!(store.list_schedules(user).await.unwrap().len(), 2);
    assert!(
        store
            .list_schedules(UserId::new())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_schedule(user, other.id).await.unwrap());
    assert!(!store.delete_schedule(user, other.id).await.unwrap());
    assert_eq!(store.list_schedules(user).await.unwrap().len(), 1);

    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let cal = |first: &str, last: &str, open: &[&str]| TradingCalendar {
        first: d(first),
        last: d(last),
        trading: open.iter().map(|s| d(s)).collect(),
        fetched_at: t0(),
    };
    store
        .merge_calendar(&cal(
            "2026-01-01",
            "2026-01-10",
            &["2026-01-05", "2026-01-06"],
        ))
        .await
        .unwrap();
    store
        .merge_calendar(&cal("2026-01-06", "2026-01-20", &["2026-01-07"]))
        .await
        .unwrap();
    let merged = store.calendar().await.unwrap().unwrap();
    assert_eq!(
        (merged.first, merged.last),
        (d("2026-01-01"), d("2026-01-20"))
    );
    assert_eq!(merged.is_trading_day(d("2026-01-05")), Some(true));
    assert_eq!(
        merged.is_trading_day(d("2026-01-06")),
        Some(false),
        "the newer read wins"
    );

    let key = "jquants-v2#eq-bars-daily#all";
    assert_eq!(store.watermark(user, key).await.unwrap(), None);
    store
        .advance_watermark(user, key, d("2026-01-07"))
        .await
        .unwrap();
    store
        .advance_watermark(user, key, d("2026-01-05"))
        .await
        .unwrap();
    assert_eq!(
        store.watermark(user, key).await.unwrap(),
        Some(d("2026-01-07"))
    );
    assert_eq!(store.watermark(UserId::new(), key).await.unwrap(), None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::LocalKeys;
    use crate::store::memory::{MemoryAccounts, MemoryJobs, MemoryRows, MemorySchedules};

    #[tokio::test]
    async fn memory_fakes_keep_the_contracts() {
        let accounts = MemoryAccounts::default();
        user_store(&accounts).await;
        api_keys(&accounts).await;
        data_source_store(&accounts).await;
        credential_store(&accounts).await;
        credential_listing(&MemoryAccounts::default()).await;
        job_store(&MemoryJobs::default()).await;
        parked_jobs(&MemoryJobs::default()).await;
        job_batches(&MemoryJobs::default()).await;
        fan_out(&MemoryJobs::default()).await;
        job_cancel_and_retry(&MemoryJobs::default()).await;
        group_listing(&MemoryJobs::default()).await;
        group_job_listing(&MemoryJobs::default()).await;
        row_store(&MemoryRows::default()).await;
        key_service(&LocalKeys::default()).await;
        use crate::limiter::store::MemoryLimits;
        limiter_store(&MemoryLimits::default()).await;
        limiter_under_contention(Arc::new(MemoryLimits::default())).await;
        schedule_store(&MemorySchedules::default()).await;
    }
}
