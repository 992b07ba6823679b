//! Artifact manifests: a directory-shaped artifact (a model: `config.json`, `model.safetensors`,
//! `tokenizer.json`; a report with its plots) is stored as one blob per file plus a manifest blob
//! listing them. The artifact's output hash is the manifest blob's hash, so it changes exactly
//! when a file's content, a file's name, the kind or the meta changes.
//!
//! Wire format (canonical JSON, see [`canonical_json`](super::canonical::canonical_json)):
//! ```json
//! {"_format":"tulu/manifest/v1","files":{"config.json":{"hash":"…","size":123}},"kind":"model","meta":{}}
//! ```
//! `_format` sorts first, so a manifest is recognised from its first bytes without parsing
//! (gc does this for every blob). Relative paths use `/`, are UTF-8, and have no empty, `.` or
//! `..` components and no `\`; empty directories are not recorded.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::blobs::BlobStore;
use super::canonical::canonical_json_of;
use super::error::{CacheError, Result};
use super::hash::Hash;

/// The value of the `_format` field of every manifest this build writes and reads.
pub const MANIFEST_FORMAT: &str = "tulu/manifest/v1";

/// How every canonical manifest blob begins.
const MANIFEST_PREFIX: &[u8] = b"{\"_format\":\"tulu/manifest/v1\",";

/// Deeper directory nesting is refused (no real artifact comes close).
const MAX_DEPTH: usize = 64;

/// Whether storing a directory copies its files or moves them in.
#[derive(Clone, Copy)]
enum Intake {
    Copy,
    Move,
}

/// One file of an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The blob holding the file's content.
    pub hash: Hash,
    /// The file's size in bytes.
    pub size: u64,
}

/// A directory-shaped artifact: its kind, its files by relative path, and free-form metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// What the artifact is (`"model"`, `"report"`, `"dataset"`, …), for display and checks.
    pub kind: String,
    /// Files by `/`-separated relative path.
    pub files: BTreeMap<String, FileEntry>,
    /// Op-defined metadata (a model's architecture summary, row counts, …).
    pub meta: Value,
}

/// The stored form, with the format tag.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestWire {
    #[serde(rename = "_format")]
    format: String,
    kind: String,
    files: BTreeMap<String, FileEntry>,
    meta: Value,
}

impl Manifest {
    /// The entry for `relpath`, if the artifact has that file.
    pub fn file(&self, relpath: &str) -> Option<&FileEntry> {
        self.files.get(relpath)
    }

    /// Sum of the file sizes.
    pub fn total_size(&self) -> u64 {
        self.files.values().map(|entry| entry.size).sum()
    }

    /// The canonical bytes of this manifest (what [`BlobStore::put_manifest`] stores).
    pub fn to_canonical_bytes(&self) -> Result<Vec<u8>> {
        let wire = ManifestWire {
            format: MANIFEST_FORMAT.to_owned(),
            kind: self.kind.clone(),
            files: self.files.clone(),
            meta: self.meta.clone(),
        };
        canonical_json_of(&wire, "an artifact manifest")
    }

    /// Parses manifest bytes; `hash` names the blob in errors.
    pub fn from_bytes(bytes: &[u8], hash: Hash) -> Result<Manifest> {
        let wire: ManifestWire =
            serde_json::from_slice(bytes).map_err(|error| CacheError::BadManifest {
                hash,
                reason: error.to_string(),
            })?;
        if wire.format != MANIFEST_FORMAT {
            return Err(CacheError::BadManifest {
                hash,
                reason: format!(
                    "format {:?}, this build reads {MANIFEST_FORMAT:?}",
                    wire.format
                ),
            });
        }
        for relpath in wire.files.keys() {
            check_relpath(relpath).map_err(|reason| CacheError::BadManifest {
                hash,
                reason: format!("file path {relpath:?}: {reason}"),
            })?;
        }
        Ok(Manifest {
            kind: wire.kind,
            files: wire.files,
            meta: wire.meta,
        })
    }
}

/// Why `relpath` cannot name a file in a manifest, if it cannot.
fn check_relpath(relpath: &str) -> Result<(), String> {
    if relpath.is_empty() {
        return Err("the path is empty".into());
    }
    if relpath.contains('\\') {
        return Err("`\\` is not allowed (paths use `/` on every platform)".into());
    }
    if relpath.contains('\0') {
        return Err("NUL is not allowed".into());
    }
    for component in relpath.split('/') {
        match component {
            "" => return Err("empty path component (leading, trailing or doubled `/`)".into()),
            "." | ".." => return Err(format!("`{component}` components are not allowed")),
            _ => {}
        }
    }
    Ok(())
}

impl BlobStore {
    /// Stores a manifest after checking its paths and that every file blob it names is present
    /// (files are always written before the manifest that lists them).
    pub fn put_manifest(&self, manifest: &Manifest) -> Result<Hash> {
        for (relpath, entry) in &manifest.files {
            check_relpath(relpath).map_err(|reason| CacheError::UnsupportedPath {
                path: PathBuf::from(relpath),
                reason,
            })?;
            if !self.contains(entry.hash) {
                return Err(CacheError::Missing { hash: entry.hash });
            }
        }
        self.put_bytes(&manifest.to_canonical_bytes()?)
    }

    /// Reads and verifies a manifest blob.
    pub fn get_manifest(&self, hash: Hash) -> Result<Manifest> {
        Manifest::from_bytes(&self.get_bytes(hash)?, hash)
    }

    /// Stores every file under `dir` (recursively, following symlinks, as Hugging Face snapshot
    /// directories need) and a manifest of them; returns the manifest's hash.
    pub fn put_dir(&self, dir: &Path, kind: &str, meta: Value) -> Result<Hash> {
        self.store_dir(dir, kind, meta, Intake::Copy)
    }

    /// Like [`put_dir`](BlobStore::put_dir), but moves the files into the store
    /// ([`adopt_file`](BlobStore::adopt_file)) instead of copying them: for an artifact an op
    /// has just written, such as trained weights. The files are gone afterwards; the (now
    /// empty) directories are left for the caller to remove.
    pub fn adopt_dir(&self, dir: &Path, kind: &str, meta: Value) -> Result<Hash> {
        self.store_dir(dir, kind, meta, Intake::Move)
    }

    fn store_dir(&self, dir: &Path, kind: &str, meta: Value, intake: Intake) -> Result<Hash> {
        let metadata = fs::metadata(dir).map_err(CacheError::io("read metadata of", dir))?;
        if !metadata.is_dir() {
            return Err(CacheError::UnsupportedPath {
                path: dir.to_path_buf(),
                reason: "an artifact directory was expected, this is a file".into(),
            });
        }
        let mut files = BTreeMap::new();
        let mut enclosing = vec![(metadata.dev(), metadata.ino())];
        self.put_tree(dir, "", intake, &mut enclosing, &mut files)?;
        self.put_manifest(&Manifest {
            kind: kind.to_owned(),
            files,
            meta,
        })
    }

    fn put_tree(
        &self,
        dir: &Path,
        prefix: &str,
        intake: Intake,
        enclosing: &mut Vec<(u64, u64)>,
        files: &mut BTreeMap<String, FileEntry>,
    ) -> Result<()> {
        if enclosing.len() > MAX_DEPTH {
            return Err(CacheError::UnsupportedPath {
                path: dir.to_path_buf(),
                reason: format!("nested more than {MAX_DEPTH} directories deep"),
            });
        }
        let mut entries = Vec::new();
        for entry in fs::read_dir(dir).map_err(CacheError::io("list directory", dir))? {
            entries.push(entry.map_err(CacheError::io("list directory", dir))?.path());
        }
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .ok_or_else(|| CacheError::UnsupportedPath {
                    path: path.clone(),
                    reason: "the file name is not valid UTF-8".into(),
                })?;
            let relpath = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}/{name}")
            };
            check_relpath(&relpath).map_err(|reason| CacheError::UnsupportedPath {
                path: path.clone(),
                reason,
            })?;
            let metadata =
                fs::metadata(&path).map_err(CacheError::io("read metadata of", &path))?;
            if metadata.is_dir() {
                let identity = (metadata.dev(), metadata.ino());
                if enclosing.contains(&identity) {
                    return Err(CacheError::UnsupportedPath {
                        path,
                        reason: "a symlink loop: it leads back to a directory that contains it"
                            .into(),
                    });
                }
                enclosing.push(identity);
                self.put_tree(&path, &relpath, intake, enclosing, files)?;
                enclosing.pop();
            } else if metadata.is_file() {
                let hash = match intake {
                    Intake::Copy => self.put_file(&path)?,
                    Intake::Move => self.adopt_file(&path)?,
                };
                let size = self.size(hash)?;
                files.insert(relpath, FileEntry { hash, size });
            } else {
                return Err(CacheError::UnsupportedPath {
                    path,
                    reason: "only regular files and directories can be stored".into(),
                });
            }
        }
        Ok(())
    }

    /// Recreates the artifact's files under `destination` (created if needed; existing files are
    /// never overwritten). Each file is verified, then hard-linked from the store where the
    /// filesystem allows, else copied. Files come out read-only: a hard link shares the stored
    /// bytes, so writing through it would corrupt the cache. Materialize into a fresh directory;
    /// after an error it may hold part of the files.
    pub fn materialize(&self, manifest_hash: Hash, destination: &Path) -> Result<Manifest> {
        let manifest = self.get_manifest(manifest_hash)?;
        fs::create_dir_all(destination).map_err(CacheError::io("create directory", destination))?;
        for (relpath, entry) in &manifest.files {
            let target = destination.join(relpath);
            if fs::symlink_metadata(&target).is_ok() {
                return Err(CacheError::DestinationExists { path: target });
            }
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(CacheError::io("create directory", parent))?;
            }
            let blob = self.path_of(entry.hash);
            let stored_size = self.size(entry.hash)?;
            if stored_size != entry.size {
                return Err(CacheError::BadManifest {
                    hash: manifest_hash,
                    reason: format!(
                        "{relpath:?} is listed with {} bytes but its blob has {stored_size}",
                        entry.size
                    ),
                });
            }
            if fs::hard_link(&blob, &target).is_ok() {
                // The link shares the blob's bytes: verifying the blob verifies the link.
                if let Err(error) = self.verify(entry.hash) {
                    let _ = fs::remove_file(&target);
                    return Err(error);
                }
            } else {
                // Cross-device, or a filesystem without hard links: copy, verifying the bytes as
                // they are written.
                copy_verified(&blob, &target, entry.hash)?;
            }
        }
        Ok(manifest)
    }

    /// The verified content of one file of an artifact.
    pub fn manifest_file_bytes(
        &self,
        manifest_hash: Hash,
        manifest: &Manifest,
        relpath: &str,
    ) -> Result<Vec<u8>> {
        let entry = manifest
            .file(relpath)
            .ok_or_else(|| CacheError::NoSuchFile {
                manifest: manifest_hash,
                relpath: relpath.to_owned(),
            })?;
        self.get_bytes(entry.hash)
    }

    /// The verified, read-only stored path of one file of an artifact, for memory-mapping.
    pub fn manifest_file_path(
        &self,
        manifest_hash: Hash,
        manifest: &Manifest,
        relpath: &str,
    ) -> Result<PathBuf> {
        let entry = manifest
            .file(relpath)
            .ok_or_else(|| CacheError::NoSuchFile {
                manifest: manifest_hash,
                relpath: relpath.to_owned(),
            })?;
        self.path_verified(entry.hash)
    }

    /// If `hash` names a stored manifest, the file blobs it lists (by relative path); `None` for
    /// any other blob. Unverified and error-tolerant: gc uses it to decide what to keep, and
    /// keeping too much is the safe direction.
    pub(crate) fn manifest_children(&self, hash: Hash) -> Option<Vec<(String, Hash)>> {
        let path = self.path_of(hash);
        let mut file = File::open(&path).ok()?;
        let mut prefix = vec![0u8; MANIFEST_PREFIX.len()];
        file.read_exact(&mut prefix).ok()?;
        if prefix != MANIFEST_PREFIX {
            return None;
        }
        let bytes = fs::read(&path).ok()?;
        let wire: ManifestWire = serde_json::from_slice(&bytes).ok()?;
        Some(
            wire.files
                .into_iter()
                .map(|(relpath, entry)| (relpath, entry.hash))
                .collect(),
        )
    }
}

fn copy_verified(blob: &Path, target: &Path, hash: Hash) -> Result<()> {
    struct HashingWriter<'a> {
        file: File,
        hasher: &'a mut blake3::Hasher,
    }
    impl Write for HashingWriter<'_> {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let written = self.file.write(bytes)?;
            self.hasher.update(&bytes[..written]);
            Ok(written)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.file.flush()
        }
    }

    let mut source = File::open(blob).map_err(CacheError::io("read", blob))?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
        .map_err(CacheError::io("create", target))?;
    let mut hasher = blake3::Hasher::new();
    let mut writer = HashingWriter {
        file,
        hasher: &mut hasher,
    };
    io::copy(&mut source, &mut writer).map_err(CacheError::io("copy to", target))?;
    let HashingWriter { file, .. } = writer;
    let actual = Hash::from(hasher.finalize());
    if actual != hash {
        drop(file);
        let _ = fs::remove_file(target);
        return Err(CacheError::Corrupt {
            hash,
            path: blob.to_path_buf(),
            actual,
        });
    }
    let mut permissions = file
        .metadata()
        .map_err(CacheError::io("read metadata of", target))?
        .permissions();
    permissions.set_readonly(true);
    file.set_permissions(permissions)
        .map_err(CacheError::io("make read-only", target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::blobs::tests::{flip_byte, store_in};
    use serde_json::json;

    fn model_dir(root: &Path) -> PathBuf {
        let dir = root.join("model");
        fs::create_dir_all(dir.join("extra/deeper")).unwrap();
        fs::write(dir.join("config.json"), br#"{"dim":128}"#).unwrap();
        fs::write(dir.join("model.safetensors"), vec![42u8; 70_000]).unwrap();
        fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
        fs::write(dir.join("extra/deeper/notes.txt"), b"hi").unwrap();
        dir
    }

    #[test]
    fn put_dir_and_materialize_round_trip() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(&root.path().join("cache"));
        let source = model_dir(root.path());
        let hash = store
            .put_dir(&source, "model", json!({"layers": 4}))
            .unwrap();

        let manifest = store.get_manifest(hash).unwrap();
        assert_eq!(manifest.kind, "model");
        assert_eq!(manifest.meta, json!({"layers": 4}));
        let names: Vec<&str> = manifest.files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "config.json",
                "extra/deeper/notes.txt",
                "model.safetensors",
                "tokenizer.json"
            ]
        );
        assert_eq!(manifest.file("model.safetensors").unwrap().size, 70_000);
        assert_eq!(manifest.total_size(), 70_000 + 11 + 2 + 2);

        let out = root.path().join("out");
        store.materialize(hash, &out).unwrap();
        for name in names {
            assert_eq!(
                fs::read(out.join(name)).unwrap(),
                fs::read(source.join(name)).unwrap()
            );
            assert!(fs::metadata(out.join(name))
                .unwrap()
                .permissions()
                .readonly());
        }
        assert_eq!(
            store
                .manifest_file_bytes(hash, &manifest, "config.json")
                .unwrap(),
            br#"{"dim":128}"#
        );
        let weights = store
            .manifest_file_path(hash, &manifest, "model.safetensors")
            .unwrap();
        assert_eq!(fs::read(weights).unwrap().len(), 70_000);
        assert!(matches!(
            store.manifest_file_bytes(hash, &manifest, "missing.bin"),
            Err(CacheError::NoSuchFile { .. })
        ));
    }

    #[test]
    fn adopt_dir_moves_files_and_matches_put_dir() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(&root.path().join("cache"));
        let copied = store
            .put_dir(&model_dir(root.path()), "model", json!({}))
            .unwrap();
        let fresh = root.path().join("fresh");
        fs::create_dir_all(&fresh).unwrap();
        let written = model_dir(&fresh);
        let adopted = store.adopt_dir(&written, "model", json!({})).unwrap();
        assert_eq!(adopted, copied, "same content, same artifact");
        assert!(!written.join("model.safetensors").exists());
        assert!(!written.join("extra/deeper/notes.txt").exists());
        let out = root.path().join("out");
        store.materialize(adopted, &out).unwrap();
        assert_eq!(
            fs::read(out.join("model.safetensors")).unwrap(),
            vec![42u8; 70_000]
        );
    }

    #[test]
    fn output_hash_follows_content_names_kind_and_meta() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(&root.path().join("cache"));
        let source = model_dir(root.path());
        let base = store.put_dir(&source, "model", json!({})).unwrap();
        assert_eq!(store.put_dir(&source, "model", json!({})).unwrap(), base);
        assert_ne!(store.put_dir(&source, "report", json!({})).unwrap(), base);
        assert_ne!(
            store.put_dir(&source, "model", json!({"a": 1})).unwrap(),
            base
        );
        fs::rename(source.join("tokenizer.json"), source.join("tok.json")).unwrap();
        let renamed = store.put_dir(&source, "model", json!({})).unwrap();
        assert_ne!(renamed, base);
        fs::write(source.join("tok.json"), b"{ }").unwrap();
        assert_ne!(store.put_dir(&source, "model", json!({})).unwrap(), renamed);
    }

    #[test]
    fn manifest_bytes_are_canonical_and_recognisable() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(root.path());
        let file = store.put_bytes(b"x").unwrap();
        let manifest = Manifest {
            kind: "report".into(),
            files: BTreeMap::from([(
                "a.json".to_owned(),
                FileEntry {
                    hash: file,
                    size: 1,
                },
            )]),
            meta: json!({"z": 1, "a": 2}),
        };
        let bytes = manifest.to_canonical_bytes().unwrap();
        let expected = format!(
            r#"{{"_format":"tulu/manifest/v1","files":{{"a.json":{{"hash":"{file}","size":1}}}},"kind":"report","meta":{{"a":2,"z":1}}}}"#
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        let hash = store.put_manifest(&manifest).unwrap();
        assert_eq!(
            store.manifest_children(hash),
            Some(vec![("a.json".to_owned(), file)])
        );
        assert_eq!(store.manifest_children(file), None);
        let not_a_manifest = store
            .put_bytes(br#"{"kind":"model","files":{},"meta":{}}"#)
            .unwrap();
        assert_eq!(store.manifest_children(not_a_manifest), None);
        assert!(matches!(
            store.get_manifest(not_a_manifest),
            Err(CacheError::BadManifest { .. })
        ));
    }

    #[test]
    fn manifest_must_not_point_at_absent_blobs_or_escape() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(root.path());
        let absent = Manifest {
            kind: "model".into(),
            files: BTreeMap::from([(
                "w.bin".to_owned(),
                FileEntry {
                    hash: Hash::of(b"never stored"),
                    size: 12,
                },
            )]),
            meta: Value::Null,
        };
        assert!(matches!(
            store.put_manifest(&absent),
            Err(CacheError::Missing { .. })
        ));

        let file = store.put_bytes(b"x").unwrap();
        for bad in ["../escape", "/abs", "a//b", "a/./b", "dir/", "", "a\\b"] {
            let manifest = Manifest {
                kind: "model".into(),
                files: BTreeMap::from([(
                    bad.to_owned(),
                    FileEntry {
                        hash: file,
                        size: 1,
                    },
                )]),
                meta: Value::Null,
            };
            assert!(
                matches!(
                    store.put_manifest(&manifest),
                    Err(CacheError::UnsupportedPath { .. })
                ),
                "{bad:?} was accepted"
            );
            // A hand-written blob with such a path is refused on read, too.
            let wire = format!(
                r#"{{"_format":"tulu/manifest/v1","files":{{"{}":{{"hash":"{file}","size":1}}}},"kind":"m","meta":null}}"#,
                bad.replace('\\', "\\\\")
            );
            let hash = store.put_bytes(wire.as_bytes()).unwrap();
            assert!(
                matches!(
                    store.get_manifest(hash),
                    Err(CacheError::BadManifest { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn materialize_refuses_to_overwrite_and_detects_corruption() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(&root.path().join("cache"));
        let source = model_dir(root.path());
        let hash = store.put_dir(&source, "model", Value::Null).unwrap();

        let occupied = root.path().join("occupied");
        fs::create_dir_all(&occupied).unwrap();
        fs::write(occupied.join("config.json"), b"mine").unwrap();
        assert!(matches!(
            store.materialize(hash, &occupied),
            Err(CacheError::DestinationExists { .. })
        ));
        assert_eq!(fs::read(occupied.join("config.json")).unwrap(), b"mine");

        let weights = store.get_manifest(hash).unwrap().files["model.safetensors"].hash;
        flip_byte(&store, weights, 1000);
        let error = store
            .materialize(hash, &root.path().join("fresh"))
            .unwrap_err();
        assert!(
            matches!(error, CacheError::Corrupt { hash, .. } if hash == weights),
            "{error}"
        );
    }

    #[test]
    fn copy_fallback_verifies_while_copying() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(root.path());
        let hash = store.put_bytes(&[9u8; 5000]).unwrap();
        let target = root.path().join("copy");
        copy_verified(&store.path_of(hash), &target, hash).unwrap();
        assert_eq!(fs::read(&target).unwrap(), vec![9u8; 5000]);
        assert!(fs::metadata(&target).unwrap().permissions().readonly());

        flip_byte(&store, hash, 7);
        let bad_target = root.path().join("bad-copy");
        assert!(matches!(
            copy_verified(&store.path_of(hash), &bad_target, hash),
            Err(CacheError::Corrupt { .. })
        ));
        assert!(!bad_target.exists());
    }

    #[test]
    fn put_dir_rejects_files_and_follows_file_symlinks() {
        let root = tempfile::tempdir().unwrap();
        let store = store_in(&root.path().join("cache"));
        let source = model_dir(root.path());
        assert!(matches!(
            store.put_dir(&source.join("config.json"), "model", Value::Null),
            Err(CacheError::UnsupportedPath { .. })
        ));
        let linked = root.path().join("linked");
        fs::create_dir_all(&linked).unwrap();
        std::os::unix::fs::symlink(source.join("config.json"), linked.join("config.json")).unwrap();
        let hash = store.put_dir(&linked, "model", Value::Null).unwrap();
        let manifest = store.get_manifest(hash).unwrap();
        assert_eq!(
            manifest.files["config.json"].hash,
            Hash::of(br#"{"dim":128}"#)
        );

        std::os::unix::fs::symlink(&linked, linked.join("loop")).unwrap();
        let error = store.put_dir(&linked, "model", Value::Null).unwrap_err();
        assert!(error.to_string().contains("symlink loop"), "{error}");
    }
}
