//! The stored session: tokens in the user's config folder, mode 0600.
//!
//! Tokens are written only to this file and never printed. The folder is
//! `$CLIPWAVE_CONFIG_DIR` when set (tests use it), else the platform's
//! config folder (`~/.config/clipwave` on Linux).

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// What `login` keeps for later commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The server the tokens belong to.
    pub server: String,
    /// The e-mail signed in with.
    pub email: String,
    /// The short-lived access token.
    pub access_token: String,
    /// The single-use refresh token.
    pub refresh_token: String,
}

/// Where credentials live.
pub fn path() -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("CLIPWAVE_CONFIG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => dirs::config_dir()
            .context("cannot find your config folder; set CLIPWAVE_CONFIG_DIR")?
            .join("clipwave"),
    };
    Ok(dir.join("credentials.json"))
}

/// The stored credentials, if any.
pub fn load() -> anyhow::Result<Option<Credentials>> {
    let path = path()?;
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!("{} is corrupt; log in again", path.display())
        })?)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Stores `credentials`, replacing the file atomically, readable only by the user.
pub fn save(credentials: &Credentials) -> anyhow::Result<()> {
    let path = path()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let temporary = dir.join(format!(".credentials.{}.tmp", std::process::id()));
    let mut file = create_private(&temporary)?;
    file.write_all(&serde_json::to_vec_pretty(credentials)?)?;
    file.sync_all()?;
    fs::rename(&temporary, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Forgets the stored credentials.
pub fn remove() -> anyhow::Result<()> {
    match fs::remove_file(path()?) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error.into()),
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> anyhow::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> anyhow::Result<fs::File> {
    Ok(fs::File::create(path)?)
}
