use thiserror::Error;

/// What can go wrong below the service layer.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value that the domain cannot read (a bug or tampering).
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// A request's idempotency claim was retaken by a later request (it
    /// ran too long), so its transaction must not commit.
    #[error("the idempotency key is now held by another request")]
    IdempotencyClaimLost,
    #[error(transparent)]
    Blob(#[from] crate::blobs::BlobError),
    #[error("unsupported database URL '{0}': use a file path, sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    /// A write concerned a deactivated customer (its code), which is
    /// read-only until reactivated: the transaction must not commit.
    #[error("{0} is deactivated and read-only")]
    CustomerDeactivated(String),
    /// A write concerned a deleted customer (its code), which is read-only
    /// until restored: the transaction must not commit.
    #[error("{0} is deleted and read-only")]
    CustomerDeleted(String),
    /// A write concerned a customer merged into another (the survivor),
    /// which is read-only while the merge stands.
    #[error("{customer} was merged into {survivor} and is read-only")]
    CustomerMerged { customer: String, survivor: String },
}

impl StoreError {
    /// True when a unique constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// True when no connection came free in time (the SQLite writer, or
    /// every PostgreSQL connection, stayed busy): the server is busy, not broken.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::PoolTimedOut))
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}
