//! Pools, connections and transactions for both backends.

use std::str::FromStr;
use std::time::Duration;

use dossier_domain::activity::NewActivity;
use dossier_domain::ids::ActivityId;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::{Result, StoreError};

/// A pooled PostgreSQL connection idle this long is pinged before use.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(60);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A database: SQLite (one writer connection, a pool of readers) or PostgreSQL.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite { writer: SqlitePool, readers: SqlitePool },
    Postgres(PgPool),
}

/// A connection of either backend, to run a query on.
pub enum Handle<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// A pooled connection for reads.
pub enum Reader {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Reader {
    /// Close this connection when it is dropped instead of returning it to
    /// the pool: for a read that opens its own snapshot transaction, so an
    /// error half-way never hands an open transaction to the next reader.
    pub fn close_on_drop(&mut self) {
        match self {
            Reader::Sqlite(c) => c.close_on_drop(),
            Reader::Postgres(c) => c.close_on_drop(),
        }
    }

    pub fn handle(&mut self) -> Handle<'_> {
        match self {
            Reader::Sqlite(c) => Handle::Sqlite(c),
            Reader::Postgres(c) => Handle::Postgres(c),
        }
    }
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction. Activities appended to it are hash-chained and
/// written in the same transaction, at the latest on commit; dropping it
/// without commit rolls back the state and the activities alike.
pub struct Tx {
    inner: TxInner,
    pub(crate) pending: Vec<NewActivity>,
    /// Whether activities were written: a transaction that records
    /// history is a use case's, and marks a held idempotency claim.
    recorded: bool,
}

/// The SQLite writer's page cache, in KiB (negative), outside bulk loads
/// (restored by [`Db::bulk_load`]`(false)` too).
const WRITER_CACHE: &str = "-32768";

/// WAL pages after which the writer checkpoints on its own when
/// [`Db::checkpoint_in_background`] runs (about 128 MiB of WAL).
const WRITER_CHECKPOINT_BACKSTOP: u32 = 16384;

/// Activities buffered before they are written in one multi-row insert.
const FLUSH_AT: usize = 256;

impl Tx {
    pub fn handle(&mut self) -> Handle<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Handle::Sqlite(t),
            TxInner::Postgres(t) => Handle::Postgres(t),
        }
    }

    /// Append an activity to the log, in this transaction.
    pub async fn append(&mut self, activity: NewActivity) -> Result<()> {
        self.pending.push(activity);
        if self.pending.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Write the buffered activities now.
    pub async fn flush(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.recorded |= !pending.is_empty();
        crate::customers::refuse_deactivated(&mut self.handle(), &pending).await?;
        crate::activity::write_chained(&mut self.handle(), pending).await.map(drop)
    }

    /// Write the buffered activities and then `activity` now, and answer
    /// the id and sequence number `activity` got (an erasure names itself
    /// in the rows it tombstones).
    pub async fn append_now(&mut self, activity: NewActivity) -> Result<(ActivityId, i64)> {
        self.flush().await?;
        let pending = vec![activity];
        self.recorded = true;
        crate::customers::refuse_deactivated(&mut self.handle(), &pending).await?;
        let written = crate::activity::write_chained(&mut self.handle(), pending).await?;
        written.into_iter().next().ok_or_else(|| crate::StoreError::corrupt("an appended activity was not written"))
    }

    pub async fn commit(mut self) -> Result<()> {
        self.flush().await?;
        if self.recorded
            && let Some(claim) = crate::idempotency::held()
        {
            crate::idempotency::mark_committed(&mut self.handle(), &claim).await?;
        }
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Db {
    /// Open the database at `url`: a file path or `sqlite://…` for SQLite
    /// (created if missing), `postgres://…` for PostgreSQL.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(PgConnectOptions::from_str(url)?).await
        } else if url.contains("://") && !url.starts_with("sqlite://") {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("temp_store", "memory")
                // 8 KiB pages (for new files): shallower B-trees for the log and search terms.
                .page_size(8192);
            // Page cache in KiB (negative): the writer keeps the hot index
            // pages of its writes; readers mostly read from the OS page cache,
            // which all connections share (at a million customers, 16 MiB
            // per reader made the server 241 MB; 8 MiB, see docs/performance.md).
            // No ping before each acquire: a connection to a local file does
            // not go stale, and the ping is a round trip to the connection's
            // thread on every request (see docs/performance.md).
            let pool = || SqlitePoolOptions::new().test_before_acquire(false);
            let writer = pool().max_connections(1).connect_with(options.clone().pragma("cache_size", WRITER_CACHE)).await?;
            let readers = pool().max_connections(4).connect_with(options.read_only(true).pragma("cache_size", "-8192")).await?;
            Ok(Db::Sqlite { writer, readers })
        }
    }

    /// Open PostgreSQL with `search_path` set to `schema`: each test runs
    /// in a fresh schema of one database.
    pub async fn connect_postgres_schema(url: &str, schema: &str) -> Result<Db> {
        let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        Self::connect_postgres(options).await
    }

    async fn connect_postgres(options: PgConnectOptions) -> Result<Db> {
        // No JIT: our statements are short lookups and writes, many of them
        // with long IN and VALUES lists that the planner costs high enough
        // to compile, which then takes longer than running them (an
        // import's lookups went from about 6 ms to 350 ms each with it on).
        let options = options.options([("jit", "off")]);
        // A connection is pinged before use only after a minute idle (it may
        // have been dropped by the server or a proxy meanwhile), not on every
        // acquire, which would cost each request a round trip per connection.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db::Postgres(pool))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Apply the migrations this backend has not seen yet, then the work
    /// they left for Rust (search terms of sites made before 0019, words of
    /// custom values given before 0021).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        crate::search::fill_pending_site_terms(self).await?;
        crate::custom_fields::fill_pending_custom_terms(self).await
    }

    /// Begin a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it never fails half-way on a busy database.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match self {
            Db::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner, pending: Vec::new(), recorded: false })
    }

    /// Begin a write transaction for one batch of a bulk load. On
    /// PostgreSQL its statements are planned each time with their own
    /// parameters and the tables' current sizes
    /// (`plan_cache_mode = force_custom_plan`) rather than from a cached
    /// generic plan: within a load the tables grow far beyond what the
    /// last statistics say, and a generic plan made while they were nearly
    /// empty keeps whichever index it tied on first (3,000 demo customers
    /// in one batch: 157 s with cached plans, 89 s with custom ones).
    /// SQLite plans each statement as it is prepared; there this is
    /// [`Db::begin`].
    pub async fn begin_bulk(&self) -> Result<Tx> {
        let mut tx = self.begin().await?;
        if let TxInner::Postgres(t) = &mut tx.inner {
            sqlx::raw_sql("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut **t).await?;
        }
        Ok(tx)
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<Reader> {
        Ok(match self {
            Db::Sqlite { readers, .. } => Reader::Sqlite(readers.acquire().await?),
            Db::Postgres(pool) => Reader::Postgres(pool.acquire().await?),
        })
    }

    /// Run raw SQL outside the service layer: for tests and operators only.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let rows = match self {
            Db::Sqlite { writer, .. } => sqlx::raw_sql(sql).execute(writer).await?.rows_affected(),
            Db::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await?.rows_affected(),
        };
        Ok(rows)
    }

    /// The number a raw `SELECT COUNT(*) …` answers: for tests and operators only.
    pub async fn count_raw(&self, sql: &str) -> Result<i64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Db::Sqlite { readers, .. } => sqlx::query_scalar(sql).fetch_one(readers).await?,
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        })
    }

    /// Tune the writer for a long bulk load (demo data, imports): a larger
    /// page cache and fewer WAL checkpoints; `false` restores the defaults.
    /// Durability stays as it is (`synchronous` is not lowered).
    /// PostgreSQL: at the end, VACUUM (ANALYZE) of the tables a load fills,
    /// so their pages are marked all-visible (index-only scans, such as the
    /// summary's and the search's, read no table rows then) rather than
    /// waiting for autovacuum.
    pub async fn bulk_load(&self, on: bool) -> Result<()> {
        match self {
            Db::Sqlite { writer, .. } => {
                let sql = if on {
                    "PRAGMA cache_size = -1048576; PRAGMA wal_autocheckpoint = 65536;".to_owned()
                } else {
                    format!("PRAGMA cache_size = {WRITER_CACHE}; PRAGMA wal_autocheckpoint = 1000; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA shrink_memory;")
                };
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(writer).await?;
            }
            Db::Postgres(pool) if !on => {
                sqlx::raw_sql(
                    "VACUUM (ANALYZE) customer, customer_label, contact, site, customer_search, activity, activity_link, \
                     inquiry, quote, job, job_assignee, invoice, payment, credit_note, allocation, customer_bar, message",
                )
                .execute(pool)
                .await?;
            }
            Db::Postgres(_) => {}
        }
        Ok(())
    }

    /// SQLite: move WAL checkpoints off the write path. By default the
    /// commit that grows the WAL past 1,000 pages copies them into the
    /// database file and syncs it while every other write waits; here a
    /// connection of its own checkpoints every `every` instead (PASSIVE:
    /// it never blocks writers or readers), and the writer checkpoints
    /// itself only if the WAL outgrows a backstop. Runs until the database
    /// is closed. PostgreSQL needs nothing here.
    pub async fn checkpoint_in_background(&self, every: Duration) -> Result<()> {
        let Db::Sqlite { writer, .. } = self else { return Ok(()) };
        let options = (*writer.connect_options()).clone();
        let checkpointer = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_BACKSTOP}"))).execute(writer).await?;
        let writer = writer.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !writer.is_closed() {
                tick.tick().await;
                if let Err(error) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)").execute(&checkpointer).await {
                    tracing::warn!(%error, "background WAL checkpoint failed; the writer checkpoints past the backstop");
                }
            }
            checkpointer.close().await;
        });
        Ok(())
    }

    /// Bring the planner's statistics up to date after a bulk write.
    /// PostgreSQL caches a generic plan per prepared statement, costed with
    /// the statistics of the moment: planned while `job` was nearly empty,
    /// updating a job by its key walked every job of the org through
    /// another index (16,000 rows per update at 80,000 customers). ANALYZE
    /// refreshes the statistics and invalidates those plans. SQLite plans
    /// each statement from its schema and needs nothing here.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if let Db::Postgres(pool) = self {
            sqlx::raw_sql("ANALYZE").execute(pool).await?;
        }
        Ok(())
    }

    /// Refresh PostgreSQL's statistics of `tables` (named by the code), which
    /// a long bulk write has grown: planned with the statistics of an empty
    /// table, a lookup by an indexed column reads the whole table instead.
    /// Nothing to do on SQLite, whose planner prefers indexes without them.
    pub async fn refresh_statistics_of(&self, tables: &[&'static str]) -> Result<()> {
        if let Db::Postgres(pool) = self {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE {}", tables.join(", ")))).execute(pool).await?;
        }
        Ok(())
    }

    /// Rows in one of our tables (named by the code, never by input).
    pub async fn count_rows(&self, table: &'static str) -> Result<i64> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        Ok(match self {
            Db::Sqlite { readers, .. } => sqlx::query_scalar(sql).fetch_one(readers).await?,
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        })
    }

    /// The database's size on disk in bytes (SQLite: its pages, WAL
    /// checkpointed; PostgreSQL: the whole database).
    pub async fn size_bytes(&self) -> Result<i64> {
        Ok(match self {
            Db::Sqlite { writer, .. } => {
                sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(writer).await?;
                sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetch_one(writer).await?
            }
            Db::Postgres(pool) => sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(pool).await?,
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, readers } => {
                writer.close().await;
                readers.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
