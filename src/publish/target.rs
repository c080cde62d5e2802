//! Where published files go: an S3-compatible bucket, or a folder a web server serves.
//!
//! Both offer the same few operations on keys (`google.xml`, `releases/<id>/google.xml`);
//! `publish` and `rollback` never know which one they talk to.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload, RetryConfig,
};

use crate::config::PublishConfig;

/// Why talking to the target failed; never holds a credential.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

/// How a published file is served.
#[derive(Debug, Clone)]
pub struct Served {
    pub content_type: &'static str,
    pub cache_control: String,
}

pub enum Target {
    Folder(PathBuf),
    Bucket(Bucket),
}

pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// `s3://bucket/prefix`, for messages.
    url: String,
    prefix: String,
    runtime: tokio::runtime::Runtime,
}

impl Target {
    /// The target `[publish] to` names: `s3://bucket/prefix`, or a folder (relative to the
    /// catalog root). Credentials come from the standard AWS environment variables only.
    pub fn open(config: &PublishConfig, root: &Path) -> Result<Target, TargetError> {
        match config.to.strip_prefix("s3://") {
            Some(rest) => Bucket::open(rest, config).map(Target::Bucket),
            None => {
                let folder = config.to.strip_prefix("file://").unwrap_or(&config.to);
                Ok(Target::Folder(root.join(folder)))
            }
        }
    }

    /// What the target says it is, for messages: never with credentials.
    pub fn describe(&self, config: &PublishConfig) -> String {
        match self {
            Target::Folder(path) => path.display().to_string(),
            Target::Bucket(_) => config.to.clone(),
        }
    }

    /// A key's bytes, or `None` when the target has no such key.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, TargetError> {
        match self {
            Target::Folder(root) => match fs::read(root.join(key)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(err) => Err(io_error(&root.join(key), err)),
            },
            Target::Bucket(bucket) => bucket.get(key),
        }
    }

    /// Puts a local file at `key`. A folder target writes a temporary file beside the key and
    /// renames it into place, so a reader sees the old file or the new one, never part of
    /// one, also when the feeds are on another file system.
    pub fn put_file(&self, key: &str, source: &Path, served: &Served) -> Result<(), TargetError> {
        match self {
            Target::Folder(root) => {
                let mut from = fs::File::open(source).map_err(|err| io_error(source, err))?;
                replace_atomically(&root.join(key), |file| {
                    io::copy(&mut from, file).map(|_| ())
                })
            }
            Target::Bucket(bucket) => bucket.put_file(key, source, served),
        }
    }

    /// Puts bytes at `key`, atomically as [`Target::put_file`].
    pub fn put_bytes(&self, key: &str, bytes: &[u8], served: &Served) -> Result<(), TargetError> {
        match self {
            Target::Folder(root) => {
                replace_atomically(&root.join(key), |file| file.write_all(bytes))
            }
            Target::Bucket(bucket) => bucket.put_bytes(key, bytes.to_vec(), served),
        }
    }

    /// Removes `key`; a key that is not there is no error.
    pub fn delete(&self, key: &str) -> Result<(), TargetError> {
        match self {
            Target::Folder(root) => match fs::remove_file(root.join(key)) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => {
                    Err(io_error(&root.join(key), err))
                }
                _ => {
                    remove_empty_parents(root, &root.join(key));
                    Ok(())
                }
            },
            Target::Bucket(bucket) => bucket.delete(key),
        }
    }
}

/// Writes `path` through a temporary file in its own folder (so the rename never crosses a
/// file system), synced before the rename so a crash cannot leave an empty file in place.
fn replace_atomically(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> Result<(), TargetError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|err| io_error(parent, err))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = parent.join(format!(".{name}.pimfeed-{}", std::process::id()));
    let written = fs::File::create(&temporary).and_then(|mut file| {
        write(&mut file)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| fs::rename(&temporary, path));
    renamed.map_err(|err| {
        let _ = fs::remove_file(&temporary);
        io_error(path, err)
    })
}

/// Folders left empty by a deleted key (an old release's) go too; the root stays.
fn remove_empty_parents(root: &Path, key: &Path) {
    let mut folder = key.parent();
    while let Some(dir) = folder {
        if dir == root || !dir.starts_with(root) || fs::remove_dir(dir).is_err() {
            break;
        }
        folder = dir.parent();
    }
}

fn io_error(path: &Path, err: io::Error) -> TargetError {
    TargetError(format!("{}: {err}", path.display()))
}

impl Bucket {
    fn open(rest: &str, config: &PublishConfig) -> Result<Bucket, TargetError> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(TargetError(format!(
                "`[publish] to = \"{}\"` names no bucket: write s3://BUCKET or s3://BUCKET/PREFIX",
                config.to
            )));
        }
        // The same TLS provider as the ERP client (ring: no C build); a second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(60),
                ..RetryConfig::default()
            });
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        // A local server (MinIO, a test) speaks plain HTTP; object_store refuses it unless told.
        let endpoint = config
            .endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT").ok());
        if endpoint.is_some_and(|e| e.starts_with("http://")) {
            builder = builder.with_allow_http(true);
        }
        let store = builder
            .build()
            .map_err(|err| TargetError(format!("cannot use {}: {err}", config.to)))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| TargetError(format!("cannot start the upload runtime: {err}")))?;
        Ok(Bucket {
            store: Arc::new(store),
            url: config.to.trim_end_matches('/').to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            runtime,
        })
    }

    fn path(&self, key: &str) -> ObjectPath {
        match self.prefix.is_empty() {
            true => ObjectPath::from(key),
            false => ObjectPath::from(format!("{}/{key}", self.prefix)),
        }
    }

    fn failed(&self, what: &str, key: &str, err: object_store::Error) -> TargetError {
        TargetError(format!(
            "cannot {what} {key} in {}: {}",
            self.url,
            clean(&err.to_string())
        ))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, TargetError> {
        let path = self.path(key);
        self.runtime.block_on(async {
            match self.store.get(&path).await {
                Ok(result) => result
                    .bytes()
                    .await
                    .map(|b| Some(b.to_vec()))
                    .map_err(|err| self.failed("read", key, err)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(err) => Err(self.failed("read", key, err)),
            }
        })
    }

    fn put_file(&self, key: &str, source: &Path, served: &Served) -> Result<(), TargetError> {
        use tokio::io::AsyncWriteExt;
        let path = self.path(key);
        self.runtime.block_on(async {
            let mut file = tokio::fs::File::open(source)
                .await
                .map_err(|err| io_error(source, err))?;
            // Small files in one request, big ones as a multipart upload, never all in memory.
            let mut upload = object_store::buffered::BufWriter::new(self.store.clone(), path)
                .with_attributes(attributes(served));
            let copied = tokio::io::copy(&mut file, &mut upload).await;
            let finished = match copied {
                Ok(_) => upload.shutdown().await,
                Err(err) => Err(err),
            };
            finished.map_err(|err| TargetError(format!("cannot upload {}: {err}", self.path(key))))
        })
    }

    fn put_bytes(&self, key: &str, bytes: Vec<u8>, served: &Served) -> Result<(), TargetError> {
        let options = PutOptions {
            attributes: attributes(served),
            ..PutOptions::default()
        };
        self.runtime
            .block_on(
                self.store
                    .put_opts(&self.path(key), PutPayload::from(bytes), options),
            )
            .map(|_| ())
            .map_err(|err| self.failed("upload", key, err))
    }

    fn delete(&self, key: &str) -> Result<(), TargetError> {
        match self.runtime.block_on(self.store.delete(&self.path(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(self.failed("delete", key, err)),
        }
    }
}

fn attributes(served: &Served) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, served.content_type.into());
    attributes.insert(Attribute::CacheControl, served.cache_control.clone().into());
    attributes
}

/// object_store's message, on one line. It names the bucket, key and the server's answer;
/// requests are signed, so the secret is never sent, but a server's error body may echo the
/// key id or a session token: any credential from the environment is masked, in every
/// spelling a server may echo it in (see [`crate::redact`]).
fn clean(message: &str) -> String {
    let credentials: Vec<String> = [
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ACCESS_KEY_ID",
    ]
    .iter()
    .filter_map(|name| std::env::var(name).ok())
    .collect();
    redact(message, &credentials)
}

/// `message` on one line, with every credential masked.
fn redact(message: &str, credentials: &[String]) -> String {
    let mut redactor = crate::redact::Redactor::new();
    for value in credentials {
        redactor.add(value);
    }
    let message = redactor.redact(message);
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_a_server_echoes_are_blanked_out() {
        let body = "403 Forbidden: <Error>\n <AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId>\n <X>tok-123</X></Error>";
        let cleaned = redact(body, &["AKIAEXAMPLE".into(), "tok-123".into(), "".into()]);
        assert_eq!(
            cleaned,
            "403 Forbidden: <Error> <AWSAccessKeyId>***</AWSAccessKeyId> <X>***</X></Error>"
        );
    }

    #[test]
    fn a_folder_key_is_replaced_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Folder(dir.path().to_path_buf());
        let served = Served {
            content_type: "text/csv; charset=utf-8",
            cache_control: String::new(),
        };
        target.put_bytes("a/b.csv", b"old", &served).unwrap();
        target.put_bytes("a/b.csv", b"new", &served).unwrap();
        assert_eq!(target.get("a/b.csv").unwrap().unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
        target.delete("a/b.csv").unwrap();
        assert!(target.get("a/b.csv").unwrap().is_none());
        assert!(!dir.path().join("a").exists(), "the emptied folder is left");
        assert!(dir.path().exists());
    }
}
