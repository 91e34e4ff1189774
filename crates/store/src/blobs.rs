//! File contents: a folder of blobs named by their SHA-256, one folder per
//! org (`<root>/<org id>/<first two hex digits>/<sha256>`), so a file
//! uploaded twice is kept once and an org's files can be copied or erased
//! on their own.
//!
//! An upload is first written to `<root>/staging/` while it is hashed and
//! counted; only a complete, checked upload is moved into place, by a
//! rename (atomic on one file system), and the database row naming it is
//! written after. A staged file that is dropped (a refused or interrupted
//! upload) is deleted at once; one left by a process that died is swept at
//! the next start ([`Blobs::sweep_staging`]). A blob no live row names
//! (its files deleted, or a crash between the rename and the commit) is
//! removed by [`Blobs::remove_unreferenced`], never while it could still be
//! about to be named.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use dossier_domain::file::SNIFF_BYTES;

/// Why a blob could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content passed the size limit; nothing was kept.
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error("file storage error: {0}")]
    Io(#[from] std::io::Error),
}

/// The blob store of an installation.
#[derive(Clone, Debug)]
pub struct Blobs {
    root: PathBuf,
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

impl Blobs {
    /// The store in folder `root` (created if missing).
    pub fn local(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("staging"))?;
        Ok(Self { root })
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

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, org: Uuid, sha256: &str) -> Option<PathBuf> {
        // Only a well-formed hash names a path: nothing else reaches the file system.
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.root.join(org.simple().to_string()).join(&sha256[..2]).join(sha256))
    }

    /// Start writing an upload of at most `max` bytes.
    pub async fn stage(&self, max: u64) -> Result<Staging, BlobError> {
        let path = self.root.join("staging").join(Uuid::now_v7().simple().to_string());
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
        Ok(Staging { file, temporary: Temporary(Some(path)), hasher: Sha256::new(), size: 0, head: Vec::new(), max })
    }

    /// Move a staged upload into place as a blob of `org`. Content already
    /// there is not written again.
    pub async fn keep(&self, org: Uuid, mut staged: Staged) -> Result<(), BlobError> {
        let target = self.path(org, &staged.sha256).ok_or_else(|| std::io::Error::other("bad hash"))?;
        let Some(source) = staged.temporary.0.clone() else { return Ok(()) };
        if tokio::fs::try_exists(&target).await? {
            // Same content: bump its time so a sweep running now leaves it;
            // the staged copy is deleted as `staged` is dropped.
            std::fs::File::options().append(true).open(&target)?.set_modified(SystemTime::now())?;
            return Ok(());
        }
        if let Some(folder) = target.parent() {
            tokio::fs::create_dir_all(folder).await?;
        }
        tokio::fs::rename(&source, &target).await?;
        staged.temporary.0 = None;
        Ok(())
    }

    /// Open a blob for reading.
    pub async fn open(&self, org: Uuid, sha256: &str) -> Result<tokio::fs::File, BlobError> {
        let path = self.path(org, sha256).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "bad hash"))?;
        Ok(tokio::fs::File::open(path).await?)
    }

    /// A blob's size and first bytes, if `org` holds it.
    pub async fn head(&self, org: Uuid, sha256: &str) -> Result<Option<(u64, Vec<u8>)>, BlobError> {
        use tokio::io::AsyncReadExt;
        let Some(path) = self.path(org, sha256) else { return Ok(None) };
        let file = match tokio::fs::File::open(path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata().await?.len();
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        file.take(SNIFF_BYTES as u64).read_to_end(&mut head).await?;
        Ok(Some((size, head)))
    }

    /// Whether `org` holds this blob.
    pub async fn exists(&self, org: Uuid, sha256: &str) -> Result<bool, BlobError> {
        let Some(path) = self.path(org, sha256) else { return Ok(false) };
        Ok(tokio::fs::try_exists(path).await?)
    }

    /// Delete staged uploads older than `age`: those of a process that
    /// died mid-upload (a live upload is younger than the request deadline).
    pub fn sweep_staging(&self, age: Duration) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.root.join("staging"))? {
            let entry = entry?;
            if older_than(&entry.path(), age)? {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The blobs of each org: `(org folder, hash, path)`.
    fn all(&self) -> std::io::Result<Vec<(Uuid, String, PathBuf)>> {
        let mut found = Vec::new();
        for org in std::fs::read_dir(&self.root)? {
            let org = org?;
            let Some(org_id) = org.file_name().to_str().and_then(|n| Uuid::try_parse(n).ok()) else { continue };
            for prefix in std::fs::read_dir(org.path())? {
                for blob in std::fs::read_dir(prefix?.path())? {
                    let blob = blob?;
                    if let Some(hash) = blob.file_name().to_str() {
                        found.push((org_id, hash.to_owned(), blob.path()));
                    }
                }
            }
        }
        Ok(found)
    }

    /// Remove blobs older than `age` that `referenced(org, hash)` says no
    /// live file names. Returns how many went.
    pub async fn remove_unreferenced<F, Fut, E>(&self, age: Duration, mut referenced: F) -> Result<usize, E>
    where
        F: FnMut(Uuid, String) -> Fut,
        Fut: std::future::Future<Output = Result<bool, E>>,
        E: From<std::io::Error>,
    {
        let mut removed = 0;
        for (org, hash, path) in self.all()? {
            if older_than(&path, age)? && !referenced(org, hash).await? {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn older_than(path: &Path, age: Duration) -> std::io::Result<bool> {
    let modified = std::fs::metadata(path)?.modified()?;
    Ok(modified.elapsed().is_ok_and(|elapsed| elapsed >= age))
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
        tokio::io::AsyncReadExt::read_to_string(&mut blobs.open(org, &hash).await.unwrap(), &mut content).await.unwrap();
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
        let young = blobs.remove_unreferenced(Duration::from_secs(60), |_, _| async { Ok::<_, std::io::Error>(false) }).await.unwrap();
        assert_eq!(young, 0);
        let removed = blobs.remove_unreferenced(Duration::ZERO, |_, hash| {
            let keep = hash == named_hash;
            async move { Ok::<_, std::io::Error>(keep) }
        });
        assert_eq!(removed.await.unwrap(), 1);
        assert!(blobs.exists(org, &named_hash).await.unwrap());
        assert_eq!(files_in(dir.path()), 1);
    }
}
