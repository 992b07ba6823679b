//! The content-addressed blob store: `objects/ab/cdef…` holds the bytes whose blake3 is
//! `abcdef…`.
//!
//! Writes stream into a temp file under `tmp/` (same filesystem, so the final rename is atomic),
//! which is fsynced, made read-only, renamed into place, and its shard directory fsynced. A blob
//! that already exists with the right size is not rewritten. Every read path verifies the content
//! against the name; a mismatch is [`CacheError::Corrupt`], after which the caller
//! [`evict`](BlobStore::evict)s the blob and recomputes it.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use std::os::unix::fs::MetadataExt;

use super::durable::{ensure_dir, sync_dir, TempFile};
use super::error::{CacheError, Result};
use super::hash::Hash;

/// Read and hash in 1 MiB pieces: large enough for blake3's SIMD paths, small enough to stay in
/// cache.
const STREAM_CHUNK: usize = 1 << 20;

/// One stored blob, as listed by [`BlobStore::list`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobEntry {
    /// The blob's name and content hash.
    pub hash: Hash,
    /// Its size in bytes.
    pub size: u64,
}

/// The `objects/` directory of a cache. Obtained from [`Cache::blobs`](super::Cache::blobs); the
/// cache lock guarantees that no other process writes it at the same time. Methods take `&self`
/// and are safe to call from several threads.
#[derive(Debug)]
pub struct BlobStore {
    objects_dir: PathBuf,
    temp_dir: PathBuf,
}

impl BlobStore {
    /// Opens the store rooted at `objects_dir`, writing temp files to `temp_dir`, and deletes any
    /// temp files a killed process left behind. The caller must hold the cache lock.
    pub(crate) fn open(objects_dir: PathBuf, temp_dir: PathBuf) -> Result<BlobStore> {
        ensure_dir(&objects_dir)?;
        ensure_dir(&temp_dir)?;
        let store = BlobStore {
            objects_dir,
            temp_dir,
        };
        store.remove_temp_leftovers()?;
        Ok(store)
    }

    /// The directory temp files are written to (inside the cache, on the blob store's filesystem).
    pub fn temp_dir(&self) -> &Path {
        &self.temp_dir
    }

    /// Stores `bytes`, returning their hash.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Hash> {
        let hash = Hash::of(bytes);
        if self.holds_intact(hash, bytes.len() as u64) {
            return Ok(hash);
        }
        let mut temp = TempFile::create(&self.temp_dir, "blob")?;
        temp.write_all(bytes)?;
        self.install(temp, hash)?;
        Ok(hash)
    }

    /// Stores the content of the file at `path`, hashing while copying (one read pass).
    pub fn put_file(&self, path: &Path) -> Result<Hash> {
        let mut file = File::open(path).map_err(CacheError::io("open", path))?;
        self.put_stream(&mut file, path)
    }

    /// Stores everything `reader` yields.
    pub fn put_reader(&self, mut reader: impl Read) -> Result<Hash> {
        self.put_stream(&mut reader, Path::new("<stream>"))
    }

    fn put_stream(&self, reader: &mut dyn Read, source: &Path) -> Result<Hash> {
        let mut temp = TempFile::create(&self.temp_dir, "blob")?;
        let mut hasher = blake3::Hasher::new();
        let mut buffer = vec![0u8; STREAM_CHUNK];
        let mut size = 0u64;
        loop {
            let count =
                read_retrying(reader, &mut buffer).map_err(CacheError::io("read", source))?;
            if count == 0 {
                break;
            }
            hasher.update(&buffer[..count]);
            temp.write_all(&buffer[..count])?;
            size += count as u64;
        }
        let hash = Hash::from(hasher.finalize());
        if !self.holds_intact(hash, size) {
            self.install(temp, hash)?;
        }
        Ok(hash)
    }

    /// Moves the file at `path` into the store instead of copying it: for large outputs (model
    /// weights) that an op wrote under [`temp_dir`](BlobStore::temp_dir) or elsewhere on the
    /// cache's filesystem. The file is read once to hash it, fsynced, made read-only and renamed;
    /// `path` no longer exists afterwards. Falls back to copy-then-delete for a file on another
    /// filesystem, a symlink, or a file with other hard links (which could change the stored
    /// bytes later).
    pub fn adopt_file(&self, path: &Path) -> Result<Hash> {
        let link_metadata =
            fs::symlink_metadata(path).map_err(CacheError::io("read metadata of", path))?;
        if !link_metadata.file_type().is_file() || link_metadata.nlink() > 1 {
            return self.copy_then_remove(path);
        }
        let mut file = File::open(path).map_err(CacheError::io("open", path))?;
        let hash =
            hash_reader(&mut file, link_metadata.len()).map_err(CacheError::io("read", path))?;
        if self.holds_intact(hash, link_metadata.len()) {
            fs::remove_file(path).map_err(CacheError::io("delete", path))?;
            return Ok(hash);
        }
        file.sync_all()
            .map_err(CacheError::io("flush to disk", path))?;
        let mut permissions = link_metadata.permissions();
        permissions.set_readonly(true);
        fs::set_permissions(path, permissions).map_err(CacheError::io("make read-only", path))?;
        drop(file);
        let destination = self.path_of(hash);
        let shard = destination
            .parent()
            .expect("a blob path always has a shard directory");
        ensure_dir(shard)?;
        match fs::rename(path, &destination) {
            Ok(()) => {
                sync_dir(shard)?;
                Ok(hash)
            }
            Err(error) if error.raw_os_error() == Some(libc::EXDEV) => self.copy_then_remove(path),
            Err(error) => Err(CacheError::Io {
                action: "move into the cache",
                path: path.to_path_buf(),
                source: error,
            }),
        }
    }

    fn copy_then_remove(&self, path: &Path) -> Result<Hash> {
        let hash = self.put_file(path)?;
        fs::remove_file(path).map_err(CacheError::io("delete", path))?;
        Ok(hash)
    }

    /// True when a blob named `hash` exists with the expected size. A size mismatch can only be
    /// damage, so such a blob is replaced rather than trusted.
    /// Whether the blob is stored with exactly this content: the size, then the hash, is
    /// checked, so a blob damaged in place is rewritten by the next put of its content rather
    /// than kept forever.
    fn holds_intact(&self, hash: Hash, size: u64) -> bool {
        fs::metadata(self.path_of(hash))
            .is_ok_and(|metadata| metadata.is_file() && metadata.len() == size)
            && self.verify(hash).is_ok()
    }

    fn install(&self, temp: TempFile, hash: Hash) -> Result<()> {
        let destination = self.path_of(hash);
        let shard = destination
            .parent()
            .expect("a blob path always has a shard directory");
        ensure_dir(shard)?;
        temp.persist(&destination, true)
    }

    /// Whether a blob named `hash` is stored (unverified).
    pub fn contains(&self, hash: Hash) -> bool {
        fs::metadata(self.path_of(hash)).is_ok_and(|metadata| metadata.is_file())
    }

    /// The stored size of a blob (unverified).
    pub fn size(&self, hash: Hash) -> Result<u64> {
        let path = self.path_of(hash);
        match fs::metadata(&path) {
            Ok(metadata) => Ok(metadata.len()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Err(CacheError::Missing { hash })
            }
            Err(error) => Err(CacheError::Io {
                action: "read metadata of",
                path,
                source: error,
            }),
        }
    }

    /// The whole content of a blob, verified.
    pub fn get_bytes(&self, hash: Hash) -> Result<Vec<u8>> {
        let path = self.path_of(hash);
        let bytes = fs::read(&path).map_err(|error| self.read_error(hash, &path, error))?;
        let actual = Hash::of(&bytes);
        if actual != hash {
            return Err(CacheError::Corrupt { hash, path, actual });
        }
        Ok(bytes)
    }

    /// Re-hashes a blob from disk; `Ok` when its content matches its name.
    pub fn verify(&self, hash: Hash) -> Result<()> {
        let path = self.path_of(hash);
        let mut file = File::open(&path).map_err(|error| self.read_error(hash, &path, error))?;
        let len = file
            .metadata()
            .map_err(CacheError::io("read metadata of", &path))?
            .len();
        let actual = hash_reader(&mut file, len).map_err(CacheError::io("read", &path))?;
        if actual != hash {
            return Err(CacheError::Corrupt { hash, path, actual });
        }
        Ok(())
    }

    /// The path of a blob after verifying it, for large files that callers memory-map or copy.
    /// The file is read-only and must stay so.
    pub fn path_verified(&self, hash: Hash) -> Result<PathBuf> {
        self.verify(hash)?;
        Ok(self.path_of(hash))
    }

    /// Deletes a blob (typically after [`CacheError::Corrupt`]); returns whether it existed.
    pub fn evict(&self, hash: Hash) -> Result<bool> {
        let path = self.path_of(hash);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(CacheError::Io {
                action: "delete",
                path,
                source: error,
            }),
        }
    }

    /// Every stored blob with its size, in hash order. Files in `objects/` whose names are not
    /// blob names are ignored (they are not ours to judge or delete).
    pub fn list(&self) -> Result<Vec<BlobEntry>> {
        let mut entries = Vec::new();
        for shard in read_dir_sorted(&self.objects_dir)? {
            let Some(shard_name) = shard.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if shard_name.len() != 2 || !shard.is_dir() {
                continue;
            }
            for blob in read_dir_sorted(&shard)? {
                let Some(blob_name) = blob.file_name().and_then(|name| name.to_str()) else {
                    continue;
                };
                let Ok(hash) = format!("{shard_name}{blob_name}").parse::<Hash>() else {
                    continue;
                };
                if hash.to_hex() != format!("{shard_name}{blob_name}") {
                    continue; // upper-case names are not ours
                }
                let metadata =
                    fs::metadata(&blob).map_err(CacheError::io("read metadata of", &blob))?;
                if metadata.is_file() {
                    entries.push(BlobEntry {
                        hash,
                        size: metadata.len(),
                    });
                }
            }
        }
        Ok(entries)
    }

    /// Where a blob lives (or would live), without checking anything.
    pub fn path_of(&self, hash: Hash) -> PathBuf {
        let hex = hash.to_hex();
        self.objects_dir.join(&hex[..2]).join(&hex[2..])
    }

    fn read_error(&self, hash: Hash, path: &Path, error: io::Error) -> CacheError {
        if error.kind() == io::ErrorKind::NotFound {
            CacheError::Missing { hash }
        } else {
            CacheError::Io {
                action: "read",
                path: path.to_path_buf(),
                source: error,
            }
        }
    }

    /// Deletes everything in the temp directory. Only called under the cache lock, when no other
    /// writer can be active, so everything there is debris from a killed process.
    fn remove_temp_leftovers(&self) -> Result<usize> {
        let mut removed = 0;
        for path in read_dir_sorted(&self.temp_dir)? {
            let outcome = if path.is_dir() && !path.is_symlink() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            match outcome {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(CacheError::Io {
                        action: "remove leftover temp file",
                        path,
                        source: error,
                    })
                }
            }
        }
        Ok(removed)
    }
}

/// blake3 of everything `reader` yields; `expected_len` (the file's size, say) sizes the buffer.
pub(crate) fn hash_reader(reader: &mut dyn Read, expected_len: u64) -> io::Result<Hash> {
    let mut hasher = blake3::Hasher::new();
    // No bigger than the content (plus a byte, to see its end in the same read): zeroing a 1 MiB
    // buffer to hash a 2 KiB blob was a fifth of `tulu plan` on a large recipe.
    let len = usize::try_from(expected_len.saturating_add(1))
        .unwrap_or(STREAM_CHUNK)
        .clamp(4096, STREAM_CHUNK);
    let mut buffer = vec![0u8; len];
    loop {
        let count = read_retrying(reader, &mut buffer)?;
        if count == 0 {
            return Ok(Hash::from(hasher.finalize()));
        }
        hasher.update(&buffer[..count]);
    }
}

fn read_retrying(reader: &mut dyn Read, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buffer) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(CacheError::io("list directory", dir))? {
        paths.push(entry.map_err(CacheError::io("list directory", dir))?.path());
    }
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn store_in(dir: &Path) -> BlobStore {
        fs::create_dir_all(dir).unwrap();
        BlobStore::open(dir.join("objects"), dir.join("tmp")).unwrap()
    }

    /// Overwrites one byte of a stored blob, as disk damage would.
    pub(crate) fn flip_byte(store: &BlobStore, hash: Hash, offset: u64) {
        let path = store.path_of(hash);
        let mut permissions = fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        fs::set_permissions(&path, permissions).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[offset as usize] ^= 0x01;
        fs::write(&path, bytes).unwrap();
    }

    #[test]
    fn bytes_round_trip_and_layout() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let hash = store.put_bytes(b"hello").unwrap();
        assert_eq!(hash, Hash::of(b"hello"));
        let hex = hash.to_hex();
        let path = dir.path().join("objects").join(&hex[..2]).join(&hex[2..]);
        assert_eq!(store.path_of(hash), path);
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        assert!(fs::metadata(&path).unwrap().permissions().readonly());
        assert!(store.contains(hash));
        assert_eq!(store.size(hash).unwrap(), 5);
        assert_eq!(store.get_bytes(hash).unwrap(), b"hello");
        store.verify(hash).unwrap();
        assert_eq!(store.path_verified(hash).unwrap(), path);
        // Nothing is left in tmp/.
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn file_and_reader_puts_match_byte_puts() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        // Larger than one stream chunk, not a multiple of it.
        let content: Vec<u8> = (0..(STREAM_CHUNK * 2 + 12_345))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let source = dir.path().join("source.bin");
        fs::write(&source, &content).unwrap();
        let from_file = store.put_file(&source).unwrap();
        assert_eq!(from_file, Hash::of(&content));
        assert_eq!(store.put_reader(&content[..]).unwrap(), from_file);
        assert_eq!(store.put_bytes(&content).unwrap(), from_file);
        assert_eq!(store.get_bytes(from_file).unwrap(), content);
        assert_eq!(store.put_bytes(b"").unwrap(), Hash::of(b""));
        assert_eq!(store.get_bytes(Hash::of(b"")).unwrap(), b"");
        assert!(matches!(
            store.put_file(&dir.path().join("absent")),
            Err(CacheError::Io { action: "open", .. })
        ));
    }

    #[test]
    fn existing_blob_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let hash = store.put_bytes(b"same").unwrap();
        let before = fs::metadata(store.path_of(hash)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        store.put_bytes(b"same").unwrap();
        store.put_reader(&b"same"[..]).unwrap();
        let after = fs::metadata(store.path_of(hash)).unwrap();
        assert_eq!(before.ino(), after.ino());
        assert_eq!(before.mtime_nsec(), after.mtime_nsec());
    }

    #[test]
    fn adopted_files_move_in_unless_shared() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir.path().join("cache"));
        let written = store.temp_dir().join("weights.bin");
        fs::write(&written, vec![5u8; 100_000]).unwrap();
        let inode = fs::metadata(&written).unwrap().ino();
        let hash = store.adopt_file(&written).unwrap();
        assert_eq!(hash, Hash::of(&[5u8; 100_000]));
        assert!(!written.exists());
        assert_eq!(
            fs::metadata(store.path_of(hash)).unwrap().ino(),
            inode,
            "moved, not copied"
        );
        assert!(fs::metadata(store.path_of(hash))
            .unwrap()
            .permissions()
            .readonly());
        store.verify(hash).unwrap();

        // Already stored: the duplicate is just deleted.
        fs::write(&written, vec![5u8; 100_000]).unwrap();
        assert_eq!(store.adopt_file(&written).unwrap(), hash);
        assert!(!written.exists());
        assert_eq!(fs::metadata(store.path_of(hash)).unwrap().ino(), inode);

        // A file with another hard link is copied, so the other name cannot alter the blob.
        let shared = dir.path().join("shared.bin");
        let other_name = dir.path().join("other-name.bin");
        fs::write(&shared, b"shared bytes").unwrap();
        fs::hard_link(&shared, &other_name).unwrap();
        let shared_hash = store.adopt_file(&shared).unwrap();
        assert!(!shared.exists() && other_name.exists());
        assert_ne!(
            fs::metadata(store.path_of(shared_hash)).unwrap().ino(),
            fs::metadata(&other_name).unwrap().ino()
        );
        fs::write(&other_name, b"changed bytes").unwrap();
        store.verify(shared_hash).unwrap();
    }

    #[test]
    fn corruption_is_detected_evicted_and_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let hash = store.put_bytes(b"precious weights").unwrap();
        flip_byte(&store, hash, 3);
        for outcome in [
            store.get_bytes(hash).map(|_| ()),
            store.verify(hash),
            store.path_verified(hash).map(|_| ()),
        ] {
            match outcome {
                Err(CacheError::Corrupt {
                    hash: named,
                    path,
                    actual,
                }) => {
                    assert_eq!(named, hash);
                    assert_eq!(path, store.path_of(hash));
                    assert_ne!(actual, hash);
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
        }
        // Same size, so a plain put trusts the name: eviction is what repairs it.
        assert!(store.evict(hash).unwrap());
        assert!(!store.evict(hash).unwrap());
        assert!(matches!(
            store.get_bytes(hash),
            Err(CacheError::Missing { .. })
        ));
        assert_eq!(store.put_bytes(b"precious weights").unwrap(), hash);
        assert_eq!(store.get_bytes(hash).unwrap(), b"precious weights");
    }

    #[test]
    fn truncated_blob_is_replaced_on_put() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let hash = store.put_bytes(b"0123456789").unwrap();
        let path = store.path_of(hash);
        let mut permissions = fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        fs::set_permissions(&path, permissions).unwrap();
        fs::write(&path, b"01234").unwrap();
        assert!(matches!(
            store.verify(hash),
            Err(CacheError::Corrupt { .. })
        ));
        store.put_bytes(b"0123456789").unwrap();
        store.verify(hash).unwrap();
    }

    #[test]
    fn missing_blob_is_a_distinct_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let absent = Hash::of(b"never stored");
        assert!(!store.contains(absent));
        assert!(matches!(store.size(absent), Err(CacheError::Missing { hash }) if hash == absent));
        assert!(matches!(
            store.verify(absent),
            Err(CacheError::Missing { .. })
        ));
        assert!(store.get_bytes(absent).unwrap_err().is_recoverable_miss());
    }

    #[test]
    fn list_returns_every_blob_and_ignores_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let mut expected: Vec<BlobEntry> = (0..20u8)
            .map(|i| {
                let bytes = vec![i; usize::from(i)];
                BlobEntry {
                    hash: store.put_bytes(&bytes).unwrap(),
                    size: u64::from(i),
                }
            })
            .collect();
        expected.sort_by_key(|entry| entry.hash);
        fs::write(dir.path().join("objects").join("README"), b"not a blob").unwrap();
        fs::create_dir_all(dir.path().join("objects").join("zz")).unwrap();
        fs::write(
            dir.path().join("objects").join("zz").join("x"),
            b"not a blob",
        )
        .unwrap();
        assert_eq!(store.list().unwrap(), expected);
    }

    #[test]
    fn temp_leftovers_are_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let kept = store.put_bytes(b"kept").unwrap();
        fs::write(dir.path().join("tmp").join("blob-1-2-3"), b"half a blo").unwrap();
        fs::create_dir_all(dir.path().join("tmp").join("materialize-4").join("sub")).unwrap();
        drop(store);
        let reopened = store_in(dir.path());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert_eq!(reopened.get_bytes(kept).unwrap(), b"kept");
    }

    #[test]
    fn concurrent_puts_of_the_same_content_agree() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let content = vec![7u8; 300_000];
        let hashes: Vec<Hash> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| store.put_bytes(&content).unwrap()))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        assert!(hashes.iter().all(|hash| *hash == Hash::of(&content)));
        assert_eq!(store.get_bytes(hashes[0]).unwrap(), content);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
