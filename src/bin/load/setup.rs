//! Seeding of the load accounts straight into the nodes' database, through the same repository code as
//! `buko admin create-user` / `create-api-key`: creating thousands of accounts through `/register` would
//! cost one argon2 hash each on the server and measure sign-up, not the steady state. All load accounts
//! share one password (hashed once here), get plan `unlimited` (the `free` plan allows 3 architectures
//! an hour) and one API key each. Idle users' books are inserted as `draft` rows: a draft has no job,
//! so thousands of idle subscriptions cost no LLM call. Writing books are seeded `architecture_ready`
//! with the offline writer's architecture (`buko fake-llm` streams prose, not architecture JSON) and then
//! approved through the REST API; `--architect-via-llm` creates them through the API instead.

use anyhow::Context;
use buko::db::{self, repo, DbPool};

pub const PASSWORD: &str = "load-test-password-1";
const BATCH: usize = 250;

/// One seeded account.
#[derive(Clone, Debug)]
pub struct Account {
    pub user_id: String,
    pub email: String,
    pub api_key: String,
    /// The draft book an idle user's WebSocket subscribes to (writers have none: theirs is created later).
    pub idle_book: Option<String>,
}

/// Creates `writers` accounts without a book and `idle` accounts with one draft book each.
pub async fn seed(
    database_url: &str,
    tag: &str,
    writers: usize,
    idle: usize,
) -> anyhow::Result<Vec<Account>> {
    let pool = db::build_pool(database_url, 2).context("connect to the database")?;
    let hash = buko::accounts::hash_password(PASSWORD.to_string())
        .await
        .map_err(|e| anyhow::anyhow!("hash the load password: {e}"))?;
    let total = writers + idle;
    let mut out = Vec::with_capacity(total);
    let mut start = 0;
    while start < total {
        let end = (start + BATCH).min(total);
        let (tag, hash) = (tag.to_string(), hash.clone());
        let batch = db::run(&pool, move |c| {
            db::write_tx(c, |c| seed_batch(c, &tag, &hash, start..end, writers))
        })
        .await
        .context("seed accounts")?;
        out.extend(batch);
        start = end;
    }
    set_plan(&pool, tag).await?;
    Ok(out)
}

fn seed_batch(
    c: &mut db::DbConn,
    tag: &str,
    hash: &str,
    range: std::ops::Range<usize>,
    writers: usize,
) -> Result<Vec<Account>, db::DbError> {
    let mut out = Vec::with_capacity(range.len());
    for i in range {
        let email = format!("load-{tag}-{i}@example.com");
        let user = repo::users::create(
            c,
            repo::users::NewUser {
                email: &email,
                password_hash: hash.to_string(),
                role: "user",
                locale: None,
            },
        )?;
        let (key, _) = repo::api_keys::create(c, &user.id, "load")?;
        let idle_book = if i >= writers {
            let id = repo::seed::insert_book(
                c,
                &user.id,
                &format!("Draft {i}"),
                "An idle user's draft (load test)",
                100,
                None,
            )?;
            Some(id)
        } else {
            None
        };
        out.push(Account {
            user_id: user.id.into(),
            email: user.email,
            api_key: key.expose().to_string(),
            idle_book,
        });
    }
    Ok(out)
}

async fn set_plan(pool: &DbPool, tag: &str) -> anyhow::Result<()> {
    let pattern = format!("load-{tag}-%");
    db::run(pool, move |c| {
        repo::seed::set_plan_where_email_like(c, &pattern, "unlimited")
    })
    .await
    .context("set the load accounts' plan")?;
    Ok(())
}

/// Inserts one `architecture_ready` book per owner, with the architecture the offline writer drafts for
/// the idea (valid by construction); returns the book ids in the owners' order.
pub async fn seed_ready_books(
    database_url: &str,
    owners: &[Account],
    pages: u32,
) -> anyhow::Result<Vec<String>> {
    let pool = db::build_pool(database_url, 2).context("connect to the database")?;
    let owners: Vec<String> = owners.iter().map(|a| a.user_id.clone()).collect();
    let ids = db::run(&pool, move |c| {
        db::write_tx(c, |c| {
            let mut ids = Vec::with_capacity(owners.len());
            for (i, user_id) in owners.iter().enumerate() {
                let idea = format!(
                    "A load-test novel number {i} about lighthouse keepers who trade letters across a stormy archipelago"
                );
                let ctx = buko_actors::RequestContext {
                    idea: Some(idea.clone()),
                    target_pages: Some(pages),
                    ..Default::default()
                };
                let arch = buko::llm::offline::architecture(&ctx);
                let json = serde_json::to_string(&arch).unwrap_or_default();
                let id = repo::seed::insert_book(
                    c,
                    user_id,
                    &arch.title,
                    &idea,
                    pages as i32,
                    Some(json),
                )?;
                ids.push(id);
            }
            Ok::<_, db::DbError>(ids)
        })
    })
    .await
    .context("seed the writing books")?;
    Ok(ids)
}
