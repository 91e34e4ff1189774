//! File contents, named by their SHA-256, one folder (or key prefix) per
//! org (`<org id>/<first two hex digits>/<sha256>`), so a file uploaded
//! twice is kept once and an org's files can be copied or erased on their
//! own. They live in a local folder by default, or in an S3-compatible
//! object store ([`Blobs::object_store`]).
//!
//! An upload is first written to a local staging folder while it is hashed
//! and counted; only a complete, checked upload is kept (moved into place
//! by a rename in a folder, uploaded to an object store), and the database
//! row naming it is written after. A staged file that is dropped (a refused
//! or interrupted upload) is deleted at once; one left by a process that
//! died is swept later ([`Blobs::sweep_staging`]). A blob no live row names
//! (its files deleted, or a crash between keeping and the commit) is
//! removed by [`Blobs::remove_unreferenced`], never while it could still be
//! about to be named (only blobs older than a given age go).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use dossier_domain::file::SNIFF_BYTES;

/// Why a blob could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content passed the size limit; nothing was kept.
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error("file storage error: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage error: {0}")]
    ObjectStore(#[from] object_store::Error),
}

/// The blob store of an installation.
#[derive(Clone, Debug)]
pub struct Blobs {
    /// Where uploads are written while they arrive (always local).
    staging: PathBuf,
    place: Place,
}

#[derive(Clone, Debug)]
enum Place {
    Folder(PathBuf),
    Objects { store: Arc<dyn ObjectStore>, prefix: object_store::path::Path, url: String },
}

/// A blob being read: its size and its content.
pub struct BlobContent {
    pub size: u64,
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
}

/// Deletes its path when dropped, unless disarmed.
#[derive(Debug)]
struct Temporary(Option<PathBuf>);

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An upload being written: hashed and counted as it arrives.
#[derive(Debug)]
pub struct Staging {
    file: tokio::fs::File,
    temporary: Temporary,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    max: u64,
}

/// A complete upload, not yet kept: deleted if dropped.
#[derive(Debug)]
pub struct Staged {
    temporary: Temporary,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub size: u64,
    /// The first bytes, to tell the type from.
    pub head: Vec<u8>,
}

impl Staged {
    /// Where the content is on this machine until it is kept or dropped.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.temporary.0.as_deref()
    }
}

/// Parts of an object store upload (S3's smallest part is 5 MiB).
const PART_BYTES: usize = 8 * 1024 * 1024;

impl Blobs {
    /// The store in folder `root` (created if missing), staging in `root/staging`.
    pub fn local(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        let staging = root.join("staging");
        std::fs::create_dir_all(&staging)?;
        Ok(Self { staging, place: Place::Folder(root) })
    }

    /// The store in an S3-compatible bucket: `url` is `s3://bucket/prefix`;
    /// credentials, region and endpoint come from the `AWS_*` environment
    /// variables and then from `config` (`endpoint`, `region`,
    /// `access_key_id`, `secret_access_key`, `allow_http`…). Uploads are
    /// staged in the local folder `staging` (created if missing).
    pub fn object_store(url: &str, config: &[(&str, &str)], staging: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_url(url);
        for (key, value) in config {
            builder = builder.with_config(key.parse()?, *value);
        }
        let store = builder.build()?;
        let prefix = url.strip_prefix("s3://").and_then(|rest| rest.split_once('/')).map(|(_, prefix)| prefix).unwrap_or_default();
        let staging = staging.into();
        std::fs::create_dir_all(&staging)?;
        let prefix = object_store::path::Path::from(prefix.trim_matches('/'));
        Ok(Self { staging, place: Place::Objects { store: Arc::new(store), prefix, url: url.to_owned() } })
    }

    /// The folder beside a SQLite database file (`…/dossier.db` keeps its
    /// files in `…/files`), or `dossier-data/files` for a server database.
    pub fn default_root(database_url: &str) -> PathBuf {
        let is_file = !database_url.contains("://") || database_url.starts_with("sqlite://");
        if is_file {
            let path = Path::new(database_url.strip_prefix("sqlite://").unwrap_or(database_url));
            path.parent().unwrap_or(Path::new("")).join("files")
        } else {
            PathBuf::from("dossier-data/files")
        }
    }

    /// Where the blobs are, for the log.
    pub fn describe(&self) -> String {
        match &self.place {
            Place::Folder(root) => root.display().to_string(),
            Place::Objects { url, .. } => url.clone(),
        }
    }

    /// Only a well-formed hash names a blob: nothing else reaches a path.
    fn valid(sha256: &str) -> bool {
        sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    fn path(root: &Path, org: Uuid, sha256: &str) -> PathBuf {
        root.join(org.simple().to_string()).join(&sha256[..2]).join(sha256)
    }

    fn key(prefix: &object_store::path::Path, org: Uuid, sha256: &str) -> object_store::path::Path {
        prefix.clone().join(org.simple().to_string()).join(&sha256[..2]).join(sha256)
    }

    /// Start writing an upload of at most `max` bytes.
    pub async fn stage(&self, max: u64) -> Result<Staging, BlobError> {
        let path = self.staging.join(Uuid::now_v7().simple().to_string());
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
        Ok(Staging { file, temporary: Temporary(Some(path)), hasher: Sha256::new(), size: 0, head: Vec::new(), max })
    }

    /// Keep a staged upload as a blob of `org`. In a folder, content already
    /// there is not written again; in an object store it is written again,
    /// which also renews its age for the sweep.
    pub async fn keep(&self, org: Uuid, mut staged: Staged) -> Result<(), BlobError> {
        if !Self::valid(&staged.sha256) {
            return Err(std::io::Error::other("bad hash").into());
        }
        let Some(source) = staged.temporary.0.clone() else { return Ok(()) };
        match &self.place {
            Place::Folder(root) => {
                let target = Self::path(root, org, &staged.sha256);
                if tokio::fs::try_exists(&target).await? {
                    // Same content: bump its time so a sweep running now
                    // leaves it; the staged copy goes as `staged` is dropped.
                    std::fs::File::options().append(true).open(&target)?.set_modified(SystemTime::now())?;
                    return Ok(());
                }
                if let Some(folder) = target.parent() {
                    tokio::fs::create_dir_all(folder).await?;
                }
                tokio::fs::rename(&source, &target).await?;
                staged.temporary.0 = None;
            }
            Place::Objects { store, prefix, .. } => {
                let key = Self::key(prefix, org, &staged.sha256);
                let mut file = tokio::fs::File::open(&source).await?;
                if staged.size <= PART_BYTES as u64 {
                    let mut content = Vec::with_capacity(staged.size as usize);
                    file.read_to_end(&mut content).await?;
                    store.put(&key, PutPayload::from(content)).await?;
                } else {
                    let mut writer = WriteMultipart::new_with_chunk_size(store.put_multipart(&key).await?, PART_BYTES);
                    let mut buffer = vec![0; 1024 * 1024];
                    loop {
                        let read = file.read(&mut buffer).await?;
                        if read == 0 {
                            break;
                        }
                        writer.wait_for_capacity(2).await?;
                        writer.write(&buffer[..read]);
                    }
                    writer.finish().await?;
                }
            }
        }
        Ok(())
    }

    /// Keep `bytes` made here (a thumbnail) as a blob of `org`: its hash.
    pub async fn put(&self, org: Uuid, bytes: &[u8]) -> Result<String, BlobError> {
        let mut staging = self.stage(u64::MAX).await?;
        staging.write(bytes).await?;
        let staged = staging.finish().await?;
        let hash = staged.sha256.clone();
        self.keep(org, staged).await?;
        Ok(hash)
    }

    /// A blob's size and content, to read.
    pub async fn open(&self, org: Uuid, sha256: &str) -> Result<BlobContent, BlobError> {
        if !Self::valid(sha256) {
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "bad hash").into());
        }
        match &self.place {
            Place::Folder(root) => {
                let file = tokio::fs::File::open(Self::path(root, org, sha256)).await?;
                let size = file.metadata().await?.len();
                Ok(BlobContent { size, reader: Box::pin(file) })
            }
            Place::Objects { store, prefix, .. } => {
                let found = store.get(&Self::key(prefix, org, sha256)).await?;
                let size = found.meta.size;
                let stream = found.into_stream().map_err(std::io::Error::other);
                Ok(BlobContent { size, reader: Box::pin(tokio_util::io::StreamReader::new(stream)) })
            }
        }
    }

    /// A blob's size and first bytes, if `org` holds it.
    pub async fn head(&self, org: Uuid, sha256: &str) -> Result<Option<(u64, Vec<u8>)>, BlobError> {
        let content = match self.open(org, sha256).await {
            Ok(content) => content,
            Err(BlobError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(BlobError::ObjectStore(object_store::Error::NotFound { .. })) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        content.reader.take(SNIFF_BYTES as u64).read_to_end(&mut head).await?;
        Ok(Some((content.size, head)))
    }

    /// Whether `org` holds this blob.
    pub async fn exists(&self, org: Uuid, sha256: &str) -> Result<bool, BlobError> {
        if !Self::valid(sha256) {
            return Ok(false);
        }
        match &self.place {
            Place::Folder(root) => Ok(tokio::fs::try_exists(Self::path(root, org, sha256)).await?),
            Place::Objects { store, prefix, .. } => match store.head(&Self::key(prefix, org, sha256)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Delete staged uploads older than `age`: those of a process that
    /// died mid-upload (a live upload is younger than the request deadline).
    pub fn sweep_staging(&self, age: Duration) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.staging)? {
            let entry = entry?;
            if older_than(&entry.path(), age)? {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Every blob with its org, hash and age in seconds (a folder is walked
    /// on a blocking thread, away from the requests' threads).
    async fn all(&self) -> Result<Vec<(Uuid, String, u64)>, BlobError> {
        match &self.place {
            Place::Folder(root) => {
                let root = root.clone();
                tokio::task::spawn_blocking(move || walk(&root)).await.map_err(std::io::Error::other)?
            }
            Place::Objects { store, prefix, .. } => {
                let mut found = Vec::new();
                let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
                let mut listed = store.list(Some(prefix));
                while let Some(meta) = listed.next().await {
                    let meta = meta?;
                    let parts: Vec<String> = meta.location.parts().map(|p| p.as_ref().to_owned()).collect();
                    let [.., org, _, hash] = parts.as_slice() else { continue };
                    let Ok(org_id) = Uuid::try_parse(org) else { continue };
                    let age = (now - meta.last_modified.timestamp()).max(0) as u64;
                    found.push((org_id, hash.clone(), age));
                }
                Ok(found)
            }
        }
    }

    /// Remove a blob; `false` if it was kept again meanwhile (a folder).
    fn remove(&self, org: Uuid, sha256: &str, age: Duration) -> impl std::future::Future<Output = Result<bool, BlobError>> + '_ {
        let sha256 = sha256.to_owned();
        async move {
            if !Self::valid(&sha256) {
                return Ok(false);
            }
            match &self.place {
                Place::Folder(root) => {
                    // Kept again since it was listed (the same content
                    // uploaded anew bumps its time): it stays.
                    let path = Self::path(root, org, &sha256);
                    if !older_than(&path, age)? {
                        return Ok(false);
                    }
                    std::fs::remove_file(path)?;
                }
                Place::Objects { store, prefix, .. } => store.delete(&Self::key(prefix, org, &sha256)).await?,
            }
            Ok(true)
        }
    }

    /// Remove blobs older than `age` that no live file names: `named(org,
    /// hashes)` answers which of up to [`SWEEP_BATCH`] hashes of one org
    /// are named. Returns how many went.
    pub async fn remove_unreferenced<F, Fut, E>(&self, age: Duration, mut named: F) -> Result<usize, E>
    where
        F: FnMut(Uuid, Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<HashSet<String>, E>>,
        E: From<BlobError>,
    {
        let mut old: Vec<(Uuid, String)> =
            self.all().await?.into_iter().filter(|(_, _, seconds)| *seconds >= age.as_secs()).map(|(org, hash, _)| (org, hash)).collect();
        old.sort_unstable();
        let mut removed = 0;
        for of_org in old.chunk_by(|a, b| a.0 == b.0) {
            let org = of_org[0].0;
            for batch in of_org.chunks(SWEEP_BATCH) {
                let hashes: Vec<String> = batch.iter().map(|(_, hash)| hash.clone()).collect();
                let kept = named(org, hashes.clone()).await?;
                for hash in hashes.iter().filter(|hash| !kept.contains(*hash)) {
                    removed += usize::from(self.remove(org, hash, age).await?);
                }
            }
        }
        Ok(removed)
    }
}

/// How many blobs of one org a sweep asks the database about at once.
pub const SWEEP_BATCH: usize = 2_000;

/// Every blob under a local root: `<org>/<aa>/<sha256>`, with its age.
fn walk(root: &Path) -> Result<Vec<(Uuid, String, u64)>, BlobError> {
    let mut found = Vec::new();
    for org in std::fs::read_dir(root)? {
        let org = org?;
        let Some(org_id) = org.file_name().to_str().and_then(|n| Uuid::try_parse(n).ok()) else { continue };
        for prefix in std::fs::read_dir(org.path())? {
            for blob in std::fs::read_dir(prefix?.path())? {
                let blob = blob?;
                let age = blob.metadata()?.modified()?.elapsed().map_or(0, |e| e.as_secs());
                if let Some(hash) = blob.file_name().to_str() {
                    found.push((org_id, hash.to_owned(), age));
                }
            }
        }
    }
    Ok(found)
}

fn older_than(path: &Path, age: Duration) -> std::io::Result<bool> {
    let modified = std::fs::metadata(path)?.modified()?;
    Ok(modified.elapsed().is_ok_and(|elapsed| elapsed >= age))
}

impl Staged {
    /// The whole content, from the staging folder (before it is kept, so a
    /// blob in an object store is not fetched back to be read).
    pub async fn read(&self) -> Result<Vec<u8>, BlobError> {
        let path = self.temporary.0.as_ref().ok_or_else(|| std::io::Error::other("already kept"))?;
        Ok(tokio::fs::read(path).await?)
    }
}

impl Staging {
    /// Add the next piece of the upload; past the limit, the upload is
    /// refused and what was written is deleted when this is dropped.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            return Err(BlobError::TooLarge { max: self.max });
        }
        if self.head.len() < SNIFF_BYTES {
            let room = SNIFF_BYTES - self.head.len();
            self.head.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// The upload is complete: flush it to disk.
    pub async fn finish(mut self) -> Result<Staged, BlobError> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let sha256 = format!("{:x}", self.hasher.finalize());
        Ok(Staged { temporary: self.temporary, sha256, size: self.size, head: self.head })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn staged(blobs: &Blobs, content: &[u8]) -> Staged {
        let mut staging = blobs.stage(1000).await.unwrap();
        for piece in content.chunks(3) {
            staging.write(piece).await.unwrap();
        }
        staging.finish().await.unwrap()
    }

    fn files_in(folder: &Path) -> usize {
        walk(folder).len()
    }

    fn walk(folder: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { found.extend(walk(&path)) } else { found.push(path) }
        }
        found
    }

    #[tokio::test]
    async fn the_same_content_is_kept_once_per_org_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        let org = Uuid::now_v7();
        let first = staged(&blobs, b"boiler photo").await;
        let hash = first.sha256.clone();
        assert_eq!(hash, format!("{:x}", Sha256::digest(b"boiler photo")));
        assert_eq!(first.size, 12);
        assert_eq!(first.head, b"boiler photo");
        blobs.keep(org, first).await.unwrap();
        blobs.keep(org, staged(&blobs, b"boiler photo").await).await.unwrap();
        assert_eq!(files_in(dir.path()), 1, "one blob, the staging folder empty");
        let mut content = String::new();
        blobs.open(org, &hash).await.unwrap().reader.read_to_string(&mut content).await.unwrap();
        assert_eq!(content, "boiler photo");
        assert!(!blobs.exists(Uuid::now_v7(), &hash).await.unwrap(), "another org does not see it");
        assert!(blobs.open(org, "../../etc/passwd").await.is_err());
    }

    #[tokio::test]
    async fn an_upload_past_the_limit_or_dropped_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        let mut staging = blobs.stage(10).await.unwrap();
        staging.write(b"0123456789").await.unwrap();
        assert!(matches!(staging.write(b"x").await, Err(BlobError::TooLarge { max: 10 })));
        drop(staging);
        let staging = blobs.stage(10).await.unwrap();
        assert_eq!(files_in(dir.path()), 1);
        drop(staging);
        drop(staged(&blobs, b"refused later").await);
        assert_eq!(files_in(dir.path()), 0);
    }

    #[tokio::test]
    async fn old_staged_files_and_unnamed_blobs_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        let org = Uuid::now_v7();
        let abandoned = blobs.stage(100).await.unwrap();
        std::mem::forget(abandoned);
        assert_eq!(blobs.sweep_staging(Duration::from_secs(60)).unwrap(), 0, "a young upload may still be running");
        assert_eq!(blobs.sweep_staging(Duration::ZERO).unwrap(), 1);
        let named = staged(&blobs, b"named").await;
        let named_hash = named.sha256.clone();
        blobs.keep(org, named).await.unwrap();
        blobs.keep(org, staged(&blobs, b"orphan").await).await.unwrap();
        let young = blobs.remove_unreferenced(Duration::from_secs(60), |_, _| async { Ok::<_, BlobError>(HashSet::new()) }).await.unwrap();
        assert_eq!(young, 0);
        let removed = blobs.remove_unreferenced(Duration::ZERO, |_, hashes| {
            let kept = hashes.into_iter().filter(|hash| *hash == named_hash).collect();
            async move { Ok::<_, BlobError>(kept) }
        });
        assert_eq!(removed.await.unwrap(), 1);
        assert!(blobs.exists(org, &named_hash).await.unwrap());
        assert_eq!(files_in(dir.path()), 1);
    }
}
